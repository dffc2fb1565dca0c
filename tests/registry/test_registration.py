"""One declaration per thing: an optimizer and a dataset registered at run time, each in one declaration, are listed
and handled by every surface — the CLI (and its --help), the URL, the widgets, the budget, the engine, the
reference and the code export. The entries are removed afterwards: other tests see the built-in registries."""
import dataclasses

import pandas as pd
import pytest
import torch
from support import app, finished, run_script

from wdlab.cli.main import main
from wdlab.codegen.script import member_script
from wdlab.engine.budget import estimate, peak_bytes, shape_of
from wdlab.engine.sweep import run_sweep
from wdlab.reference import reference_run
from wdlab.registry import datasets, optimizers
from wdlab.registry.dataset_spec import DATA_SEED, Data, DatasetSpec
from wdlab.registry.datasets import DATASETS
from wdlab.registry.optimizers import OPTIMIZERS, OptimizerSpec
from wdlab.run.workers import member_costs
from wdlab.settings.config import SweepConfig, preset_config
from wdlab.settings.params import BY_KEY, from_query, to_query

TOL = 1e-12  # float64: the engine and per-member torch.optim agree to a few ulps (as tests/test_sweep.py)
NESTEROV_MOMENTUM = 0.9


def _nesterov_engine(groups, cfg, fused=False):
    return torch.optim.SGD(groups, lr=groups[0]["lr"], momentum=NESTEROV_MOMENTUM, nesterov=True, fused=fused or None)


def _nesterov_reference(groups, lr, weight_decay, cfg):
    return torch.optim.SGD(groups, lr=lr, momentum=NESTEROV_MOMENTUM, nesterov=True, weight_decay=weight_decay)


NESTEROV = OptimizerSpec(
    "nesterov", "SGD, Nesterov", f"grad += λ·w, then SGD with Nesterov momentum {NESTEROV_MOMENTUM}", "coupled",
    _nesterov_engine, _nesterov_reference, "optim.SGD", state=1, launches=4,
    code_args=lambda cfg: f", momentum={NESTEROV_MOMENTUM}, nesterov=True", fusable=True)

WEIGHTS = (1.0, -2.0, 0.5)


def _tiny(seed: int, vf: float) -> Data:
    n_train, n_val = TINY.sizes(vf)
    g = torch.Generator().manual_seed(DATA_SEED)
    X = torch.randn(n_train + n_val, 3, generator=g)
    y = X @ torch.tensor(WEIGHTS)[:, None] + 0.1 * torch.randn(n_train + n_val, 1, generator=g)
    return Data(X[:n_train], y[:n_train], X[n_train:], y[n_train:], "regression", feature_names=("x1", "x2", "x3"))


def _tiny_code(n_train: int, n_val: int) -> list[str]:
    n = n_train + n_val
    return ["# y = x·w + noise, 3 features (drawn once, with its own seed)",
            f"g = torch.Generator().manual_seed({DATA_SEED})",
            f"X = torch.randn({n}, 3, generator=g)",
            f"y = X @ torch.tensor({list(WEIGHTS)!r})[:, None] + 0.1 * torch.randn({n}, 1, generator=g)",
            f"X_train, y_train, X_val, y_val = X[:{n_train}], y[:{n_train}], X[{n_train}:], y[{n_train}:]"]


TINY = DatasetSpec("tiny-linear", "Tiny linear regression (3 features)", "40 rows of y = x·w + noise.",
                   "regression", 3, 1, 40, 0.25, _tiny, code=_tiny_code,
                   defaults=dict(hidden=(8,), optimizers=("nesterov",), lrs=(0.05,), epochs=6, weight_decays=(0.0, 0.1)))


@pytest.fixture
def registered():
    """The two new entries, registered as a plugin would; removed after the test."""
    before = (dict(OPTIMIZERS), dict(DATASETS))
    optimizers.register(NESTEROV)
    datasets.register(TINY)
    yield
    del OPTIMIZERS["nesterov"], DATASETS["tiny-linear"]
    assert (dict(OPTIMIZERS), dict(DATASETS)) == before


def cfg_of(**over) -> SweepConfig:
    return preset_config("tiny-linear").replace(**over)


def test_registering_adds_to_the_end_and_keeps_your_csv_last(registered):
    assert list(OPTIMIZERS)[-1] == "nesterov"
    assert list(DATASETS)[-2:] == ["tiny-linear", "csv"]
    assert SweepConfig(preset="tiny-linear", optimizers=("nesterov", "sgd")).optimizers == ("sgd", "nesterov")


def test_the_cli_lists_and_runs_them(registered, capsys, tmp_path):
    with pytest.raises(SystemExit) as done:
        main(["run", "--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())   # argparse wraps lines
    assert "nesterov = SGD, Nesterov — coupled" in text and "tiny-linear = Tiny linear regression" in text
    out = tmp_path / "frame.csv"
    assert main(["run", "--preset", "tiny-linear", "--optimizer", "nesterov", "sgd", "--epochs", "3",
                 "--out", str(out), "--quiet"]) == 0
    frame = pd.read_csv(out)
    assert set(frame.optimizer) == {"nesterov", "sgd"} and frame.epoch.max() == 3
    assert main(["code", "--preset", "tiny-linear", "--member", "0.1", "0"]) == 0
    assert "optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True" in capsys.readouterr().out


def test_a_link_round_trips_them(registered):
    cfg = cfg_of(optimizers=("sgd", "nesterov"), lrs=(0.01, 0.05))
    assert BY_KEY["optimizer"].parse("nesterov,sgd") == ("nesterov", "sgd")
    assert from_query(to_query(cfg)) == (cfg, [])
    assert to_query(cfg)["optimizer"] == "sgd,nesterov" and to_query(cfg)["preset"] == "tiny-linear"
    # a link naming only the preset brings its own settings, the new optimizer among them
    assert from_query({"preset": "tiny-linear"}) == (preset_config("tiny-linear"), [])


@pytest.mark.usefixtures("fresh_streamlit")
def test_the_sidebar_lists_them_and_a_link_to_them_trains(registered):
    at = app("?preset=tiny-linear&optimizer=nesterov&epochs=2&wd=0,0.1")
    assert not at.exception
    assert "Tiny linear regression (3 features)" in at.selectbox(key="cfg_preset").options
    assert at.selectbox(key="cfg_preset").options[-1] == "Your CSV"
    assert "SGD, Nesterov" in at.multiselect(key="cfg_optimizer").options
    assert at.selectbox(key="cfg_preset").value == "tiny-linear"
    assert at.multiselect(key="cfg_optimizer").value == ["nesterov"]
    assert at.session_state["job"].cfg == cfg_of(epochs=2, weight_decays=(0.0, 0.1))
    finished(at)  # trained and drawn before the entries are removed
    job = at.session_state["job"]
    assert not at.exception and job.status == "done" and set(job.frame().optimizer) == {"nesterov"}


def test_the_budget_prices_the_new_optimizers_state_from_its_spec(registered):
    cfg = cfg_of(hidden=(64, 64), weight_decays=(0.0, 0.1, 1.0))
    shape = shape_of(cfg)
    assert estimate(cfg).bytes > 0 and len(member_costs(cfg)) == len(cfg.members)

    def peak(state):
        optimizers.register(dataclasses.replace(NESTEROV, state=state))
        return peak_bytes(cfg, shape)

    # the optimizer's state is counted for every member: one more state tensor, one more copy of the parameters
    members, params = len(cfg.members), 3 * 64 + 64 + 64 * 64 + 64 + 64 + 1
    assert peak(200) - peak(100) == 100 * members * params * 4
    optimizers.register(NESTEROV)


def test_the_engine_equals_the_reference_for_them(registered):
    cfg = cfg_of(optimizers=("sgd", "nesterov"), momentum=0.5, epochs=4, batch_size=10, seeds=(0, 3),
                 weight_decays=(0.0, 0.1), dtype="float64", decay_bias=False)
    res = run_sweep(cfg, keep_params=True)
    frame = res.frame
    for m in cfg.members:
        ref = reference_run(cfg, m)
        got = frame[(frame.optimizer == m.optimizer) & (frame.weight_decay == m.weight_decay)
                    & (frame.seed == m.seed)].sort_values("epoch")
        for col in ("train_loss", "val_loss", "l2_norm"):
            assert max(abs(a - b) for a, b in zip(got[col].iloc[1:], ref[col], strict=True)) <= TOL, (m, col)
        for a, b in zip(res.params[m], ref["model"].parameters(), strict=True):
            assert (a - b.detach()).abs().max().item() <= TOL, m
    # Nesterov's momentum moved its members away from plain SGD's (momentum 0.5)
    sgd, nes = (frame[(frame.optimizer == o) & (frame.epoch == 4)].train_loss.to_numpy() for o in ("sgd", "nesterov"))
    assert abs(sgd - nes).max() > 1e-3


def test_the_code_export_writes_and_reproduces_them(registered, tmp_path):
    cfg = cfg_of(epochs=5, seeds=(2,))
    frame = run_sweep(cfg).frame
    code = member_script(cfg, 0.1, 2)
    assert "momentum=0.9, nesterov=True" in code and "torch.randn(40, 3, generator=g)" in code
    epochs, final = run_script(code, tmp_path)
    member = frame[(frame.weight_decay == 0.1) & (frame.seed == 2)].set_index("epoch")
    assert [e for e, _, _ in epochs] == list(range(1, 6))
    assert final == pytest.approx(member.loc[5, "train_loss"], rel=1e-6, abs=1e-6)

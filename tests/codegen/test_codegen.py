"""'Show me the code': the generated standalone script, run in a fresh Python, reproduces the member's train_loss."""
from pathlib import Path

import numpy as np
import pytest

from wdlab.cli.main import main
from wdlab.codegen.script import member_script
from wdlab.codegen.data import csv_source
from wdlab.settings.config import SweepConfig, preset_config
from wdlab.data.tables import load_csv
from wdlab.engine.sweep import run_sweep
from support import run_script

ROOT = Path(__file__).resolve().parents[2]
COURSE_LOSS = 0.988277792930603


def check_member(cfg: SweepConfig, frame, w: float, s: int, code: str, tmp_path: Path, tol: float = 1e-6):
    epochs, final = run_script(code, tmp_path)
    member = frame[(frame["weight_decay"] == w) & (frame["seed"] == s)].set_index("epoch")
    assert [e for e, _, _ in epochs] == list(range(1, cfg.epochs + 1))
    assert final == pytest.approx(member.loc[cfg.epochs, "train_loss"], rel=tol, abs=tol)
    for e, train, val in epochs:  # every epoch: the same batch order, the same steps (printed to 8 digits)
        assert train == pytest.approx(member.loc[e, "train_loss"], rel=1e-6, abs=tol)
        assert val == pytest.approx(member.loc[e, "val_loss"], rel=1e-6, abs=tol)


CONFIGS = {
    "sgd-full-batch": SweepConfig(preset="tutorial", hidden=(16,), optimizers=("sgd",), lrs=(0.1,), epochs=8,
                                  weight_decays=(0.0, 0.01), seeds=(0, 3)),
    "sgd-momentum-minibatch-nobias": SweepConfig(preset="moons", hidden=(16,), optimizers=("sgd",), momentum=0.9,
                                                 lrs=(0.05,), epochs=6, batch_size=32, weight_decays=(0.0, 0.1),
                                                 seeds=(1,), decay_bias=False),
    "adam-sklearn-minibatch": SweepConfig(preset="digits", hidden=(32,), optimizers=("adam",), lrs=(0.01,), epochs=4,
                                          batch_size=128, weight_decays=(0.0, 1e-3), seeds=(0,)),
    "adamw-sklearn-regression-float64": SweepConfig(preset="diabetes", hidden=(8, 8), activation="tanh",
                                                    optimizers=("adamw",), lrs=(0.02,), epochs=10,
                                                    weight_decays=(0.0, 0.5), seeds=(2,), dtype="float64"),
    "adamw-spirals-gelu-nobias": SweepConfig(preset="spirals", hidden=(16,), activation="gelu", optimizers=("adamw",),
                                             lrs=(0.01,), epochs=5, batch_size=100, weight_decays=(0.1,), seeds=(0,),
                                             decay_bias=False),
    "adam-sine-tanh": SweepConfig(preset="sine", hidden=(32, 32), activation="tanh", optimizers=("adam",), lrs=(0.01,),
                                  epochs=12, weight_decays=(0.0, 0.01), seeds=(1,)),
    "adam-linear-highdim": SweepConfig(preset="highdim-linear", hidden=(), optimizers=("adam",), lrs=(0.01,), epochs=10,
                                       weight_decays=(0.0, 1.0), seeds=(0,)),
}


@pytest.mark.parametrize("name", CONFIGS)
def test_the_script_reproduces_the_members_train_loss(name, tmp_path):
    cfg = CONFIGS[name]
    frame = run_sweep(cfg).frame
    w, s = cfg.weight_decays[-1], cfg.seeds[-1]  # a decayed member, a non-zero seed where there is one
    code = member_script(cfg, w, s, expected=float(frame["train_loss"].iloc[-1]))
    assert f"weight_decay = {w!r}" in code and f"torch.manual_seed({s})" in code
    check_member(cfg, frame, w, s, code, tmp_path)


def test_the_course_run_prints_the_course_loss(tmp_path):
    cfg = SweepConfig(preset="tutorial", optimizers=("adam",), lrs=(0.01,), epochs=5, weight_decays=(1e-4,), seeds=(0,))
    code = member_script(cfg, 1e-4, 0)
    assert "optim.Adam(model.parameters(), lr=0.01, weight_decay=weight_decay)" in code
    _, final = run_script(code, tmp_path)
    assert final == COURSE_LOSS  # exactly what the course page's code prints


def test_nanogpt_groups_when_biases_do_not_decay():
    code = member_script(CONFIGS["sgd-momentum-minibatch-nobias"], 0.1, 1)
    assert "p.dim() >= 2" in code and '"weight_decay": 0.0' in code and "momentum=0.9" in code
    assert "optim.SGD([" in code


def _table(path: Path) -> None:
    """Semicolons, decimal commas, a blank and a repeated header, missing cells, text to one-hot, CRLF."""
    rng = np.random.default_rng(0)
    rows = ["size ; colour;price;;size;label"]
    for i in range(90):
        a, colour = rng.normal(), ("red", "blue", "green")[i % 3]
        price = 3 * a + (colour == "red") + 0.1 * rng.normal()
        size = "" if i % 17 == 0 else f"{a:.4f}".replace(".", ",")
        rows.append(f"{size};{colour};{price:.3f};x{i % 2};{rng.integers(0, 5)};{'yes' if price > 0 else 'no'}")
    path.write_bytes(("\r\n".join(rows) + "\r\n").encode())


@pytest.mark.parametrize("target,task", [("price", None), ("label", None)])
def test_the_script_reads_a_csv_by_name_and_encodes_it_as_the_app(target, task, tmp_path):
    _table(tmp_path / "my table.csv")
    raw = (tmp_path / "my table.csv").read_bytes()
    cfg = SweepConfig(preset="csv", hidden=(8,), optimizers=("adam",), lrs=(0.01,), epochs=6, batch_size=16,
                      weight_decays=(0.0, 0.01), seeds=(0,), val_fraction=0.25)
    frame = run_sweep(cfg, data=load_csv(raw, target, task, val_fraction=0.25)).frame
    code = member_script(cfg, 0.01, 0, csv=csv_source(raw, "my table.csv", target, task, 0.25))
    assert "pd.read_csv('my table.csv', sep=';'" in code
    check_member(cfg, frame, 0.01, 0, code, tmp_path)


def test_cli_code_prints_the_same_script(capsys, tmp_path):
    argv = ["--preset", "moons", "--hidden", "8", "--optimizer", "adamw", "--epochs", "3", "--wd", "0", "0.1",
            "--seeds", "0", "1", "--batch-size", "50"]
    assert main(["code", *argv, "--member", "0.1", "1"]) == 0
    out = capsys.readouterr().out
    cfg = SweepConfig(preset="moons", hidden=(8,), optimizers=("adamw",), epochs=3, weight_decays=(0.0, 0.1),
                      seeds=(0, 1), batch_size=50)
    assert out == member_script(cfg, 0.1, 1)
    _table(tmp_path / "t.csv")
    assert main(["code", "--data", str(tmp_path / "t.csv"), "--target", "price", "--wd", "0", "--member", "0", "0"]) == 0
    assert "pd.read_csv(" in capsys.readouterr().out


@pytest.mark.parametrize("member,says", [(["0.5", "0"], "weight_decay 0.5 is not in this sweep"),
                                         (["0", "7"], "seed 7 is not in this sweep"),
                                         (["zero", "0"], "wd='zero' is not valid")])
def test_cli_code_refuses_a_member_not_in_the_sweep(member, says, capsys):
    assert main(["code", "--preset", "tutorial", "--wd", "0", "0.1", "--member", *member]) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1


def test_member_script_refuses_a_csv_sweep_without_its_source():
    with pytest.raises(ValueError, match="CsvSource"):
        member_script(SweepConfig(preset="csv", weight_decays=(0.0,)), 0.0, 0)


def test_a_grid_members_script_reproduces_that_member(tmp_path):
    """A member of an optimizer × lr grid (with LayerNorm): the script picks its optimizer and lr."""
    cfg = SweepConfig(preset="moons", hidden=(8,), norm="layernorm", optimizers=("adamw", "rmsprop"),
                      lrs=(0.003, 0.01), epochs=4, batch_size=64, weight_decays=(0.0, 0.1), seeds=(1,),
                      decay_bias=False)
    frame = run_sweep(cfg).frame
    with pytest.raises(ValueError, match="several (optimizer|lr) values"):
        member_script(cfg, 0.1, 1)
    with pytest.raises(ValueError, match="lr 0.5 is not in this sweep"):
        member_script(cfg, 0.1, 1, optimizer="rmsprop", lr=0.5)
    code = member_script(cfg, 0.1, 1, optimizer="rmsprop", lr=0.003)
    assert "optim.RMSprop([" in code and "lr=0.003" in code and "nn.LayerNorm(8)" in code
    member = frame[(frame["optimizer"] == "rmsprop") & (frame["lr"] == 0.003)]
    check_member(cfg, member, 0.1, 1, code, tmp_path)


def test_cli_code_picks_a_grid_member_by_optimizer_and_lr(capsys):
    argv = ["--preset", "tutorial", "--hidden", "4", "--optimizer", "sgd", "adam", "--lr", "0.01", "0.1",
            "--epochs", "2", "--wd", "0", "0.1"]
    assert main(["code", *argv, "--member", "0.1", "0"]) == 2
    err = capsys.readouterr().err
    assert "--member-optimizer" in err and err.count("\n") == 1
    assert main(["code", *argv, "--member", "0.1", "0", "--member-optimizer", "adam"]) == 2
    assert "--member-lr" in capsys.readouterr().err
    assert main(["code", *argv, "--member", "0.1", "0", "--member-optimizer", "adam", "--member-lr", "0.1"]) == 0
    out = capsys.readouterr().out
    cfg = SweepConfig(preset="tutorial", hidden=(4,), optimizers=("sgd", "adam"), lrs=(0.01, 0.1), epochs=2,
                      weight_decays=(0.0, 0.1))
    assert out == member_script(cfg, 0.1, 0, optimizer="adam", lr=0.1) and "optim.Adam(" in out
    assert main(["code", *argv, "--member", "0.1", "0", "--member-optimizer", "adamw", "--member-lr", "0.1"]) == 2
    assert "optimizer adamw is not in this sweep" in capsys.readouterr().err


def test_a_grokking_presets_script_defines_its_quadratic_activation_and_reproduces_the_member(tmp_path):
    # the preset's own settings (46-128-23, x², AdamW lr 0.01, full batch), fewer steps
    cfg = preset_config("modular-addition-p23").replace(epochs=30, weight_decays=(0.0, 0.25))
    assert cfg.activation == "quadratic"
    frame = run_sweep(cfg).frame
    code = member_script(cfg, 0.25, 0)
    assert "class Quadratic(nn.Module)" in code and "    Quadratic()," in code and "optim.AdamW(" in code
    check_member(cfg, frame, 0.25, 0, code, tmp_path)


def test_a_layernorm_members_script_writes_the_norm_from_its_registry_entry(tmp_path):
    cfg = SweepConfig(preset="moons", hidden=(16, 8), norm="layernorm", optimizers=("adamw",), lrs=(0.02,), epochs=5,
                      batch_size=64, weight_decays=(0.5,), seeds=(1,), decay_bias=False)
    frame = run_sweep(cfg).frame
    code = member_script(cfg, 0.5, 1)
    assert "    nn.LayerNorm(16)," in code and "nn.LayerNorm(8)," in code and "LayerNorm's gains" in code
    check_member(cfg, frame, 0.5, 1, code, tmp_path)


@pytest.mark.parametrize("cfg", [
    SweepConfig(preset="moons", hidden=(16,), optimizers=("adamw",), lrs=(0.02,), epochs=5,
                batch_size=64, weight_decays=(0.5,), seeds=(1,), schedule="cosine", warmup_epochs=2,
                dtype="float64"),  # 200 rows: the last batch of 8
    SweepConfig(preset="sine", hidden=(16,), activation="tanh", optimizers=("sgd",), momentum=0.9, lrs=(0.05,),
                epochs=7, weight_decays=(0.01,), seeds=(0,), schedule="step", step_period=2, step_gamma=0.5,
                warmup_epochs=1),
], ids=["adamw-cosine-warmup-minibatch", "sgd-step-full-batch"])
def test_a_scheduled_members_script_writes_lambdalr_and_reproduces_the_member(cfg, tmp_path):
    frame = run_sweep(cfg).frame
    w, s = cfg.weight_decays[0], cfg.seeds[0]
    code = member_script(cfg, w, s)
    assert "optim.lr_scheduler.LambdaLR(optimizer, lr_factor)" in code and "scheduler.step()" in code
    assert "LambdaLR" not in member_script(cfg.replace(schedule="constant", warmup_epochs=0), w, s)
    check_member(cfg, frame, w, s, code, tmp_path, tol=1e-9 if cfg.dtype == "float64" else 1e-6)

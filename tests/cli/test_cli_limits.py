"""`wdlab run`'s limits: demo mode refuses exactly as before; off the demo the issue's grid is accepted (and trains),
with its estimate printed first; only what cannot fit in this machine's memory is refused; the user's own limits."""
import io

import pandas as pd
import pytest

from wdlab.cli.main import main

GRID = ["run", "--preset", "moons", "--optimizer", "adam", "adamw", "--lr", "0.001", "0.003", "0.01", "0.03",
        "--wd", "0", "1e-4", "1e-3", "1e-2", "1e-1", "0.3", "--seeds", "0", "1", "2"]
WDS = ["--wd", *[f"{0.01 * i:g}" for i in range(21)]]
# each refusal the issue met, and what today's limits said (kept word for word in demo mode)
REFUSED = [
    (GRID, "too large: 144 members = optimizers × lrs × weight_decays × seeds (at most 64)"),
    (["run", "--preset", "moons", "--hidden", "2048"], "width 2048 (at most 1024)"),
    (["run", "--preset", "moons", *WDS], "21 weight_decay values (at most 16)"),
    (["run", "--preset", "moons", "--epochs", "3000"], "3000 epochs (at most 2000)"),
    (["run", "--epochs", "2000", "--batch-size", "10"], "200000 optimizer steps = epochs × batches "
                                                                                  "per epoch (at most 50000)"),
]
WHOLE = [*GRID[:-11], *WDS, "--seeds", "0", "1", "2", "--hidden", "2048", "--epochs", "3000", "--batch-size", "10"]


@pytest.mark.parametrize("argv,says", REFUSED)
def test_demo_mode_refuses_as_before(argv, says, monkeypatch, capsys):
    monkeypatch.setenv("WDLAB_DEMO", "1")
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("wdlab: error: too large: ") and says in err and err.count("\n") == 1


@pytest.mark.parametrize("argv", [a for a, _ in REFUSED] + [WHOLE])
def test_off_the_demo_accepted_with_its_estimate(argv, monkeypatch, capsys):
    monkeypatch.delenv("WDLAB_DEMO", raising=False)
    assert main([*argv, "--dry-run"]) == 0
    out, err = capsys.readouterr()
    assert out == "" and "members trained" in err and " MB, about " in err and "this machine has" in err, err


def test_the_issues_grid_trains_off_the_demo(monkeypatch, capsys):
    monkeypatch.delenv("WDLAB_DEMO", raising=False)
    assert main([*GRID, "--hidden", "8", "--epochs", "2", "--quiet"]) == 0
    df = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert len(df) == 144 * 3 and df.groupby(["optimizer", "lr", "weight_decay", "seed"]).ngroups == 144


def test_estimate_printed_before_a_long_run_starts(monkeypatch, capsys):
    monkeypatch.delenv("WDLAB_DEMO", raising=False)
    assert main(["run", "--preset", "highdim-linear", "--hidden", "--epochs", "25", "--wd", "0", "--seeds", "0"]) == 0
    err = capsys.readouterr().err
    assert err.index("1 members trained together: about ") < err.index("epoch 25/25")


def test_too_large_for_the_machine_is_refused_off_the_demo(monkeypatch, capsys):
    monkeypatch.delenv("WDLAB_DEMO", raising=False)
    assert main(["run", "--preset", "digits", "--hidden", "100000", "100000", "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("wdlab: error: too large for this machine: about ") and err.count("\n") == 1


def test_own_limits(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("WDLAB_DEMO", raising=False)
    assert main([*GRID, "--limit", "max_members=100", "--dry-run"]) == 2
    assert "144 members = optimizers × lrs × weight_decays × seeds (at most 100)" in capsys.readouterr().err
    (tmp_path / "l.toml").write_text("max_epochs = 10\n")
    assert main(["run", "--epochs", "11", "--limits", str(tmp_path / "l.toml"), "--dry-run"]) == 2
    assert "11 epochs (at most 10)" in capsys.readouterr().err
    assert main(["run", "--limit", "max_mmbers=3"]) == 2
    assert "unknown limit 'max_mmbers'" in capsys.readouterr().err

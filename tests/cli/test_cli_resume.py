"""Nothing trained is lost: finished parts are saved as they finish; after kill -9, --resume ends with the CSV of an
uninterrupted run, byte for byte."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from wdlab.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
GRID = ["--preset", "moons", "--hidden", "16", "--optimizer", "adam", "adamw", "--lr", "0.003", "0.01", "0.03", "0.1",
        "--wd", "0", "0.1", "--seeds", "0", "1", "--epochs", "100", "--quiet"]


def killed_once_a_part_is_saved(argv, out: Path) -> int:
    """Start `wdlab run argv --out out`, SIGKILL it once its first part file exists; the parts saved by then."""
    proc = subprocess.Popen([sys.executable, "-m", "wdlab", "run", *argv, "--out", str(out)], cwd=ROOT,
                            stderr=subprocess.PIPE, text=True)
    parts, deadline = Path(f"{out}.parts"), time.monotonic() + 300
    while not (parts.is_dir() and any(p.suffix == ".npz" for p in parts.iterdir())):
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(60)
    return len([p for p in parts.iterdir() if p.suffix == ".npz"])


@pytest.mark.parametrize("extra", [[], ["--workers", "2"]])
def test_kill_9_then_resume_is_byte_identical(tmp_path, extra, capsys):
    whole, cut = tmp_path / "whole.csv", tmp_path / "cut.csv"
    assert main(["run", *GRID, *extra, "--out", str(whole)]) == 0
    assert not Path(f"{whole}.parts").exists()   # removed once the whole CSV is written
    saved = killed_once_a_part_is_saved(GRID + extra, cut)
    assert 1 <= saved < 8 and not cut.exists()   # killed mid-grid: some groups saved, no CSV
    capsys.readouterr()
    assert main(["run", *GRID, *extra, "--out", str(cut), "--resume"]) == 0
    assert cut.read_bytes() == whole.read_bytes()
    assert not Path(f"{cut}.parts").exists()


def test_uncheckpointed_stdout_equals_the_checkpointed_out(tmp_path, capsys):
    small = ["run", *GRID[:-3], "--epochs", "3", "--quiet"]
    assert main([*small, "--out", str(tmp_path / "x.csv")]) == 0
    capsys.readouterr()
    assert main(small) == 0
    assert capsys.readouterr().out == (tmp_path / "x.csv").read_text()


def test_resume_refusals(tmp_path, capsys):
    small = ["run", *GRID[:-3], "--epochs", "3", "--quiet"]
    out = tmp_path / "x.csv"
    os.mkdir(f"{out}.parts")
    (tmp_path / "x.csv.parts" / "a0-m0-4.npz").write_bytes(b"")
    assert main([*small, "--out", str(out)]) == 2
    assert "holds the finished parts of an interrupted run: add --resume" in capsys.readouterr().err
    os.unlink(tmp_path / "x.csv.parts" / "a0-m0-4.npz")
    assert main([*small, "--out", str(out)]) == 0   # a folder with no finished part: nothing to continue
    assert not os.path.exists(f"{out}.parts")
    out.unlink()
    assert main([*small, "--out", str(out), "--resume"]) == 2
    assert "no interrupted run to continue" in capsys.readouterr().err
    assert main([*small, "--resume"]) == 2
    assert "--resume continues a run written with --out" in capsys.readouterr().err
    saved = killed_once_a_part_is_saved(GRID, out)
    assert saved >= 1
    assert main(["run", *GRID, "--wd", "0", "0.2", "--out", str(out), "--resume"]) == 2
    assert "holds a different grid" in capsys.readouterr().err


def test_parts_that_cannot_be_saved_never_cost_the_training(tmp_path, monkeypatch, capsys):
    from wdlab.run.checkpoint import Store

    def full(*_args):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(Store, "save", full)
    out = tmp_path / "x.csv"
    assert main(["run", *GRID[:-3], "--epochs", "3", "--quiet", "--out", str(out)]) == 0
    assert len(out.read_text().splitlines()) == 1 + 32 * 4 and capsys.readouterr().err == ""
    assert not os.path.exists(f"{out}.parts")

"""A 1,008-member grid (4 optimizers × 6 lrs × 14 λ × 3 seeds) gives the same CSV, byte for byte, however it is
split: in process, across 2 worker processes, in memory chunks saved as parts, and on Ray (where installed)."""
import os

import pytest

from wdlab.cli.main import main

GRID = ["run", "--preset", "moons", "--hidden", "4", "--optimizer", "sgd", "adam", "adamw", "rmsprop",
        "--lr", "0.001", "0.003", "0.01", "0.03", "0.1", "0.3", "--wd", *[f"{0.01 * i:g}" for i in range(14)],
        "--seeds", "0", "1", "2", "--epochs", "2", "--quiet"]


@pytest.fixture(scope="module")
def in_process():
    import io
    import contextlib
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(GRID) == 0
    text = out.getvalue()
    assert text.count("\n") == 1 + 1008 * 3
    return text


@pytest.mark.parametrize("split", [
    ["--workers", "2"],
    ["--limit", "max_sweep_mb=3"],                       # memory-bounded chunks of 15 members, each saved as a part
    ["--limit", "max_sweep_mb=6", "--workers", "2"],     # larger chunks, shared out to 2 processes
])
def test_a_thousand_members_equal_however_split(split, in_process, tmp_path, capsys):
    if "--workers" in split and (os.cpu_count() or 1) < 2:
        pytest.skip("one CPU: no second worker")
    out = tmp_path / "grid.csv"
    assert main([*GRID, *split, "--out", str(out)]) == 0
    assert out.read_text() == in_process


def test_a_thousand_members_on_ray_equal_in_process(in_process, tmp_path):
    if not os.environ.get("WDLAB_REQUIRE_RAY"):
        pytest.importorskip("ray")
    out = tmp_path / "grid.csv"
    assert main([*GRID, "--backend", "ray", "--ray-cpus", "2", "--out", str(out)]) == 0
    assert out.read_text() == in_process

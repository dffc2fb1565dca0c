"""Trained work is never lost on a fault of the output (issue 26, item 2): a full disk, /dev/full or a closed pipe
puts the result in a recovery file named on stderr; an earlier --out is never truncated before the new one is
complete; a written file has the umask's mode (an existing one keeps its own)."""
import contextlib
import os
import re
import subprocess
import sys
import uuid

import pandas as pd
import pytest

from support import ROOT

# about 1 MB of CSV in a second or two: more than a 64 KB disk or a pipe's buffer holds
BIG = ["--preset", "tutorial", "--hidden", "4", "--epochs", "1500", "--wd", "0", "0.01", "0.1", "--seeds", "0", "1",
       "--quiet"]
RECOVERED = re.compile(r"the whole result is in (\S+\.csv)")


def wdlab(argv, tmp_path, **kw):
    """`python -m wdlab run *argv` with its recovery folder (TMPDIR) in tmp_path/recovery."""
    (tmp_path / "recovery").mkdir(exist_ok=True)
    env = dict(os.environ, TMPDIR=str(tmp_path / "recovery"))
    return subprocess.Popen([sys.executable, "-m", "wdlab", "run", *argv], cwd=ROOT, env=env, text=True,
                            stderr=subprocess.PIPE, **kw)


def recovered(err: str):
    """The recovery file stderr names, read as a frame (AssertionError when none is named)."""
    m = RECOVERED.search(err)
    assert m, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return m[1], pd.read_csv(m[1])


def complete(frame) -> bool:
    return len(frame) == 6 * 1501 and int(frame.epoch.max()) == 1500


@contextlib.contextmanager
def small_disk(tmp_path, size="64k"):
    """A 64 KB tmpfs at tmp_path/disk (root only: skipped where mount is not allowed)."""
    disk = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(disk)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_full_disk_keeps_the_result_in_a_recovery_file_and_the_earlier_out_whole(tmp_path):
    with small_disk(tmp_path) as disk:
        target = disk / "sweep.csv"
        target.write_text("earlier results\n")
        proc = wdlab([*BIG, "--out", str(target)], tmp_path)
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 2
        assert "No space left on device" in err and f"cannot write --out {target}" in err
        path, frame = recovered(err)
        assert complete(frame) and path.startswith(str(tmp_path / "recovery"))
        assert target.read_text() == "earlier results\n"        # never truncated
        assert sorted(p.name for p in disk.iterdir()) == ["sweep.csv"]   # no half-written temporary file left


def test_stdout_on_dev_full_keeps_the_result_in_a_recovery_file(tmp_path):
    with open("/dev/full", "w") as full:
        proc = wdlab(BIG, tmp_path, stdout=full)
        _, err = proc.communicate(timeout=300)
    assert proc.returncode == 2 and "cannot write to stdout" in err
    assert complete(recovered(err)[1])


def test_a_closed_pipe_keeps_the_result_in_a_recovery_file(tmp_path):
    proc = wdlab(BIG, tmp_path, stdout=subprocess.PIPE)
    assert proc.stdout.readline().startswith("optimizer,")   # `| head -1`: one line read, then the pipe closed
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(300) == 2 and "Broken pipe" in err and "cannot write to stdout" in err
    assert complete(recovered(err)[1])


@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_out_file_has_the_umasks_mode(tmp_path, umask, mode):
    target = tmp_path / "sweep.csv"
    out = subprocess.run(f"umask {umask:o} && {sys.executable} -m wdlab run --preset moons --hidden 4 --epochs 2 "
                         f"--wd 0 --quiet --out {target}", shell=True, cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert target.stat().st_mode & 0o777 == mode


def test_an_existing_out_file_keeps_its_mode(tmp_path):
    target = tmp_path / "sweep.csv"
    target.write_text("old\n")
    target.chmod(0o640)
    from wdlab.cli.main import main
    assert main(["run", "--preset", "moons", "--hidden", "4", "--epochs", "2", "--wd", "0", "--quiet",
                 "--out", str(target)]) == 0
    assert target.stat().st_mode & 0o777 == 0o640 and target.read_text().startswith("optimizer,")

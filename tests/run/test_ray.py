"""Grids on Ray: a local Ray and a real head node give the in-process frame; failures, Ctrl-C, Tune, no Ray."""
import os
import shutil
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from wdlab.cli.args import build_parser, configs_from_args
from wdlab.settings.config import SweepConfig
from wdlab.run.grid import groups
from wdlab.run.train import train
from support import ROOT, free_port, interrupted_run

ray = pytest.importorskip("ray") if not os.environ.get("WDLAB_REQUIRE_RAY") else __import__("ray")
pytestmark = pytest.mark.ray

# 2 architectures × 2 optimizers × 2 lrs × 3 λ × 2 seeds, float64: 8 groups
MIXED = [SweepConfig(preset="moons", hidden=h, optimizers=(o,), lrs=(lr,), epochs=15, weight_decays=(0.0, 1e-3, 1e-1),
                     seeds=(0, 1), dtype="float64")
         for h in ((8,), (16, 8)) for o in ("adam", "adamw") for lr in (0.01, 0.05)]
FLAGS = ["--preset", "moons", "--hidden", "8", "--hidden", "16", "8", "--epochs", "15", "--wd", "0", "1e-3", "1e-1",
         "--seeds", "0", "1", "--dtype", "float64", "--quiet"]


def equal_frames(a: pd.DataFrame, b: pd.DataFrame):
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_exact=False,
                                  rtol=1e-12, atol=1e-12)


def test_a_mixed_grid_on_a_local_ray_equals_the_in_process_frame(local_ray):
    from wdlab.run.ray_backend import Ray
    seen = []
    here = train(MIXED)
    there = train(MIXED, backend=Ray(), on_progress=lambda done, _: seen.append(done))
    assert there.status == "done" and len(there.outcomes) == 8
    assert list(there.frame["arch"].unique()) == ["8", "16-8"]
    equal_frames(there.frame, here.frame)
    assert seen and seen[-1] == 8 * 15 and seen == sorted(seen)   # epochs over all groups, never backwards


def test_a_failing_group_is_named_and_the_others_rows_are_kept(local_ray):
    from wdlab.run.ray_backend import Ray
    cfgs = [MIXED[0], MIXED[0].replace(hidden=(3,)), MIXED[6]]
    result = train(cfgs, backend=Ray(sweep="support:runner_failing_on_width_3"))
    assert result.status == "failed" and [o.status for o in result.outcomes] == ["done", "failed", "done"]
    assert "made to fail" in result.outcomes[1].error
    equal_frames(result.frame, train([MIXED[0], MIXED[6]]).frame.assign())


def test_each_task_runs_on_the_threads_its_cpus_give(local_ray):
    import torch

    from wdlab.run.ray_backend import train_group  # noqa: F401 (what the task runs)

    @ray.remote(num_cpus=2)
    def threads():
        import ray as r
        torch.set_num_threads(max(1, int(r.get_runtime_context().get_assigned_resources().get("CPU", 1))))
        return torch.get_num_threads()
    assert ray.get(threads.remote()) == 2


def run_cli(*argv, timeout=600, **kw):
    return subprocess.run([sys.executable, "-m", "wdlab", "run", *argv], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, **kw)


def test_the_cli_joins_a_real_head_node_and_gives_the_local_frame(tmp_path):
    port = free_port()
    ray_bin = shutil.which("ray") or os.path.join(os.path.dirname(sys.executable), "ray")
    env = dict(os.environ, RAY_AUTH_MODE="disabled")
    head = subprocess.Popen([ray_bin, "start", "--head", "--port", str(port), "--num-cpus", "2",
                             "--include-dashboard=false", "--node-ip-address", "127.0.0.1", "--block"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        out = None
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:   # the head accepts drivers once its GCS listens
            out = run_cli(*FLAGS, "--backend", "ray", "--address", f"127.0.0.1:{port}", env=env)
            if out.returncode == 0 or head.poll() is not None:
                break
            time.sleep(1)
        assert out is not None and out.returncode == 0, out.stderr[-2000:]
        local = run_cli(*FLAGS)
        assert local.returncode == 0, local.stderr
        from io import StringIO
        equal_frames(pd.read_csv(StringIO(out.stdout)), pd.read_csv(StringIO(local.stdout)))
    finally:
        head.send_signal(signal.SIGTERM)
        try:
            head.wait(60)
        except subprocess.TimeoutExpired:
            head.kill()


@pytest.mark.parametrize("address,says", [("127.0.0.1:{port}", "cannot reach a Ray cluster at 127.0.0.1:{port}"),
                                          ("ray://127.0.0.1:{port}", "cannot reach a Ray cluster at"),
                                          ("no-port-here", "--address takes HOST:PORT")])
def test_an_unreachable_address_fails_within_seconds_in_one_line(address, says):
    port = free_port()   # nothing listens there
    start = time.monotonic()
    out = run_cli("--backend", "ray", "--address", address.format(port=port), "--preset", "moons", "--epochs", "2",
                  "--wd", "0", "--hidden", "4", timeout=60)
    assert out.returncode == 2 and time.monotonic() - start < 20, out.stderr[-2000:]
    assert out.stderr.count("\n") == 1 and says.format(port=port) in out.stderr and out.stdout == ""


class Listener:
    """Something that is not Ray on a port (issue 26, item 7: ray.init hung on it, deaf to Ctrl-C): "http" answers
    HTTP/1; "silent" accepts and says nothing; "grpc" answers HTTP/2's preface with a SETTINGS frame as a gRPC
    server does, then nothing. On every interface: Ray dials this machine's own address for 127.0.0.1.
    `connections` counts the connections accepted."""

    def __init__(self, kind: str):
        import socket
        import threading
        self.kind, self.connections, self.second = kind, 0, threading.Event()
        self.server = socket.create_server(("0.0.0.0", 0))
        self.port, self.held = self.server.getsockname()[1], []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.held.append(conn)
            self.connections += 1
            if self.connections >= 2:
                self.second.set()
            try:
                if self.kind == "http":
                    conn.recv(4096)
                    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                elif self.kind == "grpc":
                    conn.sendall(b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")
            except OSError:
                pass

    def close(self):
        self.server.close()
        for conn in self.held:
            conn.close()


TINY = ("--preset", "moons", "--epochs", "2", "--wd", "0", "--hidden", "4")


@pytest.mark.parametrize("kind", ["http", "silent"])
def test_an_address_where_something_else_listens_fails_within_seconds_in_one_line(kind):
    listener = Listener(kind)
    try:
        start = time.monotonic()
        out = run_cli("--backend", "ray", "--address", f"127.0.0.1:{listener.port}", *TINY, timeout=60)
        took = time.monotonic() - start
    finally:
        listener.close()
    assert out.returncode == 2 and took < 20, (took, out.stderr[-2000:])
    assert out.stderr.count("\n") == 1 and f"127.0.0.1:{listener.port} is not a Ray cluster" in out.stderr, \
        out.stderr[-2000:]


def test_ctrl_c_while_joining_a_cluster_that_never_answers_ends_at_once_in_one_line():
    listener = Listener("grpc")   # passes the address check; Ray's client then retries it for minutes
    proc = subprocess.Popen([sys.executable, "-m", "wdlab", "run", "--backend", "ray", "--address",
                             f"127.0.0.1:{listener.port}", *TINY], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert listener.second.wait(120), "Ray never dialled the address"   # the check's, then ray.init's
        start = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        took = time.monotonic() - start
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        listener.close()
    assert proc.returncode == 130 and took < 10, (took, err[-2000:])
    assert err == f"wdlab: interrupted while joining the Ray cluster at 127.0.0.1:{listener.port}: nothing trained\n"


def test_joining_a_cluster_that_never_answers_ends_at_its_deadline_in_one_line():
    listener = Listener("grpc")
    code = (f"import ray\nfrom wdlab.run.ray_backend import JoinWatch\n"
            f"with JoinWatch('127.0.0.1:{listener.port}', 3):\n"
            f"    ray.init(address='127.0.0.1:{listener.port}', logging_level='warning', log_to_driver=False)\n")
    try:
        start = time.monotonic()
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
        took = time.monotonic() - start
    finally:
        listener.close()
    assert out.returncode == 2 and took < 60, (took, out.stderr[-2000:])
    assert out.stderr == (f"wdlab: error: the Ray cluster at 127.0.0.1:{listener.port} did not let this run join "
                          "within 3 s: nothing trained\n")


def test_ctrl_c_cancels_the_outstanding_tasks_and_writes_the_finished_groups(tmp_path):
    target = tmp_path / "grid.csv"
    # a quick architecture and a slow one (about 1.7e12 multiply-adds): the signal comes while the slow one trains
    code, text = interrupted_run(["--backend", "ray", "--ray-cpus", "2", "--preset", "tutorial", "--hidden", "4",
                                  "--hidden", "256", "256", "--epochs", "2000", "--batch-size", "50", "--wd", "0",
                                  "0.01", "--seeds", "0", "--out", str(target)], timeout=180)
    assert code == 130, text[-2000:]
    assert "Traceback" not in text and "wdlab: interrupted: wrote the" in text
    frame = pd.read_csv(target) if target.stat().st_size > 1 else pd.DataFrame(columns=["arch"])
    for _, rows in frame.groupby("arch"):   # a finished group whole, an unfinished one's finished epochs whole
        assert (rows.groupby("epoch").size() == 2).all()
        assert list(rows.epoch.unique()) == list(range(rows.epoch.max() + 1))


SLOW = ["--backend", "ray", "--ray-cpus", "2", "--preset", "tutorial", "--hidden", "256", "256", "--epochs", "1500",
        "--batch-size", "50", "--wd", "0", "0.01", "--seeds", "0", "--optimizer", "adam", "adamw"]


def earlier(target):
    target.write_text("an earlier result\n" * 5000)
    return target.read_text()


def unfinished_epochs_kept(target, text):
    """Both groups were cancelled: the file holds each one's finished epochs, whole (both λ of every epoch)."""
    frame = pd.read_csv(target)
    assert not frame.empty and set(frame.optimizer) <= {"adam", "adamw"}, text[-2000:]
    for _, rows in frame.groupby("optimizer"):
        assert (rows.groupby("epoch").size() == 2).all() and list(rows.epoch) == sorted(rows.epoch)
        assert list(rows.epoch.unique()) == list(range(rows.epoch.max() + 1)) and rows.epoch.max() < 1500
    return frame


def test_ctrl_c_on_ray_writes_the_epochs_of_unfinished_groups_over_an_earlier_file_only_when_complete(tmp_path):
    # issue 26, item 1: an earlier --out became 1 byte and the epochs Ray had trained were not written
    target = tmp_path / "grid.csv"
    earlier(target)
    code, text = interrupted_run([*SLOW, "--out", str(target)], min_epoch=10, timeout=180)
    assert code == 130 and "Traceback" not in text, text[-2000:]
    frame = unfinished_epochs_kept(target, text)
    assert frame.groupby("optimizer").epoch.max().sum() >= 6   # about what the progress bar had shown
    assert text.strip().splitlines()[-1] == f"wdlab: interrupted: wrote the 0 of 2 groups finished (and any " \
                                            f"group's finished epochs) to {target}"


def test_a_second_ctrl_c_on_ray_ends_at_once_and_still_writes_what_was_gathered(tmp_path):
    target = tmp_path / "grid.csv"
    before = earlier(target)
    code, text = interrupted_run([*SLOW, "--out", str(target)], min_epoch=10, signals=2, timeout=180)
    assert code == 130 and "Traceback" not in text and "before training started" not in text, text[-2000:]
    last = text.strip().splitlines()[-1]
    assert last.startswith("wdlab: interrupted") and str(target) in last, text[-2000:]
    assert target.read_text() != before and len(unfinished_epochs_kept(target, text)) > 0


def test_tune_reports_every_epoch_of_every_member():
    from wdlab.run.tune import epoch_metrics, train_trial
    reports = []
    result = train_trial({"preset": "moons", "hidden": "8", "epochs": 4, "wd": "0,0.1", "seeds": "0,1"}, reports.append)
    assert [r["epoch"] for r in reports] == [1, 2, 3, 4]
    last = result.frame[result.frame.epoch == 4]
    assert reports[-1] == epoch_metrics(last)
    assert reports[-1]["val_loss/wd=0.1/seed=1"] == last[(last.weight_decay == 0.1) & (last.seed == 1)].val_loss.item()
    assert reports[-1]["val_loss_best"] == last.val_loss.min()


def test_a_tune_scheduler_stops_a_bad_lr_group_early(local_ray, tmp_path):
    from ray import tune

    from wdlab.run.tune import trainable
    tuner = tune.Tuner(
        trainable,
        param_space={"preset": "moons", "hidden": "8", "epochs": 40, "wd": "0,0.01", "optimizer": "sgd",
                     "lr": tune.grid_search([0.3, 1e-6])},
        tune_config=tune.TuneConfig(metric="val_loss_best", mode="min", max_concurrent_trials=1,
                                    scheduler=tune.schedulers.ASHAScheduler(max_t=40, grace_period=2,
                                                                            reduction_factor=2)),
        run_config=tune.RunConfig(storage_path=str(tmp_path), verbose=0))
    results = tuner.fit()
    iters = {r.config["lr"]: r.metrics["training_iteration"] for r in results}
    assert iters[0.3] == 40 and iters[1e-6] < 40   # the useless lr was stopped before the end


def test_several_architectures_in_process_add_an_arch_column():
    cfgs = configs_from_args(build_parser().parse_args(["run", *FLAGS[:-1]]))
    assert [c.hidden for c in cfgs] == [(8,), (16, 8)] and len(groups(cfgs)) == 2
    frame = train(cfgs).frame
    assert frame.columns[0] == "arch" and list(frame.arch.unique()) == ["8", "16-8"]
    from wdlab.engine.sweep import run_sweep
    equal_frames(frame[frame.arch == "16-8"].drop(columns="arch"), run_sweep(cfgs[1]).frame)

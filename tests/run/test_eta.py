"""The time left a running job reports: the rate measured between epochs, counted down between them (issue 27)."""
from wdlab.run.jobs import Job
from wdlab.settings.config import SweepConfig


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_time_left_uses_the_measured_rate_and_never_rises_while_an_epoch_trains():
    clock = Clock()
    job = Job(("k",), SweepConfig(epochs=100), None, clock)
    job.status, job.started = "running", clock.now
    clock.now += 30.0  # set-up before the first epoch: not a training rate
    job.progress(1, None)
    assert job.snapshot(with_frame=False).eta is None  # one epoch: nothing measured yet
    clock.now += 0.5
    job.progress(2, None)
    clock.now += 0.5
    job.progress(3, None)
    assert job.snapshot(with_frame=False).eta == 0.5 * 97  # 0.5 s an epoch, 97 to go (not 31 s / 3 · 97)
    seen = []
    for _ in range(5):  # the next epoch is slow to land: the estimate counts down, never up
        clock.now += 0.2
        seen.append(job.snapshot(with_frame=False).eta)
    assert seen == sorted(seen, reverse=True) and seen[-1] < 0.5 * 97
    clock.now += 1000
    assert job.snapshot(with_frame=False).eta == 0.0

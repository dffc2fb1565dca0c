"""Shared fixtures: a controllable fake sweep runner for the job manager, and clean Streamlit caches."""
import threading

import pandas as pd
import pytest

from wdlab.sweep import SweepResult


class GatedRunner:
    """Stands in for run_sweep: emits one row per member and epoch, and holds each epoch until `gate` opens,
    so tests decide when jobs progress. Records every config it was asked to train."""

    def __init__(self, open_gate: bool = False, fail: bool = False):
        self.gate = threading.Event()
        if open_gate:
            self.gate.set()
        self.fail = fail
        self.calls = []
        self.started = threading.Semaphore(0)
        self.lock = threading.Lock()

    def __call__(self, cfg, *, limits, data, on_progress, cancel):
        with self.lock:
            self.calls.append((cfg, data))
        self.started.release()
        if self.fail:
            raise RuntimeError("boom")
        rows = []
        for epoch in range(cfg.epochs + 1):
            new = pd.DataFrame({"weight_decay": list(cfg.weight_decays), "seed": cfg.seeds[0], "epoch": epoch,
                                "train_loss": 1.0 / (epoch + 1), "val_loss": 1.0, "l2_norm": 2.0,
                                "diverged": False})
            rows.append(new)
            on_progress(epoch, lambda k=len(rows): pd.concat(rows[:k], ignore_index=True))
            while not self.gate.wait(0.005):
                if cancel.is_set():
                    return SweepResult(cfg, pd.concat(rows, ignore_index=True), "cancelled", epochs_done=epoch)
        return SweepResult(cfg, pd.concat(rows, ignore_index=True), "done", epochs_done=cfg.epochs, seconds=0.01)


@pytest.fixture
def gated_runner():
    return GatedRunner()


@pytest.fixture
def fresh_streamlit():
    """AppTest instances share Streamlit's caches: start each test with a new job registry, and stop it after."""
    import streamlit as st
    import torch
    threads = torch.get_num_threads()  # the app's registry sets torch's thread count process-wide
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()  # on_release shuts the registry's worker threads down
    torch.set_num_threads(threads)

"""The course's experiment, reproduced exactly: its printed loss, and the same code with settings swapped."""
import io
import subprocess
import sys

import pandas as pd
import pytest
import torch
import torch.nn as nn

from wdlab.settings.config import SweepConfig
from wdlab.engine.sweep import run_sweep

COURSE_LOSS = 0.988277792930603  # what ../shared/seed/tutorial.py prints with torch 2.13.0


def course_code(seed=0, weight_decay=1e-4, lr=0.01, epochs=5, hidden=64, optimizer=torch.optim.Adam):
    """The course page's code, with its settings as arguments (SimpleNet = Linear, ReLU, Linear)."""
    torch.manual_seed(seed)

    class SimpleNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(20, hidden)
            self.relu = nn.ReLU()
            self.fc2 = nn.Linear(hidden, 1)

        def forward(self, x):
            return self.fc2(self.relu(self.fc1(x)))

    model = SimpleNet()
    X = torch.randn(1000, 20)
    y = torch.randn(1000, 1)
    opt = optimizer(model.parameters(), lr=lr, weight_decay=weight_decay)
    criterion = nn.MSELoss()
    for _ in range(epochs):
        opt.zero_grad()
        loss = criterion(model(X), y)
        loss.backward()
        opt.step()
    return loss.item()


def test_course_code_prints_its_number():
    assert course_code() == COURSE_LOSS


def test_cli_reproduces_the_course_run():
    out = subprocess.run([sys.executable, "-m", "wdlab", "run", "--preset", "tutorial", "--optimizer", "adam",
                          "--lr", "0.01", "--epochs", "5", "--wd", "1e-4", "--seeds", "0"],
                         capture_output=True, text=True, check=True).stdout
    df = pd.read_csv(io.StringIO(out))
    assert {"weight_decay", "seed", "epoch", "train_loss", "val_loss", "l2_norm"} <= set(df.columns)
    last = df[df.epoch == 5].train_loss.item()
    assert abs(last - COURSE_LOSS) < 1e-6


@pytest.mark.parametrize("seed,wd,lr,epochs,hidden,opt", [
    (3, 1e-4, 0.01, 5, 64, "adam"),
    (0, 0.1, 0.01, 5, 64, "adam"),
    (0, 1e-2, 0.05, 12, 64, "sgd"),
    (1, 1e-2, 0.003, 7, 32, "adamw"),
    (2, 0.0, 0.01, 20, 128, "adam"),
])
def test_tutorial_preset_matches_course_code_with_settings_swapped(seed, wd, lr, epochs, hidden, opt):
    optim = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD, "adamw": torch.optim.AdamW}[opt]
    expected = course_code(seed, wd, lr, epochs, hidden, optim)
    cfg = SweepConfig(preset="tutorial", hidden=(hidden,), optimizers=(opt,), lrs=(lr,), epochs=epochs,
                      weight_decays=(0.0, wd, 0.5) if wd not in (0.0, 0.5) else (wd,), seeds=(seed, seed + 1))
    df = run_sweep(cfg).frame
    got = df[(df.weight_decay == wd) & (df.seed == seed) & (df.epoch == epochs)].train_loss.item()
    assert abs(got - expected) < 1e-6

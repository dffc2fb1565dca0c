"""'Show me the code': one member (optimizer, lr, λ, seed) of a sweep as a standalone plain-PyTorch script in the course's style."""
from __future__ import annotations

from wdlab.codegen.data import CsvSource, data_lines
from wdlab.registry.activations import ACTIVATIONS
from wdlab.registry.datasets import DATASETS
from wdlab.registry.norms import NORMS
from wdlab.registry.optimizers import OPTIMIZERS
from wdlab.registry.schedules import SCHEDULES, describe, scheduled
from wdlab.settings.config import SweepConfig

# Each optimizer, activation, normalization and dataset writes its own code (its registry entry's code text).
__all__ = ["CsvSource", "member_script", "script_name"]


def _one(cfg: SweepConfig, attr: str, given):
    """A setting of this member (attr: "optimizers" or "lrs"): `given`, which must be one of the sweep's, or the
    sweep's only value."""
    values = tuple(getattr(cfg, attr))
    name = "optimizer" if attr == "optimizers" else "lr"
    fmt = (lambda v: str(v)) if attr == "optimizers" else (lambda v: f"{float(v):g}")  # noqa: E731
    if given is None:
        if len(values) != 1:
            raise ValueError(f"this sweep has several {name} values ({', '.join(map(fmt, values))}): say which "
                             f"member's {name}")
        return values[0]
    value = str(given) if attr == "optimizers" else float(given)
    if value not in values:
        raise ValueError(f"{name} {fmt(given)} is not in this sweep; it has {', '.join(map(fmt, values))}")
    return value


def script_name(cfg: SweepConfig, weight_decay: float, seed: int, *, optimizer: str | None = None,
                lr: float | None = None) -> str:
    """A file name for the script: the dataset, the optimizer (and lr when the sweep has several), λ, the seed."""
    opt = _one(cfg, "optimizers", optimizer)
    lr_part = f"_lr{_one(cfg, 'lrs', lr):g}" if len(cfg.lrs) > 1 else ""
    return f"wdlab_{cfg.preset}_{opt}{lr_part}_wd{weight_decay:g}_seed{seed}.py".replace("-", "_")


def member_script(cfg: SweepConfig, weight_decay: float, seed: int, *, csv: CsvSource | None = None,
                  lr: float | None = None, optimizer: str | None = None, expected: float | None = None,
                  link: str | None = None) -> str:
    """The script that trains member (optimizer, lr, weight_decay, seed) of `cfg` on its own, the plain way
    (`optimizer`, `lr`: one of the sweep's; needed only when it has several).

    It prints each epoch's training loss (the mean of its minibatch losses, as the app's train_loss) and ends
    with `Final training loss: <value>`, the app's final train_loss for that member. A CSV sweep needs `csv`
    (how the app read and encoded the table: the script reads the file by its name). `expected` (the app's
    value) and `link` (the sweep's settings as URL parameters) are quoted in the header comment.
    """
    weight_decay, seed = float(weight_decay), int(seed)
    if weight_decay not in cfg.weight_decays:
        raise ValueError(f"weight_decay {weight_decay:g} is not in this sweep; it has "
                         f"{', '.join(f'{w:g}' for w in cfg.weight_decays)}")
    if seed not in cfg.seeds:
        raise ValueError(f"seed {seed} is not in this sweep; it has {', '.join(map(str, cfg.seeds))}")
    if cfg.preset == "csv" and csv is None:
        raise ValueError("a sweep on your CSV needs the table's source (CsvSource) to write its code")
    lr, opt = float(_one(cfg, "lrs", lr)), str(_one(cfg, "optimizers", optimizer))
    spec = DATASETS[cfg.preset]
    if csv is None and spec.code is None:
        raise ValueError(f"no code for preset {cfg.preset!r} yet")
    task = csv.task if csv is not None else spec.task
    out: list[str] = []
    add = out.append
    add("# Weight Decay Lab: one model of the sweep, trained on its own with plain PyTorch.")
    add(f"# The member weight_decay={weight_decay!r}, seed={seed}; data: {spec.title}.")
    if len(cfg.optimizers) * len(cfg.lrs) > 1:
        add(f"# Of the sweep's optimizer × lr grid: optimizer={opt}, lr={lr!r}.")
    if link:
        add(f"# The sweep: ?{link}")
    if expected is not None:
        add(f"# The app reported its final training loss as {expected!r}; this script prints the same")
        add("# (float32 rounding can differ in the last digits: the app trains all members as one stacked model).")
    if csv is None:
        out += spec.code_imports
    else:
        out += ["import numpy as np", "import pandas as pd"]
    if scheduled(cfg) and "import math" not in out:
        add("import math")
    add("import torch")
    add("import torch.nn as nn")
    add("import torch.optim as optim")
    add("")
    if ACTIVATIONS[cfg.activation].code_defs:
        out += [""] + list(ACTIVATIONS[cfg.activation].code_defs) + ["", ""]
    add(f"torch.manual_seed({seed})  # fixes the initial weights" + (" and the data" if spec.per_seed else ""))
    add("")
    model = _model_lines(cfg, spec, csv)
    data = data_lines(cfg, seed, csv)
    if spec.per_seed:  # the course's order: the model first, then its data from the same random stream
        out += model + [""] + data
    else:
        out += data + [""] + model
    dtype = cfg.dtype
    if dtype != "float32":
        add("")
        add(f"# precision {dtype}: the model and the inputs (regression targets too) in {dtype}")
        add(f"model = model.to(torch.{dtype})")
        add(f"X_train, X_val = X_train.to(torch.{dtype}), X_val.to(torch.{dtype})")
        if task == "regression":
            add(f"y_train, y_val = y_train.to(torch.{dtype}), y_val.to(torch.{dtype})")
    add("")
    add(f"weight_decay = {weight_decay!r}")
    out += _optimizer_lines(cfg, opt, lr)
    add(f"criterion = nn.{'MSELoss' if task == 'regression' else 'CrossEntropyLoss'}()")
    out += _loop_lines(cfg, seed)
    return "\n".join(line for line in out if line is not None) + "\n"


def _model_lines(cfg: SweepConfig, spec, csv: CsvSource | None) -> list[str]:
    in_dim = csv.in_dim if csv is not None else spec.in_dim
    out_dim = csv.out_dim if csv is not None else spec.out_dim
    lines, width = ["model = nn.Sequential("], in_dim
    norm = NORMS[cfg.norm]
    for h in cfg.hidden:
        lines += [f"    nn.Linear({width}, {h}),"] + ([] if norm.identity else [f"    {norm.code.format(width=h)},"])
        lines += [f"    {ACTIVATIONS[cfg.activation].code},"]
        width = h
    lines += [f"    nn.Linear({width}, {out_dim}),", ")"]
    return lines


def _optimizer_lines(cfg: SweepConfig, opt: str, lr: float) -> list[str]:
    cls, extra = OPTIMIZERS[opt].code, OPTIMIZERS[opt].code_args(cfg)
    if cfg.decay_bias:  # torch's default: every parameter decays
        return [f"optimizer = {cls}(model.parameters(), lr={lr!r}{extra}, weight_decay=weight_decay)"]
    return [  # nanoGPT's groups: weight matrices decay, biases do not
        "decay = [p for p in model.parameters() if p.dim() >= 2]      # weight matrices",
        "no_decay = [p for p in model.parameters() if p.dim() < 2]    # biases"
        + ("" if NORMS[cfg.norm].identity else f" and {NORMS[cfg.norm].label}'s gains"),
        f"optimizer = {cls}([{{\"params\": decay, \"weight_decay\": weight_decay}},",
        f"{' ' * (len(cls) + 13)}{{\"params\": no_decay, \"weight_decay\": 0.0}}], lr={lr!r}{extra})",
    ]


def _loop_lines(cfg: SweepConfig, seed: int) -> list[str]:
    epochs = cfg.epochs
    report = ['    with torch.no_grad():',
              '        val_loss = criterion(model(X_val), y_val).item()',
              f'    print(f"epoch {{epoch}}/{epochs}: training loss {{train_loss:.8g}}, '
              'validation loss {val_loss:.8g}")',
              'print("Final training loss:", train_loss)']
    if cfg.batch_size is None:
        full = ["n = len(X_train)"]
        batched = False
    else:
        full = ["n = len(X_train)", f"batch_size = min({cfg.batch_size}, n)"]
        batched = True
    lines = [""] + full + _schedule_lines(cfg)
    step = ["    optimizer.step()"] + (["    scheduler.step()  # lr for the next step"] if scheduled(cfg) else [])
    if not batched:
        return lines + [
            f"for epoch in range(1, {epochs + 1}):",
            "    optimizer.zero_grad()",
            "    loss = criterion(model(X_train), y_train)  # the loss before this epoch's step",
            "    loss.backward()",
            *step,
            "    train_loss = loss.item()",
        ] + report
    return lines + [
        f"order = torch.Generator().manual_seed({seed})  # the batch order: a new permutation every epoch",
        f"for epoch in range(1, {epochs + 1}):",
        "    if batch_size >= n:  # one batch holds the whole set: plain full-batch steps",
        "        batches = [torch.arange(n)]",
        "    else:",
        "        perm = torch.randperm(n, generator=order)",
        "        batches = [perm[i:i + batch_size] for i in range(0, n, batch_size)]",
        "    total = 0.0",
        "    for idx in batches:",
        "        xb, yb = (X_train, y_train) if batch_size >= n else (X_train[idx], y_train[idx])",
        "        optimizer.zero_grad()",
        "        loss = criterion(model(xb), yb)",
        "        loss.backward()",
        *("    " + line for line in step),
        "        total += loss.item()",
        "    train_loss = total / len(batches)  # the mean of the epoch's minibatch losses",
    ] + report


def _schedule_lines(cfg: SweepConfig) -> list[str]:
    """LambdaLR with the schedule's factor: lr_t = lr·lr_factor(t), t the 0-based step (none at a constant lr)."""
    if not scheduled(cfg):
        return []
    per_epoch = "1" if cfg.batch_size is None else "math.ceil(n / batch_size)"
    return [
        "",
        f"# learning-rate schedule: {describe(cfg)}; lr_t = lr·lr_factor(t), t = 0, 1, … the step",
        f"steps_per_epoch = {per_epoch}",
        f"T = {cfg.epochs} * steps_per_epoch  # every step of the run",
        f"W = {cfg.warmup_epochs} * steps_per_epoch  # warmup steps",
        "",
        "",
        "def lr_factor(t):",
        "    if t < W:",
        "        return (t + 1) / W  # linear warmup",
        *SCHEDULES[cfg.schedule].code(cfg),
        "",
        "",
        "scheduler = optim.lr_scheduler.LambdaLR(optimizer, lr_factor)  # stepped after every optimizer step",
    ]

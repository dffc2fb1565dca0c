"""One stack: a run of consecutive members of a chunk in one StackedNet, stepped by torch.optim with their own λ."""
from __future__ import annotations

import numpy as np
import torch

from wdlab.engine import optim_step
from wdlab.engine.net import StackedNet, member_correct, member_losses, member_losses_and_grad, with_ones
from wdlab.engine.rotation import Rotation
from wdlab.registry import schedules
from wdlab.registry.optimizers import OPTIMIZERS


class Stack:
    """Members `members` (consecutive indices of cfg.members) trained as one.

    Members sharing (optimizer, lr) are consecutive, so each such group is one contiguous slice of every
    segment of the flat buffer: one torch.optim optimizer per kind with weight_decay=0 and one param group
    per lr (weight_decay is applied by hand where torch applies it: coupled `grad += λ·w`, decoupled
    `w *= 1 − lr·λ`, both before the step). A lone member trains alone (StackedNet.bmm keeps its float32 numbers
    those of any larger stack).
    A schedule (cfg.schedule, cfg.warmup_epochs) sets each group's lr to lr·f(t) before step t, as LambdaLR
    does; the decoupled shrink then is 1 − lr_t·λ, per member (coupled λ is not scheduled, as in torch).
    """

    def __init__(self, cfg, setup, members: range):
        self.cfg, self.setup, self.members = cfg, setup, members
        self.task = setup.task
        self.rows = rows = [cfg.members[m] for m in members]
        seed_index = {s: i for i, s in enumerate(cfg.seeds)}
        self.sidx = torch.tensor([seed_index[r.seed] for r in rows])
        dtype = getattr(torch, cfg.dtype)
        self.net = StackedNet([setup.models[i] for i in self.sidx.tolist()], cfg.activation, dtype, norm=cfg.norm)
        self.optimizers, self.slices = self._optimizers()
        self.decay, self.shrink = self._decay(dtype)
        self.rotation = Rotation(self.net)
        self.on_cpu = self.net.flat.device.type == "cpu"
        self.decayed = self._decayed()
        self.layer_columns = list(dict.fromkeys(s.column for s in self.net.segments)) + self._law_columns()
        self.frozen: list[int] = []
        n = setup.n_train
        self.batch = min(cfg.batch_size or n, n)
        self.t, self.steps = 0, schedules.steps_of(cfg, n)
        self.scheduled = schedules.scheduled(cfg)
        if self.scheduled:
            self._set_lr(0)   # LambdaLR's constructor sets lr·f(0)
        self.inputs = self._inputs(setup)
        self.X, self.y = self.per_member(self.inputs[0]), self.per_member(setup.y)
        self.Xv, self.yv = self.per_member(self.inputs[1]), self.per_member(setup.yv)
        self.last_train: tuple[torch.Tensor, torch.Tensor] | None = None
        # Full batch: the evaluation of the training set after an epoch is exactly the next step's forward
        # (same weights, same rows, same kernels): that step reuses it instead of computing it again.
        self.primed = False

    def _inputs(self, setup) -> tuple[torch.Tensor, torch.Tensor]:
        """The training and held-out inputs as the net takes them: with a ones column (the hand-written path
        folds layer 1's bias into its product for tall batches: StackedNet.folds), made once per setup and
        shared by its stacks."""
        if self.net.autograd:
            return setup.X, setup.Xv
        cached = getattr(setup, "_with_ones", None)
        if cached is None:
            cached = setup._with_ones = (with_ones(setup.X), with_ones(setup.Xv))
        return cached

    def per_member(self, t: torch.Tensor) -> torch.Tensor:
        """Seed-stacked [S or 1, ...] -> member-stacked [M, ...] (a view when the data is shared)."""
        return t.expand(len(self.rows), *t.shape[1:]) if t.shape[0] == 1 else t[self.sidx]

    def _optimizers(self):
        """One engine optimizer per kind, one param group per lr. With one kind and one lr the whole flat buffer
        is its one parameter (one state, one fused call a step); else each param is a contiguous slice of
        `flat` (a segment's rows of the group's members). Every param is a multiple of ALIGN elements long
        (Segment.stride): the kind's fused step (if torch has one) then takes no element in its scalar tail,
        which rounds differently, so a member's numbers do not depend on where it sits in the buffer. The
        padding stays zero: zero gradient, zero state, no step."""
        net, slices, groups = self.net, [], {}
        runs, start = [], 0
        for m in range(1, len(self.rows) + 1):
            if m == len(self.rows) or self.rows[m][:2] != self.rows[start][:2]:
                runs.append((start, m))
                start = m
        for start, m in runs:
            kind, lr = self.rows[start][:2]
            if len(runs) == 1:
                params = [net.flat]
                slices.append((net.flat, None, start, m))
            else:
                params = []
                for seg in net.segments:
                    a, b = seg.offset + start * seg.stride, seg.offset + m * seg.stride
                    p = net.flat[a:b]
                    p.grad = net.flat.grad[a:b]
                    params.append(p)
                    slices.append((p, seg, start, m))
            groups.setdefault(kind, []).append({"params": params, "lr": lr, "base_lr": lr})
        optim_step.allow()  # constructed and stepped without importing torch._dynamo (wdlab/engine/optim_step.py)
        opts = [OPTIMIZERS[kind].engine(g, self.cfg, OPTIMIZERS[kind].fusable) for kind, g in groups.items()]
        return opts, slices

    def _decay(self, dtype):
        """Per element of flat: λ where a coupled member's parameter decays (else 0), and 1 − lr·λ where a
        decoupled one's does (else 1) — the factor computed in Python floats, as torch does. Which parameters
        decay is decided by shape: all of them with decay_bias, else only ≥ 2-D weights (nanoGPT's rule)."""
        coupled, shrink = [], []
        for seg in self.net.segments:
            decays = len(seg.shape) >= 2 or self.cfg.decay_bias
            for o, lr, w, _ in self.rows:
                c = OPTIMIZERS[o].coupled
                coupled.append(torch.full((seg.stride,), w if decays and c else 0.0, dtype=torch.float64))
                shrink.append(torch.full((seg.stride,), 1 - lr * w if decays and not c else 1.0,
                                         dtype=torch.float64))
        coupled_t, shrink_t = torch.cat(coupled), torch.cat(shrink)
        # scheduled: per member lr and λ (0 where coupled), and the segments that decay, for 1 − lr_t·λ each step
        self.member_lr = torch.tensor([r.lr for r in self.rows], dtype=torch.float64)
        self.member_wd = torch.tensor([0.0 if OPTIMIZERS[r.optimizer].coupled else r.weight_decay
                                       for r in self.rows], dtype=torch.float64)
        self.decaying = [seg for seg in self.net.segments if len(seg.shape) >= 2 or self.cfg.decay_bias]
        return (coupled_t.to(dtype) if coupled_t.any() else None,
                shrink_t.to(dtype) if (shrink_t != 1).any() else None)

    def _decayed(self) -> list:
        """max_abs_w's parameters as numpy arrays: views of the same memory on the CPU, else this epoch's copy."""
        flat = self.net.flat.detach().numpy() if self.on_cpu else self.net.flat.detach().cpu().numpy()
        return [flat[s.offset:s.offset + self.net.M * s.stride].reshape(self.net.M, s.stride)
                for s in self.net.segments if len(s.shape) >= 2 or self.cfg.decay_bias]

    def _law_columns(self) -> list[str]:
        """max_abs_w, and where a normalization follows each hidden Linear (its (W, b) is then scale-invariant)
        rot1…rotL and eff_lr1…eff_lrL: the columns wdlab.laws compares with its predictions."""
        L = self.rotation.L
        eff = [f"eff_lr{k}" for k in range(1, L + 1)] if self.net.norm is not None else []
        return [f"rot{k}" for k in range(1, L + 1)] + ["max_abs_w"] + eff

    def _law_stats(self, sq: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """This epoch's rot{k} (mean angle per step; NaN at epoch 0), max_abs_w (over the parameters the decay
        rule covers, whatever the member's λ) and eff_lr{k} = lr / (‖W_k‖² + ‖b_k‖²), lr that of the epoch's last
        step (scheduled: lr·f(t − 1); epoch 0: the first step's)."""
        out = {f"rot{k + 1}": v for k, v in enumerate(self.rotation.epoch_means())} if self.rotation.L else {}
        # in numpy: a few passes over small arrays cost a fraction of torch's per call; the padding is 0, which no
        # maximum of |p| changes
        decayed = self.decayed if self.on_cpu else self._decayed()
        out["max_abs_w"] = np.max([np.abs(v).max(1) for v in decayed], 0).astype(np.float64)
        if self.net.norm is not None:
            lr = self.member_lr * schedules.factor(self.cfg, max(self.t - 1, 0), self.steps) if self.scheduled \
                else self.member_lr
            for k in range(1, self.rotation.L + 1):
                out[f"eff_lr{k}"] = lr / (sq[f"l2_weight{k}"] + sq[f"l2_bias{k}"])
        return out

    def _set_lr(self, t: int) -> None:
        """Every group's lr = base lr·f(t) (LambdaLR's product, in Python floats)."""
        f = schedules.factor(self.cfg, t, self.steps)
        for opt in self.optimizers:
            for group in opt.param_groups:
                group["lr"] = group["base_lr"] * f

    def _shrink(self, net) -> None:
        """w *= 1 − lr_t·λ where a decoupled member decays: the precomputed factor at a constant lr; else this
        step's, per member (float64 elementwise, as Python floats round it), on each decaying segment's rows."""
        if not self.scheduled:
            net.flat.mul_(self.shrink)
            return
        f = schedules.factor(self.cfg, self.t, self.steps)
        lr_t = self.member_lr * f
        per_member = (1 - lr_t * self.member_wd).to(net.flat.dtype)[:, None]
        for seg in self.decaying:
            net.flat[seg.offset:seg.offset + net.M * seg.stride].view(net.M, seg.stride).mul_(per_member)

    def _loss_and_grad(self, out, y):
        return member_losses_and_grad(out, y, self.task)

    def train_epoch(self, order: torch.Tensor | None, cancel) -> bool:
        """One epoch of steps (order: [S, n] row order per seed, None = full batch); False if cancelled."""
        net = self.net
        if order is None:
            batches = [(self.X, self.y)]
        else:
            S = self.setup.X.shape[0]
            pick = torch.arange(S)[:, None] if S > 1 else torch.zeros(order.shape[0], 1, dtype=torch.long)
            # one gather per epoch; the minibatches are then views
            Xp, yp = self.per_member(self.inputs[0][pick, order]), self.per_member(self.setup.y[pick, order])
            batches = [(Xp[:, i:i + self.batch], yp[:, i:i + self.batch]) for i in range(0, Xp.shape[1], self.batch)]
        loss_sum = torch.zeros(len(self.rows), dtype=torch.float64)
        correct = torch.zeros(len(self.rows), dtype=torch.long)
        for xb, yb in batches:
            if cancel is not None and cancel.is_set():
                return False
            if self.primed and order is None:
                losses, out = net.loss_grad_of_last(yb, self._loss_and_grad)
            else:
                losses, out = net.loss_grad(xb, yb, self._loss_and_grad)
            self.primed = False
            if self.frozen:  # diverged members stay at zero: no gradient, so no decay or step moves them
                net.zero_members(self.frozen)
            self.rotation.before()
            with torch.no_grad():
                if self.decay is not None:
                    net.flat.grad.addcmul_(net.flat, self.decay)   # torch: grad = grad.add(param, alpha=λ)
                if self.shrink is not None:
                    self._shrink(net)                              # torch: param.mul_(1 - lr·λ)
            for opt in self.optimizers:
                optim_step.step(opt)   # opt.step() minus torch._dynamo's import (wdlab/engine/optim_step.py)
            self.rotation.after()
            self.t += 1
            if self.scheduled:
                self._set_lr(self.t)
            loss_sum += losses.double()
            if self.task == "classification":
                correct += member_correct(out, yb)
        self.last_train = (loss_sum / len(batches), correct)
        return True

    def _evaluate(self, X, y, block: int | None, primes: bool = False):
        """[M] loss and correct count of the current weights on X (all its rows), in row blocks; primes: the next
        step reuses this forward (its backward follows)."""
        n = X.shape[1]
        block = n if block is None else max(1, block)
        if block >= n:
            out = self.net.forward(X, keep=True, backward=primes)
            loss = member_losses(out, y, self.task).double()
            correct = member_correct(out, y) if self.task == "classification" else None
            return loss, correct
        loss = torch.zeros(len(self.rows), dtype=torch.float64)
        correct = torch.zeros(len(self.rows), dtype=torch.long)
        for i in range(0, n, block):
            out = self.net.forward(X[:, i:i + block], keep=True, backward=False)
            loss += member_losses(out, y[:, i:i + block], self.task, reduce="sum").double()
            if self.task == "classification":
                correct += member_correct(out, y[:, i:i + block])
        return loss / n, correct if self.task == "classification" else None

    def evaluate(self, epoch: int, block: int | None) -> dict[str, list]:
        """This epoch's numbers of the members: column -> list in member order."""
        with torch.no_grad():
            val_loss, val_correct = self._evaluate(self.Xv, self.yv, block)
            primes = self.batch >= self.X.shape[1] and not self.net.autograd and \
                (block is None or block >= self.X.shape[1])
            eval_loss, eval_correct = self._evaluate(self.X, self.y, block, primes)   # last: its forward stays primed
            self.primed = primes
            train_loss, train_correct = self.last_train if epoch else (eval_loss, eval_correct)
            stats = {"train_loss": train_loss, "train_eval_loss": eval_loss, "val_loss": val_loss}
            sq = self.net.sq_norms()
            stats["l2_norm"] = sum(sq.values()).sqrt()
            for name, v in sq.items():
                stats[name] = v.sqrt()
            stats.update(self._law_stats(sq))
            if self.task == "classification":
                n, nv = self.X.shape[1], self.Xv.shape[1]
                stats.update(train_acc=train_correct.double() / n, train_eval_acc=eval_correct.double() / n,
                             val_acc=val_correct.double() / nv)
        return {c: v.tolist() for c, v in stats.items()}

    def freeze(self, members: set[int]) -> None:
        """Freeze these (global) members at zero, in the buffer and in each optimizer's state."""
        rows = [m - self.members.start for m in sorted(members) if m in self.members]
        if not rows:
            return
        self.primed = False  # the primed forward saw the members before they were zeroed
        self.frozen = sorted(set(self.frozen) | set(rows))
        self.net.zero_members(rows)
        for opt in self.optimizers:
            for p, seg, a, b in self.slices:
                inside = [r - a for r in rows if a <= r < b]
                if not inside or p not in opt.state:
                    continue
                for v in opt.state[p].values():
                    if torch.is_tensor(v) and v.shape == p.shape:
                        if seg is None:   # the whole buffer
                            for whole in self.net.segments:
                                self.net.rows(whole, v)[inside] = 0
                        else:
                            v.view(b - a, seg.stride)[inside] = 0

    def flat_rows(self, members: list[int]) -> torch.Tensor:
        """[len(members), params]: these (global) members' parameters, each flattened in nn.Sequential order."""
        local = [m - self.members.start for m in members]
        with torch.no_grad():
            return torch.cat([self.net.rows(seg, self.net.flat)[local] for seg in self.net.segments], dim=1).cpu()

    def member_params(self, m: int) -> list[torch.Tensor]:
        return self.net.member_params(m - self.members.start)

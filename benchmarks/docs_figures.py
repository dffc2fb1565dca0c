"""The measured figures README.md and docs/PRESETS.md, PAGES.md (quiz, laws), ENGINE.md quote, printed in one run (one torch thread),
so a re-measure after a change is one command:

    python benchmarks/docs_figures.py [--presets sine moons] [--seeds 0 1 2]

Deterministic: every figure is a loss, norm or accuracy of a preset's own sweep (its settings, seeds 0-2),
read at the final epoch and at each member's best epoch (lowest validation loss, the app's default reading).
Timings are left to benchmarks/sweep_speed.py and friends (docs/SPEED.md, docs/BUDGET.md)."""
from __future__ import annotations

import argparse
import time

import torch

from wdlab.engine.budget import plan
from wdlab.engine.sweep import run_sweep
from wdlab.frame.schema import compared_rows
from wdlab.settings.config import DEMO_LIMITS, preset_config

PRESETS = ("tutorial", "highdim-linear", "sine", "moons", "spirals", "digits", "diabetes", "breast-cancer")


def course_loss() -> float:
    """README: the course's run (tutorial data, Adam lr 0.01, 5 epochs, λ = 1e-4, seed 0), its last train_loss."""
    cfg = preset_config("tutorial").replace(optimizers=("adam",), lrs=(0.01,), epochs=5, weight_decays=(1e-4,),
                                            seeds=(0,))
    f = run_sweep(cfg).frame
    return float(f[f.epoch == 5].train_loss.iloc[0])


def preset_lines(preset: str, seeds) -> list[str]:
    cfg = preset_config(preset).replace(seeds=tuple(seeds))
    frame = run_sweep(cfg).frame
    cols = ["train_loss", "train_eval_loss", "val_loss", "l2_norm"] + (["val_acc"] if "val_acc" in frame else [])
    est = plan(preset_config(preset), DEMO_LIMITS)   # the estimate beside Train in demo mode (seed 0 only)
    out = [f"## {preset}: {cfg.optimizers} lr {cfg.lrs} {cfg.epochs} epochs, hidden {cfg.hidden}; demo estimate "
           f"{est.describe()} ({est.seconds:.2f} s)"]
    for at in ("final", "best"):
        rows = compared_rows(frame, at)
        for wd, g in rows.groupby("weight_decay"):
            g = g.sort_values("seed")
            vals = "  ".join(f"{c} " + " / ".join(f"{v:.4g}" for v in g[c]) for c in cols)
            ep = " / ".join(str(int(e)) for e in g.epoch) if at == "best" else ""
            out.append(f"{at:5s} λ={wd:g}: {vals}" + (f"  (epochs {ep})" if ep else ""))
    if preset == "sine":     # docs/ENGINE.md's noise of λ = 0.01 over epochs
        g = frame[frame.weight_decay == 0.01]
        for s in seeds:
            v = g[(g.seed == s) & (g.epoch >= 300)].val_loss
            last = g[(g.seed == s) & (g.epoch > cfg.epochs - 15)].val_loss
            out.append(f"sine λ=0.01 seed {s}: val over epochs 300-{cfg.epochs} {v.min():.4g}–{v.max():.4g}; "
                       f"last 15 epochs {last.min():.4g}–{last.max():.4g}")
        lr01 = run_sweep(cfg.replace(lrs=(0.01,), weight_decays=(0.0,))).frame     # the candidate not taken
        end = lr01[lr01.epoch == cfg.epochs].sort_values("seed")
        out.append("sine lr 0.01 λ=0 final: train_loss " + " / ".join(f"{v:.3g}" for v in end.train_loss)
                   + "  val_loss " + " / ".join(f"{v:.3g}" for v in end.val_loss))
    return out


QUIZ = ("which-boundary", "weight-spread", "fit-every-point", "ridge-or-box", "rotation-lr-lambda", "adamw-box",
        "adamw-cosine")    # docs/PAGES.md#quiz and docs/ENGINE.md quote their reveals' numbers (seed 0)


def quiz_reveal(sid: str) -> str:
    """A card trained as the app's jobs train it (its runs, snapshots where it reads the model) and its reveal."""
    from wdlab.quiz.bank import BY_ID
    from wdlab.quiz.cards import explain, grade
    from wdlab.run.train import prepare, train
    card = BY_ID[sid]
    pictures = any(getattr(q, "uses_models", False) for q in card.questions)
    frames, models = [], []
    ests = [plan(r.config, DEMO_LIMITS).seconds for r in card.runs]
    for r in card.runs:
        work = prepare(r.config, limits=DEMO_LIMITS, snapshots=pictures)
        work.check()
        frames.append(train(work).frame)
        models.append(work.plans[0].snapshots)
    return (f"(demo estimate: {' + '.join(f'{t:.2f} s' for t in ests)})\n"
            + explain(card, grade(card, frames, models)))


def quiz_stability(sid: str) -> list[str]:
    """docs/ENGINE.md "The quiz, measured": each question's answers over the card's seeds shifted by 0, 1, 2 and end
    epochs E-20, E-15, ..., E (the model's pictures at E only), counted at every reading; the card's own first."""
    import collections
    import dataclasses
    from wdlab.quiz.bank import BY_ID
    from wdlab.quiz.cards import Run, grade_question
    from wdlab.settings.reading import COMPARED_AT
    card = BY_ID[sid]
    counts = {at: {} for at in COMPARED_AT}
    for shift in (0, 1, 2):
        runs = tuple(Run(r.config.replace(seeds=tuple(x + shift for x in r.config.seeds)), r.label) for r in card.runs)
        frames, models = trained(dataclasses.replace(card, runs=runs))
        total = card.config.epochs
        for end in (e for e in range(total - 20, total + 1, 5) if e >= 1):   # short runs: fewer ends
            short = dataclasses.replace(card, runs=tuple(Run(r.config.replace(epochs=end), r.label) for r in runs))
            for at in COMPARED_AT:
                for i, q in enumerate(card.questions):
                    if getattr(q, "uses_models", False) and end != total:
                        continue
                    o = grade_question(dataclasses.replace(short, at=at), q, [f[f.epoch <= end] for f in frames],
                                       models)
                    counts[at].setdefault(i, collections.Counter())[o.answer if o.graded else o.status] += 1
    order = [card.at] + [a for a in COMPARED_AT if a != card.at]
    return [f"{sid} at {at}{' (its own)' if at == card.at else ''}: " + "; ".join(
        f"Q{i + 1} " + ", ".join(f"{k} {n}" for k, n in sorted(c.items())) for i, c in sorted(counts[at].items()))
        for at in order]


def trained(card):
    """(frames, models) of a card's runs, trained as the app's jobs train them (demo limits)."""
    from wdlab.run.train import prepare, train
    pictures = any(getattr(q, "uses_models", False) for q in card.questions)
    frames, models = [], []
    for r in card.runs:
        work = prepare(r.config, limits=DEMO_LIMITS, snapshots=pictures)
        work.check()
        frames.append(train(work).frame)
        models.append(work.plans[0].snapshots)
    return frames, models


def law_cards() -> list[str]:
    """docs/PAGES.md#laws: each law card's runs, their demo estimate, every comparison and the headline."""
    from wdlab.laws.cards import CARDS, headline, rows
    out, frames = [], {}
    for card in CARDS:
        for run in card.runs:
            if run.id not in frames:
                frames[run.id] = run_sweep(run.cfg).frame
            found = rows(card.law, run.cfg, frames[run.id])
            out.append(f"## law {card.law}, run {run.id} (demo estimate {plan(run.cfg, DEMO_LIMITS).seconds:.2f} s): "
                       f"{headline(card.law, run.cfg, found)[1]}")
            out += [f"   {r.who}: predicted {r.predicted!r} measured {r.measured!r}" for r in found]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", nargs="*", default=list(PRESETS))
    ap.add_argument("--quiz", nargs="*", default=list(QUIZ))
    ap.add_argument("--no-laws", action="store_true")
    ap.add_argument("--stability", nargs="*", default=[], metavar="CARD",
                    help="quiz cards whose answers to count over seeds and end epochs (docs/ENGINE.md); 'all'")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    args = ap.parse_args()
    torch.set_num_threads(1)
    print(f"README course run, λ = 1e-4, epoch 5 train_loss: {course_loss()!r}", flush=True)
    for preset in args.presets:
        start = time.perf_counter()
        print("\n".join(preset_lines(preset, args.seeds)), flush=True)
        print(f"<!-- {preset}: {time.perf_counter() - start:.0f} s wall -->", flush=True)
    if not args.no_laws:
        print("\n".join(law_cards()), flush=True)
    from wdlab.quiz.bank import BY_ID
    for sid in (list(BY_ID) if args.stability == ["all"] else args.stability):
        print("\n".join(quiz_stability(sid)), flush=True)
    for sid in args.quiz:
        print(f"## quiz {sid}\n{quiz_reveal(sid)}", flush=True)


if __name__ == "__main__":
    main()

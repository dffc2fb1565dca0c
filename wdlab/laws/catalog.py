"""The laws wdlab predicts: one declaration each — its claim, formula, source and the frame column it predicts."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Law:
    """name: its key; title: a short human name; claim: what it says, in a sentence; formula: as text; source: who
    showed it; column: the frame column (or column pattern, {k} = the hidden layer) its value is compared with —
    none for a law with no measured counterpart (the timescale); tolerance: the relative distance within which a
    verdict calls it held (the proof tests' own, docs/LAWS.md)."""

    name: str
    title: str
    claim: str
    formula: str
    source: str
    column: str | None
    tolerance: float = 0.0


ADAM_BETA1 = 0.9   # torch.optim.Adam/AdamW's default β₁, which wdlab's optimizers use

LAWS: dict[str, Law] = {law.name: law for law in (
    Law("ridge", "Coupled decay → ridge",
        "SGD, Adam or RMSprop with weight_decay=λ (L2, added to the gradient) on a linear model converge to the "
        "minimizer of L(w) + (λ/2)·‖w‖²: the ridge solution, its weights, norm and training loss.",
        "w* = (2/(n·o)·XᵀX + λD)⁻¹·2/(n·o)·Xᵀy  (X with a ones column; D = I, the bias's entry 0 when the bias "
        "does not decay; o = the outputs)",
        "the stationarity condition of the mean-squared loss plus (λ/2)·‖w‖² (Hoerl & Kennard 1970, ridge "
        "regression)", "l2_norm", 0.01),
    Law("ridge_loss", "Coupled decay → ridge (training loss)",
        "The same ridge solution's mean-squared training loss.",
        "L(w*) = mean((Xw* − y)²)", "as ridge", "train_eval_loss", 0.01),
    Law("box", "Decoupled decay → a box",
        "AdamW does not end at the ridge solution: its decayed weights end inside the box |wᵢ| ≤ 1/λ, on its edge "
        "where the box binds.",
        "max|w| ≤ 1/λ", "Xie & Li 2024, \"Implicit Bias of AdamW: ℓ∞ Norm Constrained Optimization\"",
        "max_abs_w", 0.01),
    Law("rotation", "Rotational equilibrium",
        "A Linear followed by a normalization is scale-invariant in its (W, b); after ~1/(2·lr·λ) steps the angle it "
        "turns per step settles at a rate set by lr and λ alone, whatever the init or the layer.",
        "AdamW: √(2·lr·λ·(1−β₁)/(1+β₁));  SGD with momentum α: √(2·lr·λ/(1+α))",
        "Kosson, Messmer & Jaggi 2023, \"Rotational Equilibrium: How Weight Decay Balances Learning Across Neural "
        "Networks\" (code: github.com/epfml/REQ)", "rot{k}", 0.15),
    Law("norm", "Equilibrium norm",
        "At rotational equilibrium under AdamW a normalized layer's (W, b) has a norm set by lr, λ and its size.",
        "‖(W, b)‖ ≈ √(lr·C/(2λ)), C = the layer's weights and biases", "Kosson, Messmer & Jaggi 2023",
        "norm{k}", 0.2),
    Law("timescale", "AdamW's timescale",
        "AdamW's weights are an exponential moving average of its recent updates over τ = 1/(lr·λ) steps; τ in "
        "epochs is the interpretable quantity, recommended between ~1 and the number of epochs.",
        "τ = 1/(lr·λ) steps = 1/(lr·λ·steps per epoch) epochs",
        "Wang & Aitchison 2024, \"How to set AdamW's weight decay as you scale model and dataset size\"", None),
)}


def tau_number(epochs: float, figures: int = 2) -> str:
    """τ as the legends and the tables write it: "0.52", "31", "2500", and from 10,000 on "1.0e6" (a tiny λ's τ of
    a million epochs, printed in full, crowded a phone's legend and the Laws page). The laws' sentences keep
    figures=3 ("33.3", "3.33"), still never a number in full nor "1e+06"."""
    if epochs < 1e4:
        text = f"{epochs:.{figures}g}"
        return f"{epochs:.0f}" if "e" in text else text   # 2500, not 2.5e+03
    mantissa, exponent = f"{epochs:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def tau_text(epochs: float) -> str:
    """τ in epochs, short enough for a legend entry on a phone: "τ 31 ep", "τ 0.52 ep", "τ 1.0e6 ep"."""
    return f"τ {tau_number(epochs)} ep"

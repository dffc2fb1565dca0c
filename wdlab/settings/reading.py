"""The epoch results are compared at, declared once (light: the CLI reads it at --help time). frame.schema's
compared_rows reads each member there; the app's `compare-at` view option and the CLI's --compare-at choose it."""
from __future__ import annotations

# One choice for the summary across λ, the tables, the best-λ star, the Landscape, the CLI's --summary and the
# quiz. The default is "best": on the sine preset it is the only reading whose verdict held on every seed 0-2 and
# end epoch 480-500 (docs/ENGINE.md).
COMPARED_AT = ("best", "final", "last")
DEFAULT_AT = "best"
LAST_SHARE = 0.1                          # "last": the mean of the last 10 % of epochs
AT_LABELS = {"best": "best epoch", "final": "final epoch", "last": "mean of the last 10 %"}   # a control's options


def describe_at(at: str, share: float = LAST_SHARE) -> str:
    """Where the numbers are read, in words for the page."""
    return {"final": "at the final epoch", "best": "at each member's best epoch (lowest validation loss)",
            "last": f"as the mean of the last {share:.0%} of epochs".replace("%", " %")}[at]


def check_at(at: str) -> str:
    """`at` itself, or ValueError naming the readings."""
    if at not in COMPARED_AT:
        raise ValueError(f"at={str(at)[:40]!r}; choose one of {', '.join(COMPARED_AT)}")
    return at

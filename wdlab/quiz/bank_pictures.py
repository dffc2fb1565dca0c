"""The quiz cards that show the model itself — its decision boundaries, fitted curves and weights — graded from them."""
from __future__ import annotations

from wdlab.settings.config import SweepConfig
from wdlab.quiz.cards import DOWN, SAME, UP, Direction, Point, Run, Scenario, WhichCurve
from wdlab.quiz.filters import WhichFilters
from wdlab.quiz.pictures import FitsEveryPoint, PictureChange, WhichPanel

# Measured (seed 0): the λ = 0 boundary keeps bending around noisy points as training goes on (length 9.6 at
# epoch 44 → 14.6 at 400); λ = 0.01 and 0.1 settle early (8.9, 6.1); λ = 0.3 decays to a constant model.
BOUNDARY = SweepConfig(preset="moons", hidden=(128, 128), optimizers=("adam",), lrs=(0.01,), epochs=400,
                       weight_decays=(0.0, 0.01, 0.1, 0.3), seeds=(0,))
BOUNDARY_SETUP = ("Two noisy moons (200 training points), a 2-128-128-2 ReLU network, Adam + L2 (lr 0.01), 400 "
                  "full-batch epochs; λ = 0, 0.01, 0.1 and 0.3. The reveal draws each λ's decision boundary over "
                  "the points.")


# Measured: without decay the 256-256 tanh net (lr 0.02) passes within 0.08-0.15 of every noisy point (seeds 0-2)
# and is 0.14-0.27 from the curve itself (validation loss); λ ≥ 0.001 miss some point by > 0.5; λ = 0.01 draws the
# sine (0.011-0.032); λ = 0.1 flattens it (0.13-0.48).
SINE = SweepConfig(preset="sine", hidden=(256, 256), activation="tanh", optimizers=("adam",), lrs=(0.02,), epochs=500,
                   weight_decays=(0.0, 1e-3, 1e-2, 1e-1), seeds=(0,))
SINE_SETUP = ("20 noisy samples of y = sin(1.5x) on [−3, 3] (noise σ = 0.3); held out, the curve itself at 200 "
              "evenly spaced x. A 1-256-256-1 tanh network, Adam + L2 (lr 0.02), 500 full-batch epochs; λ = 0, "
              "0.001, 0.01 and 0.1. The reveal draws each λ's fitted curve over the points.")

# Measured (seeds 0-2, epoch 100): filter roughness λ = 0: 0.184-0.189, 0.001: 0.117-0.120, 0.01: 0.058, 0.1: 0.032;
# validation accuracy λ = 0: 0.967-0.980, λ = 0.1: 0.933-0.935. About 4 s for the four models.
FILTERS = SweepConfig(preset="digits", hidden=(64,), activation="relu", optimizers=("adam",), lrs=(0.01,),
                      epochs=100, weight_decays=(0.0, 1e-3, 1e-2, 1e-1), seeds=(0,))
FILTERS_SETUP = ("scikit-learn's handwritten digits (1,347 training images of 8 × 8 pixels, 10 classes), a "
                 "64-64-10 ReLU network, Adam + L2 (lr 0.01), 100 full-batch epochs; λ = 0, 0.001, 0.01 and 0.1. "
                 "The reveal draws what the first layer looks for: each hidden unit's 64 weights as an 8 × 8 image.")


def change(what: str, before: tuple, after: tuple, **why: str) -> PictureChange:
    """A picture-change question from (λ, epoch) to (λ, epoch); epoch None = the end; why keys up/down/same/any."""
    keys = {"up": UP, "down": DOWN, "same": SAME, "any": "*"}
    return PictureChange(what, Point(before[0]), Point(after[0]), before[1], after[1],
                         {keys[k]: v for k, v in why.items()})


MODEL_BANK: tuple[Scenario, ...] = (
    Scenario(
        "which-boundary", "Which boundary is λ = 0.3?", BOUNDARY_SETUP, (Run(BOUNDARY),),
        (WhichPanel(0.3, (0.0, 0.01, 0.1, 0.3), why={
            "D": "λ = 0.3 has the shortest boundary — here none at all: its penalty outweighed everything the "
                 "200 points could offer, the weights were pulled to about 0 and the model predicts the same "
                 "for every point of the plane.",
            "*": "The largest λ usually bends least: bends need large weights, which decay penalises."}),
         change("boundary", (0.0, 44), (0.0, None), up="Without decay nothing stops the network from bending its "
                "boundary around each noisy point it still gets wrong: the longer it trains, the longer the "
                "boundary."),
         change("boundary", (0.1, 44), (0.1, None), same="With decay the boundary settled early: once the "
                "penalty balances the data's pull, more epochs do not add bends.")),
        "A boundary that bends around single points needs large weights; decay charges λ/2·‖w‖² for them, so "
        "a decayed network keeps the smooth boundary the bulk of the data supports. Too much decay leaves no "
        "boundary at all."),
    Scenario(
        "weight-spread", "The weights themselves: how wide do they spread?", BOUNDARY_SETUP.replace(
            "decision boundary over the points", "weights as histograms"), (Run(BOUNDARY),),
        (change("spread", (0.0, None), (0.01, None)),
         change("spread", (0.0, 0), (0.0, None), up="Without decay the weights that fit the data, noise "
                "included, keep growing: the histogram widens epoch after epoch."),
         change("spread", (0.01, 0), (0.01, None), down="Even λ = 0.01 pulls the weights below where they "
                "started: the initial weights were random, and every weight the data does not need is decayed "
                "toward 0.", up="Here the data needed larger weights than the random start, even with decay.")),
        "Weight decay adds λ·w to every weight's gradient: each weight is pulled toward 0 in proportion to its "
        "size. The histogram narrows as λ grows — L2 shrinks all weights rather than zeroing a few."),
    Scenario(
        "fit-every-point", "Which curve passes through every point?", SINE_SETUP, (Run(SINE),),
        (FitsEveryPoint(SINE.weight_decays, within=0.15, why={
            "0": "Only λ = 0 threads every point: 256 × 256 tanh units can bend anywhere, and with nothing charging "
                 "for large weights the fit goes on until it has followed the noise on each of the 20 points.",
            "none": "Even λ = 0 kept some distance from a point here: 500 steps were not enough to follow all the "
                    "noise.",
            "*": "The smaller λ, the closer the curve may hug the points: decay charges for the large weights "
                 "sharp bends need."}),
         Direction("val_loss", Point(0.0), Point(0.01), {
             DOWN: "Passing through every noisy point is the wrong goal: the noise is not the curve. λ = 0.01 "
                   "misses the points by about the noise and lies far closer to sin(1.5x) itself."}),
         WhichCurve("val_loss", 0.0, SINE.weight_decays, why={
             "B": "Not the worst: λ = 0.1 is. Too little decay follows the noise; too much flattens the sine "
                  "itself — the validation loss is lowest in between.",
             "A": "The curve through every point ended furthest from the sine itself."})),
        "A wide network can pass through any 20 points, noise and all; the way it gets there — steep turns between "
        "the points — needs large weights. Decay charges λ/2·‖w‖² for them, so the decayed fit takes the smooth "
        "path through the middle of the noise, which is the sine."),
    Scenario(
        "which-filters", "Which row of filters is λ = 0?", FILTERS_SETUP, (Run(FILTERS),),
        (WhichFilters(0.0, FILTERS.weight_decays, why={
            "A": "λ = 0 has the roughest filters: nothing pulls a weight back, so each keeps the jumps its random "
                 "start and the training images gave it — even the corner pixels, blank in every digit, keep "
                 "their random start.",
            "*": "Without decay nothing smooths the filters; usually λ = 0 is the roughest row."}),
         Direction("val_acc", Point(0.0), Point(0.1), {
             DOWN: "Smoother is not always better: λ = 0.1 fades the filters so much that they no longer tell "
                   "some digits apart.",
             UP: "Here the smoother filters also read the held-out digits better.",
             SAME: "The filters differ, yet both read the held-out digits about as well."})),
        "Decay charges λ/2·‖w‖² for every weight, so a weight the data does not keep pushing on decays toward "
        "0: the noisy pixel-to-pixel jumps fade and the strokes the digits share remain. Too much decay fades "
        "the strokes too."),
)

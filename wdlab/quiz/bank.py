"""The quiz's bank: each scenario is a declared config and 1–3 questions; answers come from running it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from wdlab.settings.config import SweepConfig
from wdlab.settings.params import to_query
from wdlab.quiz.cards import DOWN, SAME, UP, Direction, MultipleChoice, Option, Outcome, Point, Run, Scenario, WhichCurve
from wdlab.quiz.grok import EverPasses, SinceFitted
from wdlab.quiz.landscape import BestLambdaMoves
from wdlab.quiz.bank_pictures import MODEL_BANK
from wdlab.quiz.laws import LAWS_BANK
from wdlab.quiz.schedule import SCHEDULE_BANK


def d(metric: str, before: float, after: float, runs: tuple[int, int] = (0, 0), **why: str) -> Direction:
    """Direction question from λ=before to λ=after; why keys: up, down, same (the measured answer), any."""
    keys = {"up": UP, "down": DOWN, "same": SAME, "any": "*"}
    return Direction(metric, Point(before, runs[0]), Point(after, runs[1]), {keys[k]: v for k, v in why.items()})


def curve(metric: str, target: float, shown: Sequence[float], run: int = 0, **why: str) -> WhichCurve:
    """Which-curve question; why keys: the target's measured letter (A, B, …) or any."""
    return WhichCurve(metric, target, tuple(shown), run, {("*" if k == "any" else k): v for k, v in why.items()})


# The epoch each card is graded at (Scenario.at; default DEFAULT_AT, each member's best epoch). Measured over seed
# sets shifted by 0-2 and end epochs E-20…E (tests/quiz/test_quiz_stability.py, docs/ENGINE.md): these cards ask
# what training to the end does, and read at the best epoch their answers flipped (pure-noise, bias-decay,
# decay-hurts-spirals, digits-accuracy) or turned into early stopping's story (course-question, grokking-norm): they
# are graded at the final epoch, where every answer held; the sine card flips at the final epoch and holds at the best.
END = "final"


def one(cfg: SweepConfig) -> tuple[Run, ...]:
    return (Run(cfg),)


# The course's own question, its options judged on measured training and validation loss.
COURSE_QUESTION = "How does increasing weight decay affect training and generalization?"
# Scenario 1 keeps the course's run as written (5 full-batch steps), which is too short for the textbook effect:
# its question asks about this run, not about weight decay in general (scenario 3 asks that, on a long run).
COURSE_RUN_QUESTION = ("In this 5-step run, what does switching the course's weight_decay=1e-4 on do to the "
                       "training and validation loss?")
COURSE_OPTIONS = (
    Option("Training loss rises and validation loss falls: less overfitting, better generalization.",
           (("train_loss", UP), ("val_loss", DOWN)),
           "The penalty trades fit to the training set for smaller weights, and the fit it gave up was the "
           "part that did not carry over to new data: fitted noise."),
    Option("Both training and validation loss fall: the model fits better everywhere.",
           (("train_loss", DOWN), ("val_loss", DOWN))),
    Option("Both rise: the model underfits.", (("train_loss", UP), ("val_loss", UP)),
           "Decay this strong held the weights too small to express the pattern in the data."),
    Option("Training loss falls and validation loss rises: more overfitting.",
           (("train_loss", DOWN), ("val_loss", UP))),
    Option("Neither changes noticeably.", (("train_loss", SAME), ("val_loss", SAME)),
           "Decay acts a step at a time: this λ, over these steps, was too weak to move the weights far "
           "from where λ = 0 left them."),
    Option("Something else (one of them barely changes, or another combination)."),
)

NOISE = SweepConfig(preset="tutorial", hidden=(64,), optimizers=("adam",), lrs=(0.01,), epochs=100,
                    weight_decays=(0.0, 0.01, 0.1), seeds=(0, 1))
MOONS = SweepConfig(preset="moons", hidden=(64,), optimizers=("adam",), lrs=(0.02,), epochs=150,
                    weight_decays=(0.0, 0.01, 0.1, 1.0), seeds=(0,))
HIGHDIM = SweepConfig(preset="highdim-linear", hidden=(), optimizers=("adam",), lrs=(0.01,), epochs=100,
                      weight_decays=(0.0, 0.01, 0.1, 1.0), seeds=(0, 1))
AW_MOONS = SweepConfig(preset="moons", hidden=(64,), optimizers=("adamw",), lrs=(0.02,), epochs=150,
                       weight_decays=(0.0, 1.0), seeds=(0,))

COUPLED = ("Adam + L2 (torch.optim.Adam's weight_decay) adds λ·w to the gradient before Adam divides by √v̂, the "
           "running size of each weight's gradient: the decay is rescaled per weight, weak where gradients are "
           "large and strong where they are small, and Adam heads for the minimum of loss + λ/2·‖w‖². AdamW "
           "instead multiplies every weight by 1 − lr·λ each step, whatever its gradient. The same λ therefore "
           "sets different strengths in the two.")

# The hosted demo's grokking sweep (preset modular-addition-p23 with its own defaults: 500 steps fit the demo).
GROK = SweepConfig(preset="modular-addition-p23", hidden=(128,), activation="quadratic", optimizers=("adamw",),
                   lrs=(0.01,), epochs=500, weight_decays=(0.0, 0.2, 0.3), seeds=(0,))
GROK_SETUP = ("(a + b) mod 23 from one-hot a and b: 80 % of the 529 pairs to train on, the rest held out. A "
              "46-128-23 network with x² activation, AdamW (lr 0.01), 500 full-batch steps; λ = 0, 0.2 and 0.3. "
              "Every λ fits its training pairs within about 35 steps.")
GROK_REASON = ("A network can fit its training pairs two ways: memorise each one (a lookup table, which needs "
               "large weights) or find the rule (a few Fourier features of a and b, which need far smaller "
               "ones). Memorising is found first. AdamW's decay shrinks every weight by lr·λ per step, so "
               "with λ > 0 the large memorising weights keep being pulled down while the data keeps the fit: "
               "the network drifts to the small-norm solution, which is the rule, and validation accuracy jumps "
               "long after training accuracy hit 100 % — grokking. Without decay nothing pulls it off the "
               "memorising solution it already has.")

LANDSCAPE = SweepConfig(preset="moons", hidden=(32,), optimizers=("adam", "adamw"), lrs=(0.01, 0.02), epochs=150,
                        weight_decays=(0.0, 1e-3, 1e-2, 1e-1, 0.3), seeds=(0,))
LANDSCAPE_SETUP = ("The moons, a 32-unit network, 150 full-batch epochs, five λ values from 0 to 0.3 — trained with "
                   "Adam + L2 and with AdamW, each at lr 0.02 and at half of it, 0.01: one small λ × lr landscape.")

BANK: tuple[Scenario, ...] = (
    Scenario(
        "course-as-written", "The course's code, exactly",
        "The course page's run: Adam, lr 0.01, 5 full-batch epochs on its pure-noise data; λ from 0 to 1e-4 "
        "(two seeds, each with its own data as in the course's code). The course asks how weight decay affects "
        "training and generalization; this card asks what its own 5-step run shows (card 3 runs long enough for "
        "the textbook answer).",
        one(SweepConfig(preset="tutorial", hidden=(64,), optimizers=("adam",), lrs=(0.01,), epochs=5,
                        weight_decays=(0.0, 1e-4), seeds=(0, 1))),
        (MultipleChoice(COURSE_RUN_QUESTION, Point(0.0), Point(1e-4), COURSE_OPTIONS),
         d("l2_norm", 0.0, 1e-4, same="The penalty's gradient λ·w is tiny next to the data's, and 5 steps "
           "give it almost no time to act.")),
        "Weight decay only acts through optimizer steps. Whether it shows depends on λ, lr and how many steps "
        "it has; the course's numbers make the penalty a tiny fraction of a loss near 1."),
    Scenario(
        "pure-noise", "Decay on the course's pure-noise targets",
        "The course's data (targets are random noise), its 20-64-1 network and Adam, trained for 100 epochs; "
        "λ from 0 to 0.1.",
        one(NOISE),
        (d("train_loss", 0.0, 0.1, up="Everything a network fits on noise is memorised; decay stops the "
           "memorising, so the training loss stays near the noise's variance of 1."),
         d("val_loss", 0.0, 0.1, down="Memorised noise does not carry over: it only adds error on fresh noise. "
           "Without it the prediction stays near 0 and the validation loss near 1, the best possible here.",
           up="Unusually, the decayed model did worse on fresh noise here."),
         curve("val_loss", 0.1, (0.0, 0.01, 0.1), C="The more decay, the less memorised noise, the closer "
               "the validation loss to the noise's own variance.")),
        "On pure noise the best possible model predicts 0 (loss ≈ 1). Anything lower on the training set is "
        "memorisation, and memorisation costs on new data; decay penalises the large weights it needs.", at=END),
    Scenario(
        "course-question", "The course's question, on noisy moons",
        "A 2-64-2 ReLU network on 200 noisy two-moons points, Adam (lr 0.02), 150 epochs; λ from 0 to 0.01.",
        one(MOONS),
        (MultipleChoice(COURSE_QUESTION, Point(0.0), Point(0.01), COURSE_OPTIONS),
         d("l2_norm", 0.0, 0.01)),
        "Bending a boundary around individual noisy points takes large weights; a penalty on large weights "
        "pushes towards a smoother boundary, which passes less closely by the training points.", at=END),
    Scenario(
        "too-much-decay", "λ so large the model underfits",
        "The same noisy moons and network, Adam (lr 0.02), 150 epochs; λ from 0 to 1.",
        one(MOONS),
        (d("train_loss", 0.0, 1.0), d("val_acc", 0.0, 1.0),
         curve("train_loss", 1.0, (0.0, 0.01, 1.0), A="The penalty won over the data: with weights held "
               "near 0 the output is nearly constant, and a constant guess on two balanced classes has "
               "cross-entropy ln 2 ≈ 0.693 — a coin flip.")),
        "Too much decay underfits: the penalty λ/2·‖w‖² outweighs anything the data can offer, so the model "
        "cannot express even the pattern that is there."),
    Scenario(
        "adamw-how-big", "How big must AdamW's λ be?",
        "A linear model on the 20-sample, 200-feature regression, AdamW (lr 0.01), 100 full-batch epochs; "
        "λ from 0 to 0.01 (AdamW's default), and from 0 to 3.",
        one(SweepConfig(preset="highdim-linear", hidden=(), optimizers=("adamw",), lrs=(0.01,), epochs=100,
                        weight_decays=(0.0, 0.01, 3.0), seeds=(0, 1))),
        (d("l2_norm", 0.0, 0.01, same="AdamW shrinks by lr·λ = 0.01·0.01 = 0.01 % per step: after 100 steps "
           "that is a 1 % pull in total."),
         d("val_loss", 0.0, 0.01),
         d("val_loss", 0.0, 3.0, down="At λ = 3 each step shrinks by lr·λ = 3 %: the weights that only fit "
           "the noise in 20 samples are pulled back, and the model generalizes.")),
        "AdamW's decay is w ← w·(1 − lr·λ) per step, so its strength is lr·λ times the number of steps: "
        "the λ to choose depends on lr and the training length."),
    Scenario(
        "adam-l2-vs-adamw", "Adam + L2 versus AdamW at the same λ",
        "A linear model on the 20-sample high-dimensional regression, lr 0.01, 100 epochs, λ = 0.1; the one "
        "change: torch.optim.Adam(weight_decay=0.1) → torch.optim.AdamW(weight_decay=0.1).",
        (Run(HIGHDIM.replace(weight_decays=(0.0, 0.1)), "Adam + L2"),
         Run(HIGHDIM.replace(optimizers=("adamw",), weight_decays=(0.0, 0.1)), "AdamW")),
        (d("l2_norm", 0.1, 0.1, runs=(0, 1), up="AdamW regularised less here: lr·λ = 0.1 % per step is a weak "
           "pull, while Adam + L2's penalty gradient gets a full Adam step once the data gradient is small.",
           down="AdamW regularised more here: its lr·λ shrink outpaced the coupled penalty."),
         d("val_loss", 0.1, 0.1, runs=(0, 1)),
         d("val_loss", 0.0, 0.1, runs=(1, 1))),
        COUPLED),
    Scenario(
        "which-adam-curve", "Which curve is λ = 0.01?",
        "A linear model on the 20-sample high-dimensional regression, Adam + L2 (lr 0.01), 100 epochs, "
        "λ = 0, 0.01, 0.1 and 1.",
        one(HIGHDIM),
        (curve("val_loss", 0.01, (0.0, 0.01, 0.1, 1.0), B="The second smallest λ ended second highest: more "
               "coupled decay, less of the 20 samples' noise fitted, lower validation loss."),
         curve("l2_norm", 1.0, (0.0, 0.01, 0.1, 1.0))),
        "With Adam + L2 the penalty gradient λ·w competes with the data gradient; larger λ settles at smaller "
        "weights."),
    Scenario(
        "tiny-train-set", "Decay and a tiny training set",
        "d2l's experiment: a linear model, 200 features but only 20 training samples, SGD (lr 0.003, batch 5), "
        "100 epochs; λ from 0 to 3.",
        one(SweepConfig(preset="highdim-linear", hidden=(), optimizers=("sgd",), lrs=(0.003,), epochs=100, batch_size=5,
                        weight_decays=(0.0, 3.0), seeds=(0, 1))),
        (d("val_loss", 0.0, 3.0, down="With 200 weights and 20 equations, infinitely many weight vectors fit "
           "the training set exactly, most of them with large weights that fit its noise; decay picks a small "
           "one, which spends far less on the noise."),
         d("l2_norm", 0.0, 3.0)),
        "Few samples and many parameters is where overfitting is worst, and so where decay helps validation "
        "most; with plenty of data the data term dominates the penalty and decay matters less."),
    Scenario(
        "sgd-is-l2", "SGD's weight_decay is exactly an L2 penalty",
        "A linear model on scikit-learn's diabetes table, SGD (lr 0.1), 100 full-batch epochs; λ = 0, 0.1, 2.",
        one(SweepConfig(preset="diabetes", hidden=(), optimizers=("sgd",), lrs=(0.1,), epochs=100,
                        weight_decays=(0.0, 0.1, 2.0), seeds=(0,))),
        (d("train_loss", 0.0, 2.0, up="The logged training loss is the data loss alone; the weights now "
           "minimise data loss + λ/2·‖w‖², so the data loss itself must be higher."),
         d("l2_norm", 0.0, 2.0),
         curve("l2_norm", 0.1, (0.0, 0.1, 2.0))),
        "torch.optim.SGD(weight_decay=λ) adds λ·w to the gradient, which is exactly the gradient of "
        "λ/2·‖w‖²: SGD descends loss + λ/2·‖w‖², and for this linear model it heads for ridge regression."),
    Scenario(
        "bias-decay", "Decaying the biases, or not",
        "Noisy moons, a 2-64-2 network, AdamW (lr 0.02, λ = 1), 150 epochs; the one change: biases decayed "
        "(torch's default) → only weight matrices decayed (nanoGPT's groups).",
        (Run(AW_MOONS, "biases decayed"), Run(AW_MOONS.replace(decay_bias=False), "biases not decayed")),
        (d("l2_norm", 1.0, 1.0, runs=(0, 1), up="The L2 norm counts biases too: spared from decay, they "
           "settled larger."),
         d("val_loss", 1.0, 1.0, runs=(0, 1), same="Biases only shift each unit; they do not make the model "
           "more sensitive to its inputs, so decaying them does little for generalization.")),
        "The usual practice (nanoGPT, minGPT) decays only weight matrices: biases shift units rather than "
        "scale inputs, so decaying them mostly costs fit rather than curbing overfitting.", at=END),
    Scenario(
        "decay-hurts-spirals", "When the model needs its capacity",
        "Two noisy spirals, a 2-64-64-2 network, Adam + L2 (lr 0.01), 200 epochs; λ = 0, 0.001 and 0.01.",
        one(SweepConfig(preset="spirals", hidden=(64, 64), optimizers=("adam",), lrs=(0.01,), epochs=200,
                        weight_decays=(0.0, 0.001, 0.01), seeds=(0,))),
        (d("val_loss", 0.0, 0.001), d("val_acc", 0.0, 0.01, down="Spirals need sharp turns, and sharp "
           "turns need large weights: λ = 0.01 forbids them and the boundary is too smooth to follow the arms.")),
        "Decay buys smoothness with fit. A little of it removes the wiggles that follow noise; more of it also "
        "removes the bends the real pattern needs.", at=END),
    Scenario(
        "digits-accuracy", "Loss versus accuracy on digits",
        "scikit-learn's 8×8 digits, a 64-64-10 network, Adam + L2 (lr 0.01), 60 full-batch epochs; "
        "λ from 0 to 0.01.",
        one(SweepConfig(preset="digits", hidden=(64,), optimizers=("adam",), lrs=(0.01,), epochs=60,
                        weight_decays=(0.0, 0.01, 0.1), seeds=(0,))),
        (d("train_loss", 0.0, 0.01), d("val_acc", 0.0, 0.01), d("gap", 0.0, 0.01)),
        "Accuracy only counts the arg-max; loss also counts confidence. Decay lowers confidence (smaller "
        "logits), so it can move the losses a lot while accuracy moves by a point or two.", at=END),
    Scenario(
        "breast-cancer-tie", "Same accuracy, different loss",
        "scikit-learn's breast-cancer table, a 30-32-2 network, Adam + L2 (lr 0.01), 100 epochs; "
        "λ from 0 to 0.01.",
        one(SweepConfig(preset="breast-cancer", hidden=(32,), optimizers=("adam",), lrs=(0.01,), epochs=100,
                        weight_decays=(0.0, 0.01, 0.1), seeds=(0,))),
        (d("val_loss", 0.0, 0.01), d("val_acc", 0.0, 0.01), d("l2_norm", 0.0, 0.01)),
        "Without decay the network drives its logits to extremes on the training set; the few validation "
        "tumours it gets wrong then cost a lot of loss. Decay keeps the logits moderate."),
)
BANK += (
    Scenario(
        "grokking-no-decay", "Grokking: does λ = 0 ever generalize?", GROK_SETUP, one(GROK),
        (EverPasses("val_acc", 0.5, Point(0.0), {
            "no": "Without decay the network keeps the memorising solution it found first: once every training "
                  "pair is right, cross-entropy still rewards wider margins, so its gradient keeps scaling up the "
                  "same memorising weights (‖w‖₂ keeps growing) and nothing pulls them towards the small-norm rule.",
            "yes": "Here λ = 0 found some of the rule by itself."}),
         EverPasses("val_acc", 0.5, Point(0.2), {
             "yes": "With decay the memorising weights are pulled down step after step while the fit holds, and "
                    "the rule — the small-norm way to fit the same pairs — takes over.",
             "no": "This λ did not get there in 500 steps: smaller λ groks later."})),
        GROK_REASON),
    Scenario(
        "grokking-norm", "Grokking: the weight norm after the training set is fitted", GROK_SETUP, one(GROK),
        (SinceFitted(Point(0.3), why={
            "lower": "Once every training pair is right the data's gradient is small and decay wins: ‖w‖₂ falls "
                     "while the accuracy holds — the network moving from memorising to the rule.",
            "higher": "The norm kept growing for a while after the fit — cross-entropy still rewards larger "
                      "logits on pairs already right, and Adam's momentum carries on — and only then did decay "
                      "pull it down, as the rule replaced the memorising weights; not all the way back.",
            "about the same": "The norm rose after the fit and decay brought it back to about where it was."}),
         d("l2_norm", 0.0, 0.3, down="Without decay nothing pulls the memorising weights down, and cross-"
           "entropy keeps rewarding larger logits: λ = 0's norm only grows. With decay it peaks and falls.")),
        GROK_REASON, at=END),
    Scenario(
        "landscape-halve-lr", "The landscape: halve the learning rate", LANDSCAPE_SETUP, one(LANDSCAPE),
        (BestLambdaMoves("adam", why={
            "stays": "With Adam's L2 the decay term λ·w joins the gradient and is rescaled per weight, and the step "
                     "is lr times the whole: the pulls of λ and of the data shrink together, so their balance — "
                     "where the best λ lies — barely depends on lr.",
            "*": "With Adam's L2 both the data's pull and λ's are scaled by lr together, so theory expects the best "
                 "λ to stay; on 200 noisy points neighbouring λ values score within a hair of each other, and "
                 "the measured best can step to a neighbour."}),
         BestLambdaMoves("adamw", why={
            "moves up": "AdamW shrinks every weight by 1 − lr·λ per step: halving lr halves the decay a λ applies, "
                        "so a larger λ is needed for the same per-step decay — in torch's parametrisation lr·λ is "
                        "what stays put (the Landscape page's lr·λ axis).",
            "*": "AdamW's decay per step is lr·λ, so halving lr halves what each λ does and theory expects the best "
                 "λ to move up; here the validation losses of the λ values were nearly equal (see the numbers), "
                 "so the measured best moved the other way or not at all — a flat landscape, not a rule."})),
        "On the Landscape page the same run is a map: switch its x axis to lr·λ to see which product is best."),
)
BANK += MODEL_BANK
BANK += SCHEDULE_BANK
BANK += LAWS_BANK
BY_ID: dict[str, Scenario] = {s.id: s for s in BANK}


def explorer_query(scenario: Scenario, run: int = 0) -> dict[str, str]:
    """URL parameters that open run `run` of the scenario on the explorer page, exactly as it was trained."""
    return to_query(scenario.runs[run].config)


def share_query(scenario: Scenario) -> dict[str, str]:
    return {"scenario": scenario.id}


def from_query(query: Mapping[str, Any]) -> Scenario | None:
    """The scenario a shared link names, or None (unknown id: the page starts from the first)."""
    raw = query.get("scenario")
    if isinstance(raw, (list, tuple)):
        raw = raw[-1] if raw else None
    return BY_ID.get(str(raw)) if raw is not None else None


def next_scenario(current: str | None, score: Score | None = None,
                  bank: Sequence[Scenario] = BANK) -> Scenario:
    """The scenario after `current` in bank order, skipping ones already answered (wraps around)."""
    ids = [s.id for s in bank]
    start = ids.index(current) + 1 if current in ids else 0
    order = list(bank[start:]) + list(bank[:start])
    fresh = [s for s in order if score is None or not score.done(s.id)]
    return (fresh or order)[0]


@dataclass
class Score:
    """The session's tally; the page keeps one in its session state. A question counts once, when first graded."""

    answered: int = 0
    correct: int = 0
    streak: int = 0
    best_streak: int = 0
    seen: dict[tuple[str, int], bool] = field(default_factory=dict)   # (scenario id, question) -> right?

    def record(self, scenario_id: str, question: int, right: bool | None) -> bool:
        """Count one graded answer; ignore ungraded ones (None) and repeats. True if it was counted."""
        if right is None or (scenario_id, question) in self.seen:
            return False
        self.seen[(scenario_id, question)] = right
        self.answered += 1
        self.correct += right
        self.streak = self.streak + 1 if right else 0
        self.best_streak = max(self.best_streak, self.streak)
        return True

    def record_all(self, scenario: Scenario, outcomes: Sequence[Outcome], predictions: Mapping[int, str]) -> int:
        """Record every predicted question of a reveal; returns how many were counted."""
        return sum(self.record(scenario.id, i, o.is_right(predictions[i]))
                   for i, o in enumerate(outcomes) if i in predictions)

    def done(self, scenario_id: str) -> bool:
        return any(sid == scenario_id for sid, _ in self.seen)

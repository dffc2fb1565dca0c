"""The which-filters card: roughness of first-layer filters, rows lettered from the run, its text rendered, and
a real run graded on what a standalone torch.optim run's filters measure."""
import numpy as np
import pandas as pd
import pytest

from wdlab.quiz.bank import BY_ID
from wdlab.quiz.cards import Point, Run, Scenario, explain, grade
from wdlab.quiz.filters import WhichFilters
from wdlab.quiz.pictures import member_of, roughness
from wdlab.reference import reference_run
from wdlab.settings.config import SweepConfig
from support import train_scenario

CFG = SweepConfig(preset="digits", hidden=(2,), epochs=3, weight_decays=(0.0, 0.01, 0.1), seeds=(0,))


class Snaps:
    def __init__(self, by_wd, epoch=3):
        self.by_wd, self.epoch, self.note = by_wd, epoch, ""

    def latest(self, epoch):
        return self.epoch if epoch >= self.epoch else None

    def params(self, epoch, member):
        return self.by_wd.get(member.weight_decay) if epoch == self.epoch else None


def frame(cfg):
    return pd.DataFrame([dict(optimizer=m.optimizer, lr=m.lr, weight_decay=m.weight_decay, seed=m.seed, epoch=e,
                              diverged=False, train_loss=0.0, l2_norm=0.0)
                         for m in cfg.members for e in range(cfg.epochs + 1)])


def first_layer(image):
    """A 2-unit first layer whose filters are both `image` (8 × 8)."""
    w = np.asarray(image, dtype=np.float64).reshape(1, 64)
    return [np.repeat(w, 2, 0), np.zeros(2), np.zeros((10, 2)), np.zeros(10)]


CHECKER = np.indices((8, 8)).sum(0) % 2 * 2.0 - 1          # ±1 alternating: every neighbour jumps by 2
RAMP = np.tile(np.arange(8) * 0.1, (8, 1))                   # across: 0.1 a step; down: 0


def card(q):
    return Scenario("filters-card", "t", "t", (Run(CFG),), (q,))


def test_roughness_is_the_mean_jump_between_neighbouring_pixels():
    assert roughness(CFG, first_layer(CHECKER)) == pytest.approx(2.0)
    assert roughness(CFG, first_layer(RAMP)) == pytest.approx(0.1 * 56 / 112)   # 56 across-jumps of 0.1, 56 of 0
    assert roughness(CFG, first_layer(np.ones((8, 8)))) == 0.0


def test_rows_are_lettered_by_measured_roughness_and_the_answer_follows_the_run():
    q = WhichFilters(0.0, CFG.weight_decays)
    snaps = Snaps({0.0: first_layer(CHECKER), 0.01: first_layer(RAMP), 0.1: first_layer(np.zeros((8, 8)))})
    o = grade(card(q), frame(CFG), [snaps])[0]
    assert o.graded and o.answer == "A" and o.correct == {"A"} and o.values["λ = 0"] == pytest.approx(2.0)
    # a run where λ = 0's filters came out smoothest: the measurement decides, not λ's order
    swapped = Snaps({0.0: first_layer(np.zeros((8, 8))), 0.01: first_layer(RAMP), 0.1: first_layer(CHECKER)})
    assert grade(card(q), frame(CFG), [swapped])[0].answer == "C"
    near = Snaps({0.0: first_layer(CHECKER), 0.01: first_layer(CHECKER * 1.03), 0.1: first_layer(RAMP)})
    o = grade(card(q), frame(CFG), [near])[0]
    assert o.answer == "B" and o.correct == {"A", "B"}                  # within 5 %: both rows count
    missing = grade(card(q), frame(CFG), [Snaps({0.0: first_layer(CHECKER)})])[0]
    assert not missing.graded and "were not kept" in missing.note
    with pytest.raises(ValueError, match="not among the rows"):
        WhichFilters(1.0, CFG.weight_decays).needs()


def test_the_cards_text_renders_every_part_in_words():
    scenario = BY_ID["which-filters"]
    q = scenario.questions[0]
    snaps = Snaps({0.0: first_layer(CHECKER), 0.001: first_layer(CHECKER * 0.6), 0.01: first_layer(RAMP),
                   0.1: first_layer(np.zeros((8, 8)))}, epoch=100)
    cfg = scenario.runs[0].config
    frames = [frame(cfg)]
    o = grade(Scenario(scenario.id, scenario.title, scenario.setup, scenario.runs, (q,), scenario.reason),
              frames, [snaps])[0]
    texts = [scenario.title, scenario.setup, q.prompt(scenario), q.rule(), *dict(q.choices()).values(),
             q.verdict(o, "B"), explain(scenario, [o], {0: "B"})]
    for text in texts:
        assert text and "None" not in text and "{" not in text and "nan" not in text
    assert dict(q.choices()) == {"A": "A — the roughest filters", "B": "B — the second roughest filters",
                                 "C": "C — the third roughest filters", "D": "D — the smoothest filters"}
    assert q.prompt(scenario).endswith("Which row is λ = 0?") and "0, 0.001, 0.01, 0.1" in q.prompt(scenario)
    assert o.facts[0] == ("Filter roughness by row — A: λ = 0, roughness 2; B: λ = 0.001, roughness 1.2; C: "
                          "λ = 0.01, roughness 0.05; D: λ = 0.1, roughness 0. λ = 0 is row A.")
    assert q.verdict(o, "B").startswith("You said **B**; λ = 0 is row **A**: Filter roughness by row")
    said = explain(scenario, [o], {0: "B"})
    assert "You predicted “B”: not what happened." in said and "even the corner pixels" in said


def test_a_real_run_is_graded_on_the_filters_a_standalone_torch_optim_run_learns():
    scenario = BY_ID["which-filters"]
    frames, models = train_scenario(scenario)
    outcomes = grade(scenario, frames, models)
    assert all(o.graded for o in outcomes), [o.note for o in outcomes]
    cfg = scenario.runs[0].config
    rough = {w: outcomes[0].values[f"λ = {w:g}"] for w in cfg.weight_decays}
    assert outcomes[0].answer == "A" and rough[0.0] > 1.3 * rough[0.001] > 1.3 * rough[0.1]   # measured margin
    for w in (0.0, 0.1):
        ref = reference_run(cfg, member_of(cfg, w), keep_at=(cfg.epochs,))
        params = [p.numpy() for p in ref["params"][cfg.epochs]]
        assert rough[w] == pytest.approx(roughness(cfg, params), rel=1e-3)
    assert outcomes[1].answer == "goes down"

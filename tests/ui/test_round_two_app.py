"""Issue 27 ("For the learner, round two") through AppTest: each final training loss named where it is shown, the
exported script's number the one it names; the first group of a grid; quiz text; the smaller things."""
import math
import re

import pytest
from streamlit.testing.v1 import AppTest

from wdlab.codegen.script import FINAL_LABEL
from wdlab.frame.schema import LOSS_NAMES
from wdlab.quiz.bank import BANK, BY_ID
from support import chart_specs, finished, run_script, values
from wdlab.ui.text import notes_of
from support import app as open_app

pytestmark = pytest.mark.usefixtures("fresh_streamlit")


# -- item 1: two final train loss numbers ------------------------------------------------------------------------
def test_each_final_training_loss_is_named_and_the_script_prints_the_one_it_names(tmp_path):
    at = finished(open_app("?preset=tutorial&wd=0,0.1&epochs=5&hidden=8&seeds=0&compare-at=final"))
    frame = at.session_state["job"].snapshot().frame
    last = frame[(frame.epoch == 5) & (frame.weight_decay == 0.1) & (frame.seed == 0)]
    mean_loss, after_loss = last["train_loss"].item(), last["train_eval_loss"].item()
    assert not math.isclose(mean_loss, after_loss, rel_tol=1e-6)  # two different numbers: names matter
    table = at.dataframe[0].value
    assert LOSS_NAMES["train_eval_loss"] in table.columns and "final train loss" not in table.columns
    row = table[table["λ (weight_decay)"] == "0.1"]
    assert float(row[LOSS_NAMES["train_eval_loss"]].item()) == pytest.approx(after_loss, rel=1e-3)
    curves = chart_specs(at)[0]
    assert "mean during each epoch" in curves["layout"]["title"]["text"]
    note = next(c.value for c in at.caption if FINAL_LABEL in c.value)
    assert LOSS_NAMES["train_loss"] in note and LOSS_NAMES["train_eval_loss"] in note and repr(mean_loss) in note
    code = at.code[0].value
    assert f'print("{FINAL_LABEL}", train_loss)' in code
    _, printed = run_script(code, tmp_path)
    assert printed == pytest.approx(mean_loss, rel=1e-6, abs=1e-7)  # the number it names, not the table's


# -- item 4: the first group of a grid, one order for the optimizers -------------------------------------------
def test_a_grid_opens_on_the_group_the_learner_started_from_and_lists_optimizers_in_one_order():
    at = open_app("?wd=0,0.1&epochs=3&hidden=8&seeds=0")
    assert at.multiselect(key="cfg_optimizer").value == ["adam"] and at.session_state["job"].cfg.lrs == (0.01,)
    at.multiselect(key="cfg_optimizer").set_value(["adam", "adamw", "sgd"]).run()  # picked in this order
    assert at.multiselect(key="cfg_optimizer").value == ["sgd", "adam", "adamw"]  # shown in the registry's
    at.multiselect(key="cfg_lr").set_value(["0.01", "0.001"]).run()
    at.button(key="train").click().run()
    at = finished(at)
    job = at.session_state["job"]
    assert job.cfg.optimizers == ("sgd", "adam", "adamw") and job.cfg.lrs == (0.001, 0.01)
    pick = at.selectbox(key="main_group")
    names = [o.split(",")[0] for o in pick.options]
    assert list(dict.fromkeys(names)) == ["SGD", "Adam with L2", "AdamW"]  # the chips' order
    assert pick.options[pick.index] == "Adam with L2, lr 0.01"  # not "SGD, lr 0.001"
    frame = job.snapshot().frame
    rows = frame[(frame.optimizer == "adam") & (frame.lr == 0.01) & (frame.weight_decay == 0.0)]
    line = [t for t in chart_specs(at)[0]["data"] if t.get("meta", {}).get("role") == "line"][0]
    assert values(line["y"]) == rows.sort_values("epoch")["train_loss"].tolist()
    code_pick = at.selectbox(key="main_code_group")
    assert code_pick.options[code_pick.index] == "Adam with L2, lr 0.01"


def test_the_starting_group_is_the_presets_own_or_the_nearest():
    from wdlab.settings.config import SweepConfig, starting_group
    assert starting_group(SweepConfig(optimizers=("sgd", "adam"), lrs=(0.001, 0.01))) == ("adam", 0.01)
    assert starting_group(SweepConfig(optimizers=("sgd", "adam"), lrs=(0.001, 0.02, 0.5))) == ("adam", 0.02)
    assert starting_group(SweepConfig(optimizers=("sgd", "adamw"), lrs=(0.001, 0.1))) == ("sgd", 0.001)


# -- item 5: every quiz card's text ------------------------------------------------------------------------------
FROM_TO = re.compile(r"[Gg]oing from (.+?) to (.+?), ")
BROKEN = re.compile(r"epoch None|\bnan\b|\bNone\b(?! of)|\{|\}")


def _quiz_script():
    from wdlab.ui.quiz_page import quiz_page
    quiz_page()


def card_text(at) -> list[str]:
    texts = [e.value for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning")
             for e in getattr(at, kind)]
    for radio in at.radio:
        texts.append(radio.label)
        texts.extend(str(o) for o in radio.options)
    return texts


def check_text(text: str, where: str) -> None:
    for before, after in FROM_TO.findall(text):
        assert before != after, f"{where}: {text!r} compares a point with itself (an epoch left out?)"
        assert ("at epoch" in before) == ("at epoch" in after), f"{where}: {text!r} names one epoch of two"
    assert not BROKEN.search(text), f"{where}: {text!r}"


@pytest.mark.parametrize("sid", [s.id for s in BANK])
def test_every_quiz_card_renders_its_text_whole(sid):
    at = AppTest.from_function(_quiz_script, default_timeout=60)
    at.query_params["scenario"] = sid
    at.run()
    assert not at.exception
    texts = card_text(at)
    scenario = BY_ID[sid]
    prompts = [q.prompt(scenario) for q in scenario.questions if hasattr(q, "prompt")]
    shown = "\n".join(texts)
    assert scenario.title in shown and all(p in shown for p in prompts)
    for text in texts:
        check_text(text, sid)


def test_the_which_boundary_card_names_both_epochs():
    scenario = BY_ID["which-boundary"]
    epochs = scenario.runs[0].config.epochs
    prompts = [q.prompt(scenario) for q in scenario.questions[1:]]
    assert prompts[0].startswith(f"Going from λ = 0 at epoch 44 to λ = 0 at epoch {epochs}, ")
    assert prompts[1].startswith(f"Going from λ = 0.1 at epoch 44 to λ = 0.1 at epoch {epochs}, ")


def test_every_explanation_in_the_bank_is_whole_and_the_grokking_one_is_true_for_cross_entropy():
    for scenario in BANK:
        texts = [scenario.title, scenario.setup, scenario.reason]
        for q in scenario.questions:
            texts += [str(v) for v in (getattr(q, "why", None) or {}).values()]
            texts += [str(label) for _, label in q.choices()] if hasattr(q, "choices") else []
        for text in texts:
            check_text(text, scenario.id)
    no_decay = BY_ID["grokking-no-decay"].questions[0].why["no"]
    assert "nothing in the loss is left to learn" not in no_decay and "‖w‖₂ keeps growing" in no_decay


# -- item 9: the smaller things ----------------------------------------------------------------------------------
def estimate_text(at) -> str:
    return next(t.value for t in at.text if "models" in t.value and "MB" in t.value)


def test_the_estimate_beside_train_reads_as_english():
    from wdlab.engine.budget import Estimate
    assert Estimate(5 * 2 ** 20, 0.2).describe() == "about 5 MB, under a second"
    assert Estimate(5 * 2 ** 20, 0.7).describe() == "about 5 MB, about 1 s"
    assert Estimate(5 * 2 ** 20, 42.4).describe() == "about 5 MB, about 42 s"
    at = open_app("?epochs=3&wd=0,0.1&hidden=8&seeds=0")  # a small sweep: under a second
    text = estimate_text(at)
    assert "about under" not in text and re.search(r": about [\d.]+ MB, under a second\.$", text), text


def test_the_time_left_waits_for_a_measured_rate_and_is_rounded():
    from wdlab.ui.live import time_left
    assert time_left(None) == ", measuring the speed"
    assert time_left(92.7) == ", about 2 min left" and time_left(26.4) == ", about 25 s left"
    assert time_left(3.0) == ", a few seconds left"
    at = open_app("?epochs=2000&wd=0,0.1&hidden=8&seeds=0")
    job = at.session_state["job"]
    assert job.wait_for_epochs(5, timeout=60)
    at.run()
    bars = [p.proto.text for p in at.get("progress")]
    assert any(re.fullmatch(r"Training: epoch \d+ of 2000, (about \d+ (s|min) left|a few seconds left)", b)
               for b in bars), bars
    at.button(key="main_cancel").click().run()


LATIN = ("ville;prix;surface;y\n" + "".join(f"{('Besançon', 'Orléans', 'Nîmes')[i % 3]};{i * 1.5};{i % 7};"
                                            f"{i * 2 + i % 3}\n" for i in range(40))).encode("cp1252")


def test_a_latin1_table_from_excel_is_read_and_says_which_encoding():
    with pytest.raises(UnicodeDecodeError):
        LATIN.decode("utf-8")
    at = open_app("?preset=csv&optimizer=adam&wd=0,0.1&seeds=0&epochs=3&hidden=8")
    at.file_uploader(key="upload_file").set_value(("ventes.csv", LATIN, "text/csv")).run()
    assert not at.exception and not notes_of(at, "error")
    shown = " ".join(notes_of(at, "success") + notes_of(at, "info") + [c.value for c in at.caption])
    assert "read as Windows-1252 (Western European) text" in shown, shown
    uses = dict(zip(at.dataframe[0].value["column"], at.dataframe[0].value["use"]))
    assert "ville" in uses and uses["y"].startswith("target")
    preview = at.dataframe[1].value
    assert list(preview["ville"][:3]) == ["Besançon", "Orléans", "Nîmes"]  # the accents read as letters


def test_decode_tries_utf8_then_windows_1252_then_latin1():
    from wdlab.data.reading import decode
    from wdlab.settings.config import DEFAULT_LIMITS
    assert decode("a,y\ncafé,1\n".encode("utf-8"), DEFAULT_LIMITS) == ("a,y\ncafé,1\n", "utf-8-sig")
    assert decode("a,y\ncafé €,1\n".encode("cp1252"), DEFAULT_LIMITS) == ("a,y\ncafé €,1\n", "cp1252")
    assert decode(b"a,y\ncaf\xe9\x81,1\n", DEFAULT_LIMITS) == ("a,y\ncaf\xe9\x81,1\n", "latin-1")  # 0x81: no cp1252

"""The laws in the Explorer: the max|w|, rotation and layer-norm figures under the curves, with the predictions that
apply dashed in each λ's colour; the ridge line on a linear model's ‖w‖₂; none where no law applies."""
import pytest

from support import app, chart_specs, finished
from wdlab.laws.catalog import LAWS
from wdlab.laws.predict import predictions

pytestmark = pytest.mark.usefixtures("fresh_streamlit")


def laws_of(spec):
    return [t for t in spec["data"] if (t.get("meta") or {}).get("role") == "law"]


def titled(specs, words):
    return [s for s in specs if words in str(s["layout"].get("title", ""))]


def test_adamw_with_layernorm_draws_its_box_rotation_and_norm():
    at = finished(app("?preset=diabetes&optimizer=adamw&wd=0,0.5&seeds=0&epochs=4&hidden=8&norm=layernorm"
                      "&batch-size=32"))
    assert not at.exception
    specs = chart_specs(at)
    preds = predictions(at.session_state["job"].cfg)
    box = laws_of(titled(specs, "max|w|")[0])
    assert [t["y"] for t in box] == [[2.0, 2.0]] and box[0]["name"] == f"{LAWS['box'].title}, λ = 0.5"
    rot = laws_of(titled(specs, "Rotation per step, layer 1")[0])
    want = next(p for p in preds if p.law == "rotation" and p.member.weight_decay == 0.5)
    assert [set(t["y"]) for t in rot] == [{want.value}]
    assert "before equilibrium" in rot[0]["hovertemplate"]     # 4 epochs: short of it, a dash at the last
    assert len(laws_of(titled(specs, "Norm of layer 1")[0])) == 1
    assert any("dashed lines are predictions" in c.value for c in at.caption)


def test_a_linear_sgd_run_has_the_ridge_line_and_adam_with_l2_no_rotation_line():
    at = finished(app("?preset=tutorial&optimizer=sgd&lr=0.05&wd=0,0.1&seeds=0,1&epochs=5&hidden="))
    assert not at.exception
    specs = chart_specs(at)
    ridge = [t for s in specs for t in laws_of(s) if t["meta"]["panel"] == "l2_norm"]
    assert len(ridge) == 2 and {t["meta"]["law"] for t in ridge} == {"ridge"}       # λ = 0 too: least squares
    keys = [t["name"] for s in specs for t in s["data"] if (t.get("meta") or {}).get("role") == "law-key"]
    assert f"{LAWS['ridge'].title} (predicted)" in keys      # in the loss figure's legend, above both
    plain = finished(app("?preset=diabetes&optimizer=adam&wd=0,0.5&seeds=0&epochs=3&hidden=8&norm=layernorm"
                         "&batch-size=32"))
    specs = chart_specs(plain)
    assert titled(specs, "Rotation per step") and not any(laws_of(s) for s in specs)
    assert any("No law applies" in c.value and "no fixed rate" in c.value for c in plain.caption)

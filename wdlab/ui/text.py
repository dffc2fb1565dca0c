"""Messages that may hold visitor text (link values, typed values, file and column names): always plain text."""
from __future__ import annotations

import hashlib

import streamlit as st

# Streamlit's st.warning/st.error/st.caption/st.markdown parse Markdown, and its autolinker turns "www.x" or
# "http://x" into links after any escaping has been undone, so visitor text is never passed to them. A note is a
# bordered container holding st.text (no Markdown, no HTML), coloured by STYLE through its key's CSS class.
KINDS = {"warning": "⚠", "error": "✖", "info": "ℹ", "success": "✓", "caption": ""}
_COLOURS = {"warning": ("#fffbe6", "#e6b800"), "error": ("#fdecea", "#d93025"), "info": ("#eaf2fd", "#3b528b"),
            "success": ("#e9f7ef", "#2e7d32")}
# A multiselect's chips (the λ values) grow their box instead of scrolling inside a box of about 4 rows
CHIPS = ('[data-testid="stMultiSelect"] div:has(> [data-testid="stMultiSelectTagsContainer"]),'
         '[data-testid="stMultiSelectTagsContainer"]{max-height:none!important;height:auto!important;'
         'overflow:visible!important}')
# The mode bar keeps save-as-PNG, zoom, pan and reset: without the zoom-in/out, autoscale and selection buttons it
# is ~100 px wide, not ~220, and clears a half-width chart's title on a desktop (a phone hides it: MODEBAR)
CHART_CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2},
                "modeBarButtonsToRemove": ["zoomIn2d", "zoomOut2d", "autoScale2d", "select2d", "lasso2d"]}
NARROW = "@media (max-width: 640px)"   # where Streamlit stacks columns: a phone
# Plotly's toolbar (the mode bar) floats over a chart's top right, where a phone's narrow chart has its title and
# legend: on a narrow screen it is hidden (a finger pans and zooms without it; double-tap resets the axes)
MODEBAR = NARROW + "{.js-plotly-plot .modebar-container{display:none!important}}"
STYLE = "<style>" + "".join(
    f'[class*="st-key-wdnote-{kind}-"]{{background:{bg};border-left:4px solid {edge}!important;'
    f'border-radius:0.5rem;padding:0.6rem 0.9rem!important;gap:0.25rem}}' for kind, (bg, edge) in _COLOURS.items()
) + '[class*="st-key-wdnote-"] [data-testid="stText"]{white-space:pre-wrap;overflow-wrap:anywhere}' \
    '[class*="st-key-wdnote-caption-"] [data-testid="stText"]{font-size:0.875rem;color:rgba(49,51,63,0.6)}' \
    + CHIPS + MODEBAR + "</style>"
MAX_CHARS = 4000  # a note shows at most this much of a message


def style() -> None:
    """The notes' colours, the chip boxes' growth, the phone's mode bars; call once per script run (app.py
    does)."""
    st.html(STYLE)


def note(kind: str, text: str, key: str | None = None) -> None:
    """Show `text` (ours, or holding a visitor's words) as plain text in a coloured box: never Markdown or HTML.

    kind: warning | error | info | success | caption. The text starts with the kind's sign (⚠ ✖ ℹ ✓), so it reads
    right without colours too. key: distinguishes two equal notes on one page."""
    text = str(text)
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS] + " …"
    sign = KINDS[kind]
    digest = hashlib.sha1(f"{key}|{text}".encode()).hexdigest()[:12]
    box = st.container(border=kind != "caption", key=f"wdnote-{kind}-{digest}")
    box.text(f"{sign} {text}" if sign else text)


def notes_of(at, kind: str) -> list[str]:
    """For tests (AppTest): the texts of the notes of `kind` on the page, without their sign."""
    sign = KINDS[kind] + " "
    return [t.value[len(sign):] for t in at.text if t.value.startswith(sign)]

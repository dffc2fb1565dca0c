"""The app's pages for st.navigation: add a page by writing wdlab/ui/<page>.py and one st.Page line here."""
from __future__ import annotations

import os

import streamlit as st

from wdlab.ui.compare import compare_page
from wdlab.ui.explorer import explorer_page
from wdlab.ui.landscape_page import landscape_page
from wdlab.ui.laws_page import laws_page
from wdlab.ui.quiz_page import quiz_page
from wdlab.ui.view_page import view_page


def pages() -> list:
    viewing = bool(os.environ.get("WDLAB_VIEW"))   # `wdlab view FILE`: its page first
    shown = [st.Page(view_page, title="Result file", icon=":material/table_view:", url_path="view", default=True)
             ] if viewing else []
    return shown + [
        st.Page(explorer_page, title="Explorer", icon=":material/monitoring:", url_path="explorer",
                default=not viewing),
        st.Page(compare_page, title="Adam+L2 vs AdamW", icon=":material/compare_arrows:", url_path="adam-vs-adamw"),
        st.Page(landscape_page, title="Landscape", icon=":material/grid_on:", url_path="landscape"),
        st.Page(quiz_page, title="Quiz", icon=":material/quiz:", url_path="quiz"),
        st.Page(laws_page, title="Laws", icon=":material/function:", url_path="laws"),
    ]

"""The Streamlit app's pages and pieces: the only package of wdlab that imports streamlit."""
from __future__ import annotations

import streamlit as st


def pages() -> list:
    """The app's pages for st.navigation. Register a new page (e.g. the quiz) by adding its st.Page here."""
    from wdlab.ui.compare import compare_page
    from wdlab.ui.explorer import explorer_page
    from wdlab.ui.landscape_page import landscape_page
    from wdlab.ui.quiz_page import quiz_page

    return [
        st.Page(explorer_page, title="Explorer", icon=":material/monitoring:", url_path="explorer", default=True),
        st.Page(compare_page, title="Adam+L2 vs AdamW", icon=":material/compare_arrows:", url_path="adam-vs-adamw"),
        st.Page(landscape_page, title="Landscape", icon=":material/grid_on:", url_path="landscape"),
        st.Page(quiz_page, title="Quiz", icon=":material/quiz:", url_path="quiz"),
    ]

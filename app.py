"""wdlab's Streamlit entry point: page setup and navigation; the pages live in wdlab/ui/."""
import streamlit as st

from wdlab.ui.pages import pages
from wdlab.ui.state import arrive, demo_notice, manager
from wdlab.ui.text import style

st.set_page_config(page_title="Weight Decay Lab", page_icon="⚖️", layout="wide")
style()
demo_notice()
arrive()  # a tab that leaves is closed for good after Streamlit's reconnect window, its memory handed back
st.navigation(pages()).run()
manager()  # after the page is drawn: the first visitor's page, not the first Train, pays the job pool's start-up

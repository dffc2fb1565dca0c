"""wdlab's Streamlit entry point: page setup and navigation; the pages live in wdlab/ui/."""
import streamlit as st

from wdlab.ui import pages

st.set_page_config(page_title="Weight Decay Lab", page_icon="⚖️", layout="wide")
st.navigation(pages()).run()

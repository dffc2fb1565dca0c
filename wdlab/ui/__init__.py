"""UI: the Streamlit app's pages and their parts — the only part of wdlab that imports streamlit. Pages read like a
description of the screen: they collect settings, hand a config to the job manager (wdlab.run) and draw the figures
wdlab.plots makes. The page list is wdlab/ui/pages.py."""

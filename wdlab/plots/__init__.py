"""Plots: pure functions from a sweep's frame (and snapshots) to Plotly figures — curves, the summary across λ,
the model pictures, the Landscape, grokking. No Streamlit, no training."""

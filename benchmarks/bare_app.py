"""The platform's floor for the latency benchmark: the app's (wide) canvas and one metric, nothing
else. `streamlit run benchmarks/bare_app.py`."""

import streamlit as st
from streamlit_drawable_canvas import st_canvas

canvas = st_canvas(
    stroke_width=18,
    stroke_color="#000000",
    background_color="#FFFFFF",
    height=280,
    width=780,  # as the app's wide canvas
    drawing_mode="freedraw",
    update_streamlit=True,
    return_image_data=True,
    key="canvas-0",
)
if canvas.image_bytes is not None:
    st.metric("Prediction", len(canvas.image_bytes))

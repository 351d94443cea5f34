"""Digit Sketch: write a digit or a number, and see what a network trained on MNIST reads.

    streamlit run app.py

The entry of the app: page settings, the sidebar's settings (shared by both pages) and the
navigation between the two pages:
- Read (ui/read.py): the Draw and Upload a photo tabs, each with the answer panel
  (ui/answer.py);
- Model report (ui/report.py): the models on MNIST's test set and on people's drawings.
Shared widgets live in ui/widgets.py, the style in ui/style.css; all reading is in model/.
"""

from __future__ import annotations

import streamlit as st

from ui.widgets import asset, on_a_phone

st.set_page_config(page_title="Digit Sketch", page_icon="✏️", layout="wide")

with st.sidebar:
    st.header("Settings")
    st.segmented_control(
        "Model",
        ["cnn", "ann", "both"],
        default="cnn",
        required=True,
        key="model_choice",
        format_func={"cnn": "CNN", "ann": "ANN", "both": "Both"}.get,
        help="CNN: a convolutional network (the default). ANN: the classic fully connected "
        "baseline (Dense 300-200-100). Both: side by side on the same drawing.",
    )
    st.slider("Brush width", 8, 40, 18, key="brush", help="Pen width in canvas pixels.")
    st.segmented_control(
        "Canvas",
        ["wide", "square"],
        default="square" if on_a_phone() else "wide",
        required=True,
        key="canvas_shape",
        format_func={"wide": "Wide", "square": "Square"}.get,
        help="Wide: room for a number of up to six digits and more. Square: fits a "
        "phone's screen (the default there), for a digit or a short number.",
    )
    st.toggle(
        "Show why",
        value=True,
        key="show_why",
        help="Colour the input's pixels by how much they drove the answer "
        "(occlusion: each patch of ink erased in turn).",
    )
    st.divider()
    st.caption(
        "A model trained on MNIST has only seen MNIST digits: cropped to the ink, scaled to "
        "a 20-pixel box, centred by their centre of mass in 28x28. Drawings are made exactly "
        "the same way here, which is why they are read right."
    )
    st.html(f"<style>{asset('style.css')}</style>")

read_page = st.Page("ui/read.py", title="Read", icon=":material/draw:", default=True)
report_page = st.Page("ui/report.py", title="Model report", icon=":material/analytics:")
page = st.navigation([read_page, report_page], position="top")
if page.url_path != read_page.url_path:
    # The canvas is off the page: back on the Read page it appears again with its drawing.
    st.session_state.pop("canvas_on_page", None)
page.run()

"""The Read page: write on the canvas (Draw) or give a picture (Upload a photo); both are
read the same way and answered by the same panel (ui/answer.py).

Draw and Upload are tabs of this one page: every tab is rendered on every run, so switching
happens in the browser alone and the drawing and the upload stay as they were.
"""

from __future__ import annotations

from importlib.metadata import version

import streamlit as st
from streamlit_drawable_canvas import st_canvas

from model.canvas import canvas_strokes
from model.feedback import png_bytes
from model.imageio import ImageReadError, read_image, read_preview
from model.strokes import encode_png, render
from ui.answer import show_results
from ui.widgets import CANVAS_SIZE, CANVAS_WIDE, Settings, asset, settings, shown_errors, thumbnail

UPLOAD_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff"]
UPLOAD_MB = 10  # as server.maxUploadSize in .streamlit/config.toml
# ui/canvas_toolbar.js is written for this version of streamlit-drawable-canvas.
CANVAS_VERSION = "0.13.0"


def clear_canvas() -> None:
    # A new key gives a new, empty canvas component (its undo history goes too).
    st.session_state.canvas_version = st.session_state.get("canvas_version", 0) + 1
    st.session_state.pop("last_drawing", None)


def carried_drawing(key: str) -> dict | None:
    """What a canvas starts with when it appears: the last drawing of this visit, so that
    Wide <-> Square and a visit to the Model report keep it (Clear forgets it). Fixed when
    the canvas appears (app.py forgets `canvas_on_page` while another page is open); its own
    strokes take over from there."""
    if st.session_state.get("canvas_on_page") != key:
        last = st.session_state.get("last_drawing")
        st.session_state[f"initial-{key}"] = last[1] if last is not None else None
        st.session_state.canvas_on_page = key
    return st.session_state[f"initial-{key}"]


def carried_picture(json_data: dict, width: int) -> bytes | None:
    """The PNG of a carried drawing on a canvas `width` wide (black strokes on white), or
    None when it has no strokes."""
    strokes = canvas_strokes(json_data)
    if strokes is None:
        return None
    rgba = render(list(strokes.paths), round(strokes.width), "black_on_white", CANVAS_SIZE, width)
    return encode_png(rgba)


@st.fragment
def draw_section(config: Settings) -> None:
    """Canvas and live answer. A fragment: a stroke reruns only this part of the page."""
    # Clear sits in the row of the canvas' own toolbar (undo, redo, reset), pinned above its
    # top edge, so that the answer comes right under the canvas.
    st.button("Clear", on_click=clear_canvas, icon=":material/delete:")
    width = CANVAS_WIDE if config.wide else CANVAS_SIZE
    key = f"canvas-{st.session_state.get('canvas_version', 0)}-{width}"
    canvas = st_canvas(
        stroke_width=config.brush,
        stroke_color="#000000",
        background_color="#FFFFFF",
        height=CANVAS_SIZE,
        width=width,
        drawing_mode="freedraw",
        update_streamlit=True,
        return_image_data=True,
        initial_drawing=carried_drawing(key),
        key=key,
    )
    if canvas.json_data and canvas.json_data.get("objects"):
        st.session_state.last_drawing = (width, canvas.json_data)
    prompt = "Write a digit or a number on the canvas to see what the model reads."
    with shown_errors("Reading the drawing"):
        png, json_data = canvas.image_bytes, canvas.json_data
        if png is None and st.session_state[f"initial-{key}"] is not None:
            # A canvas that appears with a carried drawing says nothing until its next
            # stroke: the page reads the carried strokes, drawn as the canvas draws them.
            json_data = st.session_state[f"initial-{key}"]
            png = carried_picture(json_data, width)
        if png is None:
            st.info(prompt, icon=":material/draw:")
        else:
            image = read_image(png)
            # The picture may be drawn at the screen's pixel ratio; the strokes are in
            # canvas pixels.
            strokes = canvas_strokes(json_data, image.shape[1] / width)
            show_results(image, config.names, config.show_why, prompt, png, "draw", strokes)


def picture_from_user() -> tuple[object | None, str]:
    """The uploaded file or the photo just taken (or None), and what to ask for meanwhile."""
    source = st.segmented_control(
        "Picture from",
        ["file", "camera"],
        default="file",
        required=True,
        key="picture_source",
        format_func={"file": "Upload a file", "camera": "Take a photo"}.get,
    )
    if source == "camera":
        # Mounted only when asked for: the browser asks for the camera only then.
        photo = st.camera_input(
            "Take a photo of a handwritten digit or number",
            help="Dark ink on light paper, filling much of the picture.",
        )
        return photo, "Take a photo of a handwritten digit or number."
    uploaded = st.file_uploader(
        "A photo or scan of a handwritten digit or number",
        type=UPLOAD_TYPES,
        max_upload_size=UPLOAD_MB,
        help="Dark ink on light paper or light on dark; up to "
        f"{UPLOAD_MB} MB. It goes through the same steps as a drawing.",
    )
    return uploaded, "Upload a picture of a handwritten digit or number."


@st.fragment
def upload_section(config: Settings) -> None:
    """A photo or scan through the same pipeline: a file, or a photo taken here (a phone's
    camera). A fragment: an upload reruns only this."""
    uploaded, prompt = picture_from_user()
    if uploaded is None:
        st.info(prompt, icon=":material/upload:")
        return
    if uploaded.size > UPLOAD_MB * 1024 * 1024:
        st.error(
            f"{uploaded.name} is {uploaded.size / 2**20:.1f} MB; the limit is {UPLOAD_MB} MB.",
            icon=":material/error:",
        )
        return
    try:
        image = read_image(uploaded.getvalue())
        preview = read_preview(uploaded.getvalue(), CANVAS_WIDE)
    except ImageReadError as error:
        st.error(f"Cannot use {uploaded.name}: {error}.", icon=":material/error:")
        return
    st.image(preview, caption=uploaded.name)
    show_results(
        image,
        config.names,
        config.show_why,
        prompt="No ink found in this picture: is it blank, or very faint?",
        drawing_png=png_bytes(thumbnail(image, 1024)),
        where="upload",
    )


# The page.

if version("streamlit-drawable-canvas") == CANVAS_VERSION:
    st.html(f"<script>{asset('canvas_toolbar.js')}</script>", unsafe_allow_javascript=True)
config = settings()
st.title("✏️ Digit Sketch")
draw_tab, upload_tab = st.tabs(["Draw", "Upload a photo"])
with draw_tab:
    st.caption(
        "Write a digit or a whole number, left to right, as large as you like. The buttons "
        "above the canvas undo, redo and clear."
        if config.wide
        else "Write a digit, or a short number, as large as you like. The buttons above the "
        "canvas undo, redo and clear."
    )
    draw_section(config)
with upload_tab:
    upload_section(config)

"""Digit Sketch: draw a digit and see what a network trained on MNIST sees and thinks.

    streamlit run app.py

The page, top to bottom: settings in the sidebar; a Draw tab (canvas, live prediction,
probabilities, the 28x28 input the model saw, which pixels drove the answer); an Upload tab
(a photo or scan through the same pipeline); a Model report tab (test accuracy, sample MNIST
test images with predictions, confusion matrix, mistakes). All logic lives in model/.
"""

from __future__ import annotations

import importlib
import json
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from model.classifier import Classifier, ModelError, model_dir, model_path
from model.explain import occlusion_saliency
from model.imageio import ImageReadError, read_image
from model.preprocessing import Preprocessed, preprocess_steps, scale_pixels
from model.process import keep_freed_memory
from model.recognize import Recognition, recognize_steps
from model.visualize import enlarge, preprocessing_steps, saliency_overlay

if TYPE_CHECKING:
    import altair as alt

MODELS = {"cnn": "CNN", "ann": "ANN"}
CANVAS_SIZE = 280
UPLOAD_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff"]
UPLOAD_MB = 10  # as server.maxUploadSize in .streamlit/config.toml
SAMPLES_SHOWN = 24
TOP = "#e4572e"  # the predicted digit's bar (also the theme's primary colour)
REST = "#8d99ae"

log = logging.getLogger("digit_sketch")

st.set_page_config(page_title="Digit Sketch", page_icon="✏️", layout="wide")


# Cached resources: loaded once per process, shared by every session.


@st.cache_resource(show_spinner=False)
def tune_memory() -> bool:
    """Once per process: reuse freed buffers instead of page-faulting new ones on every
    stroke (model/process.py)."""
    return keep_freed_memory()


@st.cache_resource(show_spinner=False)
def warm_chart_imports() -> threading.Thread:
    """Altair and pandas take most of a second to import and are first needed for the first
    drawing's chart: import them in the background, while the page loads and the user
    draws, not on the page's first run."""
    thread = threading.Thread(
        target=lambda: [importlib.import_module(name) for name in ("pandas", "altair")],
        name="warm-chart-imports",
        daemon=True,
    )
    thread.start()
    return thread


@st.cache_resource(show_spinner="Loading the model...")
def load_model(path: str) -> Classifier:
    """The served model at `path`; raises ModelError (not cached) when it cannot be loaded."""
    return Classifier(path)


@st.cache_data(show_spinner=False)
def load_metrics(folder: str) -> dict:
    """metrics.json written by train_model.py, or {} when it is missing or unreadable."""
    try:
        return json.loads((Path(folder) / "metrics.json").read_text())
    except (OSError, ValueError):
        return {}


@st.cache_data(show_spinner=False)
def load_arrays(path: str) -> dict[str, np.ndarray] | None:
    """An .npz of MNIST test images (samples or mistakes), or None."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}
    except (OSError, ValueError):
        return None


@st.cache_data(show_spinner=False)
def sample_predictions(model_file: str, samples_file: str) -> np.ndarray | None:
    """The model's (N, 10) probabilities for the committed sample test images."""
    samples = load_arrays(samples_file)
    try:
        model = load_model(model_file)
    except ModelError:
        return None
    if samples is None:
        return None
    return model.predict(scale_pixels(samples["images"]))


def model_or_none(name: str) -> Classifier | None:
    """The loaded model, or None after saying why it is unavailable."""
    try:
        return load_model(str(model_path(name)))
    except ModelError as error:
        st.error(f"The {MODELS[name]} model is unavailable. {error}", icon=":material/error:")
        return None


# Helpers that build what the page shows.


def probability_chart(probabilities: np.ndarray) -> alt.Chart:
    """Bars for the ten digits, the most probable one highlighted."""
    import altair as alt
    import pandas as pd

    top = int(probabilities.argmax())
    data = pd.DataFrame(
        {"digit": [str(d) for d in range(10)], "probability": probabilities.astype(float)}
    )
    return (
        alt.Chart(data, height=180)
        .mark_bar(cornerRadiusTopLeft=3, cornerRadiusTopRight=3)
        .encode(
            x=alt.X("digit:N", sort=None, axis=alt.Axis(labelAngle=0, title=None)),
            y=alt.Y(
                "probability:Q",
                scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%", title=None, tickCount=5),
            ),
            color=alt.condition(alt.datum.digit == str(top), alt.value(TOP), alt.value(REST)),
            tooltip=[alt.Tooltip("digit:N"), alt.Tooltip("probability:Q", format=".2%")],
        )
    )


def confusion_chart(confusion: list[list[int]]) -> alt.LayerChart:
    """Heatmap of true digit (rows) against predicted digit (columns), counts written in."""
    import altair as alt
    import pandas as pd

    matrix = np.asarray(confusion)
    rows = [
        {
            "true": str(t),
            "predicted": str(p),
            "count": int(matrix[t, p]),
            "kind": "right" if t == p else "wrong",
        }
        for t in range(10)
        for p in range(10)
    ]
    data = pd.DataFrame(rows)
    base = alt.Chart(data, height=360).encode(
        x=alt.X("predicted:N", axis=alt.Axis(labelAngle=0, orient="top")),
        y=alt.Y("true:N"),
    )
    # Colour the mistakes only: the diagonal (hundreds each) would drown them out.
    cells = base.mark_rect().encode(
        color=alt.condition(
            "datum.kind == 'wrong' && datum.count > 0",
            alt.Color("count:Q", scale=alt.Scale(scheme="orangered", type="symlog"), legend=None),
            alt.value("transparent"),
        ),
        tooltip=["true:N", "predicted:N", "count:Q"],
    )
    text = base.mark_text(fontSize=11).encode(
        text=alt.condition("datum.count > 0", "count:Q", alt.value("")),
        opacity=alt.condition("datum.kind == 'right'", alt.value(0.55), alt.value(1.0)),
    )
    return cells + text


def framed(image_uint8: np.ndarray, wrong: bool, scale: int = 3) -> np.ndarray:
    """A 28x28 MNIST image enlarged, with a red frame when the model got it wrong."""
    rgb = enlarge(image_uint8, scale, grid=False)
    if wrong:
        rgb[:3, :], rgb[-3:, :], rgb[:, :3], rgb[:, -3:] = TOP_RGB, TOP_RGB, TOP_RGB, TOP_RGB
    return rgb


TOP_RGB = tuple(int(TOP[i : i + 2], 16) for i in (1, 3, 5))


def thumbnail(image: np.ndarray, side: int = CANVAS_SIZE) -> np.ndarray:
    """Shrink an uploaded image for display (never enlarged)."""
    scale = side / max(image.shape[:2])
    if scale >= 1:
        return image
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def recognize_safely(image: np.ndarray, models: dict[str, Classifier]) -> dict | None:
    """Preprocess the picture once and ask every model about it: {name: Recognition}.

    Any failure is shown as a message instead of an error page, and gives None.
    """
    try:
        steps = preprocess_steps(image)
        return {name: recognize_steps([steps], model)[0] for name, model in models.items()}
    except ValueError as error:
        st.error(f"This image cannot be read as a digit: {error}", icon=":material/error:")
    except Exception:  # the page must keep working whatever arrives
        log.exception("recognition failed")
        st.error(
            "Something went wrong reading this image. Clear it and try again.",
            icon=":material/error:",
        )
    return None


# Page sections.


def show_answer(result: Recognition, label: str) -> None:
    """The digit in large type with its confidence, or the top two when unsure."""
    if result.unsure:
        (first, p_first), (second, p_second) = result.candidates(2)
        st.metric(
            f"Prediction ({label})",
            f"{first} or {second}?",
            delta=f"unsure: {p_first:.0%} vs {p_second:.0%}",
            delta_color="off",
            delta_arrow="off",
        )
        st.warning(
            "Not sure. " + "; ".join(d[0].upper() + d[1:] for d in result.doubts) + ".",
            icon=":material/help:",
        )
    else:
        st.metric(
            f"Prediction ({label})",
            str(result.digit),
            delta=f"{result.confidence:.1%} confident",
            delta_color="off",
            delta_arrow="off",
        )
    st.altair_chart(probability_chart(result.probabilities), width="stretch")


def show_model_input(steps: Preprocessed, name: str, model: Classifier, show_why: bool) -> None:
    """The 28x28 image the model saw, and which of its pixels drove the answer."""
    left, right = st.columns(2)
    left.image(
        enlarge(steps.digit_28x28), caption="What the model sees: 28x28 pixels", width="stretch"
    )
    if show_why:
        saliency = occlusion_saliency(model, steps.digit_28x28)
        right.image(
            saliency_overlay(steps.digit_28x28, saliency),
            caption=f"Why ({MODELS[name]}): orange ink supports the answer, blue argues against it",
            width="stretch",
        )
    steps_panel = st.expander(
        "How the drawing became the model's input", key="steps", on_change="rerun"
    )
    if steps_panel.open:
        tiles = preprocessing_steps(steps)
        steps_panel.image([t for t, _ in tiles], caption=[c for _, c in tiles], width=150)


def show_results(image: np.ndarray, names: list[str], show_why: bool, prompt: str) -> None:
    """The result panel for a picture: answer(s), probabilities, model input, saliency."""
    models = {name: model_or_none(name) for name in names}
    models = {name: model for name, model in models.items() if model is not None}
    results = recognize_safely(image, models) if models else None
    if not results:
        return
    name, first = next(iter(results.items()))
    if first.blank:
        st.info(prompt, icon=":material/draw:")
        return
    columns = st.columns(len(results)) if len(results) > 1 else [st.container()]
    for column, (model_name, result) in zip(columns, results.items()):
        with column:
            show_answer(result, MODELS[model_name])
    show_model_input(first.steps, name, models[name], show_why)


# The canvas' toolbar (undo, redo, ...) hides by fading out and sliding 1.6 rem down, where
# its invisible box still covers the canvas' top edge: a stroke begun there, by a finger (no
# hover on touch screens) or a quick mouse, would land on the toolbar and be lost. Keep the
# toolbar where it shows, just above the canvas, and let only its buttons' card (not its
# padding, which reaches over the canvas' edge) take the pointer. The canvas lives in a
# shadow root, which the page's CSS cannot reach: the rule is added to each shadow root as
# it is attached.
CANVAS_TOOLBAR_FIX = """<script>
(() => {
  if (window.__toolbarFix) return;
  window.__toolbarFix = true;
  const css = ".dc-toolbar { top: -2.65rem !important; pointer-events: none; }"
    + " .dc-toolbar-card { pointer-events: auto; }";
  const fix = root => {
    const style = document.createElement("style");
    style.textContent = css;
    root.appendChild(style);
  };
  const attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (options) {
    const root = attach.call(this, options);
    fix(root);
    return root;
  };
  const walk = root => root.querySelectorAll("*").forEach(el => {
    if (el.shadowRoot) { fix(el.shadowRoot); walk(el.shadowRoot); }
  });
  walk(document);
})();
</script>"""


def clear_canvas() -> None:
    # A new key gives a new, empty canvas component (its undo history goes too).
    st.session_state.canvas_version = st.session_state.get("canvas_version", 0) + 1


@st.fragment
def draw_section(names: list[str], brush: int, show_why: bool) -> None:
    """Canvas and live prediction. A fragment: a stroke reruns only this part of the page."""
    canvas_column, result_column = st.columns([5, 7], gap="large")
    with canvas_column:
        # Above the canvas: room for the canvas' own toolbar, which floats over its top edge.
        st.caption("Draw one digit, 0-9, as large as you like.")
        canvas = st_canvas(
            stroke_width=brush,
            stroke_color="#000000",
            background_color="#FFFFFF",
            height=CANVAS_SIZE,
            width=CANVAS_SIZE,
            drawing_mode="freedraw",
            update_streamlit=True,
            return_image_data=True,
            key=f"canvas-{st.session_state.get('canvas_version', 0)}",
        )
        st.button("Clear", on_click=clear_canvas, icon=":material/delete:")
        st.caption("The toolbar over the canvas undoes and redoes strokes.")
    with result_column:
        png = canvas.image_bytes
        if png is None:
            st.info(
                "Draw a digit on the canvas to see what the model thinks.", icon=":material/draw:"
            )
            return
        try:
            image = read_image(png)
        except ImageReadError as error:
            st.error(f"The drawing could not be read: {error}", icon=":material/error:")
            return
        show_results(
            image,
            names,
            show_why,
            prompt="Draw a digit on the canvas to see what the model thinks.",
        )


def upload_section(names: list[str], show_why: bool) -> None:
    uploaded = st.file_uploader(
        "A photo or scan of one handwritten digit",
        type=UPLOAD_TYPES,
        max_upload_size=UPLOAD_MB,
        help="Dark ink on light paper or light on dark; up to "
        f"{UPLOAD_MB} MB. It goes through the same steps as a drawing.",
    )
    if uploaded is None:
        st.info("Upload a picture of a single handwritten digit.", icon=":material/upload:")
        return
    if uploaded.size > UPLOAD_MB * 1024 * 1024:
        st.error(
            f"{uploaded.name} is {uploaded.size / 2**20:.1f} MB; the limit is {UPLOAD_MB} MB.",
            icon=":material/error:",
        )
        return
    try:
        image = read_image(uploaded.getvalue())
    except ImageReadError as error:
        st.error(f"Cannot use {uploaded.name}: {error}.", icon=":material/error:")
        return
    picture_column, result_column = st.columns([5, 7], gap="large")
    picture_column.image(thumbnail(image), caption=uploaded.name)
    with result_column:
        show_results(
            image,
            names,
            show_why,
            prompt="No ink found in this picture: is it blank, or very faint?",
        )


def report_section(names: list[str]) -> None:
    folder = model_dir()
    metrics = load_metrics(str(folder))
    columns = st.columns(len(MODELS))
    for column, (name, label) in zip(columns, MODELS.items()):
        m = metrics.get(name)
        if m is None:
            column.metric(f"{label} test accuracy", "n/a", help="metrics.json has no entry")
            continue
        column.metric(
            f"{label} test accuracy",
            f"{m['test_accuracy']:.2%}",
            help=f"{m['test_errors']} errors on the {m['test_images']:,} MNIST test images; "
            f"{m['parameters']:,} parameters; {m['epochs']} epochs in "
            f"{m['training_seconds'] / 60:.0f} min. Made by: {m['command']}",
        )
    name = names[0]
    if len(names) > 1:
        name = st.segmented_control(
            "Report for",
            list(MODELS),
            format_func=MODELS.get,
            default="cnn",
            required=True,
            key="report_model",
        )
    label = MODELS[name]

    st.subheader(f"Sample MNIST test images, as the {label} reads them")
    samples = load_arrays(str(folder / "samples.npz"))
    probabilities = sample_predictions(str(model_path(name)), str(folder / "samples.npz"))
    if samples is None or probabilities is None:
        st.warning("Sample images or the model are missing: run python train_model.py.")
    else:
        if st.button("Show other samples", icon=":material/shuffle:"):
            st.session_state.sample_seed = st.session_state.get("sample_seed", 0) + 1
        rng = np.random.default_rng(st.session_state.get("sample_seed", 0))
        pick = rng.choice(len(samples["labels"]), SAMPLES_SHOWN, replace=False)
        truth, predicted = samples["labels"][pick], probabilities[pick].argmax(1)
        st.image(
            [framed(samples["images"][i], t != p) for i, t, p in zip(pick, truth, predicted)],
            caption=[
                f"{'✗ ' if t != p else ''}true {t} · said {p}" for t, p in zip(truth, predicted)
            ],
            width=84,
        )
        st.caption(
            f"{int((truth == predicted).sum())} of {SAMPLES_SHOWN} right; "
            "wrong ones are framed in red and marked ✗."
        )

    m = metrics.get(name)
    if m is not None:
        st.subheader("Confusion matrix (MNIST test set)")
        st.caption("Rows: the true digit; columns: the model's answer. Mistakes are coloured.")
        st.altair_chart(confusion_chart(m["confusion_matrix"]), width="stretch")

    mistakes = load_arrays(str(folder / f"{name}_mistakes.npz"))
    if mistakes is not None and len(mistakes["labels"]):
        count = len(mistakes["labels"])
        st.subheader(f"The {label}'s mistakes: {count} of 10,000 test images")
        order = np.argsort(-mistakes["confidence"])[:SAMPLES_SHOWN]
        st.image(
            [framed(mistakes["images"][i], False) for i in order],
            caption=[
                f"true {mistakes['labels'][i]} · said {mistakes['predicted'][i]} "
                f"({mistakes['confidence'][i]:.0%})"
                for i in order
            ],
            width=84,
        )
        st.caption("The most confident mistakes first. Many are hard even for people.")


# The page.

tune_memory()
warm_chart_imports()

with st.sidebar:
    st.header("Settings")
    choice = st.segmented_control(
        "Model",
        ["cnn", "ann", "both"],
        default="cnn",
        required=True,
        key="model_choice",
        format_func=lambda c: {"cnn": "CNN", "ann": "ANN", "both": "Both"}[c],
        help="CNN: a convolutional network (the default). ANN: the classic fully connected "
        "baseline (Dense 300-200-100). Both: side by side on the same drawing.",
    )
    names = list(MODELS) if choice == "both" else [choice]
    brush = st.slider("Brush width", 8, 40, 18, help="Pen width in canvas pixels.")
    show_why = st.toggle(
        "Show why",
        value=True,
        help="Colour the input's pixels by how much they drove the answer "
        "(occlusion: each patch of ink erased in turn).",
    )
    st.divider()
    st.caption(
        "A model trained on MNIST has only seen MNIST digits: cropped to the ink, scaled to "
        "a 20-pixel box, centred by their centre of mass in 28x28. Drawings are made exactly "
        "the same way here, which is why they are read right."
    )

    st.html(CANVAS_TOOLBAR_FIX, unsafe_allow_javascript=True)

st.title("✏️ Digit Sketch")
st.caption("Draw a digit and see what a neural network trained on MNIST sees and thinks.")

draw_tab, upload_tab, report_tab = st.tabs(
    ["Draw", "Upload a photo", "Model report"], key="page", on_change="rerun"
)
if draw_tab.open:
    with draw_tab:
        draw_section(names, brush, show_why)
if upload_tab.open:
    with upload_tab:
        upload_section(names, show_why)
if report_tab.open:
    with report_tab:
        report_section(names)

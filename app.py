"""Digit Sketch: draw a digit and see what a network trained on MNIST sees and thinks.

    streamlit run app.py

The page, top to bottom: settings in the sidebar; a Draw tab (canvas, live prediction,
probabilities, the 28x28 input the model saw, which pixels drove the answer, Right / Wrong);
an Upload tab (a photo or scan through the same pipeline); a Model report tab (test
accuracy, sample MNIST test images with predictions, confusion matrix, mistakes, and how the
model does on the drawings people labelled here). All logic lives in model/.
"""

from __future__ import annotations

import base64
import contextlib
import html
import json
import logging
import uuid
from dataclasses import replace
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from model.canvas import PenStrokes, canvas_strokes
from model.classifier import Classifier, ModelError, model_dir, model_path, train_hint
from model.count import Counter, load_counter
from model.explain import occlusion_saliency
from model.feedback import (
    LABELS,
    NOT_DIGIT,
    Click,
    RateLimited,
    Store,
    StoreError,
    database_url,
    png_bytes,
    stats,
)
from model.imageio import ImageReadError, read_image, read_preview
from model.preprocessing import Preprocessed, scale_pixels
from model.recognize import Reading, Recognition, percent, read
from model.reject import Rejecter, load_rejecter
from model.visualize import enlarge, preprocessing_steps, saliency_overlay

if TYPE_CHECKING:
    import altair as alt

MODELS = {"cnn": "CNN", "ann": "ANN"}
CANVAS_SIZE = 280  # the canvas' height, and its width on phones
CANVAS_WIDE = 780  # room for six digits at a comfortable size, beside the sidebar on a laptop
UPLOAD_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff"]
UPLOAD_MB = 10  # as server.maxUploadSize in .streamlit/config.toml
SAMPLES_SHOWN = 24
TOP = "#e4572e"  # the predicted digit's bar (also the theme's primary colour)
REST = "#8d99ae"

log = logging.getLogger("digit_sketch")

st.set_page_config(page_title="Digit Sketch", page_icon="✏️", layout="wide")


# Cached resources: loaded once per process, shared by every session.


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


@st.cache_resource(show_spinner=False)
def load_not_digit_model(folder: str) -> Rejecter | None:
    """The folder's "not a digit" model, or None when it has none; raises ModelError (not
    cached) when it is damaged."""
    return load_rejecter(folder)


@st.cache_resource(show_spinner=False)
def load_count_model(folder: str) -> Counter | None:
    """The folder's digit-count model, or None when it has none; raises ModelError (not
    cached) when it is damaged."""
    return load_counter(folder)


@st.cache_resource(show_spinner=False)
def open_store(url: str) -> Store:
    """The feedback store, its schema brought up to date; raises StoreError (not cached)."""
    return Store(url)


def store_url() -> str:
    """The feedback store's URL: $FEEDBACK_DB_URL, the app's secrets, else a local file."""
    try:
        secrets = dict(st.secrets) if st.secrets else {}
    except Exception:  # no secrets file, or an unreadable one: the default store
        secrets = {}
    return database_url(secrets)


def model_or_none(name: str) -> Classifier | None:
    """The loaded model, or None after saying why it is unavailable."""
    try:
        return load_model(str(model_path(name)))
    except ModelError as error:
        st.error(f"The {MODELS[name]} model is unavailable. {error}", icon=":material/error:")
        return None


# Helpers that build what the page shows.


# What each stroke shows is plain HTML with its pictures inline: it appears with the answer,
# with no chart library to draw it and no picture to fetch afterwards. Its style is put on the
# page once (a style added with every answer would make the browser restyle the whole page).
ANSWER_CSS = f"""<style>
.ds-bars {{ display: flex; gap: 6px; height: 150px; align-items: flex-end;
  margin: 1.2rem 0 1.8rem; max-width: 36rem; }}
.ds-bar {{ flex: 1; position: relative; height: 100%; display: flex; align-items: flex-end;
  border-bottom: 1px solid rgba(128, 128, 128, 0.5); }}
.ds-bar > div {{ width: 100%; min-height: 1px; border-radius: 3px 3px 0 0;
  background: {REST}; }}
.ds-bar.top > div {{ background: {TOP}; }}
.ds-bar > span {{ position: absolute; bottom: -1.5rem; width: 100%; text-align: center;
  font-size: 0.85rem; opacity: 0.75; }}
.ds-bar > b {{ position: absolute; width: 100%; text-align: center; font-size: 0.75rem; }}
.ds-pictures {{ display: grid; gap: 1rem; max-width: 36rem; }}
.ds-pictures figure {{ margin: 0; }}
.ds-pictures img {{ width: 100%; image-rendering: pixelated; border-radius: 0.25rem; }}
.ds-pictures figcaption {{ font-size: 0.85rem; opacity: 0.7; text-align: center;
  margin-top: 0.25rem; }}
</style>"""


def probability_bars(probabilities: np.ndarray) -> str:
    """HTML bars for the ten digits' probabilities, the most probable one highlighted and
    labelled; each bar's exact value in its tooltip.

    Args:
        probabilities: (10,) float summing to 1.
    """
    top = int(probabilities.argmax())
    bars = []
    for digit, p in enumerate(probabilities.astype(float)):
        label = f'<b style="bottom: calc({p:.2%} + 2px)">{percent(p)}</b>' if digit == top else ""
        bars.append(
            f'<div class="ds-bar{" top" if digit == top else ""}" title="{digit}: {p:.2%}">'
            f'{label}<div style="height: {p:.2%}"></div><span>{digit}</span></div>'
        )
    ranked = np.argsort(-probabilities, kind="stable")[:3]
    summary = ", ".join(f"{d}: {probabilities[d]:.0%}" for d in ranked)
    return (
        f'<div class="ds-bars" role="img" '
        f'aria-label="Probability of each digit; highest {summary}">{"".join(bars)}</div>'
    )


def pictures(figures: list[tuple[np.ndarray, str]], columns: int = 2) -> str:
    """HTML figures side by side, each an RGB uint8 image inline with its caption."""
    cells = "".join(
        f'<figure><img src="{data_uri(image)}" alt="{html.escape(caption)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        for image, caption in figures
    )
    grid = f"grid-template-columns: repeat({columns}, minmax(0, 1fr))"
    return f'<div class="ds-pictures" style="{grid}">{cells}</div>'


def data_uri(rgb: np.ndarray) -> str:
    """(H, W, 3) uint8 RGB -> a PNG data URI."""
    ok, png = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError("the picture could not be encoded")
    return "data:image/png;base64," + base64.b64encode(png.tobytes()).decode()


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


def thumbnail(image: np.ndarray, side: int = CANVAS_WIDE) -> np.ndarray:
    """Shrink an uploaded image for display (never enlarged)."""
    scale = side / max(image.shape[:2])
    if scale >= 1:
        return image
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


@contextlib.contextmanager
def shown_errors(what: str):
    """Run a part of the page; a failure shows a short message there instead of an error
    page, and the rest of the page goes on working."""
    try:
        yield
    except ValueError as error:  # ImageReadError included: a message written for people
        st.error(f"{what}: {error}", icon=":material/error:")
    except Exception:
        log.exception("%s failed", what)
        st.error(f"{what} failed. Clear the drawing and try again.", icon=":material/error:")


def read_all(
    image: np.ndarray,
    models: dict[str, Classifier],
    rejecter: Rejecter | None,
    counter: Counter | None,
    strokes: PenStrokes | None = None,
) -> dict[str, Reading]:
    """Every model's reading of the picture (a digit or a number), with the canvas' strokes
    when there are any: {name: Reading}."""
    return {name: read(image, model, rejecter, counter, strokes) for name, model in models.items()}


def not_digit_model_or_none() -> Rejecter | None:
    """The "not a digit" model, or None (after saying so when it is damaged)."""
    try:
        return load_not_digit_model(str(model_dir()))
    except ModelError as error:
        st.warning(f"Drawings that are not digits cannot be told apart: {error}")
        return None


def count_model_or_none() -> Counter | None:
    """The digit-count model, or None (after saying so when it is damaged)."""
    try:
        return load_count_model(str(model_dir()))
    except ModelError as error:
        st.warning(f"Digits that touch cannot be told apart: {error}")
        return None


# Page sections.


def show_answer(reading: Reading, label: str) -> None:
    """The digit or number in large type with its confidence, and the two best candidates of
    any digit the model is unsure of; never a digit for a drawing that is not one."""
    if len(reading.digits) == 1:
        show_digit_answer(reading.digits[0], label)
    elif reading.not_digit:
        parts = [str(n) for n, d in enumerate(reading.digits, start=1) if d.not_digit]
        st.metric(
            f"Prediction ({label})",
            "Not a number",
            delta=f"it reads {reading.marked()}",
            delta_color="off",
            delta_arrow="off",
        )
        st.warning(
            f"Part {', '.join(parts)} of this doesn't look like a digit (marked ✗).",
            icon=":material/block:",
        )
    else:
        least = min(d.confidence for d in reading.digits)
        st.metric(
            f"Prediction ({label})",
            reading.marked(),
            delta=f"{len(reading.digits)} digits, the least sure {percent(least)}",
            delta_color="off",
            delta_arrow="off",
        )
        unsure = [
            f"digit {position}: {a} or {b} ({p_a:.0%} vs {p_b:.0%})"
            for position, digit in enumerate(reading.digits, start=1)
            if digit.unsure
            for (a, p_a), (b, p_b) in [digit.candidates(2)]
        ]
        if unsure:
            st.warning("Not sure of " + "; ".join(unsure) + ".", icon=":material/help:")


def show_digit_answer(result: Recognition, label: str) -> None:
    """One digit in large type with its confidence, or the top two when unsure; for a dot,
    a letter, a symbol or a doodle, that it is not a digit."""
    if result.dot:
        st.metric(f"Prediction ({label})", "Draw a bigger digit", delta="this is a dot",
                  delta_color="off", delta_arrow="off")  # fmt: skip
    elif result.not_digit:
        st.metric(
            f"Prediction ({label})",
            "Not a digit",
            delta=f"closest to {result.digit} ({percent(result.confidence)})",
            delta_color="off",
            delta_arrow="off",
        )
        st.info("That doesn't look like a digit.", icon=":material/block:")
    elif result.unsure:
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
            delta=f"{percent(result.confidence)} confident",
            delta_color="off",
            delta_arrow="off",
        )


def pick_digit(reading: Reading) -> int:
    """For a number, each digit's 28x28 input with its confidence, and a choice of the digit
    whose probabilities and saliency are shown (the least certain one at first)."""
    if len(reading.digits) == 1:
        return 0
    st.html(
        pictures(
            [
                (
                    enlarge(d.steps.digit_28x28, 3),
                    f"{d.digit}{'?' if d.unsure else ''} · {percent(d.confidence)}",
                )
                for d in reading.digits
            ],
            columns=len(reading.digits),
        )
    )
    labels = [f"{position}: {d.digit}" for position, d in enumerate(reading.digits, start=1)]
    pick = st.segmented_control(
        "Show the digit",
        labels,
        default=labels[reading.least_certain()],
        required=True,
        # A new reading starts again from its least certain digit.
        key=f"pick-{reading.number}",
    )
    return labels.index(pick)


def show_model_input(
    steps: Preprocessed, name: str, model: Classifier, show_why: bool, redrawn: bool = False
) -> None:
    """The 28x28 image the model saw, and which of its pixels drove the answer; `redrawn`:
    whether it came from the canvas' strokes redrawn with a thinner pen."""
    figures = [(enlarge(steps.digit_28x28), "What the model sees: 28x28 pixels")]
    if show_why:
        with shown_errors("Showing which pixels drove the answer"):
            saliency = occlusion_saliency(model, steps.digit_28x28)
            figures.append(
                (
                    saliency_overlay(steps.digit_28x28, saliency),
                    f"Why ({MODELS[name]}): orange ink supports the answer, blue argues against it",
                )
            )
    st.html(pictures(figures))
    if redrawn:
        st.caption(
            "Your pen is heavy for a digit this small, so it was read from your strokes "
            "redrawn with a thinner pen: a heavy pen fills the loops of a small digit."
        )
    steps_panel = st.expander(
        "How the drawing became the model's input", key="steps", on_change="rerun"
    )
    if steps_panel.open:
        with steps_panel, shown_errors("Showing the preprocessing steps"):
            tiles = preprocessing_steps(steps)
            st.image([t for t, _ in tiles], caption=[c for _, c in tiles], width=150)


def show_results(
    image: np.ndarray,
    names: list[str],
    show_why: bool,
    prompt: str,
    drawing_png: bytes,
    where: str,
    strokes: PenStrokes | None = None,
) -> None:
    """The result panel for a picture: the digit or number, each digit's 28x28 input, the
    probabilities and saliency of the digit picked, and Right / Wrong for it.

    Args:
        image: (H, W) uint8 grey, from `read_image` (the canvas' PNG, an upload).
        drawing_png: the picture as the feedback store keeps it.
        where: "draw" or "upload", which keeps each tab's widgets apart.
        strokes: the pen's strokes, for a drawing on the canvas (digits that touch are
            still the strokes each was written with).
    """
    models = {name: model_or_none(name) for name in names}
    models = {name: model for name, model in models.items() if model is not None}
    if not models:
        return
    with shown_errors("Reading this picture"):
        readings = read_all(
            image, models, not_digit_model_or_none(), count_model_or_none(), strokes
        )
        name, first = next(iter(readings.items()))
        if first.blank:
            st.info(prompt, icon=":material/draw:")
            return
        columns = st.columns(len(readings)) if len(readings) > 1 else [st.container()]
        for column, (model_name, reading) in zip(columns, readings.items()):
            with column:
                show_answer(reading, MODELS[model_name])
        if len(first.digits) == 1 and first.digits[0].dot:
            return  # "Draw a bigger digit" is the whole answer: a dot has nothing to show
        pick = pick_digit(first)
        for column, reading in zip(columns, readings.values()):
            picked = reading.digits[min(pick, len(reading.digits) - 1)]
            column.html(probability_bars(picked.probabilities))
        show_model_input(first.digits[pick].steps, name, models[name], show_why, first.redrawn)
        clicks = [
            Click(
                drawing_png=drawing_png,
                digit_28x28=digit.steps.digit_uint8,
                label="",
                answer=NOT_DIGIT if digit.not_digit else digit.digit,
                probabilities=digit.probabilities,
                model_version=models[name].version,
                session_id=session_id(),
                box=box if len(first.digits) > 1 else None,
            )
            for digit, box in zip(first.digits, first.boxes)
        ]
        feedback_buttons(clicks, pick, f"feedback-{where}-{first.number}", MODELS[name])


FEEDBACK_NOTICE = (
    "Right or Wrong keeps this drawing, the 28x28 image the model read, your answer and the "
    "model's, with the time and a random id of this visit: nothing about you. It is used to "
    "measure the model on real drawings and to improve it."
)


def store_clicks(clicks: list[Click], labels: list[str], key: str) -> None:
    """Store clicks on Right or Wrong, each with its label (a widget callback: runs on the
    click, never on the drawing path); what happened is left in session_state for
    `feedback_buttons` to show. A later answer to the same drawing replaces the earlier."""
    try:
        store = open_store(store_url())
        for click, label in zip(clicks, labels):
            store.add(replace(click, label=label))
    except RateLimited as error:
        st.session_state[f"{key}-said"] = ("warning", f"Not saved: {error}.")
    except (StoreError, ValueError) as error:
        st.session_state[f"{key}-said"] = ("error", f"Not saved: {error}.")
    else:
        said = " ".join("not a digit" if label == NOT_DIGIT else label for label in labels)
        st.session_state[f"{key}-said"] = ("success", f"Saved as {said}. Thank you!")


def wrong_picked(click: Click, key: str) -> None:
    label = st.session_state.get(f"{key}-wrong")
    if label is not None:
        st.session_state[f"{key}-wrong"] = None  # ready for another answer
        store_clicks([click], [label], key)


def feedback_buttons(clicks: list[Click], pick: int, key: str, model: str) -> None:
    """ "Right" for the whole answer (a number: each digit, with its box), and "Wrong" in
    plain words: what the picked digit was."""
    number = "".join("✗" if c.answer == NOT_DIGIT else str(c.answer) for c in clicks)
    with st.container(border=True):
        right_labels = [str(c.answer) for c in clicks]
        st.button(
            f"Right: it is {number}" if len(clicks) > 1 else "Right",
            icon=":material/check:",
            key=f"{key}-right",
            on_click=store_clicks,
            args=(clicks, right_labels, key),
        )
        if len(clicks) == 1:
            question = f"Wrong? The {model} read it as {number}. It was:"
        else:
            read_as = "not a digit" if clicks[pick].answer == NOT_DIGIT else clicks[pick].answer
            question = (
                f"Wrong? Pick the wrong digit above. Digit {pick + 1} of {len(clicks)}, "
                f"read as {read_as}, was:"
            )
        st.pills(
            question,
            LABELS,
            key=f"{key}-{pick}-wrong",
            on_change=wrong_picked,
            args=(clicks[pick], f"{key}-{pick}"),
        )
        for said_key in (key, f"{key}-{pick}"):
            said = st.session_state.pop(f"{said_key}-said", None)
            if said:
                kind, message = said
                getattr(st, kind)(message)
        st.caption(FEEDBACK_NOTICE)


def session_id() -> str:
    """An anonymous id for this browser session (random; nothing about the person)."""
    return st.session_state.setdefault("feedback_session", uuid.uuid4().hex)


# The canvas' toolbar keeps undo, redo and reset; its pencil (which switches to moving
# strokes: dragging no longer draws) and its send arrow (the page reads every stroke anyway)
# are hidden. It only shows while a mouse hovers over the canvas:
# a finger has no hover, and its invisible box, slid over the canvas' top edge, swallows
# strokes begun there. This pins it, visible and with finger-sized buttons, just above the
# canvas. The canvas draws inside a shadow root that the page's CSS cannot reach, so the rule
# is adopted by the shadow root of each canvas element (keys "canvas-N") as it appears.
# Written for the toolbar of streamlit-drawable-canvas CANVAS_VERSION (its .dc-toolbar and
# .dc-icon-button classes); another version gets no fix rather than a wrong one.
CANVAS_VERSION = "0.13.0"
CANVAS_TOOLBAR_FIX = """<script>
(() => {
  if (window.__canvasToolbarFix) return;
  window.__canvasToolbarFix = true;
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(`
    .dc-toolbar { opacity: 1 !important; top: -3rem !important; padding: 0;
      pointer-events: none; }
    .dc-toolbar-card { pointer-events: auto; }
    .dc-icon-button { min-width: 2.25rem; min-height: 2.25rem; }
    .dc-icon-button svg { width: 1.15rem; height: 1.15rem; }
    .dc-icon-button[title="Update the app with this drawing"], .dc-icon-button[title="Edit"],
    .dc-toolbar-separator, .dc-toolbar-contextual { display: none !important; }`);
  const pin = () => document.querySelectorAll('[class*="st-key-canvas-"]').forEach(box => {
    box.querySelectorAll("*").forEach(host => {
      const root = host.shadowRoot;
      if (root && !root.adoptedStyleSheets.includes(sheet)) {
        root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
      }
    });
  });
  // A canvas' shadow root is attached just after its element appears, and a new canvas
  // comes with every Clear: look again whenever the page changes.
  new MutationObserver(() => requestAnimationFrame(pin))
    .observe(document.body, {childList: true, subtree: true});
  pin();
})();
</script>"""


def clear_canvas() -> None:
    # A new key gives a new, empty canvas component (its undo history goes too).
    st.session_state.canvas_version = st.session_state.get("canvas_version", 0) + 1
    st.session_state.pop("last_drawing", None)


def carried_drawing(key: str, width: int) -> dict | None:
    """The drawing a new canvas of another shape starts with: the strokes on the canvas it
    replaces (Wide <-> Square), so that switching keeps them; fixed once per canvas."""
    if f"initial-{key}" not in st.session_state:
        last = st.session_state.get("last_drawing")
        carried = last[1] if last is not None and last[0] != width else None
        st.session_state[f"initial-{key}"] = carried
    return st.session_state[f"initial-{key}"]


@st.fragment
def draw_section(names: list[str], brush: int, show_why: bool, wide: bool) -> None:
    """Canvas and live answer. A fragment: a stroke reruns only this part of the page."""
    st.caption(
        "Write a digit or a whole number, left to right, as large as you like."
        if wide
        else "Write a digit, or a short number, as large as you like."
    )
    st.space("medium")  # room for the canvas' own toolbar, pinned above its top edge
    width = CANVAS_WIDE if wide else CANVAS_SIZE
    key = f"canvas-{st.session_state.get('canvas_version', 0)}-{width}"
    canvas = st_canvas(
        stroke_width=brush,
        stroke_color="#000000",
        background_color="#FFFFFF",
        height=CANVAS_SIZE,
        width=width,
        drawing_mode="freedraw",
        update_streamlit=True,
        return_image_data=True,
        initial_drawing=carried_drawing(key, width),
        key=key,
    )
    if canvas.json_data and canvas.json_data.get("objects"):
        st.session_state.last_drawing = (width, canvas.json_data)
    st.button("Clear", on_click=clear_canvas, icon=":material/delete:")
    st.caption("The buttons above the canvas undo and redo strokes.")
    prompt = "Write a digit or a number on the canvas to see what the model reads."
    with shown_errors("Reading the drawing"):
        png = canvas.image_bytes
        if png is None:
            st.info(prompt, icon=":material/draw:")
        else:
            image = read_image(png)
            # The picture may be drawn at the screen's pixel ratio; the strokes are in
            # canvas pixels.
            strokes = canvas_strokes(canvas.json_data, image.shape[1] / width)
            show_results(image, names, show_why, prompt, png, "draw", strokes)


def on_a_phone() -> bool:
    """Whether the page was opened on a phone (its browser says "Mobi" in its User-Agent)."""
    return "Mobi" in (st.context.headers.get("User-Agent") or "")


@st.fragment
def upload_section(names: list[str], show_why: bool) -> None:
    """A photo or scan through the same pipeline: a file, or a photo taken here (a phone's
    camera). A fragment: an upload reruns only this."""
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
        uploaded = st.camera_input(
            "Take a photo of a handwritten digit or number",
            help="Dark ink on light paper, filling much of the picture.",
        )
        prompt = "Take a photo of a handwritten digit or number."
    else:
        uploaded = st.file_uploader(
            "A photo or scan of a handwritten digit or number",
            type=UPLOAD_TYPES,
            max_upload_size=UPLOAD_MB,
            help="Dark ink on light paper or light on dark; up to "
            f"{UPLOAD_MB} MB. It goes through the same steps as a drawing.",
        )
        prompt = "Upload a picture of a handwritten digit or number."
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
        names,
        show_why,
        prompt="No ink found in this picture: is it blank, or very faint?",
        drawing_png=png_bytes(thumbnail(image, 1024)),
        where="upload",
    )


def history_chart(history: dict[str, list[float]]) -> alt.Chart:
    """Accuracy and loss per epoch, on the training batches and on the validation set."""
    import altair as alt
    import pandas as pd

    rows = [
        {
            "epoch": epoch,
            "measure": "accuracy" if "accuracy" in key else "loss",
            "on": "validation" if key.startswith("val_") else "training",
            "value": value,
        }
        for key, values in history.items()
        for epoch, value in enumerate(values, start=1)
    ]
    return (
        alt.Chart(pd.DataFrame(rows), height=200)
        .mark_line(point=True)
        .encode(
            x=alt.X("epoch:Q", axis=alt.Axis(tickMinStep=1)),
            y=alt.Y("value:Q", scale=alt.Scale(zero=False), title=None),
            color=alt.Color("on:N", title=None, legend=alt.Legend(orient="bottom")),
            tooltip=["epoch:Q", "on:N", alt.Tooltip("value:Q", format=".4f")],
        )
        .facet(column=alt.Column("measure:N", title=None))
        .resolve_scale(y="independent")
    )


def accuracy_help(m: dict) -> str:
    """The tooltip of a model's accuracy figure, from what metrics.json holds."""
    parts = []
    if "test_errors" in m and "test_images" in m:
        parts.append(
            f"{m['test_errors']} errors on the {m['test_images']:,} MNIST test images, "
            "by the served (LiteRT) model"
        )
    if "keras_test_accuracy" in m.get("served", {}):
        parts.append(
            f"the Keras model it was exported from: {m['served']['keras_test_accuracy']:.2%}"
        )
    if "parameters" in m:
        parts.append(f"{m['parameters']:,} parameters")
    if "epochs" in m and "training_seconds" in m:
        parts.append(f"{m['epochs']} epochs in {m['training_seconds'] / 60:.0f} min")
    return "; ".join(parts) + "." if parts else "metrics.json has no details."


def drawn_here_charts(rows: list[dict]) -> tuple[alt.Chart, alt.Chart]:
    """Per label: confirmations and corrections; per day: the model's accuracy on them."""
    import altair as alt
    import pandas as pd

    frame = pd.DataFrame(rows)
    frame["said"] = np.where(frame["answer"] == frame["label"], "confirmed", "corrected")
    per_label = (
        alt.Chart(frame, height=260)
        .mark_bar()
        .encode(
            x=alt.X(
                "label:N",
                sort=list(LABELS),
                title="what the user said it was",
                axis=alt.Axis(labelAngle=0),
            ),
            y=alt.Y("count():Q", title="drawings", axis=alt.Axis(tickMinStep=1)),
            color=alt.Color(
                "said:N",
                scale=alt.Scale(domain=["confirmed", "corrected"], range=[REST, TOP]),
                title=None,
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=["label:N", "said:N", "count():Q"],
        )
    )
    frame["day"] = pd.to_datetime(frame["created_at"], utc=True).dt.floor("D")
    frame["right"] = frame["said"] == "confirmed"
    daily = frame.groupby("day", as_index=False).agg(
        accuracy=("right", "mean"), drawings=("right", "size")
    )
    over_time = (
        alt.Chart(daily, height=220)
        .mark_line(point=True, color=TOP)
        .encode(
            x=alt.X("day:T", title=None),
            y=alt.Y("accuracy:Q", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
            tooltip=[
                alt.Tooltip("day:T"),
                alt.Tooltip("accuracy:Q", format=".1%"),
                "drawings:Q",
            ],
        )
    )
    return per_label.properties(padding={"left": 10, "bottom": 10}), over_time


def show_fine_tune(m: dict) -> None:
    """The fine-tuned model's gate figures next to the model it started from."""
    record = m["fine_tune"]
    before, after, gate = (
        value if isinstance(value := record.get(key), dict) else {}
        for key in ("before", "after", "gate")
    )

    def percent(value) -> str:
        return f"{value:.2%}" if isinstance(value, float | int) else "n/a"

    def count(key: str) -> str:
        value = record.get(key)
        return f"{value:,}" if isinstance(value, int) else "?"

    st.markdown(
        f"The served CNN was fine-tuned on {count('corrections')} corrections "
        f"(with MNIST replayed) and checked on {count('held_out_corrections')} "
        f"more from {count('held_out_sessions')} sessions it never saw. Gate: "
        f"**{'passed' if gate.get('passed') else 'refused'}**."
    )
    st.table(
        {
            "": ["MNIST test accuracy", "held-out corrections"],
            "base model": [percent(before.get("mnist")), percent(before.get("corrections"))],
            "fine-tuned": [percent(after.get("mnist")), percent(after.get("corrections"))],
        }
    )


def drawn_here_section(m: dict) -> None:
    """How the model does on people's drawings: what they confirmed and corrected."""
    st.subheader("Drawn here")
    if isinstance(m.get("fine_tune"), dict):
        show_fine_tune(m)
    try:
        store = open_store(store_url())
        rows = store.summary()
    except StoreError as error:
        st.info(f"No figures from people's drawings: {error}.", icon=":material/database:")
        return
    if not rows:
        st.caption(
            "Nobody has said Right or Wrong yet. Each click under an answer adds to this section."
        )
        return
    figures = stats(rows)
    left, middle, right = st.columns(3)
    left.metric("Drawings labelled", f"{figures['drawings']:,}")
    middle.metric("Right on them", f"{figures['accuracy']:.1%}")
    right.metric("Sessions", f"{figures['sessions']:,}")
    per_label, over_time = drawn_here_charts(rows)
    st.altair_chart(per_label, width="stretch")
    st.caption("Accuracy on people's drawings, per day")
    st.altair_chart(over_time, width="stretch")
    latest = [row for row in store.rows(newest_first=True, limit=200) if not row.correct][:12]
    if latest:
        st.caption("The latest corrections: the drawing, what the model said, what it was")
        st.image(
            [thumbnail(read_image(row.drawing_png), 240) for row in latest],
            caption=[
                f"said {row.answer if row.answer is not None else '-'} · was {row.label}"
                for row in latest
            ],
            width=160,
        )


@st.fragment
def report_section(names: list[str]) -> None:
    """How the served models do on MNIST. A fragment: its buttons rerun only this."""
    folder = model_dir()
    metrics = load_metrics(str(folder))
    columns = st.columns(len(MODELS))
    for column, (name, label) in zip(columns, MODELS.items()):
        m = metrics.get(name, {})
        value = f"{m['test_accuracy']:.2%}" if "test_accuracy" in m else "n/a"
        column.metric(f"{label} test accuracy", value, help=accuracy_help(m))
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
    m = metrics.get(name, {})

    st.subheader(f"Sample MNIST test images, as the {label} reads them")
    samples = load_arrays(str(folder / "samples.npz"))
    probabilities = sample_predictions(str(model_path(name)), str(folder / "samples.npz"))
    if samples is None or probabilities is None:
        st.warning(f"Sample images or the model are missing: {train_hint(name)}.")
    else:
        if st.button("Show other samples", icon=":material/shuffle:"):
            st.session_state.sample_seed = st.session_state.get("sample_seed", 0) + 1
        shown = min(SAMPLES_SHOWN, len(samples["labels"]))
        rng = np.random.default_rng(st.session_state.get("sample_seed", 0))
        pick = rng.choice(len(samples["labels"]), shown, replace=False)
        truth, predicted = samples["labels"][pick], probabilities[pick].argmax(1)
        st.image(
            [framed(samples["images"][i], t != p) for i, t, p in zip(pick, truth, predicted)],
            caption=[
                f"{'✗ ' if t != p else ''}true {t} · said {p}" for t, p in zip(truth, predicted)
            ],
            width=84,
        )
        st.caption(
            f"{int((truth == predicted).sum())} of {shown} right; "
            "wrong ones are framed in red and marked ✗."
        )

    if "history" in m:
        st.subheader("Training progress")
        st.caption(
            "Accuracy and loss after each epoch: on the (distorted) training images, and on "
            "MNIST's test images, which were only watched, never trained on."
        )
        st.altair_chart(history_chart(m["history"]))
    elif m:
        st.caption(
            f"No training history was recorded for this {label}: it was trained before "
            "train_model.py kept one. The next training run records it."
        )

    if "confusion_matrix" in m:
        st.subheader("Confusion matrix (MNIST test set)")
        st.caption("Rows: the true digit; columns: the model's answer. Mistakes are coloured.")
        st.altair_chart(confusion_chart(m["confusion_matrix"]), width="stretch")

    mistakes = load_arrays(str(folder / f"{name}_mistakes.npz"))
    if mistakes is not None and len(mistakes.get("labels", [])):
        count = len(mistakes["labels"])
        out_of = f" of {m['test_images']:,} test images" if "test_images" in m else ""
        st.subheader(f"The {label}'s mistakes: {count}{out_of}")
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

    drawn_here_section(metrics.get("cnn", {}))


# The page.

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
    wide = (
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
        == "wide"
    )
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
    if version("streamlit-drawable-canvas") == CANVAS_VERSION:
        st.html(CANVAS_TOOLBAR_FIX, unsafe_allow_javascript=True)
    st.html(ANSWER_CSS)

st.title("✏️ Digit Sketch")
st.caption(
    "Write a digit or a number and see what a neural network trained on MNIST sees and thinks."
)

# Every tab is rendered on every run, so that switching tabs happens in the browser alone:
# the canvas, its drawing and the upload stay as they were.
draw_tab, upload_tab, report_tab = st.tabs(["Draw", "Upload a photo", "Model report"])
with draw_tab:
    draw_section(names, brush, show_why, wide)
with upload_tab:
    upload_section(names, show_why)
with report_tab:
    report_section(names)

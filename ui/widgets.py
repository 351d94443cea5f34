"""What both pages share: the settings, the cached models and store, and small builders of
what the page shows (HTML pictures, thumbnails, framed MNIST images, error boxes).

Nothing here draws a page; `app.py` is the entry, `ui/read.py` and `ui/report.py` the pages.
"""

from __future__ import annotations

import base64
import contextlib
import html
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import streamlit as st

from model.classifier import Classifier, ModelError, model_dir, model_path
from model.count import Counter, load_counter
from model.feedback import Store, database_url
from model.reject import Rejecter, load_rejecter
from model.visualize import enlarge

MODELS = {"cnn": "CNN", "ann": "ANN"}
CANVAS_SIZE = 280  # the canvas' height, and its width on phones
CANVAS_WIDE = 780  # room for six digits at a comfortable size, beside the sidebar on a laptop
TOP = "#e4572e"  # the predicted digit's bar, the theme's primary colour (as in ui/style.css)
TOP_RGB = tuple(int(TOP[i : i + 2], 16) for i in (1, 3, 5))
REST = "#8d99ae"  # the other bars (as in ui/style.css)
HERE = Path(__file__).resolve().parent

log = logging.getLogger("digit_sketch")


@dataclass(frozen=True)
class Settings:
    """The sidebar's choices: models to read with ("cnn", "ann"), pen width in canvas
    pixels, the wide canvas or the square one, and whether to show which pixels mattered."""

    names: list[str]
    brush: int
    wide: bool
    show_why: bool


def settings() -> Settings:
    """The sidebar's settings of this run (set by app.py's widgets before any page runs)."""
    choice = st.session_state.get("model_choice", "cnn")
    return Settings(
        names=list(MODELS) if choice == "both" else [choice],
        brush=st.session_state.get("brush", 18),
        wide=st.session_state.get("canvas_shape", "wide") == "wide",
        show_why=st.session_state.get("show_why", True),
    )


def on_a_phone() -> bool:
    """Whether the page was opened on a phone (its browser says "Mobi" in its User-Agent)."""
    return "Mobi" in (st.context.headers.get("User-Agent") or "")


def asset(name: str) -> str:
    """The text of a file in ui/ (style sheet, script)."""
    return (HERE / name).read_text()


# Cached resources: loaded once per process, shared by every session.


@st.cache_resource(show_spinner="Loading the model...")
def load_model(path: str) -> Classifier:
    """The served model at `path`; raises ModelError (not cached) when it cannot be loaded."""
    return Classifier(path)


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


# Builders of what the page shows.


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


def thumbnail(image: np.ndarray, side: int = CANVAS_WIDE) -> np.ndarray:
    """Shrink an uploaded image for display (never enlarged)."""
    scale = side / max(image.shape[:2])
    if scale >= 1:
        return image
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def framed(image_uint8: np.ndarray, wrong: bool, scale: int = 3) -> np.ndarray:
    """A 28x28 MNIST image enlarged, with a red frame when the model got it wrong."""
    rgb = enlarge(image_uint8, scale, grid=False)
    if wrong:
        rgb[:3, :], rgb[-3:, :], rgb[:, :3], rgb[:, -3:] = TOP_RGB, TOP_RGB, TOP_RGB, TOP_RGB
    return rgb

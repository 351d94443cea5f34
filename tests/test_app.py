"""The Streamlit page, run headless with AppTest. The canvas is a custom component, which
AppTest cannot draw on: a drawing is injected as the component's value in session_state,
exactly what the browser sends after a stroke (a PNG data URL)."""

from __future__ import annotations

import base64
import json
import shutil

import cv2
import numpy as np
import pytest
import streamlit as st
from conftest import REPO
from streamlit.testing.v1 import AppTest

from harness.digit_paths import canvas_json, draw_digit, draw_number, write_number
from model.classifier import MODEL_DIR, MODEL_DIR_ENV
from model.imageio import read_image
from model.recognize import read
from model.reject import load_rejecter
from model.strokes import encode_png, render

TIMEOUT = 60
CANVAS = "canvas-0-780"  # the first canvas' key on the wide canvas (app.CANVAS_WIDE)


def canvas_value(rgba: np.ndarray, json_data: dict | None = None) -> dict:
    """What streamlit-drawable-canvas 0.13 stores for a drawing (json + PNG data URL); by
    default a scene whose strokes say nothing (the picture alone is read)."""
    url = "data:image/png;base64," + base64.b64encode(encode_png(rgba)).decode()
    raw = json_data or {"objects": [{"type": "path"}]}
    return {"drawing": {"raw": raw, "data": url}, "backgroundFit": None}


@pytest.fixture(autouse=True)
def fresh_caches():
    st.cache_resource.clear()
    st.cache_data.clear()
    yield


def run_app(drawing: np.ndarray | None = None, json_data: dict | None = None, **state) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    if drawing is not None:
        at.session_state[CANVAS] = canvas_value(drawing, json_data)
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def predictions(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric if m.label.startswith("Prediction")}


def html_shown(at: AppTest) -> str:
    """Everything the page put into st.html blocks (the bars, the pictures)."""
    return "".join(element.proto.body for element in at.get("html"))


def test_starts_and_prompts_on_a_blank_canvas():
    at = run_app()
    assert not at.exception
    assert not at.error
    assert any("Write a digit or a number" in i.value for i in at.info)
    assert predictions(at) == {}
    assert [t.label for t in at.tabs] == ["Draw", "Upload a photo"]


def report(at: AppTest) -> AppTest:
    """The Model report page, opened from the navigation."""
    return at.switch_page("ui/report.py").run()


def test_both_tabs_are_rendered_so_switching_keeps_the_drawing():
    """Switching tabs happens in the browser alone: every run renders both, so the canvas
    (and its drawing) is never taken off the page (tests/test_browser.py switches tabs for
    real)."""
    at = run_app(draw_digit(8, "black_on_white"))
    draw, upload = at.tabs
    assert [m.value for m in draw.metric] == ["8"]
    assert upload.get("file_uploader")


def test_a_visit_to_the_model_report_keeps_the_drawing():
    """The report is a page of its own: the canvas goes while it is open, and comes back
    with the drawing it had (`initial_drawing`), read again."""
    strokes = write_number("4", height=0.5)
    json_data = canvas_json(strokes, 18)
    at = run_app(render(strokes, 18, "black_on_white", 280, 780), json_data)
    assert predictions(at) == {"Prediction (CNN)": "4"}
    report(at)
    assert not at.exception
    assert any(m.label == "CNN test accuracy" for m in at.metric)
    assert predictions(at) == {}
    at.switch_page("ui/read.py").run()
    assert not at.exception
    assert at.session_state[f"initial-{CANVAS}"] == json_data
    assert predictions(at) == {"Prediction (CNN)": "4"}


def test_a_damaged_canvas_message_gets_a_message_and_the_page_goes_on():
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.session_state[CANVAS] = {
        "drawing": {"raw": {"objects": []}, "data": "data:image/png;base64,AAAA"},
        "backgroundFit": None,
    }
    at.run()
    assert not at.exception
    assert predictions(at) == {}
    assert any("Reading the drawing" in e.value for e in at.error), [e.value for e in at.error]
    assert at.tabs[1].get("file_uploader")  # the rest of the page


def test_a_failing_saliency_panel_leaves_the_answer(monkeypatch):
    import model.explain

    def broken(*args, **kwargs):
        raise RuntimeError("saliency broke")

    monkeypatch.setattr(model.explain, "occlusion_saliency", broken)
    at = run_app(draw_digit(3, "black_on_white"))
    assert not at.exception
    assert predictions(at) == {"Prediction (CNN)": "3"}
    assert any("which pixels drove the answer" in e.value for e in at.error)


@pytest.mark.parametrize("digit", [0, 3, 4, 7, 9])
def test_a_drawn_digit_is_predicted_with_its_chart(digit):
    at = run_app(draw_digit(digit, "black_on_white"))
    assert not at.exception
    assert predictions(at) == {"Prediction (CNN)": str(digit)}
    assert "confident" in at.metric[0].delta
    shown = html_shown(at)
    assert 'class="ds-bars"' in shown and shown.count('class="ds-bar') == 11  # 10 bars
    assert 'alt="What the model sees' in shown and 'alt="Why (CNN)' in shown


def test_a_written_number_is_read_with_each_digit(cnn, counter):
    drawing = draw_number("2025", height=0.5)
    at = run_app(drawing)
    assert not at.exception
    assert predictions(at) == {"Prediction (CNN)": "2025"}
    assert "4 digits" in at.metric[0].delta
    shown = html_shown(at)
    assert shown.count("<figure>") == 4 + 2  # each digit's input; the picked one and its why
    # The digit picker starts at the digit the served models read least surely.
    reading = read(read_image(encode_png(drawing)), cnn, load_rejecter(MODEL_DIR), counter)
    least = reading.least_certain()
    pick = at.button_group(key="pick-2025")
    assert pick.value == f"{least + 1}: {'2025'[least]}"
    pick.set_value("4: 5").run()
    assert not at.exception
    assert predictions(at) == {"Prediction (CNN)": "2025"}


def test_touching_digits_are_read_with_the_canvas_strokes(monkeypatch):
    """The page reads a drawing with the strokes the canvas records beside its picture:
    digits written over each other are still the strokes each was written with."""
    import model.recognize

    strokes = write_number("1723", height=0.45, gap=[0.3, -0.1, -0.1])
    given = []
    real_read = model.recognize.read

    def read_and_note(image, classifier, rejecter=None, counter=None, strokes=None):
        given.append(strokes)
        return real_read(image, classifier, rejecter, counter, strokes)

    monkeypatch.setattr(model.recognize, "read", read_and_note)
    at = run_app(render(strokes, 18, "black_on_white", 280, 780), canvas_json(strokes, 18))
    assert not at.exception
    assert predictions(at) == {"Prediction (CNN)": "1723"}
    assert given and all(len(s.paths) == len(strokes) and s.width == 18 for s in given)


def test_switching_the_canvas_shape_keeps_the_drawing():
    """Wide -> Square: the new canvas starts with the strokes of the one it replaces
    (`initial_drawing`); Clear still empties it."""
    strokes = write_number("4", height=0.5, canvas=(280, 280))
    json_data = canvas_json(strokes, 18)
    at = run_app(render(strokes, 18, "black_on_white", 280, 780), json_data)
    assert at.session_state["initial-canvas-0-780"] is None
    at.segmented_control(key="canvas_shape").set_value("square").run()
    assert not at.exception
    assert at.session_state["initial-canvas-0-280"] == json_data
    next(b for b in at.button if b.label == "Clear").click().run()
    assert at.session_state["initial-canvas-1-280"] is None


def test_a_small_digit_with_a_heavy_pen_is_read_from_its_strokes_and_the_page_says_so():
    strokes = write_number("7", height=0.12)  # 34 px high on the 780x280 canvas, brush 18
    at = run_app(render(strokes, 18, "black_on_white", 280, 780), canvas_json(strokes, 18))
    assert not at.exception
    assert predictions(at) == {"Prediction (CNN)": "7"}
    assert any("redrawn with a thinner pen" in c.value for c in at.caption)
    # Drawn large with the same pen, it is read as drawn, and nothing is said.
    strokes = write_number("7", height=0.6)
    at = run_app(render(strokes, 18, "black_on_white", 280, 780), canvas_json(strokes, 18))
    assert predictions(at) == {"Prediction (CNN)": "7"}
    assert not any("redrawn" in c.value for c in at.caption)


def test_an_empty_drawing_shows_the_prompt():
    at = run_app(np.full((280, 280, 4), 255, np.uint8))
    assert predictions(at) == {}
    assert any("Write a digit or a number" in i.value for i in at.info)


def test_switching_to_the_ann_and_to_both():
    at = run_app(draw_digit(2, "black_on_white"))
    assert predictions(at) == {"Prediction (CNN)": "2"}
    at.sidebar.button_group(key="model_choice").set_value("ann").run()
    assert predictions(at) == {"Prediction (ANN)": "2"}
    at.sidebar.button_group(key="model_choice").set_value("both").run()
    assert predictions(at) == {"Prediction (CNN)": "2", "Prediction (ANN)": "2"}
    assert not at.exception


def test_a_scribble_is_not_a_digit(rng):
    from model.strokes import render

    scribble = render([rng.uniform(20, 260, (60, 2))], 18, "black_on_white")
    at = run_app(scribble)
    assert predictions(at) == {"Prediction (CNN)": "Not a digit"}  # never a digit
    assert "closest to" in at.metric[0].delta
    assert any("doesn't look like a digit" in i.value for i in at.info)


def test_a_letter_is_not_a_digit():
    from harness.digit_paths import draw_letter

    at = run_app(draw_letter("A"))
    assert not at.exception
    assert predictions(at) == {"Prediction (CNN)": "Not a digit"}
    assert any("doesn't look like a digit" in i.value for i in at.info)


def test_a_dot_asks_for_a_bigger_digit():
    from model.strokes import render

    at = run_app(render([np.array([[390.0, 140.0]])], 18, "black_on_white", 280, 780))
    assert predictions(at) == {"Prediction (CNN)": "Draw a bigger digit"}
    # The hint alone: no bars, no 28x28 input or saliency, nothing to call right or wrong.
    shown = html_shown(at)
    assert 'class="ds-pictures"' not in shown and 'class="ds-bars"' not in shown
    assert not [b for b in at.button if b.label in ("Right", "Wrong")]


def test_clear_empties_the_canvas_and_the_prediction():
    at = run_app(draw_digit(5, "black_on_white"))
    assert predictions(at) == {"Prediction (CNN)": "5"}
    clear = next(b for b in at.button if b.label == "Clear")
    clear.click().run()
    assert predictions(at) == {}
    assert at.session_state["canvas_version"] == 1
    assert any("Write a digit or a number" in i.value for i in at.info)


def upload(at: AppTest, name: str, content: bytes, mime: str = "image/png") -> AppTest:
    at.file_uploader[0].set_value((name, content, mime))
    return at.run()


def test_an_uploaded_photo_is_classified():
    at = run_app()
    assert any("Upload a picture" in i.value for i in at.info)
    photo = cv2.cvtColor(draw_digit(6, "black_on_white", size=640, brush=40), cv2.COLOR_RGBA2BGR)
    ok, jpeg = cv2.imencode(".jpg", photo)
    assert ok
    at = upload(at, "six.jpg", jpeg.tobytes(), "image/jpeg")
    assert not at.exception
    assert predictions(at) == {"Prediction (CNN)": "6"}


def test_a_photo_taken_with_the_camera_is_read_like_an_upload():
    """On a phone: photograph a number written on paper; it is read as an upload is, with
    the same answer and the same Right / Wrong."""
    from harness.photos import photograph

    at = run_app()
    assert not at.camera_input  # the camera is asked for only when wanted
    at.segmented_control(key="picture_source").set_value("camera").run()
    assert any("Take a photo" in i.value for i in at.info)
    strokes = write_number("42", height=0.5)
    jpeg = photograph(strokes, {"light": "falloff 20%", "paper": "ruled", "pen": "ballpoint"},
                      np.random.default_rng(0))  # fmt: skip
    at.camera_input[0].set_value(("photo.jpg", jpeg, "image/jpeg"))
    at.run()
    assert not at.exception
    assert predictions(at) == {"Prediction (CNN)": "42"}
    assert at.button(key="feedback-upload-42-right").label == "Right: it is 42"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.png", b"this is not an image", "not a picture that can be read"),
        ("cut.png", encode_png(draw_digit(1))[:200], "damaged or truncated"),
        ("empty.png", b"", "empty"),
    ],
)
def test_a_bad_upload_gets_a_clear_message(name, content, message):
    at = upload(run_app(), name, content)
    assert not at.exception
    assert predictions(at) == {}
    assert any(message in e.value and name in e.value for e in at.error), [
        e.value for e in at.error
    ]


def test_a_blank_upload_says_no_ink():
    at = upload(
        run_app(),
        "blank.png",
        encode_png(np.full((100, 100, 4), 255, np.uint8)),
    )
    assert predictions(at) == {}
    assert any("No ink" in i.value for i in at.info)


def test_missing_model_file_says_how_to_train(tmp_path, monkeypatch):
    # A model folder with the ANN only: the CNN file is missing.
    for name in ("ann.tflite", "metrics.json", "samples.npz"):
        shutil.copy(MODEL_DIR / name, tmp_path / name)
    monkeypatch.setenv(MODEL_DIR_ENV, str(tmp_path))
    at = run_app(draw_digit(3, "black_on_white"))
    assert not at.exception
    assert any("python train_model.py --model cnn" in e.value for e in at.error)
    assert predictions(at) == {}
    # The rest of the app still works: the ANN answers, the report renders.
    at.sidebar.button_group(key="model_choice").set_value("ann").run()
    assert predictions(at) == {"Prediction (ANN)": "3"}
    report(at)
    assert not at.exception
    assert any(m.label == "ANN test accuracy" for m in at.metric)


@pytest.mark.parametrize(
    "metrics",
    [
        "{}",
        '{"cnn": {"test_accuracy": 0.99}}',
        "not json",
        '{"cnn": {"fine_tune": "broken"}}',
        '{"cnn": {"fine_tune": {"before": 1, "after": {"mnist": "x"}, "corrections": "?"}}}',
    ],
)
def test_the_report_never_fails_on_missing_figures(tmp_path, monkeypatch, metrics):
    for name in ("cnn.tflite", "ann.tflite", "samples.npz"):
        shutil.copy(MODEL_DIR / name, tmp_path / name)
    (tmp_path / "metrics.json").write_text(metrics)
    monkeypatch.setenv(MODEL_DIR_ENV, str(tmp_path))
    at = run_app(draw_digit(0, "black_on_white"))
    assert not at.exception
    assert predictions(at) == {"Prediction (CNN)": "0"}
    report(at)
    assert not at.exception
    assert {m.label for m in at.metric} >= {"CNN test accuracy", "ANN test accuracy"}


def test_model_report_shows_the_served_models_figures_samples_and_mistakes():
    at = report(run_app())
    assert not at.exception
    metrics = json.loads((MODEL_DIR / "metrics.json").read_text())
    accuracy = {m.label: m.value for m in at.metric}
    for name in ("cnn", "ann"):
        served = metrics[name]
        shown = accuracy[f"{name.upper()} test accuracy"]
        assert shown == f"{served['test_accuracy']:.2%}"
        help_text = next(m for m in at.metric if m.label.startswith(name.upper())).help
        assert f"{served['test_errors']} errors on the {served['test_images']:,}" in help_text
        assert "/" not in help_text  # no paths
    # The training curves of the model the report is about, where metrics.json has them:
    # on MNIST (its base model's, for a fine-tuned CNN), and the fine-tune's apart.
    for name in ("cnn", "ann"):
        at.sidebar.button_group(key="model_choice").set_value(name).run()
        served = metrics[name]
        base = served["fine_tune"]["from"] if "fine_tune" in served else served
        captions = [c.value for c in at.caption]
        assert any(c.startswith("Training on MNIST") for c in captions) == ("history" in base)
        assert any(c.startswith("Then fine-tuned") for c in captions) == ("fine_tune" in served)
    assert any("Sample MNIST test images" in s.value for s in at.subheader)
    assert any("mistakes" in s.value for s in at.subheader)
    assert at.get("vega_lite_chart"), "the confusion matrix is missing"
    first = [c.value for c in at.caption if " of 24 right" in c.value]
    assert first
    next(b for b in at.button if b.label == "Show other samples").click().run()
    assert at.session_state["sample_seed"] == 1
    assert not at.exception


# --- Right / Wrong under the answer, and the "Drawn here" report -------------------------------


@pytest.fixture(autouse=True)
def store_url(tmp_path, monkeypatch):
    """Every app test stores into its own SQLite file (never the default data/ folder)."""
    url = f"sqlite:///{tmp_path / 'feedback.sqlite3'}"
    monkeypatch.setenv("FEEDBACK_DB_URL", url)
    return url


def stored(url: str) -> list:
    from model.feedback import Store

    store = Store(url)
    rows = store.rows()
    store.close()
    return rows


def test_right_stores_the_drawing_and_the_models_answer(store_url):
    at = run_app(draw_digit(3, "black_on_white"))
    assert stored(store_url) == []  # drawing stores nothing
    at.button(key="feedback-draw-3-right").click().run()
    assert not at.exception
    (row,) = stored(store_url)
    assert (row.label, row.answer, row.box, row.source) == ("3", "3", None, "app")
    assert row.drawing_png.startswith(b"\x89PNG")
    assert row.model_version.startswith("cnn-") and len(row.session_id) == 32
    assert row.digit_image().shape == (28, 28) and row.digit_image().max() > 0
    assert any("Saved as 3" in s.value for s in at.success)
    assert predictions(at) == {"Prediction (CNN)": "3"}


@pytest.mark.parametrize("label", ["5", "not a digit"])
def test_wrong_stores_what_the_user_says_it_was(store_url, label):
    at = run_app(draw_digit(3, "black_on_white"))
    at.button_group(key="feedback-draw-3-0-wrong").set_value(label).run()
    assert not at.exception
    (row,) = stored(store_url)
    assert (row.label, row.answer) == (label, "3")
    assert at.button_group(key="feedback-draw-3-0-wrong").value is None  # ready again
    assert any(f"Saved as {label}" in s.value for s in at.success)


def test_a_digit_of_a_number_is_corrected_with_its_box(store_url):
    at = run_app(draw_number("2025", height=0.5))
    at.button_group(key="pick-2025").set_value("2: 0").run()
    at.button_group(key="feedback-draw-2025-1-wrong").set_value("6").run()
    assert not at.exception
    (row,) = stored(store_url)
    assert (row.label, row.answer) == ("6", "0")
    x, y, w, h = json.loads(row.box)
    assert 0 <= x < 780 and 0 <= y < 280 and w > 0 and h > 0


def test_right_on_a_number_stores_each_digit_with_its_box(store_url):
    at = run_app(draw_number("2025", height=0.5))
    right = at.button(key="feedback-draw-2025-right")
    assert right.label == "Right: it is 2025"
    right.click().run()
    assert not at.exception
    rows = stored(store_url)
    assert [(r.label, r.answer) for r in rows] == [(d, d) for d in "2025"]
    lefts = [json.loads(r.box)[0] for r in rows]
    assert lefts == sorted(lefts)
    assert any("Saved as 2 0 2 5" in s.value for s in at.success)


def test_changing_your_mind_keeps_one_answer(store_url):
    """Right, then Wrong, then Right again on the same drawing: one row, the last answer."""
    at = run_app(draw_digit(3, "black_on_white"))
    for _ in range(3):
        at.button(key="feedback-draw-3-right").click().run()
    at.button_group(key="feedback-draw-3-0-wrong").set_value("8").run()
    assert not at.exception
    (row,) = stored(store_url)
    assert (row.label, row.answer) == ("8", "3")


def test_a_store_that_is_down_leaves_the_app_working(monkeypatch):
    monkeypatch.setenv("FEEDBACK_DB_URL", "postgresql+psycopg://test@127.0.0.1:9/none")
    at = run_app(draw_digit(3, "black_on_white"))
    at.button(key="feedback-draw-3-right").click().run()
    assert not at.exception
    assert any("Not saved: the feedback store is unavailable" in e.value for e in at.error)
    assert predictions(at) == {"Prediction (CNN)": "3"}
    report(at)
    assert any("No figures from people's drawings" in i.value for i in at.info)


def test_the_report_shows_what_was_drawn_here(store_url):
    assert any("Nobody has said Right or Wrong yet" in c.value for c in report(run_app()).caption)
    at = run_app(draw_digit(3, "black_on_white"))
    at.button(key="feedback-draw-3-right").click().run()
    at.button_group(key="feedback-draw-3-0-wrong").set_value("8").run()  # changed its mind
    at = run_app(draw_digit(5, "black_on_white"))
    at.button(key="feedback-draw-5-right").click().run()
    at = report(run_app())  # a new visit reads the store afresh
    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    assert shown["Drawings labelled"] == "2" and shown["Right on them"] == "50.0%"
    assert any("latest corrections" in c.value for c in at.caption)

"""End to end in a real browser: `streamlit run app.py`, Chromium driven by Playwright, digits
drawn with mouse strokes on the real canvas, the page's answer read back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import require

from benchmarks.browser import (
    CHROMIUM,
    chromium,
    clear,
    draw_and_wait,
    open_page,
    predictions,
    running,
)
from benchmarks.digit_paths import DIGIT_PATHS, place
from benchmarks.drawings import PEN_DIGITS, Pen, load_pen_digits, place_strokes, render
from model.classifier import Classifier, model_path
from model.recognize import recognize

pytestmark = pytest.mark.browser
APP_BRUSH = 18  # the app's default brush width


@pytest.fixture(scope="module")
def page():
    require(Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM}")
    with running("app.py") as server, chromium() as browser:
        page = open_page(browser, server.url)
        yield page
        log = server.log()
    assert "Traceback" not in log, log


def pen_stroke_digits() -> list[tuple[int, list[np.ndarray]]]:
    """One real handwritten digit per class from the UNIPEN file (canvas coordinates), else
    the hand-made paths. For each class the first UNIPEN sample that the offline pipeline
    reads right is used: this test is about the browser path, the benchmarks measure the
    model's accuracy."""
    pen = Pen(brush=APP_BRUSH, height=0.7, x=0.5, y=0.5, style="black_on_white")
    if not PEN_DIGITS.is_file():
        return [(d, place(DIGIT_PATHS[d])) for d in range(10)]
    cnn = Classifier(model_path("cnn"))
    chosen = {}
    for digit in load_pen_digits():
        if digit.label in chosen:
            continue
        strokes = place_strokes(digit, pen)
        result = recognize(render(strokes, APP_BRUSH, pen.style), cnn)
        if result.digit == digit.label and not result.unsure:
            chosen[digit.label] = strokes
        if len(chosen) == 10:
            break
    return sorted(chosen.items())


def canvas_is_blank(page) -> bool:
    """No ink on the drawing canvas: every pixel transparent or the white paper."""
    return page.locator("canvas.dc-canvas.lower-canvas").first.evaluate(
        """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                  for (let i = 0; i < d.length; i += 4)
                    if (d[i + 3] > 0 && Math.min(d[i], d[i + 1], d[i + 2]) < 250) return false;
                  return true; }"""
    )


def test_blank_page_prompts_and_predicts_nothing(page):
    assert predictions(page) == {}
    assert page.get_by_text("Draw a digit on the canvas").is_visible()


@pytest.mark.parametrize(("digit", "strokes"), pen_stroke_digits(), ids=lambda v: str(v)[:1])
def test_each_digit_drawn_with_the_mouse_is_read_right_and_clear_empties(page, digit, strokes):
    assert draw_and_wait(page, strokes) == {"Prediction (CNN)": str(digit)}
    assert not canvas_is_blank(page)
    # The 28x28 input and the saliency overlay.
    page.locator('[data-testid="stImage"]').nth(1).wait_for(state="visible", timeout=10_000)

    clear(page)
    assert predictions(page) == {}
    assert page.get_by_text("Draw a digit on the canvas").is_visible()
    assert canvas_is_blank(page)


def test_stroke_begun_at_the_top_edge_is_drawn(page):
    """The canvas' toolbar hides just above the canvas, never over its top edge, where its
    invisible box would swallow a stroke begun there (a finger has no hover to move it)."""
    top_right_line = np.array([[250.0, 2.0], [250.0, 190.0]])
    shown = draw_and_wait(page, [top_right_line])
    assert not canvas_is_blank(page)
    assert "Prediction (CNN)" in shown
    clear(page)

"""Property and fuzz tests: no input makes preprocessing, decoding or the predict command fail
in any way other than a clear ValueError; never NaN, never minutes of work.

Each test counts its cases; the total is printed at the end of the session ("fuzz cases").
"""

from __future__ import annotations

import io
import time

import cv2
import numpy as np
import pytest
from conftest import json_lines, run_predict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from harness.digit_paths import draw_digit
from model.imageio import ImageReadError, read_image
from model.predict import classify_paths
from model.preprocessing import IMAGE_SIZE, preprocess
from model.recognize import recognize

FUZZ_CASES = {"count": 0}
# A hang guard, not a timing target (those are benchmarks'): no single call may take this long.
SLOW_CALL_SECONDS = 30.0


def fuzz(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        deadline=None,  # timing is checked per call below, with a generous bound for CI
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def counted():
    FUZZ_CASES["count"] += 1


def check_digit(out) -> None:
    """A preprocessing result: None or a valid 28x28 float32 image in [0, 1]."""
    if out is None:
        return
    assert out.shape == (IMAGE_SIZE, IMAGE_SIZE)
    assert out.dtype == np.float32
    assert np.isfinite(out).all()
    assert out.min() >= 0.0
    assert out.max() <= 1.0


def timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    assert time.perf_counter() - started < SLOW_CALL_SECONDS
    return result


# Arrays of any dtype, shape and content.
DTYPES = st.sampled_from(
    [
        np.uint8,
        np.uint8,
        np.uint8,
        np.uint16,
        np.int8,
        np.int32,
        np.float16,
        np.float32,
        np.float64,
        np.bool_,
        np.complex64,
    ]
)
SHAPES = st.one_of(
    hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=8),
    hnp.array_shapes(min_dims=2, max_dims=3, min_side=0, max_side=64),
)


@fuzz(4500)
@given(hnp.arrays(DTYPES, SHAPES, elements=None))
def test_preprocess_any_array(array):
    counted()
    try:
        out = timed(preprocess, array)
    except ValueError as error:
        assert str(error)  # the message says what was wrong
        return
    check_digit(out)


EXTREME_SHAPES = [
    (0, 0),
    (1, 1),
    (1, 10_000),
    (10_000, 1),
    (5000, 5000),
    (3, 3, 4),
    (2, 2, 3),
    (4000, 10, 4),
    (1, 1, 4),
    (0, 5, 3),
]


@pytest.mark.parametrize("shape", EXTREME_SHAPES)
@pytest.mark.parametrize("fill", ["zeros", "ones", "noise", "stripe"])
def test_preprocess_extreme_sizes(shape, fill, rng):
    counted()
    if fill == "zeros":
        image = np.zeros(shape, np.uint8)
    elif fill == "ones":
        image = np.full(shape, 255, np.uint8)
    elif fill == "noise":
        image = rng.integers(0, 256, shape, dtype=np.uint8)
    else:
        image = np.zeros(shape, np.uint8)
        if image.size:
            image[: max(1, shape[0] // 3)] = 255
    try:
        out = timed(preprocess, image)
    except ValueError as error:
        assert "empty" in str(error) or "shape" in str(error)
        return
    check_digit(out)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_floats_are_refused(dtype, value):
    counted()
    image = np.full((40, 40), value, dtype)
    with pytest.raises(ValueError, match="uint8"):
        preprocess(image)


# Drawings: dots, lines, filled shapes and noise, in every paper/ink style.
@st.composite
def drawings(draw):
    height = draw(st.integers(1, 600))
    width = draw(st.integers(1, 600))
    ink = np.zeros((height, width), np.uint8)
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["dot", "line", "rect", "circle", "noise"]))
        x1, x2 = draw(st.integers(-50, width + 50)), draw(st.integers(-50, width + 50))
        y1, y2 = draw(st.integers(-50, height + 50)), draw(st.integers(-50, height + 50))
        size = draw(st.integers(1, 60))
        if kind == "dot":
            cv2.circle(ink, (x1, y1), size // 4 + 1, 255, -1, cv2.LINE_AA)
        elif kind == "line":
            cv2.line(ink, (x1, y1), (x2, y2), 255, size // 3 + 1, cv2.LINE_AA)
        elif kind == "rect":
            cv2.rectangle(ink, (x1, y1), (x2, y2), 255, -1)
        elif kind == "circle":
            cv2.circle(ink, (x1, y1), size, 255, draw(st.sampled_from([-1, 2, 12])), cv2.LINE_AA)
        else:
            seed = draw(st.integers(0, 2**32 - 1))
            amount = draw(st.integers(1, 255))
            noise = np.random.default_rng(seed).integers(0, amount + 1, ink.shape)
            ink = np.maximum(ink, noise.astype(np.uint8))
    style = draw(st.sampled_from(["light_on_dark", "dark_on_light", "transparent", "rgb"]))
    if style == "light_on_dark":
        return ink
    if style == "dark_on_light":
        return 255 - ink
    if style == "rgb":
        return cv2.cvtColor(255 - ink, cv2.COLOR_GRAY2RGB)
    rgba = np.zeros((height, width, 4), np.uint8)
    rgba[:, :, 3] = ink
    return rgba


@fuzz(3300)
@given(drawings())
def test_any_drawing_gives_a_valid_answer(cnn, image):
    counted()
    result = timed(recognize, image, cnn)  # valid uint8 images: never a ValueError
    if result.blank:
        assert result.digit is None
        return
    check_digit(result.steps.digit_28x28)
    assert np.isfinite(result.probabilities).all()
    assert result.probabilities.sum() == pytest.approx(1.0, abs=1e-4)
    assert 0 <= result.digit <= 9
    assert all(isinstance(d, str) and d for d in result.doubts)


# Files: valid images of every mode, mutated and truncated ones, random bytes.
MODES = ["1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16", "I", "F"]
FORMATS = {
    "PNG": ["1", "L", "LA", "P", "RGB", "RGBA", "I;16"],
    "JPEG": ["L", "RGB", "CMYK"],
    "GIF": ["L", "P"],
    "BMP": ["1", "L", "P", "RGB"],
    "TIFF": MODES,
    "WEBP": ["RGB", "RGBA"],
}


@st.composite
def image_files(draw):
    fmt = draw(st.sampled_from(sorted(FORMATS)))
    mode = draw(st.sampled_from(FORMATS[fmt]))
    digit = draw(st.integers(0, 9))
    side = draw(st.integers(1, 300))
    gray = cv2.resize(
        draw_digit(digit, "black_on_white")[:, :, 0], (side, side), interpolation=cv2.INTER_AREA
    )
    image = Image.fromarray(gray).convert(mode if mode not in ("I;16", "I", "F") else "L")
    if mode in ("I;16", "I", "F"):
        image = (
            image.convert(mode) if mode != "I;16" else Image.fromarray(gray.astype(np.uint16) * 257)
        )
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    content = buffer.getvalue()
    damage = draw(st.sampled_from(["none", "none", "truncate", "flip", "garbage"]))
    if damage == "truncate" and content:
        content = content[: draw(st.integers(0, len(content) - 1))]
    elif damage == "flip" and content:
        data = bytearray(content)
        for _ in range(draw(st.integers(1, 20))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        content = bytes(data)
    elif damage == "garbage":
        content = draw(st.binary(max_size=2048))
    return content


@fuzz(3300)
@given(image_files())
def test_any_file_is_read_or_refused_clearly(cnn, content):
    counted()
    try:
        image = timed(read_image, content)
    except ImageReadError as error:
        assert str(error)
        return
    result = timed(recognize, image, cnn)
    if not result.blank:
        assert np.isfinite(result.probabilities).all()


@fuzz(40)
@given(st.lists(image_files(), min_size=1, max_size=40))
def test_predict_command_answers_once_per_file(tmp_path_factory, contents):
    """The real command on a batch of fuzzed files: one JSON line per path, never a traceback,
    exit status 1 exactly when some file failed."""
    folder = tmp_path_factory.mktemp("fuzz")
    paths = []
    for i, content in enumerate(contents):
        path = folder / f"{i:03d}.png"
        path.write_bytes(content)
        paths.append(str(path))
    FUZZ_CASES["count"] += len(paths)
    done = run_predict("--json", *paths)
    results = json_lines(done)
    assert [r["path"] for r in results] == paths
    failed = any("error" in r for r in results)
    assert done.returncode == (1 if failed else 0)
    for r in results:
        if "error" not in r and r["digit"] is not None:
            assert len(r["probabilities"]) == 10
            assert all(np.isfinite(r["probabilities"]))


def test_classify_paths_in_process_matches_the_files(cnn, tmp_path):
    counted()
    paths = []
    for digit in range(10):
        path = tmp_path / f"{digit}.png"
        cv2.imwrite(str(path), draw_digit(digit, "black_on_white")[:, :, 0])
        paths.append(str(path))
    results = list(classify_paths(paths, cnn))
    assert [r["digit"] for r in results] == list(range(10))

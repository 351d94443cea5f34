"""Decoding uploads and files: odd formats read right, bad ones refused with a clear message."""

from __future__ import annotations

import io
import time

import cv2
import numpy as np
import pytest
from odd_files import exif_rotated_jpeg, readable_files, unreadable_files
from PIL import Image

from benchmarks.digit_paths import draw_digit
from model.imageio import ImageReadError, _decode_simple_png, read_image
from model.recognize import recognize


@pytest.mark.parametrize("odd", readable_files(), ids=lambda f: f.name)
def test_odd_but_valid_files_are_read_right(odd, cnn):
    image = read_image(odd.content)
    assert image.dtype == np.uint8
    assert image.ndim == 2 or image.shape[2] in (3, 4)
    assert recognize(image, cnn).digit == odd.digit


@pytest.mark.parametrize("odd", unreadable_files(), ids=lambda f: f.name)
def test_bad_files_are_refused_quickly_with_a_message(odd):
    started = time.perf_counter()
    with pytest.raises(ImageReadError, match=odd.error):
        read_image(odd.content)
    assert time.perf_counter() - started < 5  # a bomb is refused before it expands


def test_exif_rotation_is_honoured():
    image = read_image(exif_rotated_jpeg(7))
    upright = draw_digit(7, "black_on_white", size=400, brush=26)[:, :, 0]
    assert image.shape[:2] == upright.shape
    gray = image.mean(axis=2) if image.ndim == 3 else image
    assert np.abs(gray - upright).mean() < 8  # JPEG noise only, not a rotated copy


def test_paths_and_bytes_agree(tmp_path):
    content = readable_files()[0].content
    path = tmp_path / "digit.png"
    path.write_bytes(content)
    assert np.array_equal(read_image(path), read_image(content))
    assert np.array_equal(read_image(str(path)), read_image(content))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: tmp / "absent.png", "no such file"),
        (lambda tmp: tmp, "not a file"),
    ],
)
def test_path_problems_are_clear(tmp_path, make, message):
    with pytest.raises(ImageReadError, match=message):
        read_image(make(tmp_path))


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_fast_png_path_decodes_exactly(channels):
    """The vectorised decoder (rows filtered None, Sub or Up) gives Pillow's pixels, for
    OpenCV's PNGs (all Sub) and Pillow's (a filter chosen per row)."""
    rng = np.random.default_rng(channels)
    decoded = 0
    for trial in range(40):
        height, width = (int(n) for n in rng.integers(1, 50, 2))
        pixels = rng.integers(0, 256, (height, width, channels), dtype=np.uint8)
        if trial % 2:  # flat areas, as in drawings
            pixels = pixels // 85 * 85
        pixels = pixels[:, :, 0] if channels == 1 else pixels
        mode = {1: "L", 3: "RGB", 4: "RGBA"}[channels]
        buffer = io.BytesIO()
        Image.fromarray(pixels, mode).save(buffer, "PNG", compress_level=trial % 10)
        bgr = {1: None, 3: cv2.COLOR_RGB2BGR, 4: cv2.COLOR_RGBA2BGRA}[channels]
        opencv = cv2.imencode(".png", pixels if bgr is None else cv2.cvtColor(pixels, bgr))[1]
        for data in (buffer.getvalue(), opencv.tobytes()):
            image = _decode_simple_png(data, width, height, data[25])
            if image is not None:
                decoded += 1
                np.testing.assert_array_equal(image, pixels)
    assert decoded >= 40  # at least every OpenCV file took the fast path

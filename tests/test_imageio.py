"""Decoding uploads and files: odd formats read right, bad ones refused with a clear message."""

from __future__ import annotations

import time

import numpy as np
import pytest
from odd_files import exif_rotated_jpeg, readable_files, unreadable_files

from benchmarks.digit_paths import draw_digit
from model.imageio import ImageReadError, read_image
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

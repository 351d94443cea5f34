"""Decoding uploads and files: odd formats read right, bad ones refused with a clear message."""

from __future__ import annotations

import io
import time

import cv2
import numpy as np
import pytest
from odd_files import exif_rotated_jpeg, png_bomb, readable_files, unreadable_files
from PIL import Image

from harness.digit_paths import draw_digit
from model.imageio import MAX_PIXELS, ImageReadError, read_image
from model.preprocessing import MAX_INPUT_SIDE
from model.recognize import recognize
from model.strokes import encode_png


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
    assert time.perf_counter() - started < 30  # a hang guard: a bomb never expands


def test_exif_rotation_is_honoured():
    image = read_image(exif_rotated_jpeg(7))
    upright = draw_digit(7, "black_on_white", size=400, brush=26)[:, :, 0]
    assert image.shape == upright.shape
    assert np.abs(image.astype(float) - upright).mean() < 8  # JPEG noise, not a rotated copy


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


def test_every_file_comes_back_as_one_grey_array():
    for odd in readable_files():
        image = read_image(odd.content)
        assert image.dtype == np.uint8 and image.ndim == 2, odd.name


@pytest.mark.parametrize("style", ["black_on_white", "white_on_black", "black_on_transparent"])
def test_canvas_pngs_decode_to_ink_on_opaque_paper(style):
    """Ink keeps its contrast on any canvas: transparent paper becomes the paper that
    contrasts with the ink (white under black ink)."""
    rgba = draw_digit(1, style)
    image = read_image(encode_png(rgba))
    assert image.shape == rgba.shape[:2]
    ink = rgba[:, :, 3] > 0 if style == "black_on_transparent" else rgba[:, :, 0] != rgba[0, 0, 0]
    paper = image[~ink].mean()
    assert abs(float(image[ink].mean()) - paper) > 150


def test_a_large_jpeg_is_decoded_at_reduced_scale():
    """A 6000x4000 photo is decoded by libjpeg at 1/2 to 1/8 scale, never at full size, and
    is still read right."""
    photo = cv2.resize(draw_digit(3, "black_on_white", size=400, brush=30), (6000, 4000))
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(photo, cv2.COLOR_RGBA2BGR))
    assert ok
    image = read_image(jpeg.tobytes())
    assert MAX_INPUT_SIDE <= max(image.shape) <= 6000 // 2
    assert image.shape[1] / image.shape[0] == pytest.approx(1.5, abs=0.01)


def test_pixel_limits_are_checked_from_the_header():
    """Formats decoded at full size stop at MAX_PIXELS; JPEG (decoded reduced) goes further."""
    side = int(MAX_PIXELS**0.5) + 100
    with pytest.raises(ImageReadError, match="limit for PNG images is"):
        read_image(png_bomb(side, side))
    buffer = io.BytesIO()
    Image.new("L", (side, side), 255).save(buffer, "JPEG")
    assert MAX_INPUT_SIDE <= read_image(buffer.getvalue()).shape[0] <= side // 2


@pytest.mark.parametrize("size", [(1, 2049), (3000, 1), (1, 1)])
def test_a_jpeg_one_pixel_thin_is_read(size):
    """Found by fuzzing: reduced-scale decoding once asked for a zero-pixel side."""
    buffer = io.BytesIO()
    Image.new("L", size, 255).save(buffer, "JPEG")
    image = read_image(buffer.getvalue())
    assert image.ndim == 2 and min(image.shape) >= 1


def test_the_preview_keeps_the_colours_and_turns_upright():
    """What the upload shows: the photo in its colours, upright, small."""
    from model.imageio import read_preview

    picture = np.zeros((300, 600, 3), np.uint8)
    picture[:, :300] = (200, 30, 30)  # red left half
    image = Image.fromarray(picture)
    exif = image.getexif()
    exif[0x0112] = 6  # stored sideways: to be turned 90 degrees clockwise
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    preview = read_preview(buffer.getvalue(), 200)
    assert preview.shape == (200, 100, 3)  # upright: taller than wide, longest side 200
    top, bottom = preview[5, 50].astype(int), preview[-5, 50].astype(int)
    assert top[0] > 150 and top[1] < 80  # red on top after turning
    assert bottom.max() < 40

"""MNIST-faithful preprocessing: shape, centring, size, pen width, paper/ink styles, errors."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from harness.digit_paths import draw_digit
from model.ink import label_marks
from model.preprocessing import (
    BOX_SIZE,
    CENTER,
    IMAGE_SIZE,
    STROKE_WIDTH,
    preprocess,
    preprocess_steps,
    scale_pixels,
    stroke_width,
)
from model.strokes import STYLES, render


def center_of_mass(digit: np.ndarray) -> tuple[float, float]:
    m = cv2.moments(digit.astype(np.float32))
    return m["m10"] / m["m00"], m["m01"] / m["m00"]


def ink_box(digit: np.ndarray) -> tuple[int, int]:
    rows, cols = np.flatnonzero(digit.any(1)), np.flatnonzero(digit.any(0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


@pytest.mark.parametrize("style", STYLES)
def test_blank_canvas_gives_none(style):
    assert preprocess(render([], 18, style)) is None


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((280, 280), np.uint8),
        np.full((280, 280), 255, np.uint8),
        np.full((50, 80, 3), 128, np.uint8),
        np.zeros((280, 280, 4), np.uint8),  # fully transparent
        np.full((1, 1), 7, np.uint8),
    ],
)
def test_uniform_images_give_none(image):
    assert preprocess(image) is None


def test_faint_noise_is_no_ink(rng):
    paper = np.clip(235 + rng.normal(0, 4, (300, 400)), 0, 255).astype(np.uint8)
    assert preprocess(paper) is None


@pytest.mark.parametrize("digit", range(10))
@pytest.mark.parametrize("style", STYLES)
def test_output_shape_dtype_range_centre_and_size(digit, style):
    steps = preprocess_steps(draw_digit(digit, style))
    out = steps.digit_28x28
    assert out.shape == (IMAGE_SIZE, IMAGE_SIZE)
    assert out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert out.max() > 0.9  # the pen's core is saturated, as in MNIST
    cx, cy = center_of_mass(out)
    assert abs(cx - CENTER) < 0.5 and abs(cy - CENTER) < 0.5
    # The 20 px box: the scaled glyph's longest side is exactly 20; placed with a sub-pixel
    # shift its anti-aliased edge may touch one more pixel.
    assert max(steps.glyph.shape) == BOX_SIZE
    assert max(ink_box(out)) in (BOX_SIZE, BOX_SIZE + 1)
    assert np.array_equal(out, scale_pixels(steps.digit_uint8))


def test_centre_of_mass_is_exact(pen_digits):
    from model.strokes import draw, pen_for

    errors = []
    for index, digit in enumerate(pen_digits[:300]):
        out = preprocess(draw(digit, pen_for(index)))
        cx, cy = center_of_mass(out)
        errors.append(max(abs(cx - CENTER), abs(cy - CENTER)))
    assert max(errors) < 0.5
    assert np.median(errors) < 0.05


def test_aspect_ratio_is_kept():
    steps = preprocess_steps(draw_digit(1, "white_on_black"))
    height, width = steps.glyph.shape
    assert height == BOX_SIZE and width < BOX_SIZE / 2  # a "1" stays narrow
    wide = np.zeros((200, 400), np.uint8)
    cv2.ellipse(wide, (200, 100), (160, 60), 0, 0, 360, 255, 12, cv2.LINE_AA)
    height, width = preprocess_steps(wide).glyph.shape
    assert width == BOX_SIZE and abs(height / width - 120 / 320) < 0.1


@pytest.mark.parametrize("digit", range(10))
def test_small_in_a_corner_equals_large_in_the_middle(digit):
    small = preprocess(draw_digit(digit, brush=12, height=0.3, left=0.0, top=0.0))
    large = preprocess(draw_digit(digit, brush=26, height=0.9, left=0.5, top=0.5))
    assert np.abs(small - large).mean() < 0.03
    assert np.corrcoef(small.ravel(), large.ravel())[0, 1] > 0.95


@pytest.mark.parametrize("digit", range(10))
def test_paper_and_ink_styles_give_the_same_digit(digit):
    outputs = [preprocess(draw_digit(digit, style)) for style in STYLES]
    for other in outputs[1:]:
        assert np.abs(outputs[0] - other).max() <= 1 / 255 + 1e-6


def test_grey_rgb_and_rgba_inputs_agree():
    rgba = draw_digit(5, "black_on_white")
    expected = preprocess(rgba)
    assert np.array_equal(preprocess(rgba[:, :, :3]), expected)
    assert np.array_equal(preprocess(rgba[:, :, 0]), expected)
    assert np.array_equal(preprocess(rgba[:, :, :1]), expected)


@pytest.mark.parametrize("brush", [4, 10, 20, 40])
def test_pen_width_is_normalised_to_mnist(brush):
    out = preprocess(draw_digit(7, brush=brush, height=0.8))
    upscaled = cv2.resize(out, None, fx=8, fy=8, interpolation=cv2.INTER_LINEAR) > 0.5
    assert stroke_width(upscaled) / 8 == pytest.approx(STROKE_WIDTH, abs=0.6)


def test_photo_of_dark_ink_on_unevenly_lit_paper(rng):
    clean = draw_digit(3, "black_on_white", size=600, brush=22)[:, :, 0].astype(np.float32)
    yy, xx = np.mgrid[0:600, 0:600]
    light = 150 + 90 * (xx / 600) - 40 * (yy / 600)  # a shadow across the page
    photo = light * (clean / 255) + 25 * (1 - clean / 255) + rng.normal(0, 6, clean.shape)
    photo = cv2.cvtColor(np.clip(photo, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2RGB)
    expected = preprocess(draw_digit(3, "white_on_black", size=600, brush=22))
    got = preprocess(photo)
    assert np.corrcoef(got.ravel(), expected.ravel())[0, 1] > 0.9


def test_specks_of_noise_are_ignored():
    canvas = draw_digit(4, "black_on_white")
    clean = preprocess(canvas)
    noisy = canvas.copy()
    for x, y in [(5, 5), (270, 10), (10, 270), (275, 275)]:
        cv2.circle(noisy, (x, y), 1, (0, 0, 0, 255), -1)
    assert np.abs(preprocess(noisy) - clean).max() < 1e-6


def test_huge_input_is_handled_quickly():
    big = cv2.resize(draw_digit(2, "black_on_white")[:, :, 0], (5000, 5000))
    out = preprocess(big)
    assert out.shape == (28, 28)
    assert np.corrcoef(out.ravel(), preprocess(draw_digit(2)).ravel())[0, 1] > 0.9


def test_mnist_digits_survive_preprocessing(mnist):
    # An MNIST digit is already MNIST-shaped: preprocessing must keep it nearly as it is.
    images = mnist.x_test[:200]
    correlations = [
        np.corrcoef(preprocess(image).ravel(), scale_pixels(image).ravel())[0, 1]
        for image in images
    ]
    assert np.median(correlations) > 0.85


def test_stroke_width_constant_matches_mnist(mnist):
    widths = [
        stroke_width(cv2.resize(image, None, fx=8, fy=8, interpolation=cv2.INTER_LINEAR) > 127) / 8
        for image in mnist.x_train[:3000]
    ]
    assert np.median(widths) == pytest.approx(STROKE_WIDTH, abs=0.05)


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.zeros((28, 28), np.float32), "uint8"),
        (np.zeros((28, 28), bool), "uint8"),
        (np.zeros((28, 28), np.uint16), "uint8"),
        (np.zeros((28,), np.uint8), "shape"),
        (np.zeros((28, 28, 2), np.uint8), "shape"),
        (np.zeros((2, 28, 28, 3), np.uint8), "shape"),
        (np.zeros((0, 28), np.uint8), "non-empty"),
        ([[0, 255], [255, 0]], "numpy array"),
    ],
)
def test_wrong_input_gets_a_clear_value_error(image, message):
    with pytest.raises(ValueError, match=message):
        preprocess(image)


def test_scale_pixels():
    pixels = np.array([[0, 51, 255]], np.uint8)
    scaled = scale_pixels(pixels)
    assert scaled.dtype == np.float32
    np.testing.assert_allclose(scaled, [[0.0, 0.2, 1.0]], atol=1e-7)
    with pytest.raises(ValueError, match="uint8"):
        scale_pixels(pixels.astype(np.float32))


@pytest.mark.parametrize("shape", [(280, 780), (513, 513)])
def test_marks_are_labelled_as_opencv_labels_them(shape, rng):
    """The narrow labels a canvas gets are the same labels, and a picture with room for more
    marks than they count gets wide ones: here a chequer of 4-pixel blocks at 2/3 ink, and on
    the larger one 2x2 dots, one mark per 2x2 block (66,049 marks, more than uint16 holds)."""
    binary = (rng.uniform(size=(shape[0] // 4 + 1, shape[1] // 4 + 1)) < 0.66).astype(np.uint8)
    binary = np.kron(binary, np.ones((4, 4), np.uint8))[: shape[0], : shape[1]].copy()
    count, labels, stats = label_marks(binary)
    expected = cv2.connectedComponentsWithStats(binary, connectivity=8)
    assert count == expected[0]
    np.testing.assert_array_equal(labels, expected[1])
    np.testing.assert_array_equal(stats, expected[2])
    if shape == (513, 513):
        dots = np.zeros(shape, np.uint8)
        dots[::2, ::2] = 1
        count, labels, _ = label_marks(dots)
        assert count - 1 == 257 * 257 > np.iinfo(np.uint16).max
        assert labels.max() == count - 1


def test_thick_digits_cropped_tight_keep_their_strokes(mnist, cnn):
    """MNIST test digits with a pen 1.5-3 times MNIST's, dark on light, 64-128 px, cropped
    tight to the ink (a scanned form box): strokes reaching the picture's edge are ink, not
    paper. With a paper estimate that took them for paper (a 7 px disc on its 32 px copy)
    476 of the first 500 were read, with the 13 px disc 489: the mark lies between."""
    import cv2

    from model.recognize import read

    rng = np.random.default_rng(0)
    right = 0
    for image, label in zip(mnist.x_test[:500], mnist.y_test[:500]):
        side = int(rng.integers(64, 129))
        big = cv2.resize(image, (side, side), interpolation=cv2.INTER_CUBIC)
        pen = max(1, int(round(side / 28 * rng.uniform(0.5, 2.0))))
        big = cv2.dilate(big, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (pen, pen)))
        x, y, w, h = cv2.boundingRect((big > 100).view(np.uint8))
        right += read(255 - big[y : y + h, x : x + w], cnn).number == str(label)
    assert right >= 483, right

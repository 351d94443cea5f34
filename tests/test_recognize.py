"""Answers and honesty: clear digits are answered, dots, scribbles and two digits are not."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from harness.digit_paths import DIGIT_PATHS, draw_digit, place
from model.explain import occlusion_saliency
from model.preprocessing import preprocess_steps, scale_pixels
from model.recognize import (
    BLOB,
    INK_MASS_RANGE,
    SCATTERED,
    SEVERAL_DIGITS,
    TOO_MUCH_INK,
    TOO_WIDE,
    WIDEST,
    read,
    recognize,
    recognize_steps,
)
from model.strokes import STYLES, render


@pytest.mark.parametrize("digit", range(10))
@pytest.mark.parametrize("style", STYLES)
def test_hand_drawn_digits_are_recognised_and_trusted(cnn, digit, style):
    result = recognize(draw_digit(digit, style), cnn)
    assert result.digit == digit
    assert not result.unsure, result.doubts
    assert result.candidates(2)[0] == (digit, pytest.approx(result.confidence))


def test_blank_has_no_answer(cnn):
    result = recognize(render([], 18, "black_on_white"), cnn)
    assert result.blank and result.digit is None and result.candidates() == []


def test_a_dot_is_not_a_digit(cnn):
    canvas = np.zeros((280, 280), np.uint8)
    cv2.circle(canvas, (140, 140), 10, 255, -1, cv2.LINE_AA)
    assert BLOB in recognize(canvas, cnn).doubts


def test_a_scribble_over_the_canvas_is_doubted(cnn, rng):
    points = rng.uniform(20, 260, (60, 2))
    canvas = render([points], 18, "white_on_black")
    result = recognize(canvas, cnn)
    assert result.unsure
    assert {TOO_MUCH_INK, BLOB, SCATTERED} & set(result.doubts)


def test_a_filled_canvas_is_doubted(cnn):
    canvas = np.zeros((280, 280), np.uint8)
    canvas[30:250, 40:240] = 255
    assert recognize(canvas, cnn).unsure


def test_two_digits_side_by_side_are_doubted(cnn):
    strokes = place(DIGIT_PATHS[1], height=0.5, left=0.0) + place(
        DIGIT_PATHS[2], height=0.5, left=1.0
    )
    result = recognize(render(strokes, 16, "white_on_black"), cnn)
    assert SEVERAL_DIGITS in result.doubts


def test_a_digit_lying_on_its_side_is_doubted(cnn):
    lying = [stroke[:, ::-1] for stroke in place(DIGIT_PATHS[1], height=0.8)]  # swap x and y
    result = recognize(render(lying, 16, "white_on_black"), cnn)
    assert TOO_WIDE in result.doubts


def test_widest_matches_mnist(mnist):
    ratios = []
    for image in mnist.x_train:
        rows, cols = np.flatnonzero(image.any(1)), np.flatnonzero(image.any(0))
        ratios.append((cols[-1] - cols[0] + 1) / (rows[-1] - rows[0] + 1))
    assert np.percentile(ratios, 99.9) == pytest.approx(WIDEST, abs=0.05)


def test_a_five_with_a_separate_top_bar_is_one_digit(cnn):
    body = DIGIT_PATHS[5][0]
    bar = np.array([[0.35, 0.02], [0.9, 0.02]])  # lifted pen: the bar does not touch
    strokes = place([body[3:], bar])
    result = recognize(render(strokes, 16, "white_on_black"), cnn)
    assert SEVERAL_DIGITS not in result.doubts
    assert result.digit == 5


def test_batch_recognition_matches_single(cnn):
    images = [draw_digit(d) for d in range(10)] + [render([], 18, "white_on_black")]
    batch = recognize_steps([preprocess_steps(i) for i in images], cnn)
    for image, result in zip(images, batch):
        single = recognize(image, cnn)
        assert single.digit == result.digit
        if not single.blank:
            np.testing.assert_allclose(single.probabilities, result.probabilities, atol=1e-5)


def test_ink_mass_range_matches_mnist(mnist):
    mass = scale_pixels(mnist.x_train).sum(axis=(1, 2))
    low, high = np.percentile(mass, [0.1, 99.9])
    assert low == pytest.approx(INK_MASS_RANGE[0], abs=1.0)
    assert high == pytest.approx(INK_MASS_RANGE[1], abs=2.0)


@pytest.mark.parametrize("name", ["cnn", "ann"])
def test_saliency_marks_the_ink_that_matters(name, request):
    classifier = request.getfixturevalue(name)
    digit = preprocess_steps(draw_digit(7)).digit_28x28
    saliency = occlusion_saliency(classifier, digit)
    assert saliency.shape == (28, 28) and saliency.dtype == np.float32
    assert np.abs(saliency).max() == pytest.approx(1.0)
    assert not saliency[digit == 0].any()  # no credit off the ink
    assert saliency.max() > 0  # some ink supports the answer


def test_saliency_of_nothing_is_zero(cnn):
    assert not occlusion_saliency(cnn, np.zeros((28, 28), np.float32)).any()


def test_two_digits_one_above_the_other_are_doubted(cnn):
    top = draw_digit(3, "white_on_black", height=0.35, top=0.0)
    bottom = draw_digit(7, "white_on_black", height=0.35, top=1.0)
    canvas = np.maximum(top, bottom)
    result = recognize(canvas, cnn)
    assert SEVERAL_DIGITS in result.doubts and result.unsure
    assert read(canvas, cnn).unsure


@pytest.mark.parametrize("digit", [5, 8, 3])
def test_one_digit_is_never_called_stacked(cnn, digit):
    assert SEVERAL_DIGITS not in recognize(draw_digit(digit, "white_on_black"), cnn).doubts

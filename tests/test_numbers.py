"""Numbers: a number written on the canvas is found digit by digit, left to right, and read;
a single digit stays one digit."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from harness.digit_paths import DIGIT_PATHS, draw_digit, draw_number, write_number
from model.preprocessing import find_ink
from model.recognize import read
from model.segment import group_pieces
from model.strokes import STYLES, render

# A 5 written with a lifted pen: its bar apart from its body.
FIVE_WITH_BAR = [DIGIT_PATHS[5][0][3:], np.array([[0.35, 0.02], [0.9, 0.02]])]


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("number", ["42", "2025", "907", "314159", "86"])
def test_a_number_is_read_left_to_right(cnn, number, style):
    reading = read(draw_number(number, style=style, height=0.5), cnn)
    assert reading.number == number
    assert len(reading.boxes) == len(number)
    lefts = [box[0] for box in reading.boxes]
    assert lefts == sorted(lefts)  # left to right


@pytest.mark.parametrize("number", ["54", "45", "515"])
def test_a_five_with_its_bar_apart_stays_one_digit(cnn, number):
    strokes = write_number(number, height=0.55, paths={5: FIVE_WITH_BAR})
    image = render(strokes, 12, "black_on_white", 280, 780)
    found = find_ink(image)
    pieces = cv2.connectedComponents(found.mask.view(np.uint8))[0] - 1
    assert pieces == len(number) + number.count("5")  # each 5 in two pieces
    assert len(group_pieces(found.mask)) == len(number)
    assert read(image, cnn).number == number


def test_specks_are_ignored(cnn):
    image = draw_number("73", height=0.5)
    noisy = image.copy()
    for x, y in [(40, 30), (700, 250), (390, 20)]:
        cv2.circle(noisy, (x, y), 1, (0, 0, 0, 255), -1)
    assert read(noisy, cnn).number == read(image, cnn).number == "73"


def test_blank_reads_nothing(cnn):
    reading = read(render([], 16, "black_on_white", 280, 780), cnn)
    assert reading.blank and reading.number is None and reading.boxes == ()


@pytest.mark.parametrize("digit", range(10))
def test_a_single_digit_stays_one_digit(cnn, digit):
    """On the wide canvas too, anywhere on it."""
    for left in (0.0, 0.5, 1.0):
        strokes = [s + [left * 500, 0] for s in write_number(str(digit), canvas=(280, 280))]
        reading = read(render(strokes, 18, "black_on_white", 280, 780), cnn)
        assert reading.number == str(digit)
        assert len(reading.digits) == 1


def test_one_digit_reads_as_recognize_does(cnn):
    from model.recognize import recognize

    image = draw_digit(6)
    single, reading = recognize(image, cnn), read(image, cnn)
    assert reading.digits[0].digit == single.digit
    np.testing.assert_array_equal(reading.digits[0].probabilities, single.probabilities)


def test_unsure_digits_are_marked(cnn):
    reading = read(draw_number("42", height=0.5), cnn)
    assert reading.marked() == "42" and not reading.unsure
    scribble = render([np.random.default_rng(0).uniform(20, 260, (40, 2))], 16, "black_on_white")
    odd = read(scribble, cnn)
    assert odd.unsure and odd.not_digit  # a scribble is declined, never guessed
    marks = odd.marked()
    assert marks.count("✗") == sum(d.not_digit for d in odd.digits) >= 1
    assert marks.count("?") == sum(d.unsure and not d.not_digit for d in odd.digits)

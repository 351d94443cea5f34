"""Numbers: the line reader (model/line.py) finds the characters of a line of ink, left to
right; each digit's ink is read by the CNN; a single digit stays one digit."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest

from harness.digit_paths import DIGIT_PATHS, draw_digit, draw_number, write_number
from model.line import (
    BLANK,
    CLASSES,
    HEIGHT,
    MARGIN,
    NOT_DIGIT,
    STEP,
    STEPS,
    WIDTH,
    Character,
    decode,
    line_input,
)
from model.preprocessing import find_ink
from model.recognize import read, recognize
from model.strokes import STYLES, render

# A 5 written with a lifted pen: its bar apart from its body.
FIVE_WITH_BAR = [DIGIT_PATHS[5][0][3:], np.array([[0.35, 0.02], [0.9, 0.02]])]
# A 4 written in two strokes that do not meet: the angle and bar, then the stem beside them.
FOUR_APART = [
    np.array([[0.45, 0.04], [0.12, 0.6], [0.55, 0.6]]),
    np.array([[0.68, 0.04], [0.68, 0.96]]),
]
# A 4 written as a "ч": the stem apart, leaning so that its foot reaches under the bar.
FOUR_LEANING = [
    np.array([[0.15, 0.02], [0.1, 0.75], [0.45, 0.75], [0.62, 0.2]]),
    np.array([[0.8, 0.0], [0.55, 1.0]]),
]


# --- Decoding and the reader's input (no model) --------------------------------------------


def steps_for(classes: list[int]) -> np.ndarray:
    """(STEPS, CLASSES) step probabilities whose best class at step t is classes[t] (blank
    after them), each 0.9 sure."""
    best = np.full(STEPS, BLANK)
    best[: len(classes)] = classes
    probabilities = np.full((STEPS, CLASSES), 0.1 / (CLASSES - 1), np.float32)
    probabilities[np.arange(STEPS), best] = 0.9
    return probabilities


def test_decoding_merges_repeats_and_drops_blanks():
    b, x = BLANK, NOT_DIGIT
    characters = decode(steps_for([b, 3, 3, 3, b, 8, 8, b, b, 2, b, 2, x, x]))
    assert [c.label for c in characters] == [2, 7, 1, 1, x - 1]
    assert characters[0].columns == (1 * STEP, 4 * STEP)
    assert characters[-1].not_digit and not characters[0].not_digit
    for c in characters:
        assert c.probabilities.shape == (11,) and abs(c.probabilities.sum() - 1) < 1e-5
        assert c.probabilities.argmax() == c.label
    assert decode(steps_for([])) == []


def test_two_same_digits_need_a_blank_between_them():
    assert [c.label for c in decode(steps_for([2, 2, 2]))] == [1]
    assert [c.label for c in decode(steps_for([2, BLANK, 2]))] == [1, 1]


@pytest.mark.parametrize("brush", [8, 16, 30])
def test_the_line_input_is_the_ink_at_one_height_with_one_pen(brush):
    """Whatever the pen, the ink comes out 24 px high from the left margin, redrawn with
    about the same pen: as much ink, as wide."""
    strokes = write_number("2025", height=0.5)
    inputs = [line_input(find_ink(render(strokes, b, "black_on_white", 280, 780))).pixels
              for b in (brush, 16)]  # fmt: skip
    for pixels in inputs:
        assert pixels.shape == (HEIGHT, WIDTH) and pixels.dtype == np.float32
        rows, cols = np.flatnonzero(pixels.max(1) > 0.5), np.flatnonzero(pixels.max(0) > 0.5)
        assert abs(rows[0] - MARGIN) <= 2 and abs(rows[-1] - (HEIGHT - MARGIN - 1)) <= 2
        assert abs(cols[0] - MARGIN) <= 2
    # The same pen: as much ink either way; and the same shapes, to a pixel or two.
    a, b = inputs
    assert 0.75 <= a.sum() / b.sum() <= 1.33
    widths = [np.ptp(np.flatnonzero(p.max(0) > 0.5)) for p in inputs]
    assert abs(widths[0] - widths[1]) <= 0.12 * widths[1]  # a heavier pen: a taller box


def test_a_line_too_long_for_the_input_is_shrunk_to_fit():
    strokes = write_number("31415926535", height=0.3, canvas=(280, 3000))
    line = line_input(find_ink(render(strokes, 12, "black_on_white", 280, 3000)))
    cols = np.flatnonzero(line.pixels.max(0) > 0.5)
    assert cols[-1] < WIDTH - MARGIN + 2
    # Columns map back to the picture: the ink's right edge.
    found = find_ink(render(strokes, 12, "black_on_white", 280, 3000))
    right = np.flatnonzero(found.mask.any(0))[-1]
    assert abs(line.column_to_x(cols[-1] + 1) - right) <= 3 * line.scale


class Finds:
    """A stand-in line reader that finds the given characters at the given input columns."""

    def __init__(self, *found: tuple[int, int, int]):
        self.found = found

    def read(self, line):
        return [
            Character(label, np.eye(11, dtype=np.float32)[label], (start, stop))
            for label, start, stop in self.found
        ]


def test_without_a_line_reader_all_the_ink_is_one_digit(cnn):
    reading = read(draw_number("42", height=0.5), cnn)
    assert len(reading.digits) == 1


def test_each_character_found_is_read_from_the_ink_between_it_and_its_neighbours(cnn):
    """The ink is parted halfway between the characters the reader found; the CNN reads
    each part, the two readings taken together."""
    image = draw_number("42", height=0.5, gap=0.6)
    line = line_input(find_ink(image))
    cols = np.flatnonzero(line.pixels.max(0) > 0.5)
    reader = Finds((4, cols[0], cols[0] + 8), (2, cols[-1] - 8, cols[-1]))
    reading = read(image, cnn, reader)
    assert reading.number == "42"
    (x0, _, w0, _), (x1, _, w1, _) = reading.boxes
    edge = line.column_to_x((cols[0] + cols[-1]) / 2)  # halfway between the two
    assert x0 + w0 <= edge + 1 and x1 >= edge - 1
    # The reader calls the second character no digit: the number is declined.
    declined = read(image, cnn, Finds((4, cols[0], cols[0] + 8), (10, cols[-1] - 8, cols[-1])))
    assert declined.number is None and declined.not_digit and declined.marked() == "4✗"


def test_one_character_is_read_as_recognize_reads_it(cnn):
    """All the ink as one MNIST digit; with the reader's view of it where it found one."""
    image = draw_digit(6)
    alone = recognize(image, cnn)
    for reader in (None, Finds()):  # no reader, or nothing it is sure of
        reading = read(image, cnn, reader)
        np.testing.assert_array_equal(reading.digits[0].probabilities, alone.probabilities)
    # The reader says 5, the CNN 6: both views together.
    reading, single = read(image, cnn, Finds((5, 4, 20))), recognize(image, cnn, Finds((5, 4, 20)))
    assert len(reading.digits) == 1 and not reading.not_digit
    np.testing.assert_array_equal(reading.digits[0].probabilities, single.probabilities)
    both = alone.probabilities * (np.eye(10)[5] + 1e-6)
    np.testing.assert_allclose(single.probabilities, both / both.sum(), rtol=1e-4)
    # Declined: what it looks closest to is the CNN's alone.
    declined = read(image, cnn, Finds((10, 4, 20)))
    assert declined.not_digit and declined.digits[0].digit == alone.digit


# --- With the served models ----------------------------------------------------------------


@pytest.mark.parametrize("number", ["7", "42", "2025", "314159"])
def test_a_short_line_reads_as_at_full_width(line_reader, number):
    """The served reader is given a line without the paper on its right: it finds the same
    characters, at the same places, as at the full width it learnt at."""
    assert line_reader.any_width
    line = line_input(find_ink(draw_number(number, height=0.5)))
    full = decode(line_reader.step_probabilities(line.pixels[None])[0])
    trimmed = line_reader.read(line)
    assert [(c.label, c.columns) for c in trimmed] == [(c.label, c.columns) for c in full]
    for a, b in zip(trimmed, full):
        np.testing.assert_allclose(a.probabilities, b.probabilities, atol=0.02)


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("number", ["42", "2025", "907", "314159", "86", "11", "7771"])
def test_a_number_is_read_left_to_right(cnn, line_reader, number, style):
    reading = read(draw_number(number, style=style, height=0.5), cnn, line_reader)
    assert reading.number == number
    assert len(reading.boxes) == len(number)
    lefts = [box[0] for box in reading.boxes]
    assert lefts == sorted(lefts)  # left to right


@pytest.mark.parametrize("number", ["54", "45", "515"])
def test_a_five_with_its_bar_apart_stays_one_digit(cnn, line_reader, number):
    strokes = write_number(number, height=0.55, paths={5: FIVE_WITH_BAR})
    image = render(strokes, 12, "black_on_white", 280, 780)
    pieces = cv2.connectedComponents(find_ink(image).mask.view(np.uint8))[0] - 1
    assert pieces == len(number) + number.count("5")  # each 5 in two pieces
    assert read(image, cnn, line_reader).number == number


@pytest.mark.parametrize("paths", [FOUR_APART, FOUR_LEANING], ids=["apart", "leaning"])
@pytest.mark.parametrize("number", ["4", "14", "45", "2024"])
def test_a_four_in_two_strokes_stays_one_digit(cnn, line_reader, number, paths):
    image = render(write_number(number, height=0.55, paths={4: paths}), 12,
                   "black_on_white", 280, 780)  # fmt: skip
    pieces = cv2.connectedComponents(find_ink(image).mask.view(np.uint8))[0] - 1
    assert pieces == len(number) + number.count("4")  # each 4 in two pieces
    assert read(image, cnn, line_reader).number == number


def test_specks_are_ignored(cnn, line_reader):
    image = draw_number("73", height=0.5)
    noisy = image.copy()
    for x, y in [(40, 30), (700, 250), (390, 20)]:
        cv2.circle(noisy, (x, y), 1, (0, 0, 0, 255), -1)
    assert read(noisy, cnn, line_reader).number == read(image, cnn, line_reader).number == "73"


def test_blank_reads_nothing(cnn, line_reader):
    reading = read(render([], 16, "black_on_white", 280, 780), cnn, line_reader)
    assert reading.blank and reading.number is None and reading.boxes == ()


@pytest.mark.parametrize("digit", range(10))
def test_a_single_digit_stays_one_digit(cnn, line_reader, digit):
    """On the wide canvas too, anywhere on it, and at three brushes."""
    for left, brush in itertools.product((0.0, 0.5, 1.0), (10, 18, 26)):
        strokes = [s + [left * 500, 0] for s in write_number(str(digit), canvas=(280, 280))]
        reading = read(render(strokes, brush, "black_on_white", 280, 780), cnn, line_reader)
        assert reading.number == str(digit), (left, brush)


def test_unsure_digits_are_marked(cnn, line_reader):
    reading = read(draw_number("42", height=0.5), cnn, line_reader)
    assert reading.marked() == "42" and not reading.unsure
    scribble = render([np.random.default_rng(0).uniform(20, 260, (40, 2))], 16, "black_on_white")
    odd = read(scribble, cnn, line_reader)
    assert odd.unsure and odd.not_digit  # a scribble is declined, never guessed
    marks = odd.marked()
    assert marks.count("✗") == sum(d.not_digit for d in odd.digits) >= 1


def test_digits_that_touch_are_read(cnn, line_reader):
    """Every pair of hand-made digits written touching (their ink one piece) after a 7
    apart. A straight cut between two digits that reach over each other clips one of them,
    and the line reader and the CNN read such a pair together: at most 10% of the 100 pairs
    may be read wrong (a person would still read them all)."""
    read_right, touching_pairs = [], 0
    for pair in itertools.product("0123456789", repeat=2):
        number = "7" + "".join(pair)
        image = draw_number(number, height=0.45, gap=[0.3, 0.04], brush=18)
        touching_pairs += cv2.connectedComponents(find_ink(image).mask.view(np.uint8))[0] == 3
        read_right.append(read(image, cnn, line_reader).number == number)
    assert touching_pairs >= 60  # the test draws pairs that touch
    assert np.mean(read_right) >= 0.9, f"{np.mean(read_right):.0%} read right"


def test_written_numbers_hold_one_writers_characters_and_a_letter_when_asked(pen_digits):
    from model.strokes import NUMBER_CANVAS, PenDigit, write_numbers

    letters = [
        PenDigit(letter, d.strokes, d.source, d.writer)
        for d, letter in zip(pen_digits[::50], itertools.cycle("AHK"))
    ]  # stand-in letters, spread over the writers
    plain = list(write_numbers(pen_digits, 6, seed=3))
    assert [len(chosen) for chosen, *_ in plain] == [1, 2, 3, 4, 5, 6]
    for chosen, rgba, writer, _ in plain + list(write_numbers(pen_digits, 8, 3, (2, 3), letters)):
        assert rgba.shape == (*NUMBER_CANVAS, 4) and rgba[..., 3].any()
        assert {(c.source, c.writer) for c in chosen} == {writer}
    for chosen, _, _, _ in write_numbers(pen_digits, 8, 3, (2, 3), letters):
        assert sum(isinstance(c.label, str) for c in chosen) == 1

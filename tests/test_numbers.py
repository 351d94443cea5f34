"""Numbers: a number written on the canvas is found digit by digit, left to right, and read;
a single digit stays one digit."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest

from harness.digit_paths import DIGIT_PATHS, draw_digit, draw_number, place, write_number
from model.canvas import PenStrokes
from model.preprocessing import find_ink
from model.recognize import CHAIN, read
from model.segment import (
    Group,
    cut_columns,
    group_pieces,
    line_height,
    overlapping,
    pair_cuts,
)
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


def reaching_pair() -> tuple[np.ndarray, np.ndarray, Group]:
    """Two digit-like marks run together: an "L" whose foot reaches under the next mark's
    stem (as the bar of a 4 runs under the loop of a 6). Returns (left mark, right mark,
    their ink as one group), masks (100, 120) bool."""
    left = np.zeros((100, 120), bool)
    left[10:90, 10:22] = True  # stem
    left[80:90, 10:56] = True  # foot, reaching under the next stem
    right = np.zeros_like(left)
    right[10:80, 50:62] = True  # a stem standing on the foot...
    right[10:20, 50:90] = True  # ... with an arm to the right
    ink = left | right
    box = cv2.boundingRect(ink.view(np.uint8))
    return left, right, Group(ink, box, np.array([box]))


def test_pair_cuts_can_give_ink_where_digits_reach_over_each_other_to_both():
    left, right, group = reaching_pair()
    columns = cut_columns(group, height=80)
    assert columns == sorted(columns)
    assert all(group.box[0] < c < group.box[0] + group.box[2] for c in columns)
    # Straight cuts part the ink: no straight cut keeps the foot whole and the stem whole.
    straight = pair_cuts(group, columns, shared=0)
    assert len(straight) == len(columns)
    for a, b in straight:
        assert not (a.mask & b.mask).any() and ((a.mask | b.mask) == group.mask).all()
    assert not any((a.mask >= left).all() and (b.mask >= right).all() for a, b in straight)
    # With ink between two close columns given to both sides, one cut keeps both marks whole.
    shared = pair_cuts(group, columns, shared=16)
    assert len(shared) > len(straight)
    assert any((a.mask >= left).all() and (b.mask >= right).all() for a, b in shared)


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


# A 4 written in two strokes that do not meet: the angle and bar, then the stem beside them.
FOUR_APART = [
    np.array([[0.45, 0.04], [0.12, 0.6], [0.55, 0.6]]),
    np.array([[0.68, 0.04], [0.68, 0.96]]),
]


@pytest.mark.parametrize("brush", [10, 14, 18])
@pytest.mark.parametrize("number", ["4", "14", "45", "2024"])
def test_a_four_in_two_strokes_apart_stays_one_digit(cnn, number, brush):
    image = render(write_number(number, height=0.55, paths={4: FOUR_APART}), brush,
                   "black_on_white", 280, 780)  # fmt: skip
    found = find_ink(image)
    pieces = cv2.connectedComponents(found.mask.view(np.uint8))[0] - 1
    assert pieces == len(number) + number.count("4")  # each 4 in two pieces
    assert len(group_pieces(found.mask)) == len(number)
    reading = read(image, cnn)
    assert reading.number == number and not reading.unsure


# A 4 written as a "ч": the angle and bar, then the stem apart, leaning so that its foot
# reaches under the bar (their boxes overlap, their ink does not meet).
FOUR_LEANING = [
    np.array([[0.15, 0.02], [0.1, 0.75], [0.45, 0.75], [0.62, 0.2]]),
    np.array([[0.8, 0.0], [0.55, 1.0]]),
]


@pytest.mark.parametrize("brush", [10, 14])
@pytest.mark.parametrize("number", ["4", "14", "45", "2024"])
def test_a_four_whose_stem_reaches_under_its_angle_stays_one_digit(cnn, counter, number, brush):
    """The two pieces stand side by side as two digits would (`segment.group_pieces` keeps
    them apart), but their boxes overlap: the count model calls them together one digit, and
    the reader reads them a 4, not "11"."""
    image = render(write_number(number, height=0.55, paths={4: FOUR_LEANING}), brush,
                   "black_on_white", 280, 780)  # fmt: skip
    found = find_ink(image)
    groups = group_pieces(found.mask)
    assert len(groups) == len(number) + number.count("4")  # each 4 in two groups
    assert len(overlapping(groups)) == number.count("4")
    assert read(image, cnn, None, counter).number == number


class ReadsOneDigitWide:
    """A stand-in digit reader for segmentation: sure (0.99) of a glyph 0.45-0.85 times as
    wide as it is high, as the hand-made digits other than 1 are; unsure (0.5) of a wider one
    (digits run together) or a narrower one (a sliver of a digit). Always names 1: only how
    sure it is matters to where a number is cut."""

    def predict(self, digits: np.ndarray) -> np.ndarray:
        probabilities = np.zeros((len(digits), 10), np.float32)
        for row, digit in zip(probabilities, np.asarray(digits).reshape(-1, 28, 28)):
            row[1] = 0.99 if 0.45 <= ink_ratio(digit) <= 0.85 else 0.5
            row[7] = 1.0 - row[1]
        return probabilities


def touching(number: str, apart: int = 1) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """The number written with hand-made digits, the first `apart` of them apart and the
    rest touching (each runs into the next); and each digit's (left, right) on the canvas."""
    gaps = [0.3] * apart + [0.0] * (len(number) - 1 - apart)
    image = draw_number(number, height=0.45, gap=gaps, brush=14)
    strokes = write_number(number, height=0.45, gap=gaps)
    spans, start = [], 0
    for char in number:
        own = strokes[start : start + len(DIGIT_PATHS[int(char)])]
        start += len(own)
        points = np.concatenate(own)
        spans.append((points[:, 0].min(), points[:, 0].max()))
    return image, spans


def cut_right(number: str, counter) -> bool | None:
    """Whether the stand-in reader's reading of `number` (a 7 apart, then the rest touching)
    has one box over each digit; None when the rest does not touch as one piece of ink."""
    image, spans = touching(number)
    if len(group_pieces(find_ink(image).mask)) != 2:
        return None
    reading = read(image, ReadsOneDigitWide(), None, counter)
    return len(reading.digits) == len(number) and all(
        left - 8 <= x + width / 2 <= right + 8  # each box over its own digit
        for (left, right), (x, _, width, _) in zip(spans, reading.boxes)
    )


def ink_ratio(digit: np.ndarray) -> float:
    """Width / height of the ink of a (28, 28) model input (0 for a faint sliver)."""
    rows = np.flatnonzero(digit.max(axis=1) > 0.3)
    cols = np.flatnonzero(digit.max(axis=0) > 0.3)
    if not len(rows):
        return 0.0
    return (cols[-1] - cols[0] + 1) / (rows[-1] - rows[0] + 1)


class ReadsEverythingAs:
    """A stand-in digit reader: every input is a 3, read `confidence` surely."""

    def __init__(self, confidence: float):
        self.confidence = confidence

    def predict(self, digits: np.ndarray) -> np.ndarray:
        probabilities = np.full((len(digits), 10), (1 - self.confidence) / 9, np.float32)
        probabilities[:, 3] = self.confidence
        return probabilities


class WideIsSeveral:
    """Stand-ins for the digit-count and "not a digit" models: ink wider than it is tall
    holds `count` digits, and is no digit."""

    def __init__(self, count: int = 2):
        self.count = count

    def probabilities(self, digits: np.ndarray) -> np.ndarray:
        counts = [self.count if ink_ratio(d) > 1 else 1 for d in digits.reshape(-1, 28, 28)]
        return np.eye(3, dtype=np.float32)[np.array(counts) - 1]

    def declines(self, digits: np.ndarray) -> np.ndarray:
        return np.array([ink_ratio(d) > 1 for d in digits.reshape(-1, 28, 28)])


@pytest.mark.parametrize("count", [2, 3])
@pytest.mark.parametrize("confidence, cut", [(0.8, False), (0.95, True)])
def test_a_group_declined_whole_is_cut_only_where_both_sides_read_surely(confidence, cut, count):
    """A 7 apart, then 33 run together: a group the "not a digit" model declines whole (a
    letter the counter takes for several digits, an H or an M) is cut only where both sides
    read at least 90% surely, and in two at most while it is narrow, whatever the counter
    says; left whole, the number is declined. A group it takes for digits is cut into as
    many as the counter says, narrow or not, wherever its parts read best."""
    image = draw_number("733", height=0.45, gap=[0.3, 0.0], brush=14)
    found = find_ink(image)
    groups = group_pieces(found.mask)
    assert len(groups) == 2 and groups[1].box[2] <= CHAIN * line_height(groups)  # narrow
    models = WideIsSeveral(count)
    reading = read(image, ReadsEverythingAs(confidence), models, models)
    assert len(reading.digits) == (3 if cut else 2)
    assert (reading.number is None) == (not cut)
    without = read(image, ReadsEverythingAs(confidence), None, models)
    assert len(without.digits) == 1 + count  # taken for digits: cut as counted


class CountsWideAs:
    """A stand-in digit-count model: ink wider than it is tall holds two digits or three or
    more with the probabilities `several` (two, three or more); other ink one digit."""

    def __init__(self, several: tuple[float, float]):
        self.several = several

    def probabilities(self, digits: np.ndarray) -> np.ndarray:
        wide = np.array([ink_ratio(d) > 1 for d in digits.reshape(-1, 28, 28)])
        return np.where(wide[:, None], [0.0, *self.several], [1.0, 0.0, 0.0]).astype(np.float32)


@pytest.mark.parametrize("several, digits", [((0.4, 0.6), 3), ((0.1, 0.9), 4)])
def test_a_group_counted_three_or_more_is_also_cut_in_two(several, digits):
    """A 7 apart, then 33 run together, which the count model calls three or more digits
    (60%) rather than two (40%): cut in three, each part is a sliver the reader reads 50%
    surely; cut in two, each a digit read 99% surely, and 40% x 99% beats 60% x 50%: two
    digits. Where the count model is sure (90%) of three or more, three parts."""
    image = draw_number("733", height=0.45, gap=[0.3, 0.0], brush=14)
    assert len(group_pieces(find_ink(image).mask)) == 2
    reading = read(image, ReadsOneDigitWide(), None, CountsWideAs(several))
    assert len(reading.digits) == digits


def test_digits_run_together_and_declined_whole_are_parted_only_between_their_strokes():
    """Two 3s run together, all the ink, which the "not a digit" model declines whole (as it
    may a "22" taken for a Z): with the canvas' strokes they are parted between them and read
    "33"; the same ink as a picture alone, or written in one stroke (as a letter is), stays
    declined whole."""
    strokes = write_number("33", height=0.45, gap=[0.0])
    image = render(strokes, 18, "black_on_white", 280, 780)
    assert len(strokes) == 2 and len(group_pieces(find_ink(image).mask)) == 1
    reader, models = ReadsEverythingAs(0.999), WideIsSeveral(2)
    assert read(image, reader, models, models).number is None
    with_strokes = read(image, reader, models, models, PenStrokes(tuple(strokes), 18.0))
    assert with_strokes.number == "33"
    one_stroke = PenStrokes((np.concatenate(strokes),), 18.0)
    assert read(image, reader, models, models, one_stroke).number is None


def small_beside(small: int, tall: int, left: bool) -> np.ndarray:
    """A hand-made digit `small` (a quarter of the canvas high) 40 px beside a digit `tall`
    (0.6 of it): to its left, on its line, or to its right, by its middle."""
    big, little = place(DIGIT_PATHS[tall], 280, 0.6), place(DIGIT_PATHS[small], 280, 0.25)
    b, s = np.concatenate(big), np.concatenate(little)
    if left:
        shift = [b[:, 0].min() - 40 - s[:, 0].max(), b[:, 1].max() - s[:, 1].max()]
    else:
        shift = [b[:, 0].max() + 40 - s[:, 0].min(), b[:, 1].mean() - s[:, 1].mean()]
    return render(big + [stroke + shift for stroke in little], 14, "black_on_white", 280, 280)


class DeclinesSeveralMarks:
    """A stand-in "not a digit" model: a 28x28 input with two or more separate marks is no
    digit."""

    def declines(self, digits: np.ndarray) -> np.ndarray:
        marks = [cv2.connectedComponents((d > 0.5).view(np.uint8))[0] - 1 for d in digits]
        return np.array(marks) >= 2


@pytest.mark.parametrize("small, tall", [(0, 5), (7, 2)])
def test_marks_declined_as_one_digit_and_wider_than_tall_are_read_as_a_number(small, tall):
    """A small digit written low beside a tall one (not two marks side by side on the line,
    and neither read 90% surely), which the "not a digit" model declines read as one digit:
    wider than tall, it is read as a number of two, each read on its own. The same marks
    taller than wide (a small mark beside a 1, like a k) stay one reading, declined."""
    wide = small_beside(small, tall, left=True)
    assert len(group_pieces(find_ink(wide).mask)) == 2
    reading = read(wide, ReadsEverythingAs(0.8), DeclinesSeveralMarks())
    assert reading.number == "33"
    narrow = small_beside(small, 1, left=False)
    assert len(group_pieces(find_ink(narrow).mask)) == 2
    reading = read(narrow, ReadsEverythingAs(0.8), DeclinesSeveralMarks())
    assert len(reading.digits) == 1 and reading.number is None


@pytest.mark.parametrize(
    "runs",
    [
        [a + b for a in "023456789" for b in "023456789"],
        ["".join(t) for t in itertools.product("0358", repeat=3)],
    ],
    ids=["pairs", "threes"],
)
def test_digits_that_touch_are_cut_apart(runs, counter):
    """Two or three digits run together (each stroke runs into the next), after a digit
    apart, are cut into their digits: every pair of hand-made digits but 1 (narrower than
    the stand-in's one-digit width) and every three of 0, 3, 5 and 8 that touch. The count
    model says how many digits the run holds; a stand-in reader says where to cut, so this
    tests where the cuts fall, not the trained digit reader. A few runs whose digits
    overlap where they touch cannot be parted cleanly: at most 15% may fail."""
    results = {run: cut_right("7" + run, counter) for run in runs}
    touching_runs = {run: right for run, right in results.items() if right is not None}
    assert len(touching_runs) >= 0.6 * len(runs)  # the test draws runs that touch
    wrong = sorted(run for run, right in touching_runs.items() if not right)
    assert len(wrong) <= 0.15 * len(touching_runs), f"cut wrong: {wrong}"


def test_digits_that_touch_are_counted_and_read(cnn, counter):
    """Every pair of hand-made digits written touching (their ink one piece) after a 7
    apart, read by the trained models: the count model says the pair is two digits, the
    digit reader where to cut. Without the count model such a pair is read as one digit.
    A 6 or 8 whose loop reaches under its neighbour can lose a stroke to the cut: at most
    20% may be read wrong."""
    read_right, read_without, touching_pairs = [], [], 0
    for pair in itertools.product("0123456789", repeat=2):
        number = "7" + "".join(pair)
        image = draw_number(number, height=0.45, gap=[0.3, 0.04], brush=18)
        if len(group_pieces(find_ink(image).mask)) != 2:
            continue  # this pair does not touch
        touching_pairs += 1
        read_right.append(read(image, cnn, None, counter).number == number)
        read_without.append(read(image, cnn).number == number)
    assert touching_pairs >= 60
    assert np.mean(read_right) >= 0.8, f"{np.mean(read_right):.0%} read right"
    assert not any(read_without)


@pytest.mark.parametrize("digit", range(10))
def test_the_count_model_calls_a_lone_digit_one(counter, digit):
    from model.recognize import group_steps

    for style in STYLES:
        found = find_ink(draw_digit(digit, style))
        steps = group_steps(found, group_pieces(found.mask))
        assert counter.counts(np.stack([s.digit_28x28 for s in steps])).tolist() == [1]


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


# A zero crossed by a bar (θ), as many people write it so as not to take it for an O.
ZERO = DIGIT_PATHS[0][0]
BAR = np.array([[0.02, 0.5], [0.98, 0.5]])
THETA = [ZERO, BAR]


@pytest.mark.parametrize("brush", [10, 18])
@pytest.mark.parametrize("number", ["0", "105", "2024"])
def test_a_zero_crossed_by_a_bar_reads_as_a_zero_with_its_strokes(cnn, counter, number, brush):
    """The reader, trained on MNIST's bare zeros, reads a θ as an 8; on the canvas, its bar is
    a stroke of its own, and without it the zero reads as one."""
    strokes = write_number(number, height=0.45, paths={0: THETA})
    image = render(strokes, brush, "black_on_white", 280, 780)
    reading = read(image, cnn, None, counter, PenStrokes(tuple(strokes), float(brush)))
    assert reading.number == number


class ReadsWideAsEight:
    """A stand-in digit reader: ink wider than 0.85 of its height is an 8 (a zero with a bar
    out past its sides), narrower ink a 0; both read 0.99 surely."""

    def predict(self, digits: np.ndarray) -> np.ndarray:
        probabilities = np.full((len(digits), 10), 0.01 / 9, np.float32)
        for row, digit in zip(probabilities, np.asarray(digits).reshape(-1, 28, 28)):
            row[8 if ink_ratio(digit) > 0.85 else 0] = 0.99
        return probabilities


@pytest.mark.parametrize(
    "paths, number",
    [
        (THETA, "0"),
        ([np.concatenate([ZERO, BAR])], "8"),  # loop and bar in one stroke: no bar of its own
        ([ZERO, BAR - [0, 0.56]], "8"),  # the bar above the loop, not across it
        ([ZERO, np.array([[0.02, 0.5], [0.3, 0.3], [0.7, 0.7], [0.98, 0.5]])], "8"),  # a wave
    ],
)
def test_only_a_straight_stroke_across_a_digit_read_as_8_is_taken_for_a_zeros_bar(paths, number):
    """The stand-in reads the ink with anything out past the loop as an 8 and the bare loop
    as a 0: only a bar that is a stroke of its own, straight and across the loop, is left
    out."""
    strokes = place(paths, 280, 0.6)
    image = render(strokes, 14, "black_on_white", 280)
    assert read(image, ReadsWideAsEight()).number == "8"  # a picture alone: no strokes
    reading = read(image, ReadsWideAsEight(), None, None, PenStrokes(tuple(strokes), 14.0))
    assert reading.number == number


def test_a_crossed_zero_declined_whole_stays_declined():
    """What the "not a digit" model declines (here: ink wider than tall) is not read again
    without its bar: a letter such as a θ or a Φ stays declined."""
    strokes = place(THETA, 280, 0.6)
    image = render(strokes, 14, "black_on_white", 280)
    reading = read(
        image, ReadsWideAsEight(), WideIsSeveral(), None, PenStrokes(tuple(strokes), 14.0)
    )
    assert reading.not_digit and reading.number is None

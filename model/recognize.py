"""From a picture to an answer: a digit or a number written left to right.

`read` finds the groups of ink (model/segment.py), counts the digits each holds
(model/count.py), cuts touching digits apart (model/cuts.py) and reads each digit
(model/digit.py), saying when not to trust the answer.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from model.canvas import PenStrokes, with_mnist_pen
from model.classifier import Classifier
from model.count import Counter
from model.cuts import (
    CHAIN,
    CROSSED_ZERO_READ_AS,
    LONE_CUT,
    SECOND_GUESS,
    SPLIT_CONFIDENCE,
    crossed_zero,
    cut_group,
    group_steps,
    least_sure,
)
from model.digit import (
    BLOB,
    INK_MASS_RANGE,
    MIN_LENGTH_IN_PEN_WIDTHS,
    NOT_A_DIGIT,
    SCATTERED,
    SEVERAL,
    SEVERAL_DIGITS,
    TOO_MUCH_INK,
    TOO_WIDE,
    WIDEST,
    Reading,
    Recognition,
    _side_by_side,
    percent,
    recognize,
    recognize_steps,
)
from model.preprocessing import (
    Ink,
    Preprocessed,
    digit_steps,
    find_ink,
    marks_box,
    number_pen,
)
from model.reject import Rejecter
from model.segment import Group, group_pieces, joined, line_height, overlapping, stroke_masks

__all__ = [
    "BLOB",
    "CHAIN",
    "INK_MASS_RANGE",
    "NOT_A_DIGIT",
    "SCATTERED",
    "SEVERAL_DIGITS",
    "TOO_MUCH_INK",
    "TOO_WIDE",
    "WIDEST",
    "Reading",
    "Recognition",
    "group_steps",
    "percent",
    "read",
    "recognize",
    "recognize_steps",
]

# The canvas' strokes are the picture's when their brush covers this share of its ink: only
# then is a drawing redrawn from them (`canvas.with_mnist_pen`).
DRAWN_WITH = 0.98


def read(
    image: np.ndarray,
    classifier: Classifier,
    rejecter: Rejecter | None = None,
    counter: Counter | None = None,
    strokes: PenStrokes | None = None,
) -> Reading:
    """Read a digit or a number written left to right (see `preprocessing.preprocess`
    for `image`), with the pen's `strokes` when the canvas recorded them.

    The ink is gathered into groups (`segment.group_pieces`), one per digit unless digits touch;
    neighbours whose boxes overlap are joined where the counter calls them one digit
    (`_join_overlapping`). Unless the groups stand side by side, the ink is first read as one
    digit; when nothing says it is several (see `doubts_about`: marks side by side, too wide,
    scattered; or, for one group, the counter), that is the reading, exactly as `recognize`
    gives it, doubts and all. Otherwise each group the counter says holds several digits is
    cut into them (`cuts.cut_group`), and every digit is read on its own. Without a counter
    no group is cut. Where the strokes part a group into its digits, that parting is taken.
    A drawing whose pen is heavier than MNIST's for its size is read redrawn from its
    strokes with MNIST's
    pen (`canvas.with_mnist_pen`), and a digit read as an 8 whose strokes show a zero crossed
    by a bar is read without the bar (`cuts.crossed_zero`).
    """
    found = find_ink(image)
    if found is None:
        return Reading()
    if strokes is not None:
        redrawn = with_mnist_pen(strokes, image.shape[:2], MIN_LENGTH_IN_PEN_WIDTHS)
        if redrawn is not None and _drawn_with(found, strokes):
            picture, thinner = redrawn
            thin_ink = find_ink(picture)
            if thin_ink is not None:
                reading = _read(thin_ink, classifier, rejecter, counter, thinner)
                return replace(reading, redrawn=True)
    return _read(found, classifier, rejecter, counter, strokes)


def _drawn_with(found: Ink, strokes: PenStrokes) -> bool:
    """Whether the strokes are the picture's: each left ink, and together all of it."""
    under = _stroke_ink(found, strokes)
    if len(under) < len(strokes.paths):
        return False
    return np.logical_or.reduce(under).sum() >= DRAWN_WITH * found.mask.sum()


def _stroke_ink(found: Ink, strokes: PenStrokes) -> list[np.ndarray]:
    """Each stroke's ink, in the ink's pixels (the picture may have been shrunk):
    `segment.stroke_masks`."""
    scale = found.input_scale
    return stroke_masks(found.mask, [path / scale for path in strokes.paths], strokes.width / scale)


def _read(
    found: Ink,
    classifier: Classifier,
    rejecter: Rejecter | None,
    counter: Counter | None,
    strokes: PenStrokes | None,
) -> Reading:
    """`read`, the ink found in the picture as it is."""
    groups = group_pieces(found.mask)
    pen = number_pen(found)
    if counter is not None:
        groups = _join_overlapping(found, groups, pen, classifier, rejecter, counter)
    steps = group_steps(found, groups, pen)
    if counter is not None:
        count_probabilities = counter.probabilities(np.stack([s.digit_28x28 for s in steps]))
    else:
        count_probabilities = np.eye(3, dtype=np.float32)[np.zeros(len(groups), np.int64)]
    counts = count_probabilities.argmax(axis=1) + 1
    whole, one = _whole(found, groups, counts, strokes, classifier, rejecter)
    if one:
        return _reading(found, [(_all_ink(found), whole)], None, strokes, classifier, rejecter)
    line = line_height(groups)
    declined = _declined_whole(steps, counts, rejecter)
    lone = len(groups) == 1
    # A lone group declined whole is parted only between its strokes.
    strokes_only = lone and whole is not None and whole.not_digit
    # Each stroke's ink, where a group is to be cut.
    ink_strokes = _stroke_ink(found, strokes) if strokes is not None and (counts > 1).any() else []
    parts: list[Preprocessed] = []
    part_groups: list[Group] = []
    for group, step, count, likely, not_digit in zip(
        groups, steps, counts, count_probabilities, declined
    ):
        if count == 1:
            parts.append(step)
            part_groups.append(group)
        else:
            # A lone group is cut only where both sides are read surely: a digit is almost
            # never cut. A group the "not a digit" model declines whole, only where both read
            # as surely as SPLIT_CONFIDENCE: a letter the counter takes for several digits
            # (an H, an M) would otherwise part into pieces that pass for digits.
            sure = LONE_CUT if lone else SPLIT_CONFIDENCE if not_digit else 0.0
            # And while narrow, in two at most (CHAIN), whatever the counter says: each more
            # part is one more chance for the pieces of a letter to pass for digits.
            if not_digit and group.box[2] <= CHAIN * line:
                count = 2
            cut_out = cut_group(
                found, group, int(count), line, pen, classifier, rejecter, sure, lone,
                ink_strokes, strokes_only=strokes_only,
            )  # fmt: skip
            if count >= 3 and likely[1] >= SECOND_GUESS:
                # Cut in two as well, and keep the likelier reading: the counter's
                # probability times how surely the least sure part is read.
                two = cut_group(
                    found, group, 2, line, pen, classifier, rejecter, sure, lone, ink_strokes,
                    strokes_only=strokes_only,
                )  # fmt: skip
                least = [least_sure(found, p, pen, classifier, rejecter) for p in (cut_out, two)]
                if likely[1] * least[1] > likely[2] * least[0]:
                    cut_out = two
            parts += group_steps(found, cut_out, pen) if len(cut_out) > 1 else [step]
            part_groups += cut_out if len(cut_out) > 1 else [group]
    if len(parts) == 1 and whole is not None:  # one digit after all, with its doubts
        return _reading(found, [(_all_ink(found), whole)], None, strokes, classifier, rejecter)
    digits = recognize_steps(parts, classifier, rejecter)
    return _reading(found, list(zip(part_groups, digits)), pen, strokes, classifier, rejecter)


def _whole(
    found: Ink,
    groups: list[Group],
    counts: np.ndarray,
    strokes: PenStrokes | None,
    classifier: Classifier,
    rejecter: Rejecter | None,
) -> tuple[Recognition | None, bool]:
    """All the ink read as one digit (None where marks stand side by side: several digits,
    as `doubts_about` would say of the whole), and whether that is the answer."""
    if len(groups) >= 2 and _side_by_side(found.mark_boxes, marks_box(found.mark_boxes)[3]):
        return None, False
    whole = recognize_steps([digit_steps(found)], classifier, rejecter)[0]
    if len(groups) == 1:
        # One digit, or digits run together. A lone letter is never cut; but on the canvas,
        # digits run together that are declined whole ("22" taken for a Z) may be parted
        # between their strokes (`cuts.cut_group`): a letter written in one stroke never is.
        parted = strokes is not None and _wider_than_tall(found)
        return whole, bool(counts[0] == 1 or (whole.not_digit and not parted))
    # Groups of ink that are not one digit, and wider than tall, are read as a number: it is
    # declined only if a part is not a digit. (A letter in two groups, an H or a k, is
    # taller than wide and stays declined whole.)
    several = (
        set(whole.doubts) & SEVERAL
        or (whole.not_digit and _wider_than_tall(found))
        or _each_a_digit(found, groups, classifier)
    )
    return whole, not several


def _reading(
    found: Ink,
    read_as: list[tuple[Group, Recognition]],
    pen: float | None,
    strokes: PenStrokes | None,
    classifier: Classifier,
    rejecter: Rejecter | None,
) -> Reading:
    """The Reading of each digit's ink read as it was (with `pen`; None: each its own),
    where a zero crossed by a bar is read without it (`cuts.crossed_zero`)."""
    digits = []
    for group, recognition in read_as:
        if (
            strokes is not None
            and recognition.digit == CROSSED_ZERO_READ_AS
            and not recognition.not_digit  # a letter declined stays declined
        ):
            zero = crossed_zero(found, group, pen, strokes, classifier, rejecter)
            recognition = recognition if zero is None else zero
        digits.append(recognition)
    boxes = tuple(_in_input(d.steps.bbox, found.input_scale) for d in digits)
    return Reading(tuple(digits), boxes)


def _all_ink(found: Ink) -> Group:
    """All the picture's ink as one group."""
    return Group(found.mask, marks_box(found.mark_boxes), found.mark_boxes)


def _join_overlapping(
    found: Ink,
    groups: list[Group],
    pen: float,
    classifier: Classifier,
    rejecter: Rejecter | None,
    counter: Counter,
) -> list[Group]:
    """Neighbouring groups whose boxes overlap (`segment.overlapping`) joined into one where
    the counter calls the two together one digit, the classifier reads them together at
    least SPLIT_CONFIDENCE surely and the "not a digit" model does not decline them: a 4
    whose angle, written apart, reaches under its stem ("ч"), read otherwise as "41"."""
    pairs = overlapping(groups)
    if not pairs:
        return groups
    candidates = [joined(groups[i], groups[i + 1]) for i in pairs]
    batch = np.stack([s.digit_28x28 for s in group_steps(found, candidates, pen)])
    one = counter.probabilities(batch).argmax(axis=1) == 0
    one &= classifier.predict(batch).max(axis=1) >= SPLIT_CONFIDENCE
    if rejecter is not None:
        one &= ~rejecter.declines(batch)
    # Left to right, each group joined at most once: with the one after it, where they
    # read as one digit.
    joinable = {i: together for i, together, ok in zip(pairs, candidates, one) if ok}
    result, i = [], 0
    while i < len(groups):
        result.append(joinable.get(i, groups[i]))
        i += 2 if i in joinable else 1
    return result


def _wider_than_tall(found: Ink) -> bool:
    """Whether all the ink together is at least as wide as it is high."""
    _, _, width, height = marks_box(found.mark_boxes)
    return width >= height


def _declined_whole(
    steps: list[Preprocessed], counts: np.ndarray, rejecter: Rejecter | None
) -> np.ndarray:
    """(N,) bool: whether the "not a digit" model declines each group the counter says
    holds several digits, read whole (never, without one; groups of one digit: False)."""
    declined = np.zeros(len(steps), bool)
    several = np.flatnonzero(counts > 1)
    if rejecter is not None and len(several):
        declined[several] = rejecter.declines(np.stack([steps[i].digit_28x28 for i in several]))
    return declined


def _in_input(box: tuple[int, int, int, int], scale: float) -> tuple[int, int, int, int]:
    """A box in the preprocessed ink's pixels -> in the input picture's pixels."""
    return tuple(int(round(v * scale)) for v in box)


def _each_a_digit(found: Ink, groups: list[Group], classifier: Classifier) -> bool:
    """Whether there are several groups of ink side by side, each read surely as a digit
    (each measured with its own pen, as a digit drawn alone is)."""
    if len(groups) < 2:
        return False
    steps = [digit_steps(found, g.mask, g.pieces) for g in groups]
    confidence = classifier.predict(np.stack([s.digit_28x28 for s in steps])).max(axis=1)
    return bool(confidence.min() >= SPLIT_CONFIDENCE)

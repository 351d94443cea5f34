"""From a picture to an answer: preprocess, classify, and say when not to trust the answer.

A classifier always names some digit, even for a dot, a scribble or two digits side by side.
`Recognition.doubts` lists the reasons, measured on the ink and the probabilities, why an
answer should be shown as a guess rather than as the answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.classifier import Classifier
from model.preprocessing import (
    Ink,
    Preprocessed,
    digit_steps,
    find_ink,
    preprocess_steps,
    stroke_width,
)
from model.reject import Rejecter
from model.segment import (
    Group,
    cut,
    cut_candidates,
    group_pieces,
    line_height,
    may_be_several,
    partitions,
)

# Below this top probability the page shows the two best candidates instead of one answer.
CONFIDENT = 0.70
# Ink mass (sum of the 28x28 pixels, 0..1 each) of MNIST's training digits: 0.1th and 99.9th
# percentiles (see tests/test_recognize.py::test_ink_mass_range_matches_mnist). A drawing
# outside this range is not shaped like any MNIST digit: a blob, a filled area, a scribble.
INK_MASS_RANGE = (28.0, 230.0)
# Width / height of MNIST's training digits: 99.9th percentile (same test as above). A
# drawing wider than this is not one upright digit: two digits, or a digit lying down.
WIDEST = 1.7
# A mark whose longest side is under this many pen widths is a dot, not a digit.
MIN_LENGTH_IN_PEN_WIDTHS = 1.5
# More separate marks than this is not one handwritten digit.
MAX_MARKS = 4
# A group of ink wide enough to be touching digits is parted in two only where the classifier
# reads both sides at least this surely, and more surely than the whole.
SPLIT_CONFIDENCE = 0.9
# Touching digits are cut at most this many times over (a run of up to 2**3 digits).
MAX_SPLIT_DEPTH = 3

NOT_A_DIGIT = "this does not look like a digit"
LOW_CONFIDENCE = "the model is not confident"
BLOB = "this is a dot or a blob, not a digit"
TOO_MUCH_INK = "there is more ink than any digit has: a scribble or a filled area?"
TOO_LITTLE_INK = "there is very little ink for a digit"
SEVERAL_DIGITS = "this looks like more than one digit: draw one at a time"
TOO_WIDE = "this is wider than any digit: more than one digit, or one lying on its side?"
SCATTERED = "the ink is in many separate pieces"
# The doubts that say the ink may be several digits rather than one.
SEVERAL = {SEVERAL_DIGITS, TOO_WIDE, SCATTERED}
# The doubts that say it is no digit at all: the answer is declined, not guessed.
DECLINED = {NOT_A_DIGIT, BLOB, TOO_MUCH_INK}


@dataclass(frozen=True)
class Recognition:
    """What the model says about one picture.

    Attributes:
        probabilities: (10,) float32 summing to 1, or None when the picture has no ink.
        steps: every preprocessing step (see `Preprocessed`), or None when blank.
        doubts: reasons not to trust the answer; empty when it can be trusted.

    `digit` is the most probable digit even when the drawing is declined (`not_digit`): it
    is then only what the drawing looks closest to.
    """

    probabilities: np.ndarray | None
    steps: Preprocessed | None
    doubts: tuple[str, ...] = ()

    @property
    def blank(self) -> bool:
        return self.probabilities is None

    @property
    def digit(self) -> int | None:
        return None if self.probabilities is None else int(self.probabilities.argmax())

    @property
    def confidence(self) -> float | None:
        return None if self.probabilities is None else float(self.probabilities.max())

    @property
    def unsure(self) -> bool:
        return bool(self.doubts)

    @property
    def not_digit(self) -> bool:
        """Declined: a letter, symbol, shape or doodle (the "not a digit" model), a dot, or a
        scribble."""
        return bool(DECLINED & set(self.doubts))

    @property
    def dot(self) -> bool:
        return BLOB in self.doubts

    def candidates(self, count: int = 2) -> list[tuple[int, float]]:
        """The `count` most probable digits with their probabilities, best first."""
        if self.probabilities is None:
            return []
        order = np.argsort(-self.probabilities, kind="stable")[:count]
        return [(int(d), float(self.probabilities[d])) for d in order]


@dataclass(frozen=True)
class Reading:
    """What the model reads in a picture: nothing (blank), one digit, or a number.

    Attributes:
        digits: one Recognition per digit, left to right; () when the picture has no ink.
        boxes: each digit's (x, y, width, height) in the input picture's pixels.
    """

    digits: tuple[Recognition, ...] = ()
    boxes: tuple[tuple[int, int, int, int], ...] = ()

    @property
    def blank(self) -> bool:
        return not self.digits

    @property
    def number(self) -> str | None:
        """The digits read, left to right ("2025"); None when blank or when any of it is not
        a digit."""
        if not self.digits or self.not_digit:
            return None
        return "".join(str(d.digit) for d in self.digits)

    @property
    def not_digit(self) -> bool:
        """Whether the drawing, or a part of it, is not a digit."""
        return any(d.not_digit for d in self.digits)

    @property
    def unsure(self) -> bool:
        return any(d.unsure for d in self.digits)

    def marked(self) -> str:
        """The number with "?" for each digit the model is unsure of ("20?5") and "✗" for a
        part that is not a digit."""
        return "".join(
            "✗" if d.not_digit else "?" if d.unsure else str(d.digit) for d in self.digits
        )

    def least_certain(self) -> int:
        """The position of the digit read least surely (0 for a single digit)."""
        return int(np.argmin([d.confidence for d in self.digits])) if self.digits else 0


def read(image: np.ndarray, classifier: Classifier, rejecter: Rejecter | None = None) -> Reading:
    """Read a digit or a number written left to right (see `preprocessing.preprocess`
    for `image`).

    The ink is first read as one digit. When nothing says it is several (see `doubts_about`:
    marks side by side, too wide, scattered), that is the reading, exactly as `recognize`
    gives it, doubts and all: a single digit is (almost) never cut in two. Otherwise the ink
    is parted into digits, which are read one by one.
    """
    found = find_ink(image)
    if found is None:
        return Reading()
    scale = found.input_scale
    whole = recognize_steps([digit_steps(found)], classifier, rejecter)[0]
    groups = group_pieces(found.mask)
    if not set(whole.doubts) & SEVERAL and not _each_a_digit(found, groups, classifier):
        return Reading((whole,), (_in_input(whole.steps.bbox, scale),))
    height = line_height(groups)
    groups = [part for group in groups for part in _split(found, group, height, classifier)]
    if len(groups) == 1:  # one digit after all, with its doubts
        return Reading((whole,), (_in_input(whole.steps.bbox, scale),))
    pen = stroke_width(found.mask)  # one pen across the number: a "1" keeps its neighbours'
    steps = [digit_steps(found, g.mask, g.pieces, pen) for g in groups]
    digits = tuple(recognize_steps(steps, classifier, rejecter))
    return Reading(digits, tuple(_in_input(s.bbox, scale) for s in steps))


def _in_input(box: tuple[int, int, int, int], scale: float) -> tuple[int, int, int, int]:
    """A box in the preprocessed ink's pixels -> in the input picture's pixels."""
    return tuple(int(round(v * scale)) for v in box)


def _each_a_digit(found: Ink, groups: list[Group], classifier: Classifier) -> bool:
    """Whether there are several groups of ink side by side, each read surely as a digit."""
    if len(groups) < 2:
        return False
    steps = [digit_steps(found, g.mask, g.pieces) for g in groups]
    confidence = classifier.predict(np.stack([s.digit_28x28 for s in steps])).max(axis=1)
    return bool(confidence.min() >= SPLIT_CONFIDENCE)


def _split(found: Ink, group: Group, height: float, classifier: Classifier, depth: int = 0):
    """A group of ink as one digit, or, where it is touching digits, cut into them: the cut
    (of `segment.cut_candidates`) whose two sides the classifier reads best, if it reads
    them better than the whole; then each side again."""
    if depth >= MAX_SPLIT_DEPTH or not may_be_several(group, height):
        return [group]
    pairs = partitions(group)
    pairs += [pair for column in cut_candidates(group, height) if (pair := cut(group, column))]
    if not pairs:
        return [group]
    parts = [group] + [side for pair in pairs for side in pair]
    steps = [digit_steps(found, g.mask, g.pieces) for g in parts]
    confidence = classifier.predict(np.stack([s.digit_28x28 for s in steps])).max(axis=1)
    both_sides = np.minimum(confidence[1::2], confidence[2::2])
    best = int(np.argmax(both_sides))
    if both_sides[best] < max(SPLIT_CONFIDENCE, confidence[0]):
        return [group]
    left, right = pairs[best]
    return _split(found, left, height, classifier, depth + 1) + _split(
        found, right, height, classifier, depth + 1
    )


def recognize(
    image: np.ndarray, classifier: Classifier, rejecter: Rejecter | None = None
) -> Recognition:
    """Preprocess and classify one picture (see `preprocessing.preprocess` for `image`)."""
    return recognize_steps([preprocess_steps(image)], classifier, rejecter)[0]


def recognize_steps(
    steps: list[Preprocessed | None], classifier: Classifier, rejecter: Rejecter | None = None
) -> list[Recognition]:
    """Classify many preprocessed pictures in one batch (None for blank ones); with a
    rejecter, those it declines get the NOT_A_DIGIT doubt."""
    inked = [s for s in steps if s is not None]
    digits = np.stack([s.digit_28x28 for s in inked]) if inked else np.zeros((0, 28, 28))
    batch = classifier.predict(digits)
    declined = rejecter.declines(digits) if rejecter is not None and inked else [False] * len(inked)
    answers = iter(zip(batch, declined))
    results = []
    for step in steps:
        if step is None:
            results.append(Recognition(None, None))
        else:
            probabilities, not_digit = next(answers)
            doubts = doubts_about(step, probabilities, bool(not_digit))
            results.append(Recognition(probabilities, step, doubts))
    return results


def doubts_about(
    steps: Preprocessed, probabilities: np.ndarray, not_digit: bool = False
) -> tuple[str, ...]:
    """Reasons why this drawing's answer should be shown as a guess or declined (empty:
    trust it). `not_digit`: what the "not a digit" model says."""
    doubts = [NOT_A_DIGIT] if not_digit else []
    x, y, width, height = steps.bbox
    if max(width, height) < MIN_LENGTH_IN_PEN_WIDTHS * steps.stroke_width:
        doubts.append(BLOB)
    mass = float(steps.digit_28x28.sum())
    if mass > INK_MASS_RANGE[1] and BLOB not in doubts:
        doubts.append(TOO_MUCH_INK)
    elif mass < INK_MASS_RANGE[0]:
        doubts.append(TOO_LITTLE_INK)
    if steps.marks > MAX_MARKS:
        doubts.append(SCATTERED)
    elif _side_by_side(steps.mark_boxes, height) or _stacked(steps.mark_boxes, width, height):
        doubts.append(SEVERAL_DIGITS)
    glyph_height, glyph_width = steps.glyph.shape
    if glyph_width > WIDEST * glyph_height and SEVERAL_DIGITS not in doubts:
        doubts.append(TOO_WIDE)
    if float(probabilities.max()) < CONFIDENT:
        doubts.append(LOW_CONFIDENCE)
    return tuple(doubts)


def _side_by_side(mark_boxes: np.ndarray, height: int) -> bool:
    """Two tall marks that do not overlap horizontally: two digits, e.g. "12"."""
    tall = mark_boxes[mark_boxes[:, 3] >= 0.6 * height]
    if len(tall) < 2:
        return False
    order = np.argsort(tall[:, 0])
    left, right = tall[order, 0], tall[order, 0] + tall[order, 2]
    # Some mark starts to the right of where every mark before it ends.
    return bool((left[1:] > np.maximum.accumulate(right)[:-1]).any())


def _stacked(mark_boxes: np.ndarray, width: int, height: int) -> bool:
    """Two digit-sized marks one above the other with paper between them: two digits written
    in a column. (The bar of a 5 or a dot is too small to count; the two loops of an 8
    touch or nearly so.)"""
    big = mark_boxes[(mark_boxes[:, 3] >= 0.3 * height) & (mark_boxes[:, 2] >= 0.4 * width)]
    if len(big) < 2:
        return False
    order = np.argsort(big[:, 1])
    top, bottom = big[order, 1], big[order, 1] + big[order, 3]
    # Some mark starts clearly below where every mark above it ends.
    return bool((top[1:] > np.maximum.accumulate(bottom)[:-1] + 0.1 * height).any())

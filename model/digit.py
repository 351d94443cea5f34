"""One digit: classify a preprocessed picture and say when not to trust the answer, and the
answers' types (`Recognition` for one digit, `Reading` for a picture).

A classifier always names some digit, even for a dot, a scribble or two digits side by side.
`Recognition.doubts` lists the reasons, measured on the ink and the probabilities, why an
answer should be shown as a guess rather than as the answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.classifier import Classifier
from model.preprocessing import Preprocessed, preprocess_steps
from model.reject import Rejecter
from model.segment import HANG_SHORT

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


def percent(probability: float) -> str:
    """A probability as people read it: whole percent, "99%" at most (the model's figures
    are not good to better than a point). The page and the command line both say it so."""
    return f"{min(probability, 0.99):.0%}"


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
        redrawn: whether the picture was read redrawn from the canvas' strokes with a
            thinner pen (`canvas.with_mnist_pen`).
    """

    digits: tuple[Recognition, ...] = ()
    boxes: tuple[tuple[int, int, int, int], ...] = ()
    redrawn: bool = False

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
    """Two tall marks that do not overlap horizontally, both standing on the line: two
    digits, e.g. "12" (not the angle of a 4 that stops short of its stem's foot)."""
    bottoms = mark_boxes[:, 1] + mark_boxes[:, 3]
    standing = bottoms.max() - bottoms < HANG_SHORT * height
    tall = mark_boxes[(mark_boxes[:, 3] >= 0.6 * height) & standing]
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

"""From a picture to an answer: preprocess, classify, and say when not to trust the answer.

A classifier always names some digit, even for a dot, a scribble or two digits side by side.
`Recognition.doubts` lists the reasons, measured on the ink and the probabilities, why an
answer should be shown as a guess rather than as the answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.classifier import Classifier
from model.preprocessing import Preprocessed, preprocess_steps

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
MIN_LENGTH_IN_PEN_WIDTHS = 2.5
# More separate marks than this is not one handwritten digit.
MAX_MARKS = 4

LOW_CONFIDENCE = "the model is not confident"
BLOB = "this is a dot or a blob, not a digit"
TOO_MUCH_INK = "there is more ink than any digit has: a scribble or a filled area?"
TOO_LITTLE_INK = "there is very little ink for a digit"
SEVERAL_DIGITS = "this looks like more than one digit: draw one at a time"
TOO_WIDE = "this is wider than any digit: more than one digit, or one lying on its side?"
SCATTERED = "the ink is in many separate pieces"


@dataclass(frozen=True)
class Recognition:
    """What the model says about one picture.

    Attributes:
        probabilities: (10,) float32 summing to 1, or None when the picture has no ink.
        steps: every preprocessing step (see `Preprocessed`), or None when blank.
        doubts: reasons not to trust the answer; empty when it can be trusted.
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

    def candidates(self, count: int = 2) -> list[tuple[int, float]]:
        """The `count` most probable digits with their probabilities, best first."""
        if self.probabilities is None:
            return []
        order = np.argsort(-self.probabilities, kind="stable")[:count]
        return [(int(d), float(self.probabilities[d])) for d in order]


def recognize(image: np.ndarray, classifier: Classifier) -> Recognition:
    """Preprocess and classify one picture (see `preprocessing.preprocess` for `image`)."""
    steps = preprocess_steps(image)
    if steps is None:
        return Recognition(None, None)
    probabilities = classifier.predict(steps.digit_28x28)
    return Recognition(probabilities, steps, doubts_about(steps, probabilities))


def recognize_steps(steps: list[Preprocessed | None], classifier: Classifier) -> list[Recognition]:
    """Classify many preprocessed pictures in one batch (None for blank ones)."""
    inked = [s for s in steps if s is not None]
    batch = classifier.predict(np.stack([s.digit_28x28 for s in inked])) if inked else []
    answers = iter(batch)
    results = []
    for step in steps:
        if step is None:
            results.append(Recognition(None, None))
        else:
            probabilities = next(answers)
            results.append(Recognition(probabilities, step, doubts_about(step, probabilities)))
    return results


def doubts_about(steps: Preprocessed, probabilities: np.ndarray) -> tuple[str, ...]:
    """Reasons why this drawing's answer should be shown as a guess (empty: trust it)."""
    doubts = []
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
    elif _side_by_side(steps.mark_boxes, height):
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

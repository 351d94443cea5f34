"""From a picture to an answer (model/answers.py): find the digits, read them, and say when
not to trust the answer.

The line reader (model/line.py) says how many characters the ink holds and where, and
whether each is a digit at all; the MNIST CNN reads each digit's 28x28 input, which the page
shows. A classifier always names some digit, even for a dot or a scribble:
`Recognition.doubts` lists the reasons, measured on the ink and the probabilities, why an
answer should be shown as a guess rather than as the answer.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from model.answers import (
    BLOB,
    LOW_CONFIDENCE,
    NOT_A_DIGIT,
    TOO_LITTLE_INK,
    TOO_MUCH_INK,
    Reading,
    Recognition,
)
from model.canvas import PenStrokes, stroke_masks, with_mnist_pen
from model.classifier import Classifier
from model.line import Character, LineReader, line_input
from model.preprocessing import (
    Ink,
    Preprocessed,
    digit_steps,
    find_ink,
    marks_box,
    stroke_width,
)

# Below this top probability the page shows the two best candidates instead of one answer.
CONFIDENT = 0.70
# Ink mass (sum of the 28x28 pixels, 0..1 each) of MNIST's training digits: 0.1th and 99.9th
# percentiles (see tests/test_recognize.py::test_ink_mass_range_matches_mnist). A drawing
# outside this range is not shaped like any MNIST digit: a blob, a filled area, a scribble.
INK_MASS_RANGE = (28.0, 230.0)
# A mark whose longest side is under this many pen widths is a dot, not a digit.
MIN_LENGTH_IN_PEN_WIDTHS = 1.5
# The canvas' strokes are the picture's when their brush covers this share of its ink: only
# then is a drawing redrawn from them (`canvas.with_mnist_pen`).
DRAWN_WITH = 0.98


def read(
    image: np.ndarray,
    classifier: Classifier,
    line_reader: LineReader | None = None,
    strokes: PenStrokes | None = None,
) -> Reading:
    """Read a digit or a number written left to right (see `preprocessing.preprocess` for
    `image`), with the pen's `strokes` when the canvas recorded them.

    The line reader finds the characters in all the ink. One character (or none it is sure
    of: a dot, a faint mark) is all the ink read as one MNIST digit, the classifier's and the
    reader's readings together (`combined`); it is declined where the reader calls it no
    digit. Several are a number: each one's ink (the columns between it and its neighbours)
    is read by the classifier with the number's pen, together with the reader's reading,
    and a part that is no digit declines the number.
    Without a line reader, all the ink is one digit. A drawing whose pen is heavier than
    MNIST's for its size is read redrawn from its strokes with MNIST's pen
    (`canvas.with_mnist_pen`).
    """
    found = find_ink(image)
    if found is None:
        return Reading()
    if strokes is not None:
        redrawn = with_mnist_pen(strokes, image.shape[:2], MIN_LENGTH_IN_PEN_WIDTHS)
        if redrawn is not None and _drawn_with(found, strokes):
            thin_ink = find_ink(redrawn[0])
            if thin_ink is not None:
                return replace(_read(thin_ink, classifier, line_reader), redrawn=True)
    return _read(found, classifier, line_reader)


def _drawn_with(found: Ink, strokes: PenStrokes) -> bool:
    """Whether the strokes are the picture's: each left ink, and together all of it."""
    scale = found.input_scale
    paths = [path / scale for path in strokes.paths]
    under = stroke_masks(found.mask, paths, strokes.width / scale)
    if len(under) < len(strokes.paths):
        return False
    return np.logical_or.reduce(under).sum() >= DRAWN_WITH * found.mask.sum()


def _read(found: Ink, classifier: Classifier, line_reader: LineReader | None) -> Reading:
    """`read`, the ink found in the picture as it is."""
    characters = [] if line_reader is None else line_reader.read(line := line_input(found))
    if len(characters) <= 1:
        whole = _as_one_digit(found, classifier, characters)
        return Reading((whole,), (_in_input(whole.steps.bbox, found.input_scale),))
    # A number: each character's ink, cut halfway between it and its neighbours.
    edges = [
        line.column_to_x((a.columns[1] + b.columns[0]) / 2)
        for a, b in zip(characters, characters[1:])
    ]
    pen = number_pen(found)
    steps, kept = [], []
    for character, left, right in zip(characters, [None, *edges], [*edges, None]):
        part = _columns(found.mask, left, right)
        if part is not None:
            steps.append(digit_steps(found, part[0], part[1], pen))
            kept.append(character)
    declined = [c.not_digit for c in kept]
    digits = recognize_steps(steps, classifier, declined, [c.probabilities[:10] for c in kept])
    boxes = tuple(_in_input(d.steps.bbox, found.input_scale) for d in digits)
    return Reading(tuple(digits), boxes)


def _columns(mask: np.ndarray, left: float | None, right: float | None):
    """The ink between picture columns `left` and `right` (None: the edge): ((H, W) bool
    mask, (1, 4) int box), or None where there is none."""
    start = 0 if left is None else max(0, int(round(left)))
    stop = mask.shape[1] if right is None else max(start, int(round(right)))
    part = np.zeros_like(mask)
    part[:, start:stop] = mask[:, start:stop]
    rows, cols = (
        np.flatnonzero(part[:, start:stop].any(1)),
        np.flatnonzero(part[:, start:stop].any(0)),
    )
    if not len(rows):
        return None
    box = (start + cols[0], rows[0], cols[-1] - cols[0] + 1, rows[-1] - rows[0] + 1)
    return part, np.array([box], np.int64)


def number_pen(found: Ink) -> float:
    """The pen width across all the ink, measured on its box, in its pixels."""
    x, y, width, height = marks_box(found.mark_boxes)
    return stroke_width(found.mask[y : y + height, x : x + width])


def _in_input(box: tuple[int, int, int, int], scale: float) -> tuple[int, int, int, int]:
    """A box in the preprocessed ink's pixels -> in the input picture's pixels."""
    return tuple(int(round(v * scale)) for v in box)


def recognize(
    image: np.ndarray, classifier: Classifier, line_reader: LineReader | None = None
) -> Recognition:
    """Preprocess and classify one picture as one digit (see `preprocessing.preprocess` for
    `image`), as `read` reads a drawing of one character (`_as_one_digit`)."""
    found = find_ink(image)
    if found is None:
        return Recognition(None, None)
    characters = [] if line_reader is None else line_reader.read(line_input(found))
    return _as_one_digit(found, classifier, characters)


def _as_one_digit(found: Ink, classifier: Classifier, characters: list[Character]):
    """All the ink read the MNIST way as one digit; declined where the line reader found
    characters and none is a digit; where it found one digit, with its reading too."""
    digits = [c for c in characters if not c.not_digit]
    declined = bool(characters) and not digits
    both = [digits[0].probabilities[:10]] if len(characters) == 1 and digits else None
    return recognize_steps([digit_steps(found)], classifier, [declined], both)[0]


def recognize_steps(
    steps: list[Preprocessed | None],
    classifier: Classifier,
    declined: list[bool] | None = None,
    line_probabilities: list[np.ndarray] | None = None,
) -> list[Recognition]:
    """Classify many preprocessed pictures in one batch (None for blank ones).

    Args:
        declined: per picture, whether the line reader called it no digit (NOT_A_DIGIT).
        line_probabilities: per picture, the line reader's (10,) probabilities of the digits
            where it read the picture within a number: the answer is then both readings
            together (`combined`).
    """
    inked = [i for i, s in enumerate(steps) if s is not None]
    digits = np.stack([steps[i].digit_28x28 for i in inked]) if inked else np.zeros((0, 28, 28))
    batch = dict(zip(inked, classifier.predict(digits)))
    results = []
    for i, step in enumerate(steps):
        if step is None:
            results.append(Recognition(None, None))
            continue
        probabilities = batch[i]
        if line_probabilities is not None:
            probabilities = combined(probabilities, line_probabilities[i])
        not_digit = bool(declined[i]) if declined is not None else False
        results.append(
            Recognition(probabilities, step, doubts_about(step, probabilities, not_digit))
        )
    return results


def combined(cnn: np.ndarray, line: np.ndarray) -> np.ndarray:
    """The classifier's and the line reader's (10,) probabilities of a digit read together:
    their product, normalised. The classifier sees the digit as MNIST's were made; the line
    reader sees it among its neighbours, learnt from pen strokes too (heavy pens, slants)."""
    product = cnn.astype(np.float64) * (line.astype(np.float64) + 1e-6)
    return (product / product.sum()).astype(np.float32)


def doubts_about(
    steps: Preprocessed, probabilities: np.ndarray, not_digit: bool = False
) -> tuple[str, ...]:
    """Reasons why this drawing's answer should be shown as a guess or declined (empty:
    trust it). `not_digit`: what the "not a digit" model says."""
    doubts = [NOT_A_DIGIT] if not_digit else []
    _, _, width, height = steps.bbox
    if max(width, height) < MIN_LENGTH_IN_PEN_WIDTHS * steps.stroke_width:
        doubts.append(BLOB)
    mass = float(steps.digit_28x28.sum())
    if mass > INK_MASS_RANGE[1] and BLOB not in doubts:
        doubts.append(TOO_MUCH_INK)
    elif mass < INK_MASS_RANGE[0]:
        doubts.append(TOO_LITTLE_INK)
    if float(probabilities.max()) < CONFIDENT:
        doubts.append(LOW_CONFIDENCE)
    return tuple(doubts)

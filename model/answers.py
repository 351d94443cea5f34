"""What a reading answers: one digit (`Recognition`), or all the digits of a picture
(`Reading`), with the reasons not to trust an answer, and how a probability is said."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.preprocessing import Preprocessed

NOT_A_DIGIT = "this does not look like a digit"
LOW_CONFIDENCE = "the model is not confident"
BLOB = "this is a dot or a blob, not a digit"
TOO_MUCH_INK = "there is more ink than any digit has: a scribble or a filled area?"
TOO_LITTLE_INK = "there is very little ink for a digit"
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
        """Declined: a letter, symbol, shape or doodle (the line reader), a dot, or a
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

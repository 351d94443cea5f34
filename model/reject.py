"""The "not a digit" model: says when a drawing is a letter, a symbol, a shape or a doodle.

A digit reader always names a digit. This small CNN, trained by train_reject.py beside the
digit reader (so the reader itself is unchanged), reads the same 28x28 input and gives the
probability that it is not a digit at all. Above the threshold written next to it
(reject.json: chosen on writers it never trained on, for a stated share of real digits
declined) the drawing is declined.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from model.classifier import Classifier, ModelError

MODEL_FILE = "reject.tflite"
RECORD_FILE = "reject.json"


class Rejecter:
    """The "not a digit" model of a model folder, with its threshold.

    Raises:
        ModelError: the model or its reject.json is missing or damaged.
    """

    def __init__(self, folder: str | Path):
        folder = Path(folder)
        hint = "Train it with: python train_reject.py"
        self.model = Classifier(folder / MODEL_FILE, classes=2)
        try:
            self.record = json.loads((folder / RECORD_FILE).read_text())
            self.threshold = float(self.record["threshold"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ModelError(
                f"{folder / RECORD_FILE} is missing or damaged ({error}). {hint}"
            ) from None
        if not 0.0 < self.threshold < 1.0:
            raise ModelError(f"{folder / RECORD_FILE}: threshold {self.threshold} is not in (0, 1)")

    def scores(self, digits: np.ndarray) -> np.ndarray:
        """(N,) float32 in [0, 1]: how likely each (28, 28) float32 input is not a digit."""
        return self.model.predict(np.asarray(digits, np.float32).reshape(-1, 28, 28))[:, 1]

    def declines(self, digits: np.ndarray) -> np.ndarray:
        """(N,) bool: which inputs are not digits."""
        return self.scores(digits) > self.threshold


def load_rejecter(folder: str | Path) -> Rejecter | None:
    """The folder's "not a digit" model, or None when it has none (then nothing is declined
    as not a digit, as before the model existed). A damaged one raises ModelError."""
    if not (Path(folder) / MODEL_FILE).exists():
        return None
    return Rejecter(folder)

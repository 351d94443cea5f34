"""The digit-count model: how many digits a group of ink holds.

Digits written close touch, and their ink is one piece. This small CNN, trained by
train_count.py, reads a group's 28x28 input (as the digit reader would) and says whether it
is one digit, two, or three or more run together; `recognize.read` then cuts it into that
many where the digit reader reads the parts best.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from model.classifier import Classifier

MODEL_FILE = "count.tflite"
RECORD_FILE = "count.json"
CLASSES = 3  # one digit, two, three or more


class Counter:
    """The digit-count model of a model folder.

    Raises:
        ModelError: the model is damaged or not a count model.
    """

    def __init__(self, folder: str | Path):
        self.model = Classifier(Path(folder) / MODEL_FILE, classes=CLASSES)

    def probabilities(self, digits: np.ndarray) -> np.ndarray:
        """(N, 3) float32, rows summing to 1: how likely each (28, 28) float32 input holds
        one digit, two, or three or more."""
        return self.model.predict(np.asarray(digits, np.float32).reshape(-1, 28, 28))

    def counts(self, digits: np.ndarray) -> np.ndarray:
        """(N,) int64 in 1..3 (3: three or more): how many digits each (28, 28) float32
        input most likely holds."""
        return self.probabilities(digits).argmax(axis=1) + 1


def load_counter(folder: str | Path) -> Counter | None:
    """The folder's digit-count model, or None when it has none (then every group of ink is
    read as one digit: touching digits are not cut). A damaged one raises ModelError."""
    if not (Path(folder) / MODEL_FILE).exists():
        return None
    return Counter(folder)

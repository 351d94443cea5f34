"""Which pixels drove a prediction: occlusion saliency.

Each small patch of ink in turn is erased, and the model is asked again: where erasing the
patch lowers the predicted digit's score most, that ink mattered most; where erasing raises
it, that ink argued for another digit. It needs only forward passes, so it works the same for
the CNN and the ANN and for any runtime, and it measures what the model does rather than a
linear approximation of it. The erased copies go through the model as one batch.
"""

from __future__ import annotations

import numpy as np

from model.classifier import Classifier
from model.preprocessing import IMAGE_SIZE

PATCH = 4  # erased square, pixels of the 28x28 input
STRIDE = 2


def log_odds(probabilities: np.ndarray, digit: int) -> np.ndarray:
    """log(p / (1 - p)) of `digit`, with 1 - p summed from the other classes (no rounding
    to zero when p is 0.9999999), so that confident answers still show differences."""
    p = probabilities[..., digit].astype(np.float64)
    rest = np.delete(probabilities, digit, axis=-1).sum(axis=-1, dtype=np.float64)
    return np.log(np.maximum(p, 1e-30)) - np.log(np.maximum(rest, 1e-30))


def occlusion_saliency(
    classifier: Classifier, digit_28x28: np.ndarray, digit: int | None = None
) -> np.ndarray:
    """How much each pixel's ink supports the predicted digit.

    Args:
        classifier: the model to explain.
        digit_28x28: (28, 28) float32 in [0, 1], the model input.
        digit: the class to explain; default: the predicted one.
    Returns:
        (28, 28) float32 in [-1, 1]: positive where the ink supports `digit`, negative where
        it argues against it, 0 off the ink; scaled so that the largest magnitude is 1.
    """
    digit_28x28 = np.asarray(digit_28x28, dtype=np.float32)
    base = classifier.predict(digit_28x28)
    digit = int(base.argmax()) if digit is None else digit
    starts = range(0, IMAGE_SIZE - PATCH + 1, STRIDE)
    # Only patches with ink: erasing a blank one changes nothing, and covers no ink pixel.
    patches = [
        (y, x) for y in starts for x in starts if digit_28x28[y : y + PATCH, x : x + PATCH].any()
    ]
    if not patches:
        return np.zeros((IMAGE_SIZE, IMAGE_SIZE), np.float32)
    erased = np.repeat(digit_28x28[None], len(patches), axis=0)
    for i, (y, x) in enumerate(patches):
        erased[i, y : y + PATCH, x : x + PATCH] = 0.0
    drops = log_odds(base, digit) - log_odds(classifier.predict(erased), digit)

    total = np.zeros((IMAGE_SIZE, IMAGE_SIZE), np.float64)
    count = np.zeros((IMAGE_SIZE, IMAGE_SIZE), np.float64)
    for drop, (y, x) in zip(drops, patches):
        total[y : y + PATCH, x : x + PATCH] += drop
        count[y : y + PATCH, x : x + PATCH] += 1
    saliency = np.where(count > 0, total / np.maximum(count, 1), 0.0) * (digit_28x28 > 0)
    peak = np.abs(saliency).max()
    return (saliency / peak if peak > 0 else saliency).astype(np.float32)

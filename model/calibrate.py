"""Calibrated confidence: temperature scaling of a digit model's probabilities.

A network trained to near-zero loss says "100.0%" for most drawings, including some it gets
wrong. Dividing its log-probabilities by one temperature T > 1, fitted on held-out drawings
(train_model.py --fine-tune fits it on the corrections held out for the gate), makes "90%"
mean right about nine times in ten. The answer itself (the most probable digit) is unchanged.
T is written next to the model as {name}_calibration.json, which `Classifier` applies.
"""

from __future__ import annotations

import numpy as np

TEMPERATURES = np.round(np.arange(0.5, 5.001, 0.01), 2)


def with_temperature(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(log(p) / T), row by row: (N, C) or (C,) float32 probabilities."""
    logits = np.log(np.clip(probabilities, 1e-12, 1.0)) / temperature
    logits -= logits.max(axis=-1, keepdims=True)
    scaled = np.exp(logits)
    return (scaled / scaled.sum(axis=-1, keepdims=True)).astype(np.float32)


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The T in TEMPERATURES with the least negative log-likelihood of `labels`.

    Args:
        probabilities: (N, C) uncalibrated. labels: (N,) int.
    """
    rows = np.arange(len(labels))

    def loss(temperature: float) -> float:
        scaled = with_temperature(probabilities, temperature)
        return float(-np.log(np.clip(scaled[rows, labels], 1e-12, 1.0)).mean())

    return float(min(TEMPERATURES, key=loss))


def expected_calibration_error(
    probabilities: np.ndarray, labels: np.ndarray, bins: int = 15
) -> float:
    """ECE: the gap between confidence and accuracy, averaged over equal-width confidence
    bins weighted by how many answers fall in each (0 is perfect).

    Args:
        probabilities: (N, C). labels: (N,) int.
    """
    confidence = probabilities.max(axis=1)
    right = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            error += members.mean() * abs(confidence[members].mean() - right[members].mean())
    return float(error)

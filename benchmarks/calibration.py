"""Calibration: does "90%" mean right nine times in ten? ECE before and after temperature.

    python -m benchmarks.calibration --data ../shared/data/mnist.npz

The served CNN's probabilities as trained (temperature 1) and as served (the temperature in
model/cnn_calibration.json, fitted on corrections held out by train_model.py --fine-tune),
on the MNIST test set and on the canvas benchmark's UNIPEN drawings (all writers, and the
writers never trained on), each drawing read as one digit. ECE: 15 equal-width bins.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from benchmarks.machine import describe
from harness import PEN_DIGITS
from model.calibrate import expected_calibration_error
from model.classifier import Classifier, model_path
from model.data import load_mnist
from model.preprocessing import preprocess_steps, scale_pixels
from model.strokes import drawings, load_pen_digits, writer_half


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--data", default=None, help="MNIST .npz (default: $MNIST_NPZ)")
    args = parser.parse_args()

    path = model_path("cnn")
    raw, served = Classifier(path, calibrated=False), Classifier(path)
    mnist = load_mnist(args.data)
    digits = load_pen_digits(PEN_DIGITS)
    inputs, labels, unseen = [], [], []
    for digit, _, rgba in drawings(digits):
        steps = preprocess_steps(rgba)
        if steps is not None:
            inputs.append(steps.digit_28x28)
            labels.append(digit.label)
            unseen.append(writer_half(digit.source, digit.writer) == 1)
    inputs, labels, unseen = np.stack(inputs), np.array(labels), np.array(unseen)

    sets = {
        "MNIST test": (scale_pixels(mnist.x_test), mnist.y_test),
        "canvas drawings, all writers": (inputs, labels),
        "canvas drawings, writers never trained on": (inputs[unseen], labels[unseen]),
    }
    print(f"Calibration of the served CNN: temperature {served.temperature}")
    print(f"machine: {describe()}")
    for name, (x, y) in sets.items():
        before = expected_calibration_error(raw.predict(x), y)
        after = expected_calibration_error(served.predict(x), y)
        print(f"  {name:<44} ECE {before:6.2%} -> {after:6.2%}  ({len(y)} images)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

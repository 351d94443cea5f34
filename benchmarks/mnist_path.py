"""MNIST's test digits through the whole reading path, as pictures: no pen data anywhere.

    python -m benchmarks.mnist_path                   # all 10,000, then 10,000 thick ones
    python -m benchmarks.mnist_path --n 2000 --model-dir runs/fold_a

Each test image is saved as a PNG and read by `python -m model.predict --json` (the page
reads an upload the same way): right, named wrong, declined as "not a digit", or read as
several digits. Then the same digits made another way: thickened (a pen 1.5-3 times
MNIST's), dark on light paper, scaled to 64-128 px and cropped tight to the ink, so that
the strokes reach the picture's edge, as in a scanned form box or a tight crop.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

from benchmarks.machine import describe
from benchmarks.predict import predict_json
from model.classifier import model_dir
from training.data import load_mnist


def thick_tight(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(28, 28) uint8 MNIST digit -> thick, dark on light, 64-128 px, cropped to the ink."""
    side = int(rng.integers(64, 129))
    big = cv2.resize(image, (side, side), interpolation=cv2.INTER_CUBIC)
    pen = max(1, int(round(side / 28 * rng.uniform(0.5, 2.0))))
    big = cv2.dilate(big, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (pen, pen)))
    x, y, w, h = cv2.boundingRect((big > 100).view(np.uint8))
    return 255 - big[y : y + h, x : x + w]


def outcome(result: dict, label: int) -> str:
    if result.get("digit") == label:
        return "right"
    if result.get("not_digit"):
        return "declined"
    if len(result.get("number") or "") > 1:
        return "read as several"
    return "named wrong" if result.get("digit") is not None else "other"


def measure(title: str, images: np.ndarray, labels: np.ndarray, folder: Path, flags) -> None:
    paths = []
    for index, image in enumerate(images):
        paths.append(folder / f"{index:05d}.png")
        cv2.imwrite(str(paths[-1]), image)
    results = predict_json(paths, *flags)
    counts = Counter(outcome(r, int(y)) for r, y in zip(results, labels))
    print(f"\n{title}: {len(images)}")
    for key in ("right", "named wrong", "declined", "read as several", "other"):
        print(f"  {key:<16} {counts[key] / len(images):8.2%}  ({counts[key]})")
    for path in paths:
        path.unlink()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--n", type=int, default=10_000, help="test digits")
    parser.add_argument("--model-dir", type=Path, default=model_dir(), help="model folder")
    parser.add_argument("--data", default=None, help="MNIST .npz ($MNIST_NPZ, or download)")
    args = parser.parse_args()

    mnist = load_mnist(args.data)
    x, y = mnist.x_test[: args.n], mnist.y_test[: args.n]
    flags = ("--model-dir", str(args.model_dir))
    print(f"MNIST test digits through python -m model.predict, models: {args.model_dir}")
    print(f"machine: {describe()}")
    with tempfile.TemporaryDirectory(prefix="mnist-path-") as scratch:
        measure("as stored (light on dark, 28x28)", x, y, Path(scratch), flags)
        rng = np.random.default_rng(0)
        thick = [thick_tight(image, rng) for image in x]
        measure("thick, dark on light, 64-128 px, cropped tight", thick, y, Path(scratch), flags)
    return 0


if __name__ == "__main__":
    sys.exit(main())

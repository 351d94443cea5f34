"""MNIST's own test digits through the whole reading path of `python -m model.predict`, and
the same digits thick and cropped tight: no pen data in them, nothing tuned on them."""

from __future__ import annotations

import cv2
import numpy as np
from conftest import json_lines, run_predict

from model.preprocessing import find_ink


def test_mnist_test_digits_read_through_the_predict_command(mnist, tmp_path):
    """The first 1,000 test digits as PNG files. The CNN alone names 99.68% of all 10,000
    right; what the path adds (finding the ink, the line reader's count and its "not a
    digit") may cost little: at least 99.3% right and at most 0.3% declined (3 digits), as
    the project promises its users."""
    paths = []
    for index, image in enumerate(mnist.x_test[:1000]):
        paths.append(tmp_path / f"{index:04d}.png")
        cv2.imwrite(str(paths[-1]), image)
    results = json_lines(run_predict("--json", *paths))
    labels = mnist.y_test[:1000]
    right = np.mean([r["digit"] == y for r, y in zip(results, labels)])
    declined = np.mean([r["not_digit"] for r in results])
    assert right >= 0.993, f"{right:.2%} right"
    assert declined <= 0.003, f"{declined:.2%} declined"


def test_thick_ink_cropped_tight_is_told_from_its_paper(mnist):
    """Thick dark digits on white, cropped so that the ink reaches the picture's edge (a
    scanned form box): the ink found is the dark strokes, never the paper around them.
    Where the strokes cover more of the picture than the paper does (a thick 1 cropped to a
    dark bar), nothing in the picture says which is the paper: those are left out. Where
    strokes make half the picture's edge, the majority tone decides, and a thick digit can
    hold nearly as much ink as paper: 3 in 100 may be taken the wrong way round."""
    rng = np.random.default_rng(0)
    tried, right = 0, 0
    for image in mnist.x_test[:300]:
        side = int(rng.integers(64, 129))
        big = cv2.resize(image, (side, side), interpolation=cv2.INTER_CUBIC)
        pen = max(1, int(round(side / 28 * rng.uniform(0.5, 2.0))))
        big = cv2.dilate(big, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (pen, pen)))
        x, y, w, h = cv2.boundingRect((big > 100).view(np.uint8))
        picture = 255 - big[y : y + h, x : x + w]
        dark = picture < 128
        if dark.mean() > 0.5:
            continue
        tried += 1
        found = find_ink(picture)
        right += (found.mask & dark).sum() >= 0.8 * max(found.mask.sum(), dark.sum())
    assert tried >= 200 and right >= 0.97 * tried, f"{right} of {tried}"

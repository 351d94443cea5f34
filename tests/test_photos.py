"""Digits photographed on paper (harness/photos.py): uneven light, ruled and squared paper,
thin and thick pens, soft edges, tilt, noise and JPEG, read through the served pipeline."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from harness.digit_paths import DIGIT_PATHS
from harness.photos import LIGHTS, PAPERS, PENS, photograph
from model.classifier import MODEL_DIR
from model.imageio import read_image
from model.recognize import read
from model.reject import load_rejecter


@pytest.fixture(scope="module")
def rejecter():
    return load_rejecter(MODEL_DIR)


@pytest.mark.parametrize(("light", "paper", "pen"), itertools.product(LIGHTS, PAPERS, PENS))
def test_every_digit_is_read_from_a_photo(cnn, rejecter, counter, light, paper, pen):
    """Each digit is one digit, not declined, and its most probable digit is the right one
    (the page may still show a doubt: "1 or 7?" puts the right digit first)."""
    condition = {"light": light, "paper": paper, "pen": pen}
    read_as = {}
    for digit in range(10):
        seed = [digit, LIGHTS.index(light), PAPERS.index(paper), PENS.index(pen)]
        jpeg = photograph(
            [s * 100 for s in DIGIT_PATHS[digit]], condition, np.random.default_rng(seed)
        )
        reading = read(read_image(jpeg), cnn, rejecter, counter)
        read_as[digit] = reading.number
        assert len(reading.digits) == 1, (digit, reading.number)  # no stroke lost or split off
    assert read_as == {digit: str(digit) for digit in range(10)}

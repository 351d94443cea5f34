"""The line reader: which characters a line of ink holds, left to right, and where.

A number is digits written side by side, and people write them touching, overlapping,
slanted or far apart. Instead of cutting the ink with rules, a small convolutional network
(trained by train_line.py on synthetic lines of MNIST digits and real pen strokes) reads the
whole line at once and, for every 4 columns of it, gives the probability of each character
or of none there (CTC, Graves et al. 2006). The characters are the ten digits and "not a
digit" (a letter or a symbol): a lone letter, or a number with a letter inside, is declined.

`line_input` makes the network's input from the ink of a picture the way
`preprocessing.digit_steps` makes a digit's: cropped to the ink, scaled to a fixed height,
the pen redrawn at MNIST's width for that height. Training and serving both call it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from model.classifier import Classifier
from model.preprocessing import (
    BOX_SIZE,
    STROKE_WIDTH,
    Ink,
    distance_to_paper,
    marks_box,
    set_pen,
    stroke_width,
)

MODEL_FILE = "line.tflite"
HEIGHT, WIDTH = 32, 256  # the network's input, pixels
MARGIN = 4  # paper around the ink: the ink is at most 24 px high, 248 px wide
STEP = 4  # input columns per output step (two 2x2 poolings)
STEPS = WIDTH // STEP
# Output classes: 0 the CTC blank (no new character here), 1-10 the digits 0-9, 11 a
# character that is no digit.
BLANK, NOT_DIGIT = 0, 11
CLASSES = 12
# The ink is redrawn at 4x before it is shrunk to the input (anti-aliased, as MNIST's).
WORK = 4
# Paper kept right of the ink when the reader is given a short line: about as far as one
# of its output steps sees (its convolutions' reach), so that it reads as at full width.
RIGHT_PAPER = 48
# MNIST's pen: STROKE_WIDTH pixels on BOX_SIZE-pixel digits.
PEN_SHARE = STROKE_WIDTH / BOX_SIZE


@dataclass(frozen=True)
class LineInput:
    """The line reader's input for some ink.

    Attributes:
        pixels: (HEIGHT, WIDTH) float32 0..1, ink bright.
        x: the ink picture's x of input column 0.
        scale: ink-picture pixels per input pixel.
    """

    pixels: np.ndarray
    x: float
    scale: float

    def column_to_x(self, column: float) -> float:
        """An input column -> the ink picture's x."""
        return self.x + column * self.scale


def line_input(found: Ink) -> LineInput:
    """The ink as the line reader's input: its box scaled to 24 px high (less where it would
    be wider than 248 px), the pen redrawn at MNIST's width for that height, left-aligned
    and centred vertically."""
    mask = found.mask
    x0, y0, width, height = marks_box(found.mark_boxes)
    inner_h, inner_w = HEIGHT - 2 * MARGIN, WIDTH - 2 * MARGIN
    scale = min(inner_h / height, inner_w / width)  # input pixels per ink pixel
    crop = np.where(
        mask[y0 : y0 + height, x0 : x0 + width], found.ink[y0 : y0 + height, x0 : x0 + width], 0
    )
    work_size = (max(1, round(width * scale * WORK)), max(1, round(height * scale * WORK)))
    interpolation = cv2.INTER_AREA if scale * WORK < 1 else cv2.INTER_LINEAR
    work = cv2.resize(crop.astype(np.uint8), work_size, interpolation=interpolation)
    work_mask = work > found.threshold
    if not work_mask.any():
        work_mask = work >= max(1, int(work.max()) // 2)
    # Room for a thicker pen, a whole number of input pixels each side.
    target = max(1.0, PEN_SHARE * work_size[1])
    pad = WORK * int(np.ceil((target + 2) / WORK))
    work_mask = cv2.copyMakeBorder(
        work_mask.view(np.uint8), pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0
    ).view(bool)
    inside = distance_to_paper(work_mask)
    redrawn = set_pen(work_mask, stroke_width(work_mask, inside), target, inside)
    extra = (redrawn.shape[0] - work_mask.shape[0]) // 2
    if extra:
        redrawn = redrawn[extra:-extra, extra:-extra]
    small = cv2.resize(
        redrawn, (redrawn.shape[1] // WORK, redrawn.shape[0] // WORK), interpolation=cv2.INTER_AREA
    )
    top = MARGIN + (inner_h - work_size[1] / WORK) / 2 - pad // WORK
    top = int(round(top))
    left = MARGIN - pad // WORK
    pixels = np.zeros((HEIGHT, WIDTH), np.float32)
    h, w = small.shape
    ys, xs = slice(max(0, top), min(HEIGHT, top + h)), slice(max(0, left), min(WIDTH, left + w))
    pixels[ys, xs] = small[ys.start - top : ys.stop - top, xs.start - left : xs.stop - left]
    return LineInput(np.clip(pixels, 0.0, 1.0), x0 - MARGIN / scale, 1.0 / scale)


@dataclass(frozen=True)
class Character:
    """One character the line reader found.

    Attributes:
        label: 0-9, or NOT_DIGIT - 1 (10) for a character that is no digit.
        probabilities: (11,) float32: the ten digits and "not a digit", summing to 1.
        columns: (start, stop) of the input columns where the reader saw it.
    """

    label: int
    probabilities: np.ndarray
    columns: tuple[int, int]

    @property
    def not_digit(self) -> bool:
        return self.label == NOT_DIGIT - 1


def decode(step_probabilities: np.ndarray) -> list[Character]:
    """Greedy CTC decoding: the best class at each step, repeats merged, blanks dropped.

    Args:
        step_probabilities: (steps, CLASSES) float32, each row summing to 1.
    Returns:
        the characters, left to right; each one's probabilities are those of its most
        certain step, without the blank.
    """
    best = step_probabilities.argmax(axis=1)
    characters = []
    t = 0
    while t < len(best):
        if best[t] == BLANK:
            t += 1
            continue
        start = t
        while t + 1 < len(best) and best[t + 1] == best[start]:
            t += 1
        run = step_probabilities[start : t + 1]
        peak = run[int(run[:, best[start]].argmax())][1:]
        characters.append(
            Character(int(best[start]) - 1, peak / peak.sum(), (start * STEP, (t + 1) * STEP))
        )
        t += 1
    return characters


class LineReader:
    """The line reader of a model folder (`line.tflite`).

    Raises:
        ModelError: the model is damaged or not a line reader.
    """

    def __init__(self, folder: str | Path):
        self.model = Classifier(
            Path(folder) / MODEL_FILE, classes=CLASSES, shape=(HEIGHT, None), calibrated=False
        )
        self.version = self.model.version
        # A model made for any width reads a short line without the paper on its right.
        self.any_width = self.model.signature[1] == -1

    def step_probabilities(self, inputs: np.ndarray) -> np.ndarray:
        """(N, W / STEP, CLASSES) float32 for (N, HEIGHT, W) float32 inputs."""
        return self.model.predict(np.asarray(inputs, np.float32).reshape(-1, *inputs.shape[-2:]))

    def read(self, line: LineInput) -> list[Character]:
        """The characters in one line, left to right."""
        pixels = line.pixels
        if self.any_width:
            # The ink, and paper beyond it as far as the network looks (RIGHT_PAPER).
            inked = np.flatnonzero(pixels.max(axis=0) > 0)
            end = (inked[-1] + 1 if len(inked) else 0) + RIGHT_PAPER
            pixels = pixels[:, : min(WIDTH, -(-end // 8) * 8)]
        return decode(self.step_probabilities(pixels[None])[0])


def load_line_reader(folder: str | Path) -> LineReader | None:
    """The folder's line reader, or None when it has none (then all the ink is read as one
    digit, and nothing is declined as not a digit). A damaged one raises ModelError."""
    if not (Path(folder) / MODEL_FILE).exists():
        return None
    return LineReader(folder)

"""Pen-stroke handwriting drawn as browser-canvas images, the way a person draws in the app.

UNIPEN-style JSON lines hold characters captured as pen trajectories on tablets (one object
per line: label, strokes, source, writer). Each one is drawn here on a 280x280 canvas with a
round anti-aliased brush 12-26 px wide, 45-85% of the canvas high at a random place, in one of
three paper/ink styles. Everything is seeded by the character's index, so a drawing is the
same on every run and machine. Used to measure the app on real handwriting (benchmarks,
tests) and to make training data from it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from model.canvas import PenStrokes, pen_coverage

CANVAS_SIZE = 280
BRUSH_RANGE = (12, 26)  # px, round brush
HEIGHT_RANGE = (0.45, 0.85)  # digit height as a share of the canvas
STYLES = ("white_on_black", "black_on_white", "black_on_transparent")
# Written small, as on a phone: the pen's path 12-20% of the canvas high (34-56 px), brush
# 12-18 px (pass as `pen_for(..., **SMALL)`).
SMALL = {"heights": (0.12, 0.20), "brushes": (12, 18), "path_height": True}
# Numbers are written on a canvas this size (height, width; the app's wide one is 780 px
# wide), brush 10-22 px.
NUMBER_CANVAS = (280, 840)
NUMBER_BRUSHES = (10, 22)


@dataclass(frozen=True)
class PenDigit:
    """One handwritten digit as pen-down strokes, y pointing down (canvas convention)."""

    label: int
    strokes: list[np.ndarray]  # each (points, 2) float64 x, y
    source: str
    writer: str


def load_pen_digits(path: str | Path) -> list[PenDigit]:
    """Read the UNIPEN JSON-lines file; flips y, since tablets count y upwards.

    Records whose coordinates were moved to start at exactly (0, 0) are left out (`refiled`):
    396 of the 6,929 digits and 2,151 of the 46,852 letters, all from 22 of ibm's files.
    Where a file holds them, a character written in several strokes is often filed as one
    record per stroke, each under the character's label: a 4's upright filed alone as a "4",
    a flat bar as a "1", one loop as an "8". Which of them are whole cannot be told from the
    file, so none is used.
    """
    digits = []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            strokes = [np.asarray(s, dtype=np.float64).reshape(-1, 2) for s in row["strokes"]]
            if strokes and refiled(strokes):
                continue
            for points in strokes:
                points[:, 1] = -points[:, 1]
            digits.append(PenDigit(row["label"], strokes, row["source"], row["writer"]))
    return digits


def refiled(strokes: list[np.ndarray]) -> bool:
    """Whether a record's raw tablet points (before the flip) start at exactly (0, 0) in both
    x and y: the mark of the records `load_pen_digits` leaves out (no record of the other
    sources has it). `strokes`: one or more (points, 2) arrays."""
    least = np.concatenate(strokes).min(axis=0)
    return bool(least[0] == 0 and least[1] == 0)


def writer_half(source: str, writer: str) -> int:
    """Which half of the UNIPEN writers someone is in, by a hash of their id (source/writer):
    0 for the writers whose digits the served CNN was fine-tuned on, 1 for those it never saw
    (benchmarks report them apart). The same on every machine."""
    return int(hashlib.sha256(f"{source}/{writer}".encode()).hexdigest()[:8], 16) % 2


@dataclass(frozen=True)
class Pen:
    """How one digit is drawn: brush width, digit height share, placement, paper/ink style."""

    brush: int
    height: float
    x: float  # left edge of the ink as a share of the free horizontal room, 0..1
    y: float  # top edge of the ink as a share of the free vertical room, 0..1
    style: str


def pen_for(
    index: int,
    style: str | None = None,
    seed: int = 0,
    brushes: tuple[int, int] = BRUSH_RANGE,
    heights: tuple[float, float] = HEIGHT_RANGE,
    path_height: bool = False,
) -> Pen:
    """The seeded pen for digit `index`; styles cycle through STYLES unless one is given;
    brush width and digit height drawn from the ranges given. The height is the ink's, or
    with `path_height` the pen's path's (the ink then reaches half a brush beyond it)."""
    rng = np.random.default_rng([seed, index])
    brush = int(rng.integers(brushes[0], brushes[1] + 1))
    height = float(rng.uniform(*heights))
    return Pen(
        brush=brush,
        height=height + brush / CANVAS_SIZE if path_height else height,
        x=float(rng.uniform()),
        y=float(rng.uniform()),
        style=style or STYLES[index % len(STYLES)],
    )


def place_strokes(digit: PenDigit, pen: Pen, size: int = CANVAS_SIZE) -> list[np.ndarray]:
    """Scale and move the strokes onto a size x size canvas as `pen` says (canvas pixels)."""
    points = np.concatenate(digit.strokes)
    low, high = points.min(axis=0), points.max(axis=0)
    span = np.maximum(high - low, 1e-9)
    # The ink (centre line plus brush) is pen.height of the canvas high, unless the digit is
    # so wide that it would not fit: then it is as wide as fits.
    room = size - pen.brush - 4
    scale = min((pen.height * size - pen.brush) / span[1], room / span[0])
    scale = max(scale, 1e-9)
    extent = span * scale
    free = np.maximum(room - extent, 0)
    origin = pen.brush / 2 + 2 + free * np.array([pen.x, pen.y])
    return [(stroke - low) * scale + origin for stroke in digit.strokes]


def render(strokes: list[np.ndarray], brush: int, style: str, size: int = CANVAS_SIZE, width=None):
    """Draw canvas-pixel strokes with a round anti-aliased brush.

    Args:
        size: the canvas' height in pixels; width: its width (default: size, square).
    Returns:
        (size, width, 4) uint8 RGBA: white on opaque black, black on opaque white, or black
        on transparent paper (alpha 0 off the ink), as the canvas returns them.
    """
    width = width or size
    coverage = pen_coverage(strokes, brush, (size, width))
    rgba = np.empty((size, width, 4), np.uint8)
    if style == "white_on_black":
        rgba[:, :, :3] = coverage[:, :, None]
        rgba[:, :, 3] = 255
    elif style == "black_on_white":
        rgba[:, :, :3] = 255 - coverage[:, :, None]
        rgba[:, :, 3] = 255
    elif style == "black_on_transparent":
        rgba[:, :, :3] = 0
        rgba[:, :, 3] = coverage
    else:
        raise ValueError(f"unknown style {style!r}; expected one of {STYLES}")
    return rgba


def draw(digit: PenDigit, pen: Pen, size: int = CANVAS_SIZE) -> np.ndarray:
    """One pen digit as a (size, size, 4) uint8 RGBA canvas image."""
    return render(place_strokes(digit, pen, size), pen.brush, pen.style, size)


def encode_png(rgba: np.ndarray) -> bytes:
    """RGBA array -> PNG bytes (the form the browser canvas sends)."""
    ok, png = cv2.imencode(".png", cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return png.tobytes()


def drawings(
    digits: list[PenDigit], style: str | None = None, seed: int = 0, **ranges
) -> Iterator[tuple[PenDigit, Pen, np.ndarray]]:
    """Every digit drawn with its seeded pen: (digit, pen, rgba). `ranges`: `pen_for`'s
    brushes and heights."""
    for index, digit in enumerate(digits):
        pen = pen_for(index, style, seed, **ranges)
        yield digit, pen, draw(digit, pen)


def compose_number(
    digits: list[PenDigit],
    rng: np.random.Generator,
    height: int = CANVAS_SIZE,
    width: int = 3 * CANVAS_SIZE,
    touching: float = 0.125,
) -> list[np.ndarray]:
    """Strokes of a number written on one line by the writer of `digits`, left to right.

    The digits keep the writer's own sizes relative to each other (within 0.6-1.25 times
    their median, the tallest 40-70% of the canvas high), stand on a common baseline (with a
    little wobble), and follow each other
    with gaps around 0.3 digit heights that vary; a share `touching` of the gaps (one in
    eight) closes up, so that some digits touch. A number too long for the canvas is written
    smaller.

    Args:
        digits: the digits to write, in order (one writer's, for a natural number).
        touching: the share of gaps that close up.
    Returns:
        the strokes in canvas pixels (x, y), for `render(strokes, brush, style, height,
        width)`.
    """
    boxes = [np.concatenate(d.strokes) for d in digits]
    lows = [b.min(axis=0) for b in boxes]
    spans = [np.maximum(b.max(axis=0) - low, 1e-9) for b, low in zip(boxes, lows)]
    # The writer's own sizes relative to each other, within bounds: some tablets recorded a
    # writer's samples in different units.
    heights = np.array([span[1] for span in spans])
    relative = np.clip(heights / np.median(heights), 0.6, 1.25)
    typical = rng.uniform(0.4, 0.7) * height / relative.max()
    placed, cursor = [], 0.0
    for digit, low, span, size in zip(digits, lows, spans, relative):
        scale = size * typical / span[1]
        wobble = rng.normal(0, 0.03) * typical
        # Bottom of the digit on the baseline (y = 0), its left edge at the cursor.
        offset = np.array([cursor, -span[1] * scale + wobble]) - low * scale
        placed.append([stroke * scale + offset for stroke in digit.strokes])
        gap = rng.uniform(-0.08, 0.0) if rng.uniform() < touching else rng.normal(0.3, 0.1)
        cursor += min(span[0] * scale, 1.5 * typical) + max(gap, -0.08) * typical
    points = np.concatenate([np.concatenate(strokes) for strokes in placed])
    low, high = points.min(axis=0), points.max(axis=0)
    room = np.array([width, height]) * 0.9
    fit = min(1.0, *(room / np.maximum(high - low, 1e-9)))
    free = np.array([width, height]) - (high - low) * fit
    origin = free * rng.uniform(0.2, 0.8, 2)
    return [(stroke - low) * fit + origin for strokes in placed for stroke in strokes]


def write_numbers(
    digits: list[PenDigit],
    n: int,
    seed: int,
    lengths: tuple[int, ...] = (1, 2, 3, 4, 5, 6),
    letters: list[PenDigit] | None = None,
) -> Iterator[tuple[list[PenDigit], np.ndarray, tuple[str, str]]]:
    """`n` numbers, each written by one writer of `digits` (`compose_number`) on the number
    canvas, its length cycling through `lengths`, in the three styles in turn, seeded by
    its index. With `letters`, one character of each number is one of the writer's letters
    instead (a number with a letter inside, which must be declined).

    Yields:
        (the characters written, left to right; rgba (*NUMBER_CANVAS, 4) uint8; (source,
        writer); the strokes drawn, as the canvas records them).
    """
    by_writer, letters_by_writer = defaultdict(list), defaultdict(list)
    for digit in digits:
        by_writer[(digit.source, digit.writer)].append(digit)
    for letter in letters or []:
        letters_by_writer[(letter.source, letter.writer)].append(letter)
    writers = sorted(
        w
        for w, own in by_writer.items()
        if len(own) >= max(lengths) and (letters is None or w in letters_by_writer)
    )
    height, width = NUMBER_CANVAS
    for index in range(n):
        rng = np.random.default_rng([seed, index])
        writer = writers[rng.integers(len(writers))]
        own = by_writer[writer]
        length = lengths[index % len(lengths)]
        chosen = [own[i] for i in rng.choice(len(own), length, replace=False)]
        if letters is not None:
            theirs = letters_by_writer[writer]
            chosen[rng.integers(length)] = theirs[rng.integers(len(theirs))]
        strokes = compose_number(chosen, rng, height, width)
        brush = int(rng.integers(NUMBER_BRUSHES[0], NUMBER_BRUSHES[1] + 1))
        rgba = render(strokes, brush, STYLES[index % len(STYLES)], height, width)
        yield chosen, rgba, writer, PenStrokes(tuple(strokes), float(brush))

"""Hand-made pen paths for the digits 0-9, and helpers that draw them like the canvas does.

Each digit is a list of strokes in a unit box (x right, y down, 0..1), written the way most
people write it. Tests use them where the shared UNIPEN file may be absent.
"""

from __future__ import annotations

import numpy as np

from model.strokes import render


def _arc(cx, cy, rx, ry, start, stop, n=40):
    """Points on an ellipse from angle `start` to `stop` (degrees, 0 = right, 90 = down)."""
    t = np.deg2rad(np.linspace(start, stop, n))
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def _line(*points):
    return np.array(points, dtype=np.float64)


DIGIT_PATHS: dict[int, list[np.ndarray]] = {
    0: [_arc(0.5, 0.5, 0.32, 0.46, -90, 270)],
    1: [_line((0.32, 0.22), (0.55, 0.04), (0.55, 0.96))],
    2: [
        np.concatenate(
            [_arc(0.5, 0.3, 0.3, 0.26, 190, 380), _line((0.72, 0.42), (0.18, 0.95), (0.85, 0.95))]
        )
    ],
    3: [
        np.concatenate(
            [_arc(0.48, 0.27, 0.3, 0.23, 210, 450), _arc(0.48, 0.73, 0.33, 0.23, 270, 510)]
        )
    ],
    4: [_line((0.62, 0.96), (0.62, 0.04), (0.12, 0.66), (0.88, 0.66))],
    5: [
        np.concatenate(
            [_line((0.82, 0.05), (0.3, 0.05), (0.25, 0.45)), _arc(0.48, 0.67, 0.32, 0.28, 225, 500)]
        )
    ],
    6: [
        np.concatenate(
            [
                _line((0.75, 0.04)),
                _arc(0.72, 0.62, 0.52, 0.58, 240, 180, 20),
                _arc(0.5, 0.7, 0.3, 0.26, 180, 540),
            ]
        )
    ],
    7: [_line((0.12, 0.05), (0.88, 0.05), (0.42, 0.96))],
    8: [
        np.concatenate(
            [_arc(0.5, 0.27, 0.26, 0.23, 90, 450), _arc(0.5, 0.73, 0.32, 0.23, -90, 270)]
        )
    ],
    9: [np.concatenate([_arc(0.48, 0.3, 0.3, 0.26, 0, 360), _line((0.78, 0.3), (0.72, 0.96))])],
}


def place(strokes, size=280, height=0.7, left=0.5, top=0.5):
    """Scale unit-box strokes so the digit is `height` of the canvas; `left`/`top` place its
    box in the free room (0 = at the edge, 1 = at the far edge). Returns canvas strokes."""
    scale = height * size
    room = size - scale
    offset = np.array([12 + left * (room - 24), 12 + top * (room - 24)])
    return [stroke * scale + offset for stroke in strokes]


def draw_digit(digit, style="white_on_black", size=280, brush=18, height=0.7, left=0.5, top=0.5):
    """A hand-made digit on a canvas: (size, size, 4) uint8 RGBA."""
    return render(place(DIGIT_PATHS[digit], size, height, left, top), brush, style, size)


def write_number(
    number: str,
    height: float = 0.6,
    gap: float | list[float] = 0.3,
    canvas: tuple[int, int] = (280, 780),
    paths: dict[int, list[np.ndarray]] | None = None,
) -> list[np.ndarray]:
    """Canvas strokes of a number written with the hand-made paths, left to right.

    Args:
        number: the digits, e.g. "2025".
        height: each digit's height as a share of the canvas' height.
        gap: the space between digits' boxes, in digit heights (negative: they overlap);
            one for every gap, or a list with one per gap.
        canvas: (height, width) in pixels.
        paths: other strokes for some digits (a 5 with a lifted bar, ...).
    """
    paths = {**DIGIT_PATHS, **(paths or {})}
    gaps = list(gap) if isinstance(gap, (list, tuple)) else [gap] * (len(number) - 1)
    size = height * canvas[0]
    strokes, x = [], 0.0
    for char, after in zip(number, [*gaps, 0.0]):
        digit = paths[int(char)]
        points = np.concatenate(digit)
        low, high = points.min(axis=0), points.max(axis=0)
        for stroke in digit:
            strokes.append((stroke - [low[0], 0]) * size + [x, (canvas[0] - size) / 2])
        x += (high[0] - low[0]) * size + after * size
    width = x
    return [stroke + [(canvas[1] - width) / 2, 0] for stroke in strokes]


def draw_number(number: str, style="black_on_white", brush=16, **kwargs) -> np.ndarray:
    """A number written with the hand-made paths: (280, 780, 4) uint8 RGBA by default."""
    canvas = kwargs.get("canvas", (280, 780))
    return render(write_number(number, **kwargs), brush, style, canvas[0], canvas[1])


def canvas_json(strokes: list[np.ndarray], brush: float) -> dict:
    """The canvas' `json_data` for these strokes (canvas pixels), as streamlit-drawable-canvas
    0.13 (fabric.js 7) records a freehand drawing: one "Path" object per stroke, its
    commands through the stroke's centre line."""
    objects = []
    for stroke in strokes:
        x, y = (float(v) for v in stroke[0])
        commands = [["M", x, y]]
        # fabric.js draws a freehand stroke as quadratic curves through its points.
        commands += [["Q", x, y, float(px), float(py)] for px, py in stroke[1:]]
        objects.append({"type": "Path", "strokeWidth": brush, "path": commands, "angle": 0})
    return {"version": "7.4.0", "objects": objects}


# Capital letters drawn as a person draws them: strokes in a unit box, y down.
LETTERS = {
    "A": [[(0.0, 1.0), (0.5, 0.0), (1.0, 1.0)], [(0.2, 0.6), (0.8, 0.6)]],
    "H": [[(0.0, 0.0), (0.0, 1.0)], [(1.0, 0.0), (1.0, 1.0)], [(0.0, 0.5), (1.0, 0.5)]],
    "X": [[(0.0, 0.0), (1.0, 1.0)], [(1.0, 0.0), (0.0, 1.0)]],
    "W": [[(0.0, 0.0), (0.25, 1.0), (0.5, 0.3), (0.75, 1.0), (1.0, 0.0)]],
    "M": [[(0.0, 1.0), (0.0, 0.0), (0.5, 0.6), (1.0, 0.0), (1.0, 1.0)]],
    "E": [[(1.0, 0.0), (0.0, 0.0), (0.0, 1.0), (1.0, 1.0)], [(0.0, 0.5), (0.7, 0.5)]],
    "K": [[(0.0, 0.0), (0.0, 1.0)], [(0.9, 0.0), (0.0, 0.55), (1.0, 1.0)]],
}


def draw_letter(letter: str, style: str = "black_on_white", brush: int = 16) -> np.ndarray:
    """A letter 60% of a 280 px canvas high, in its centre, as the canvas sends it."""
    strokes = [
        np.array(stroke, np.float64) * [0.45 * 280 * 0.8, 0.6 * 280] + [90, 56]
        for stroke in LETTERS[letter]
    ]
    dense = [np.concatenate([np.linspace(a, b, 20) for a, b in zip(s, s[1:])]) for s in strokes]
    return render(dense, brush, style)

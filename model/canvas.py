"""What the drawing canvas records beside its picture: the strokes of the pen.

streamlit-drawable-canvas returns, with the picture, the fabric.js scene it drew: each stroke
of the pen (pen down, move, pen up) is one "Path" object whose commands run through the
stroke's centre line in canvas pixels. Which ink belongs to which stroke is what the picture
alone cannot say where two digits touch (`segment.stroke_pairs`), and a heavy pen on a small
digit fills loops that its path still has (`with_mnist_pen`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from model.preprocessing import BOX_SIZE, STROKE_WIDTH

# MNIST's digits are written with a pen 0.13 times as wide as their pen's path is high (2.35
# px strokes, 20 px digits).
MNIST_PEN_SHARE = STROKE_WIDTH / (BOX_SIZE - STROKE_WIDTH)
# The thinnest pen a drawing is redrawn with, in pixels: anti-aliased, a 1 px line is faint.
THINNEST_PEN = 2


@dataclass(frozen=True)
class PenStrokes:
    """The strokes of a drawing.

    Attributes:
        paths: each stroke's centre line, (N, 2) float64 x, y in the picture's pixels, in
            the order drawn.
        width: the brush width in the picture's pixels (the widest, if it changed).
    """

    paths: tuple[np.ndarray, ...]
    width: float


def canvas_strokes(json_data: dict | None, scale: float = 1.0) -> PenStrokes | None:
    """The strokes in the canvas' `json_data`, `scale` picture pixels per canvas pixel (the
    picture may be drawn at the screen's pixel ratio); None when there are none, or when
    anything in it is not a plain stroke (then the picture alone is read)."""
    if not isinstance(json_data, dict):
        return None
    paths, widths = [], []
    try:
        for item in json_data.get("objects") or []:
            if item.get("type", "").lower() != "path" or item.get("angle", 0):
                return None
            if item.get("scaleX", 1) != 1 or item.get("scaleY", 1) != 1:
                return None
            # Each command ends with the point it draws to ("M", "L": x, y; "Q": control
            # point, then x, y): the strokes are sampled densely enough to skip the controls.
            points = [command[-2:] for command in item["path"] if len(command) >= 3]
            paths.append(np.asarray(points, np.float64).reshape(-1, 2) * scale)
            widths.append(float(item["strokeWidth"]))
    except (AttributeError, KeyError, TypeError, ValueError):
        return None
    if not paths or not all(np.isfinite(p).all() and len(p) for p in paths):
        return None
    return PenStrokes(tuple(paths), max(widths) * scale)


def pen_coverage(paths, brush: int, shape: tuple[int, int]) -> np.ndarray:
    """Strokes drawn with a round anti-aliased brush, as the canvas draws them.

    Args:
        paths: each stroke's centre line, (N, 2) x, y in pixels.
        brush: the brush width in pixels.
        shape: (height, width) of the picture.
    Returns:
        (height, width) uint8: how much of each pixel the ink covers, 0-255.
    """
    coverage = np.zeros(shape, np.uint8)
    shift = 4  # sub-pixel precision: coordinates in 1/16 pixel
    for stroke in paths:
        fixed = np.round(stroke * (1 << shift)).astype(np.int32).reshape(-1, 1, 2)
        if len(fixed) == 1 or np.all(fixed == fixed[0]):
            cv2.circle(
                coverage, tuple(fixed[0, 0]), (brush << shift) // 2, 255, -1, cv2.LINE_AA, shift
            )
        else:
            cv2.polylines(coverage, [fixed], False, 255, brush, cv2.LINE_AA, shift)
    return coverage


def with_mnist_pen(
    strokes: PenStrokes, shape: tuple[int, int], dot: float
) -> tuple[np.ndarray, PenStrokes] | None:
    """The strokes redrawn with MNIST's pen for their height, where the canvas' is heavier.

    A digit written small with a heavy brush, as on a phone, fills its loops and corners
    (a 7 whose corner fills reads as a 9), and no thinning of the picture brings them back:
    the pen's path still has them.

    Args:
        strokes: the drawing's strokes, in the picture's pixels.
        shape: (height, width) of the picture.
        dot: ink shorter than this many pen widths is a dot, which is left as drawn.
    Returns:
        (the picture redrawn: (height, width) uint8 grey, dark ink on white paper, as the
        canvas' PNG reads; the strokes with the pen drawn), or None where the pen is no
        heavier than MNIST's, and for a dot.
    """
    points = np.concatenate(strokes.paths)
    extent = points.max(axis=0) - points.min(axis=0)
    pen = max(int(round(MNIST_PEN_SHARE * extent[1])), THINNEST_PEN)
    if pen >= strokes.width or extent.max() + strokes.width < dot * strokes.width:
        return None
    picture = 255 - pen_coverage(strokes.paths, pen, shape)
    return picture, PenStrokes(strokes.paths, float(pen))

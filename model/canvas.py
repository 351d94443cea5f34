"""What the drawing canvas records beside its picture: the strokes of the pen.

streamlit-drawable-canvas returns, with the picture, the fabric.js scene it drew: each stroke
of the pen (pen down, move, pen up) is one "Path" object whose commands run through the
stroke's centre line in canvas pixels. Which ink belongs to which stroke is what the picture
alone cannot say where two digits touch (`segment.stroke_pairs`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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

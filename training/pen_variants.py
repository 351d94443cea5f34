"""Real pen digits rewritten the ways other people write them, as training data for the
"not a digit" model: it must never turn a digit away, however it was written.

Other writers' 1s are a bare stroke, a stroke with a long flag, or a stroke with a foot;
their 7s are crossed and their 0s slashed; their tablets record sparse, jagged paths; their
slant and proportions differ. Each variant starts from a real digit's strokes (so it keeps a
person's hand) and changes one of those things.
"""

from __future__ import annotations

import numpy as np

from model.strokes import PenDigit


def _line(a, b, points: int = 12) -> np.ndarray:
    """(points, 2) float64: a straight stroke from a to b."""
    t = np.linspace(0.0, 1.0, points)[:, None]
    return np.asarray(a, np.float64) * (1 - t) + np.asarray(b, np.float64) * t


def _box(strokes: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    points = np.concatenate(strokes)
    return points.min(axis=0), points.max(axis=0)


def sparse_jagged(strokes: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """Each stroke kept at every k-th point (k 2-6, ends kept) and jittered by up to 2.5% of
    the digit's height: a tablet that samples slowly and a shaky hand."""
    low, high = _box(strokes)
    height = max(high[1] - low[1], 1e-9)
    step = int(rng.integers(2, 7))
    out = []
    for stroke in strokes:
        keep = np.unique(np.r_[np.arange(0, len(stroke), step), len(stroke) - 1])
        kept = stroke[keep]
        out.append(kept + rng.normal(0, rng.uniform(0.005, 0.025) * height, kept.shape))
    return out


def slanted(strokes: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """Sheared by up to 0.45 either way and stretched 0.6-1.4 times as wide."""
    shear, stretch = rng.uniform(-0.45, 0.45), rng.uniform(0.6, 1.4)
    low, high = _box(strokes)
    middle = (low + high) / 2
    out = []
    for stroke in strokes:
        centred = stroke - middle
        x = (centred[:, 0] - shear * centred[:, 1]) * stretch  # y points down
        out.append(np.stack([x, centred[:, 1]], axis=1) + middle)
    return out


def one_as_written(strokes: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """A 1 as a bare stroke (its longest), with a long flag from its top, with a foot, or
    both: the three ways people write it."""
    stem = max(strokes, key=lambda s: np.linalg.norm(np.diff(s, axis=0), axis=1).sum())
    top, bottom = stem[np.argmin(stem[:, 1])], stem[np.argmax(stem[:, 1])]
    height = max(bottom[1] - top[1], 1e-9)
    out = [stem]
    kind = rng.integers(4)  # 0 bare, 1 flag, 2 foot, 3 both
    if kind in (1, 3):  # down and to the left, 20-65% of the stem
        length = rng.uniform(0.2, 0.65) * height
        angle = np.deg2rad(rng.uniform(20, 70))
        end = top + length * np.array([-np.cos(angle), np.sin(angle)])
        out.insert(0, _line(end, top))
    if kind in (2, 3):
        half = rng.uniform(0.15, 0.35) * height
        out.append(_line(bottom - [half, 0], bottom + [half, 0]))
    return out


def crossed_or_slashed(
    label: int, strokes: list[np.ndarray], rng: np.random.Generator
) -> list[np.ndarray]:
    """A 7 with a bar across its stem at mid-height; a 0 slashed through, a little beyond."""
    low, high = _box(strokes)
    height = max(high[1] - low[1], 1e-9)
    if label == 7:
        middle = (low[1] + high[1]) / 2 + rng.uniform(-0.1, 0.1) * height
        points = np.concatenate(strokes)
        near = points[np.abs(points[:, 1] - middle) < 0.1 * height]
        centre = near[:, 0].mean() if len(near) else (low[0] + high[0]) / 2
        half = rng.uniform(0.15, 0.3) * height
        return [*strokes, _line((centre - half, middle), (centre + half, middle))]
    over = rng.uniform(0.05, 0.2) * height
    if rng.uniform() < 0.8:  # / mostly, sometimes \
        bar = _line((low[0] - over / 2, high[1] + over), (high[0] + over / 2, low[1] - over))
    else:
        bar = _line((low[0] - over / 2, low[1] - over), (high[0] + over / 2, high[1] + over))
    return [*strokes, bar]


def written_variant(item: PenDigit, rng: np.random.Generator) -> PenDigit:
    """One variant of a real pen character: a 1, 7 or 0 as other writers write it half the
    time, and always slanted or sparse and jagged (or both). A letter (a str label) is only
    slanted or made sparse and jagged."""
    strokes = item.strokes
    if item.label == 1 and rng.uniform() < 0.5:
        strokes = one_as_written(strokes, rng)
    elif item.label in (0, 7) and rng.uniform() < 0.5:
        strokes = crossed_or_slashed(item.label, strokes, rng)
    kind = rng.integers(3)
    if kind != 1:
        strokes = slanted(strokes, rng)
    if kind != 0:
        strokes = sparse_jagged(strokes, rng)
    return PenDigit(item.label, strokes, item.source, item.writer)

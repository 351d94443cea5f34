"""A written number -> its digits' ink, left to right. Pure numpy/OpenCV.

People write a number as digits side by side on a line, and a digit as one or more strokes.
So the pieces of ink (connected components) are first gathered into digits: pieces that
stand over one another (the bar of a 5, the two strokes of a 4, a dot over nothing) belong to
one digit, pieces side by side to different ones, even where a slanted digit reaches a little
over its neighbour. Then a group too wide to be one digit is two or more digits that touch
(one stroke runs into the next): `cut_candidates` proposes where to cut it, and the caller
(`recognize.read_number`) keeps the cuts the classifier reads best.

Everything works on the ink mask of `preprocessing.find_marks`, in its pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# Two pieces belong to one digit when the narrower one stands over the other for at least
# this share of its width. Side-by-side digits that lean over each other overlap far less;
# the bar of a 5 or the stem of a 4 lies (almost) wholly over the rest of its digit.
SAME_DIGIT_OVERLAP = 0.6
# A group wider than this many times the line's height may be several touching digits
# (MNIST's digits are at most 1.7 times as wide as high, most of them under 1; touching
# pairs are wider than 1.1).
MAY_BE_SEVERAL = 0.9
# A cut leaves at least this share of the line's height on each side: no digit is thinner
# than a stroke, and a "1" is about a quarter of its height wide.
MIN_PART = 0.18


@dataclass(frozen=True)
class Group:
    """One digit's ink (or, while `may_be_several`, several touching digits').

    Attributes:
        mask: (H, W) bool, this group's ink only, in the full picture's pixels.
        box: (x, y, width, height) of that ink.
        pieces: (N, 4) int, the (x, y, width, height) of each of its separate pieces.
    """

    mask: np.ndarray
    box: tuple[int, int, int, int]
    pieces: np.ndarray


def group_pieces(mask: np.ndarray) -> list[Group]:
    """Gather the pieces of ink into digits, ordered left to right.

    Args:
        mask: (H, W) bool ink, specks already removed (`preprocessing.find_marks`).
    Returns:
        the groups, left to right by the centre of their box; [] for an empty mask.
    """
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), 8)
    if count <= 1:
        return []
    # Each group is a set of component labels; merge groups while two overlap enough.
    groups = [[label] for label in range(1, count)]
    spans = {
        label: (stats[label, 0], stats[label, 0] + stats[label, 2]) for label in range(1, count)
    }
    merged = True
    while merged:
        merged = False
        boxes = [_span(group, spans) for group in groups]
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                if _overlap_share(boxes[i], boxes[j]) >= SAME_DIGIT_OVERLAP:
                    groups[i] += groups.pop(j)
                    merged = True
                    break
            if merged:
                break
    result = []
    for group in groups:
        group_mask = np.isin(labels, group)
        x, y, width, height = cv2.boundingRect(group_mask.view(np.uint8))
        pieces = stats[group, :4].astype(np.int64)
        result.append(Group(group_mask, (x, y, width, height), pieces))
    return sorted(result, key=lambda g: g.box[0] + g.box[2] / 2)


def line_height(groups: list[Group]) -> float:
    """The height of the written line: the tallest group's (digits share one line)."""
    return float(max(g.box[3] for g in groups)) if groups else 0.0


def may_be_several(group: Group, height: float) -> bool:
    """Whether a group is wide enough to be touching digits."""
    return group.box[2] > MAY_BE_SEVERAL * height


def cut_candidates(group: Group, height: float, count: int = 5) -> list[int]:
    """Where to try cutting a group into two: the columns (picture x) where the least ink
    crosses, away from the group's ends; at most `count`, fewest ink first."""
    x, y, width, box_height = group.box
    ink_per_column = group.mask[y : y + box_height, x : x + width].sum(axis=0).astype(np.float32)
    ink_per_column = cv2.blur(ink_per_column[None, :], (3, 1))[0]
    margin = max(1, int(MIN_PART * height))
    if width <= 2 * margin:
        return []
    inner = np.arange(margin, width - margin)
    # Local minima of the ink across columns, then the lowest of them.
    values = ink_per_column[inner]
    left = np.r_[np.inf, values[:-1]]
    right = np.r_[values[1:], np.inf]
    minima = inner[(values <= left) & (values <= right)]
    order = np.argsort(ink_per_column[minima], kind="stable")
    chosen: list[int] = []
    for column in minima[order]:
        if all(abs(column - c) > margin for c in chosen):
            chosen.append(int(column))
        if len(chosen) == count:
            break
    return [x + c for c in chosen]


def cut(group: Group, column: int) -> tuple[Group, Group] | None:
    """The group split at picture column `column`: (left, right), or None when a side would
    be empty."""
    parts = [group.mask.copy(), group.mask.copy()]
    parts[0][:, column:] = False
    parts[1][:, :column] = False
    groups = []
    for part in parts:
        box = cv2.boundingRect(part.view(np.uint8))
        if box[2] == 0:
            return None
        groups.append(Group(part, box, np.array([box], np.int64)))
    return groups[0], groups[1]


def _span(group: list[int], spans: dict[int, tuple[int, int]]) -> tuple[int, int]:
    return min(spans[label][0] for label in group), max(spans[label][1] for label in group)


def _overlap_share(a: tuple[int, int], b: tuple[int, int]) -> float:
    """How much of the narrower of two horizontal spans the other covers, 0..1."""
    overlap = min(a[1], b[1]) - max(a[0], b[0])
    narrower = min(a[1] - a[0], b[1] - b[0])
    return max(0.0, overlap) / max(1, narrower)

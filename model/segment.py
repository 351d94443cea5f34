"""A written number -> its digits' ink, left to right. Pure numpy/OpenCV.

People write a number as digits side by side on a line, and a digit as one or more strokes.
So the pieces of ink (connected components) are first gathered into digits: pieces that
stand over one another (the bar of a 5, the two strokes of a 4, a dot over nothing) belong to
one digit, pieces side by side to different ones, even where a slanted digit reaches a little
over its neighbour. A group that holds several digits (the count model, `model/count.py`,
says so) is digits that touch (one stroke runs into the next) or reach over each other:
`partitions`, `pair_cuts` (at `cut_columns`), `cut_candidates` and `seams` propose how to
part it, and the caller (`recognize.read`) keeps the parting the classifier reads best.

Everything works on the ink mask of `preprocessing.find_marks`, in its pixels.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import cv2
import numpy as np

from model.ink import label_marks

# Pieces shorter than this share of the tallest piece are parts of a digit (the bar of a 5, a
# dot), never a digit of their own.
TALL_PIECE = 0.45
# Two tall pieces belong to one digit when the narrower one stands over the other for at
# least this share of its width (the stem of a 4 over its other stroke)...
SAME_DIGIT_OVERLAP = 0.6
# ... or, when both are of about the same, full height (at least FULL_HEIGHT of the taller),
# for this share: side-by-side digits that lean over each other overlap far less.
FULL_HEIGHT = 0.7
FULL_OVERLAP = 0.85
# A piece that starts within HANG_TOP of a digit's height of its top, stops at least
# HANG_SHORT above its foot and stands at most HANG_GAP from it is a stroke of that digit.
HANG_TOP = 0.15
HANG_SHORT = 0.3
HANG_GAP = 0.15
# A cut leaves at least this share of the line's height on each side: no digit is thinner
# than a stroke, and a "1" is about a quarter of its height wide.
MIN_PART = 0.18
# Two touching digits are tried cut at columns this share of the line's height apart
# (`cut_columns`), and with the ink between two columns up to SHARED of it apart given to
# both sides (`pair_cuts`): where one digit reaches over the next, no line parts them.
CUT_STEP = 0.1
SHARED = 0.2
# A cut along a path (`seams`) may step aside one column per row at SEAM_STEP, in ink
# pixels crossed, and stray at most SEAM_REACH of the group's height from its column.
SEAM_STEP = 0.3
SEAM_REACH = 0.15


@dataclass(frozen=True)
class Group:
    """One digit's ink (or several touching digits').

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

    Pieces at least TALL_PIECE of the tallest piece high are gathered where they overlap:
    a shorter one (the stem of a 4) where it stands mostly over the other, two of full height
    only where one stands nearly wholly over the other (a "1" leaning over its neighbour is
    a digit of its own). Then each smaller piece (the bar of a 5, a dot) joins the group it
    overlaps most, or the nearest one.

    Args:
        mask: (H, W) bool ink, specks already removed (`preprocessing.find_marks`).
    Returns:
        the groups, left to right by the centre of their box; [] for an empty mask.
    """
    count, labels, stats = _label(mask, cv2.boundingRect(mask.view(np.uint8)))
    if count <= 1:
        return []
    heights = stats[1:, cv2.CC_STAT_HEIGHT]
    tall = [n for n in range(1, count) if stats[n, 3] >= TALL_PIECE * heights.max()]
    small = [n for n in range(1, count) if n not in tall]
    groups = [[n] for n in tall]
    merged = True
    while merged:
        merged = False
        for i, j in itertools.combinations(range(len(groups)), 2):
            if _same_digit(_box(groups[i], stats), _box(groups[j], stats)):
                groups[i] += groups.pop(j)
                merged = True
                break
    for n in small:
        piece = _box([n], stats)
        boxes = [_box(group, stats) for group in groups]
        overlaps = [_overlap(piece, box) for box in boxes]
        if max(overlaps) > 0:
            best = int(np.argmax(overlaps))
        else:
            best = int(np.argmin([_gap(piece, box) for box in boxes]))
        groups[best].append(n)
    result = [_group(labels, stats, group) for group in groups]
    return sorted(result, key=lambda g: g.box[0] + g.box[2] / 2)


def line_height(groups: list[Group]) -> float:
    """The height of the written line: the median group's (digits share one line; a median
    is not thrown by one digit written large, or by digits merged into one group)."""
    return float(np.median([g.box[3] for g in groups])) if groups else 0.0


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


def cut_columns(group: Group, height: float) -> list[int]:
    """Every CUT_STEP of the line's height across the group (picture x), leaving at least
    MIN_PART of it on each side."""
    x, _, width, _ = group.box
    margin = max(1, int(MIN_PART * height))
    return list(range(x + margin, x + width - margin + 1, max(1, int(CUT_STEP * height))))


def pair_cuts(group: Group, columns: list[int], shared: float) -> list[tuple[Group, Group]]:
    """The group parted in two at pairs of `columns` a <= b at most `shared` pixels apart:
    the ink left of b, and the ink right of a. Between a and b the digits reach over each
    other (the bar of a 4 under the loop of the next 6) and the ink goes to both sides;
    a == b is a straight cut. Pairs share their sides (each column's left and right is one
    Group), so that each side needs reading once."""
    x, _, width, _ = group.box
    lefts = [between(group, x, column) for column in columns]
    rights = [between(group, column, x + width) for column in columns]
    return [
        (lefts[j], rights[i])
        for i, a in enumerate(columns)
        for j, b in enumerate(columns)
        if a <= b <= a + shared and lefts[j] is not None and rights[i] is not None
    ]


def stroke_masks(mask: np.ndarray, paths: list[np.ndarray], width: float) -> list[np.ndarray]:
    """Each pen stroke's ink: the pixels of `mask` under its brush.

    Args:
        mask: (H, W) bool ink.
        paths: each stroke's (N, 2) float x, y centre line, in `mask`'s pixels.
        width: the brush width in those pixels.
    Returns:
        one (H, W) bool mask per stroke that left ink, in the order drawn.
    """
    thickness = max(1, int(round(width)) + 2)  # a pixel more each side: the soft edge
    masks = []
    for path in paths:
        under = np.zeros(mask.shape, np.uint8)
        points = np.round(path).astype(np.int32).reshape(-1, 1, 2)
        if len(points) == 1 or (points == points[0]).all():
            cv2.circle(under, tuple(int(v) for v in points[0, 0]), thickness // 2, 1, -1)
        else:
            cv2.polylines(under, [points], False, 1, thickness)
        ink = under.view(bool) & mask
        if ink.any():
            masks.append(ink)
    return masks


def stroke_runs(
    group: Group, strokes: list[np.ndarray], widest: float = np.inf
) -> tuple[int, list[tuple[int, int]], list[Group]]:
    """The group's own strokes (most of their ink in it), ordered by the centre of their
    box, and the ink of every run of consecutive ones at most `widest` pixels wide.

    Args:
        strokes: (H, W) bool, each stroke's ink (`stroke_masks`).
    Returns:
        (how many strokes are the group's, runs (i, j): its strokes i..j-1, each run's
        Group).
    """
    x, y, width, height = group.box
    inside = group.mask[y : y + height, x : x + width]
    own = []
    for stroke in strokes:
        crop = stroke[y : y + height, x : x + width] & inside
        if 2 * crop.sum() > stroke.sum():
            own.append(crop)
    boxes = [cv2.boundingRect(crop.view(np.uint8)) for crop in own]
    own = [own[i] for i in np.argsort([bx + bw / 2 for bx, _, bw, _ in boxes], kind="stable")]
    runs, parts = [], []
    for i in range(len(own)):
        ink = np.zeros_like(inside)
        for j in range(i + 1, len(own) + 1):
            ink |= own[j - 1]
            part = _from_crop(group, ink)
            if part.box[2] > widest:
                break
            runs.append((i, j))
            parts.append(part)
    return len(own), runs, parts


def stroke_pairs(group: Group, strokes: list[np.ndarray]) -> list[tuple[Group, Group]]:
    """The group parted in two between its strokes, ordered by the centre of their box:
    digits that touch are still the strokes each was written with."""
    count, runs, parts = stroke_runs(group, strokes)
    run = dict(zip(runs, parts))
    return [(run[(0, k)], run[(k, count)]) for k in range(1, count)]


def _from_crop(group: Group, ink: np.ndarray) -> Group:
    """A Group of some of `group`'s ink, given as (h, w) bool in its box."""
    x, y, width, height = group.box
    mask = np.zeros_like(group.mask)
    mask[y : y + height, x : x + width] = ink
    bx, by, bw, bh = cv2.boundingRect(ink.view(np.uint8))
    box = (bx + x, by + y, bw, bh)
    return Group(mask, box, np.array([box], np.int64))


def partitions(group: Group) -> list[tuple[Group, Group]]:
    """A group of several pieces parted in two between pieces: the pieces whose centres lie
    left of each gap between centres go left, the rest right (digits side by side that reach
    over each other, gathered into one group); not where the two sides stand over each
    other as the pieces of one digit do."""
    if len(group.pieces) < 2:  # one piece of ink: nothing to part between
        return []
    count, labels, stats = _label(group.mask, group.box)
    if count <= 2:
        return []
    order = sorted(range(1, count), key=lambda n: stats[n, 0] + stats[n, 2] / 2)
    pairs = []
    for split in range(1, len(order)):
        left, right = _box(order[:split], stats), _box(order[split:], stats)
        # Sides that stand over one another (the loops of an 8) are no digits side by side.
        narrower = max(1, min(left[2] - left[0], right[2] - right[0]))
        if _overlap(left, right) < SAME_DIGIT_OVERLAP * narrower:
            pairs.append(
                (_group(labels, stats, order[:split]), _group(labels, stats, order[split:]))
            )
    return pairs


def seams(group: Group, columns: list[int]) -> list[np.ndarray]:
    """Where to cut a group near each of `columns`: the path from its top to its bottom,
    never more than SEAM_REACH of the group's height from the column, that crosses the least
    ink (a step aside costs SEAM_STEP of an ink pixel). Touching digits often lean into each
    other: a straight cut would leave a stub of one in the other. Paths that run straight
    down (the column's own cut) are left out.

    Returns:
        one (height,) int array per path: the picture x of the cut in each row of the
        group's box (ink left of it goes left).
    """
    x, y, width, height = group.box
    if not columns:
        return []
    reach = max(1, int(SEAM_REACH * height))
    ink = np.pad(group.mask[y : y + height, x : x + width], ((0, 0), (reach, reach)))
    # (height, paths, band): each column's band of the group; beyond the group's sides,
    # paper too costly to cross.
    starts = np.array(columns) - x  # band start in the padded crop
    band = starts[:, None] + np.arange(2 * reach + 1)
    cost = ink[:, band].astype(np.float32)
    cost[:, (band < reach) | (band >= width + reach)] = np.inf
    # totals[row]: the least ink crossed from the top to each pixel of the row, with an
    # infinite border either side of the band.
    totals = np.full((height, len(columns), band.shape[1] + 2), np.inf, np.float32)
    totals[0, :, 1:-1] = cost[0]
    for row in range(1, height):
        above = totals[row - 1]
        aside = np.minimum(above[:, :-2], above[:, 2:]) + SEAM_STEP
        totals[row, :, 1:-1] = cost[row] + np.minimum(above[:, 1:-1], aside)
    # Back from the cheapest foot, each step to the cheapest of the three above.
    rows = np.arange(len(columns))
    path = np.empty((height, len(columns)), np.int64)
    path[-1] = totals[-1, :, 1:-1].argmin(axis=1)
    for row in range(height - 1, 0, -1):
        above = totals[row - 1][rows[:, None], path[row][:, None] + np.arange(3)]
        above[:, [0, 2]] += SEAM_STEP
        path[row - 1] = path[row] + above.argmin(axis=1) - 1
    picture = (path + starts - reach + x).T
    return [p for p, c in zip(picture, columns) if not (p == c).all()]


def overlapping(groups: list[Group]) -> list[int]:
    """The positions i of the neighbours (groups[i], groups[i + 1]), left to right, whose
    boxes overlap horizontally: one digit's pieces may stand so (the angle of a 4 written
    apart from its stem, reaching under it), digits side by side seldom do."""
    return [
        i
        for i, (a, b) in enumerate(zip(groups, groups[1:]))
        if min(a.box[0] + a.box[2], b.box[0] + b.box[2]) > max(a.box[0], b.box[0])
    ]


def joined(a: Group, b: Group) -> Group:
    """Two groups' ink as one group."""
    x0, y0 = min(a.box[0], b.box[0]), min(a.box[1], b.box[1])
    x1 = max(a.box[0] + a.box[2], b.box[0] + b.box[2])
    y1 = max(a.box[1] + a.box[3], b.box[1] + b.box[3])
    return Group(a.mask | b.mask, (x0, y0, x1 - x0, y1 - y0), np.concatenate([a.pieces, b.pieces]))


def cut(group: Group, column) -> tuple[Group, Group] | None:
    """The group split at picture column `column` (or along a (height,) path of columns,
    `seams`): (left, right), or None when a side would be empty."""
    x, _, width, _ = group.box
    left, right = between(group, x, column), between(group, column, x + width)
    return None if left is None or right is None else (left, right)


def between(group: Group, start, stop) -> Group | None:
    """The group's ink from picture column start to before stop (each a column, or a
    (height,) path of columns, one per row of the group's box), or None when there is none."""
    x, y, width, height = group.box
    columns = np.arange(x, x + width)[None, :]
    inside = (columns >= np.reshape(start, (-1, 1))) & (columns < np.reshape(stop, (-1, 1)))
    ink = group.mask[y : y + height, x : x + width] & inside
    return _from_crop(group, ink) if ink.any() else None


def _label(mask: np.ndarray, box: tuple[int, int, int, int]):
    """Connected pieces of a mask, labelled inside `box` only (labelling is the costly step,
    and the ink is a fraction of a wide canvas).

    Returns:
        (count, labels, stats) as cv2.connectedComponentsWithStats gives them (label 0 the
        paper), with labels (H, W) int32 for the whole mask and stats in its coordinates.
    """
    x, y, width, height = box
    labels = np.zeros(mask.shape, np.int32)
    if width == 0 or height == 0:
        return 1, labels, np.zeros((1, 5), np.int32)
    crop = mask[y : y + height, x : x + width].view(np.uint8)
    count, labels[y : y + height, x : x + width], stats = label_marks(crop)
    stats[:, 0] += x
    stats[:, 1] += y
    return count, labels, stats


def _group(labels: np.ndarray, stats: np.ndarray, pieces: list[int]) -> Group:
    """The Group of some labelled pieces; its mask is filled inside their box only."""
    x0, y0, x1, y1 = _box(pieces, stats)
    lookup = np.zeros(len(stats), bool)
    lookup[pieces] = True
    mask = np.zeros(labels.shape, bool)
    mask[y0:y1, x0:x1] = lookup[labels[y0:y1, x0:x1]]
    return Group(mask, (x0, y0, x1 - x0, y1 - y0), stats[pieces, :4].astype(np.int64))


def _box(group: list[int], stats: np.ndarray) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) around a group's pieces."""
    x0, y0 = stats[group, 0].min(), stats[group, 1].min()
    x1 = (stats[group, 0] + stats[group, 2]).max()
    y1 = (stats[group, 1] + stats[group, 3]).max()
    return int(x0), int(y0), int(x1), int(y1)


def _same_digit(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    """Whether two groups of tall pieces stand over each other enough to be one digit."""
    narrower = max(1, min(a[2] - a[0], b[2] - b[0]))
    share = _overlap(a, b) / narrower
    height_a, height_b = a[3] - a[1], b[3] - b[1]
    both_full = min(height_a, height_b) >= FULL_HEIGHT * max(height_a, height_b)
    if share >= (FULL_OVERLAP if both_full else SAME_DIGIT_OVERLAP):
        return True
    return _hangs_beside(a, b) or _hangs_beside(b, a)


def _hangs_beside(piece: tuple[int, int, int, int], digit: tuple[int, int, int, int]) -> bool:
    """Whether `piece` starts at the top of `digit`, right beside it, but stops well above
    its foot: the angle of a 4 written apart from its stem. (Digits written side by side
    stand on one line: each reaches its foot.)"""
    height = digit[3] - digit[1]
    return (
        abs(piece[1] - digit[1]) <= HANG_TOP * height
        and digit[3] - piece[3] >= HANG_SHORT * height
        and _gap(piece, digit) <= HANG_GAP * height
    )


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> int:
    """How far two (x0, y0, x1, y1) boxes overlap horizontally, in pixels (0 when apart)."""
    return max(0, min(a[2], b[2]) - max(a[0], b[0]))


def _gap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> int:
    """How far apart two (x0, y0, x1, y1) boxes are horizontally, in pixels."""
    return max(b[0] - a[2], a[0] - b[2], 0)

"""Where digits touch or a bar crosses a zero: the cuts that part a group of ink into the
digits it holds (between the pen's strokes, straight down, around the strokes, or as a
chain of three or more), each scored by how surely the classifier reads its parts, and a
zero read without the bar across it. Used by `recognize.read`."""

from __future__ import annotations

import cv2
import numpy as np

from model.canvas import PenStrokes
from model.classifier import Classifier
from model.digit import Recognition, recognize_steps
from model.preprocessing import Ink, Preprocessed, digit_steps, number_pen
from model.reject import Rejecter
from model.segment import (
    SHARED,
    TALL_PIECE,
    Group,
    between,
    cut,
    cut_candidates,
    cut_columns,
    pair_cuts,
    partitions,
    seams,
    stroke_masks,
    stroke_pairs,
    stroke_runs,
)

# Groups of ink side by side each read at least this surely are several digits, not one.
SPLIT_CONFIDENCE = 0.9
# A lone group of ink the counter calls several digits is cut only where the classifier
# reads both sides at least this surely, and tried at only this many columns (those where
# the least ink crosses): a single digit is almost never cut in two.
LONE_CUT = 0.995
LONE_CUTS = 5
# Three or more digits run together are cut as a chain (`_chain`): at up to CHAIN_CUTS
# places into parts at most CHAIN_PART times as wide as the line is high. A group the "not
# a digit" model declines whole is chained only when this many times as wide as the line is
# high, and otherwise parted in two at most.
CHAIN = 1.4
CHAIN_CUTS = 8
CHAIN_PART = 1.2
# A group the counter calls three or more is also cut in two where it gives two at least
# this probability (its second guess): two digits written wide, a crossed 7.
SECOND_GUESS = 0.1
# A zero crossed by a bar (θ, Ø) is read as this digit; a bar is a stroke no wider across
# than this share of its length (`crossed_zero`).
CROSSED_ZERO_READ_AS = 8
LINE = 0.2


def group_steps(found: Ink, groups: list[Group], pen: float | None = None) -> list[Preprocessed]:
    """Each group of ink as one digit's model input, with one pen across the number
    (`pen`, default `number_pen`): a "1" keeps its neighbours' stroke, not a fat bar."""
    pen = number_pen(found) if pen is None else pen
    return [digit_steps(found, g.mask, g.pieces, pen) for g in groups]


def cut_group(
    found: Ink,
    group: Group,
    count: int,
    height: float,
    pen: float,
    classifier: Classifier,
    rejecter: Rejecter | None,
    sure: float,
    lone: bool,
    strokes: list[np.ndarray],
    strokes_only: bool = False,
) -> list[Group]:
    """A group of `count` touching digits (3: three or more) cut into them: where the
    classifier reads the least sure part best, a part the "not a digit" model declines
    counting as not read. Two digits: between the pen's `strokes` (each stroke's ink, from
    the canvas; [] for a picture) where such a parting reads both sides at least `sure`ly;
    else between pieces (`segment.partitions`), straight down columns across the group or
    with the ink between two close columns given to both sides (`segment.pair_cuts`), or,
    where none of these reads both sides surely, along the paths near those columns that
    cross the least ink (`segment.seams`); three or more: the best sequence of at least three
    parts, between straight cuts or runs of strokes (`_chain`). Each part is read as the
    number's digits are, with its `pen`. The group as it is when no cut reads every part at
    least `sure`ly.

    A `lone` group (all the ink) is tried only at the LONE_CUTS columns where the least ink
    crosses, and never with ink given to both sides: each cut tried is one more chance to
    read a single digit as two (a slashed 0 as "13", a 4 whose stem stands apart as "14").
    With `strokes_only`, the group is parted between its strokes or not at all."""
    if count == 2:
        # Touching digits are still the strokes each was written with.
        by_strokes = _best_pair(
            found, stroke_pairs(group, strokes), height, pen, classifier, rejecter
        )
        if by_strokes[1] and by_strokes[0] >= sure:
            return list(by_strokes[1])
        if strokes_only:
            return [group]
        if lone:
            columns, shared = cut_candidates(group, height, LONE_CUTS), 0.0
        else:
            columns, shared = cut_columns(group, height), SHARED * height
        straight = partitions(group) + pair_cuts(group, columns, shared)
        best = _best_pair(found, straight, height, pen, classifier, rejecter)
        if best[0] < SPLIT_CONFIDENCE:  # no clean cut straight down: around the strokes
            paths = [cut(group, path) for path in seams(group, columns)]
            around = _best_pair(found, paths, height, pen, classifier, rejecter)
            best = around if around[0] > best[0] else best
        score, pair = best
        return list(pair) if pair and score >= sure else [group]
    return _chain(
        found, group, height, pen, classifier, rejecter, sure, strokes, count, strokes_only
    )


def _best_pair(
    found: Ink,
    pairs: list[tuple[Group, Group] | None],
    height: float,
    pen: float,
    classifier: Classifier,
    rejecter: Rejecter | None,
) -> tuple[float, tuple[Group, Group] | tuple[()]]:
    """The best of some cuts (None: no cut) and how surely its less sure side is read, a
    side the "not a digit" model declines counting as not read; (-1, ()) when none has
    both sides as tall as a digit (a bar or a dot on its own is none)."""
    pairs = [p for p in pairs if p and min(p[0].box[3], p[1].box[3]) >= TALL_PIECE * height]
    if not pairs:
        return -1.0, ()
    # Each side read once, though pairs share sides (`segment.pair_cuts`).
    sides = list({id(side): side for pair in pairs for side in pair}.values())
    confidence, declined = read_parts(found, sides, pen, classifier, rejecter)
    read_as = dict(zip(map(id, sides), np.where(declined, 0.0, confidence)))
    both_sides = [min(read_as[id(left)], read_as[id(right)]) for left, right in pairs]
    best = int(np.argmax(both_sides))
    return float(both_sides[best]), pairs[best]


def _chain(
    found: Ink,
    group: Group,
    height: float,
    pen: float,
    classifier: Classifier,
    rejecter: Rejecter | None,
    sure: float,
    strokes: list[np.ndarray],
    count: int,
    strokes_only: bool = False,
) -> list[Group]:
    """`count` (three or more) digits run together ("2025" written in one go), which no
    single cut parts into two digits: the sequence of at least `count` parts each read as a
    digit, the least surely read of them as surely as can be (`_best_sequence` over the cut
    candidates, and over the runs of the pen's `strokes`: the better of the two). Fewer
    parts would leave two digits in one, and one of them unread: a narrow 1 between two
    digits is otherwise left inside one of them. The group as it is when no sequence reads
    its least sure part at least `sure`ly; with `strokes_only`, over the runs of strokes
    alone."""
    x, _, width, _ = group.box
    cuts = [] if strokes_only else sorted(cut_candidates(group, height, CHAIN_CUTS))
    edges = [x, *cuts, x + width]
    # Each part: the ink between two edges (by their left edge's order), not the whole
    # group, at most CHAIN_PART line heights wide and as tall as a digit.
    spans, parts = [], []
    for j in range(1, len(edges)):
        for i in range(j):
            if (i, j) == (0, len(edges) - 1) or edges[j] - edges[i] > CHAIN_PART * height:
                continue
            part = between(group, edges[i], edges[j])
            if part is not None and part.box[3] >= TALL_PIECE * height:
                spans.append((i, j))
                parts.append(part)
    best = _best_sequence(found, spans, parts, len(edges) - 1, count, pen, classifier, rejecter)
    if strokes:
        last, runs, parts = stroke_runs(group, strokes, CHAIN_PART * height)
        by_strokes = _best_sequence(found, runs, parts, last, count, pen, classifier, rejecter)
        best = max(best, by_strokes, key=_fewer_first)
    score, found_parts = best
    return found_parts if score >= sure and len(found_parts) > 1 else [group]


def _best_sequence(
    found: Ink,
    spans: list[tuple[int, int]],
    parts: list[Group],
    last: int,
    least: int,
    pen: float,
    classifier: Classifier,
    rejecter: Rejecter | None,
) -> tuple[float, list[Group]]:
    """The sequence of at least `least` of the `parts` (each spanning edges (i, j), from
    edge 0 to `last`) whose least surely read part is read most surely, by dynamic
    programming: (its least confidence, its parts), or (0.0, []) when there is none."""
    if not parts:
        return 0.0, []
    confidence, declined = read_parts(found, parts, pen, classifier, rejecter)
    confidence = np.where(declined, 0.0, confidence)
    # best[j, k]: (least confidence, parts) of the best way to read the ink left of edge j
    # in k parts (k = `least`: that many or more); as sure, the fewer parts the better: a
    # digit is not cut where it need not be.
    best: dict[tuple[int, int], tuple[float, list[Group]]] = {(0, 0): (1.0, [])}
    for (i, j), part, score in zip(spans, parts, confidence):
        for k in range(least + 1):
            if (i, k) in best:
                candidate = (min(best[i, k][0], float(score)), best[i, k][1] + [part])
                after = (j, min(k + 1, least))
                if after not in best or _fewer_first(candidate) > _fewer_first(best[after]):
                    best[after] = candidate
    return best.get((last, least), (0.0, []))


def _fewer_first(reading: tuple[float, list[Group]]) -> tuple[float, int]:
    """A chain's reading ranked by its least confidence, then by fewer parts."""
    return reading[0], -len(reading[1])


def read_parts(
    found: Ink,
    parts: list[Group],
    pen: float,
    classifier: Classifier,
    rejecter: Rejecter | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Each candidate part read as one digit of the number (with its `pen`): (N,) float32
    top probability and (N,) bool whether the "not a digit" model declines it (never,
    without one)."""
    batch = np.stack([digit_steps(found, g.mask, g.pieces, pen).digit_28x28 for g in parts])
    confidence = classifier.predict(batch).max(axis=1)
    declined = rejecter.declines(batch) if rejecter is not None else np.zeros(len(parts), bool)
    return confidence, declined


def least_sure(
    found: Ink, parts: list[Group], pen: float, classifier: Classifier, rejecter: Rejecter | None
) -> float:
    """How surely the least sure of the parts a group was cut into is read (a part the "not a
    digit" model declines: 0); 0 when the group was left whole."""
    if len(parts) < 2:
        return 0.0
    confidence, declined = read_parts(found, parts, pen, classifier, rejecter)
    return float(np.where(declined, 0.0, confidence).min())


def crossed_zero(
    found: Ink,
    group: Group,
    pen: float | None,
    strokes: PenStrokes,
    classifier: Classifier,
    rejecter: Rejecter | None,
) -> Recognition | None:
    """A zero crossed by a bar (θ, Ø), which the classifier reads as an 8 (MNIST has hardly
    any): the group read again without one of its strokes that is a straight line across the
    rest of it (its centre inside the rest's box, its width at most LINE of its length),
    where that reads as a 0 at least SPLIT_CONFIDENCE surely and is not declined; None
    where no stroke does."""
    scale = found.input_scale
    width = strokes.width / scale
    # The strokes that come near the group (the rest cannot touch its ink), and unless one
    # of them is straight, no bar.
    x, y, w, h = group.box
    paths = [
        path
        for path in (path / scale for path in strokes.paths)
        if (path.min(axis=0) - width < (x + w, y + h)).all()
        and (path.max(axis=0) + width > (x, y)).all()
    ]
    straight = [_straight(path) for path in paths]
    if not any(straight):
        return None
    # Each one's ink in the picture (none for a stroke that left none), and the group's own
    # strokes: most of their ink in it.
    empty = np.zeros_like(found.mask)
    inks = [next(iter(stroke_masks(found.mask, [path], width)), empty) for path in paths]
    own = [i for i, ink in enumerate(inks) if 2 * (ink & group.mask).sum() > ink.sum()]
    if len(own) < 2:
        return None
    for i in own:
        if not straight[i]:
            continue
        others = np.logical_or.reduce([ink for j, ink in enumerate(inks) if j != i])
        rest = group.mask & (~inks[i] | others)
        if not rest.any():
            continue
        rest_box = cv2.boundingRect(rest.view(np.uint8))
        rx, ry, rw, rh = rest_box
        centre_x, centre_y = (paths[i].min(axis=0) + paths[i].max(axis=0)) / 2
        if not (rx <= centre_x < rx + rw and ry <= centre_y < ry + rh):
            continue
        boxes = np.array([rest_box], np.int64)
        zero = recognize_steps([digit_steps(found, rest, boxes, pen)], classifier, rejecter)[0]
        if zero.digit == 0 and zero.confidence >= SPLIT_CONFIDENCE and not zero.not_digit:
            return zero
    return None


def _straight(path: np.ndarray) -> bool:
    """Whether a stroke's (N, 2) centre line is a straight line: across its direction it
    spans at most LINE of its length."""
    if len(path) < 2:
        return False
    centred = path - path.mean(axis=0)
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    extent = np.ptp(centred @ axes.T, axis=0)
    return bool(extent[0] > 0 and extent[1] <= LINE * extent[0])

"""The characters of a written number as the 28x28 inputs the served models read, cut where
the writer put them.

Training data for the digit-count and "not a digit" models must not depend on how the app
happens to cut numbers today (that would train each model through the others' heuristics).
Here the truth decides: each character's own strokes, drawn alone, say which ink is its.
Ink that touches is one group (what the digit-count model counts); a character of a group
of several is the group's ink within the character's own columns (what any cut between
touching characters leaves: the neighbours' ink that reaches into them stays).
"""

from __future__ import annotations

import cv2
import numpy as np

from model.ink import Ink, label_marks
from model.preprocessing import digit_steps, find_ink, number_pen
from model.strokes import PenDigit, render

# A piece of ink belongs to each character that draws at least this share of it.
SHARE_OF_PIECE = 0.05


def own_masks(found: Ink, strokes: list[np.ndarray], characters: list[PenDigit], brush: int):
    """Each character's own ink, in `found`'s pixels: list of (H, W) bool.

    `strokes` are the number's strokes on the canvas, the characters' in order; the
    canvas is as large as `found`'s picture (`found.input_scale` times its ink)."""
    height, width = (round(side * found.input_scale) for side in found.mask.shape)
    masks, start = [], 0
    for character in characters:
        own = strokes[start : start + len(character.strokes)]
        start += len(character.strokes)
        alpha = render(own, brush, "black_on_transparent", height, width)[..., 3]
        alpha = cv2.resize(alpha, found.mask.shape[::-1], interpolation=cv2.INTER_AREA)
        masks.append((alpha > 127) & found.mask)
    return masks


def touching_groups(found: Ink, masks: list[np.ndarray]) -> list[tuple[list[int], np.ndarray]]:
    """The ink in groups of touching characters, left to right.

    Returns:
        (the characters of the group, by index; (H, W) bool the group's ink) for each group.
        Ink no character drew (specks) is left out.
    """
    count, labels, _ = label_marks(found.mask.view(np.uint8))
    parent = list(range(len(masks)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    owners_of_piece = []
    for piece in range(1, count):
        inside = labels == piece
        size = inside.sum()
        owners = [i for i, m in enumerate(masks) if (m & inside).sum() >= SHARE_OF_PIECE * size]
        for other in owners[1:]:
            parent[root(other)] = root(owners[0])
        owners_of_piece.append((inside, owners))
    groups: dict[int, tuple[list[int], np.ndarray]] = {}
    for inside, owners in owners_of_piece:
        if owners:
            members, mask = groups.setdefault(root(owners[0]), ([], np.zeros_like(found.mask)))
            mask |= inside
    for i in range(len(masks)):
        if root(i) in groups:
            groups[root(i)][0].append(i)
    return sorted(groups.values(), key=lambda group: min(group[0]))


def as_input(found: Ink, mask: np.ndarray, pen: float) -> np.ndarray | None:
    """Some of the picture's ink as a model input, the pen measured across the whole number:
    (28, 28) uint8, or None where `mask` holds no ink."""
    if not mask.any():
        return None
    _, _, stats = label_marks(mask.view(np.uint8))
    return digit_steps(found, mask, stats[1:, :4].astype(np.int64), pen).digit_uint8


def whole(picture: np.ndarray) -> np.ndarray | None:
    """All of a picture's ink as one input (a lone digit): (28, 28) uint8, None if blank."""
    found = find_ink(picture)
    return None if found is None else as_input(found, found.mask, number_pen(found))


def characters(found: Ink, masks: list[np.ndarray]) -> list[np.ndarray | None]:
    """Each character as a model input, cut where it was written: (28, 28) uint8, or None
    for a character with no ink of its own left."""
    pen = number_pen(found)
    inputs: list[np.ndarray | None] = [None] * len(masks)
    for members, group in touching_groups(found, masks):
        for i in members:
            if len(members) == 1:
                inputs[i] = as_input(found, group, pen)
            elif masks[i].any():
                columns = np.flatnonzero(masks[i].any(axis=0))
                part = np.zeros_like(group)
                part[:, columns[0] : columns[-1] + 1] = group[:, columns[0] : columns[-1] + 1]
                inputs[i] = as_input(found, part, pen)
    return inputs

"""MNIST-faithful preprocessing: a picture of one handwritten digit -> a 28x28 MNIST image.

MNIST was made from NIST digits like this (LeCun et al.): each digit was scaled so that its
longest side fits a 20x20 box, keeping the aspect ratio and anti-aliasing (hence the grey
levels), then placed in a 28x28 image so that its centre of mass is at the centre. A model
trained on MNIST only ever saw digits made that way, so everything we show it must be made
the same way. Resizing a whole 280x280 canvas to 28x28 instead gives a tiny, off-centre,
thick-stroked digit the model has never seen.

Drawn digits differ from MNIST in one more way: a canvas brush is 10-25 px wide on a 280 px
canvas, so after scaling to the 20 px box a stroke can be anywhere from 1 to 5 px wide, while
MNIST strokes are about 2.5 px. We therefore normalise the pen width to MNIST's before scaling.

Everything here is pure numpy/OpenCV and shared by training, the app and the command line.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# Every image here is small (at most MAX_INPUT_SIDE): handing each OpenCV call to a thread
# pool costs more than it saves, and competes with the app's and the command's own workers.
cv2.setNumThreads(1)

from model.ink import (  # noqa: E402  (the step before: where the ink is)
    MAX_INPUT_SIDE,
    Ink,
    find_ink,
    find_marks,
    ink_intensity,
    marks_box,
    resize,
)

__all__ = ["MAX_INPUT_SIDE", "Ink", "find_ink", "find_marks", "ink_intensity", "marks_box"]

IMAGE_SIZE = 28  # MNIST images are 28x28
BOX_SIZE = 20  # the digit's longest side, anti-aliased, in pixels
CENTER = 14.0  # where MNIST puts the centre of mass, 0-indexed pixel coordinates (x and y)
# MNIST's median pen width in pixels of the 28x28 image, measured with stroke_width() on the
# training set upscaled 8x (see tests/test_preprocessing.py::test_stroke_width_constant).
STROKE_WIDTH = 2.35

# Working resolution: the ink's crop is resampled so that its longest side has this many
# pixels before its pen width is measured and normalised (5.6x the 20 px box: fine enough
# for sub-pixel pen widths, small enough to cost a fraction of a millisecond).
WORK_SIDE = 112
_SQUARE_3x3 = np.ones((3, 3), np.uint8)
# Euclidean distances from a 5x5 chamfer mask: within 2% of exact, a third of the cost.
_DISTANCE_MASK = cv2.DIST_MASK_5


def scale_pixels(images: np.ndarray) -> np.ndarray:
    """MNIST pixel scaling used by training and serving alike: uint8 0..255 -> float32 0..1.

    Args:
        images: uint8 array of any shape (one 28x28 image or a batch of them).
    Returns:
        float32 array of the same shape with values in [0, 1].
    """
    if images.dtype != np.uint8:
        raise ValueError(f"scale_pixels expects uint8 pixels 0..255, got {images.dtype}")
    return images.astype(np.float32) * np.float32(1.0 / 255.0)


@dataclass(frozen=True)
class Preprocessed:
    """Every step from the input picture to the 28x28 model input (for display and checks).

    Attributes:
        ink: (H, W) uint8, the input as ink intensity (paper 0, ink up to 255), possibly
            shrunk to MAX_INPUT_SIDE.
        mask: (H, W) bool, the pixels counted as ink (noise specks removed).
        bbox: (x, y, width, height) of the ink in `ink` coordinates.
        marks: number of separate marks (connected pieces of ink) kept.
        mark_boxes: (marks, 4) int array of each mark's (x, y, width, height).
        stroke_width: the pen width in `ink` pixels, as measured.
        glyph: (h, w) float32 0..1, the digit with MNIST's pen width, scaled so that its
            longest side is BOX_SIZE (the "20 px box").
        digit_uint8: (28, 28) uint8, the digit centred by its centre of mass, MNIST storage.
        digit_28x28: (28, 28) float32 0..1, `scale_pixels(digit_uint8)`: the model's input.
    """

    ink: np.ndarray
    mask: np.ndarray
    bbox: tuple[int, int, int, int]
    marks: int
    mark_boxes: np.ndarray
    stroke_width: float
    glyph: np.ndarray
    digit_uint8: np.ndarray
    digit_28x28: np.ndarray


def preprocess(image: np.ndarray) -> np.ndarray | None:
    """Turn a picture of one handwritten digit into the 28x28 image an MNIST model expects.

    Args:
        image: uint8 array (H, W), (H, W, 1), (H, W, 3) RGB or (H, W, 4) RGBA, any size.
            Light ink on dark paper, dark ink on light paper, ink on transparent paper, and
            photos or scans of dark ink on paper all work.
    Returns:
        (28, 28) float32 in [0, 1], ink bright on 0, or None when the picture holds no ink.
    Raises:
        ValueError: when `image` is not a non-empty uint8 array of one of those shapes.
    """
    steps = preprocess_steps(image)
    return None if steps is None else steps.digit_28x28


def preprocess_steps(image: np.ndarray) -> Preprocessed | None:
    """`preprocess`, keeping every intermediate step. Same arguments, errors and None."""
    found = find_ink(image)
    return None if found is None else digit_steps(found)


def digit_steps(
    found: Ink,
    mask: np.ndarray | None = None,
    mark_boxes: np.ndarray | None = None,
    pen_width: float | None = None,
) -> Preprocessed:
    """One digit's ink -> every step to its 28x28 model input.

    Args:
        found: the picture's ink.
        mask: (H, W) bool, this digit's ink; default: all the picture's ink.
        mark_boxes: (M, 4) int (x, y, width, height) of this digit's marks, which together
            span exactly its ink; default: all the picture's.
        pen_width: the pen width in `found.ink` pixels, as measured across a whole number;
            default: measured on this digit alone.
    """
    ink, threshold = found.ink, found.threshold
    mask = found.mask if mask is None else mask
    mark_boxes = found.mark_boxes if mark_boxes is None else mark_boxes
    x0, y0, width, height = marks_box(mark_boxes)
    x1, y1 = x0 + width, y0 + height

    # Crop to the ink at full resolution, then resample the crop to the working size.
    crop = np.where(mask[y0:y1, x0:x1], ink[y0:y1, x0:x1], np.uint8(0))
    scale = WORK_SIDE / max(width, height)
    work = resize(crop, scale)
    work_mask = work > threshold
    if not work_mask.any():  # a sliver thinner than a pixel once shrunk
        work_mask = work >= max(1, int(work.max()) // 2)
    inside = distance_to_paper(work_mask)
    pen = stroke_width(work_mask, inside) if pen_width is None else pen_width * scale

    glyph = fit_box(normalise_stroke(work_mask, pen, inside))
    digit_uint8 = center_by_mass(glyph)
    return Preprocessed(
        ink=ink,
        mask=mask,
        bbox=(x0, y0, width, height),
        marks=len(mark_boxes),
        mark_boxes=mark_boxes,
        stroke_width=pen / scale,
        glyph=glyph,
        digit_uint8=digit_uint8,
        digit_28x28=scale_pixels(digit_uint8),
    )


def number_pen(found: Ink) -> float:
    """The pen width across all the picture's ink (a whole number), measured on its box, in
    `found.ink` pixels: each digit of a number is drawn with it, so a "1" keeps its
    neighbours' stroke, not a fat bar."""
    x, y, width, height = marks_box(found.mark_boxes)
    return stroke_width(found.mask[y : y + height, x : x + width])


def distance_to_paper(mask: np.ndarray) -> np.ndarray:
    """For each ink pixel, the distance to the nearest paper (beyond the edge counts as paper).

    Args:
        mask: (H, W) bool, True on ink.
    Returns:
        (H, W) float32, 0 on paper.
    """
    padded = cv2.copyMakeBorder(mask.view(np.uint8), 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    distance = cv2.distanceTransform(padded, cv2.DIST_L2, _DISTANCE_MASK)
    return distance[1:-1, 1:-1]


def stroke_width(mask: np.ndarray, inside: np.ndarray | None = None) -> float:
    """Median pen width of a binary drawing, in pixels.

    The distance from a pixel on a stroke's centre line to the nearest paper is half the
    stroke's width (plus half a pixel): the median of that distance over the centre lines,
    found as local maxima of the distance transform, gives the typical pen width.

    Args:
        mask: (H, W) bool, True on ink.
        inside: `distance_to_paper(mask)`, when already computed.
    Returns:
        pen width in pixels (>= 1), or 0.0 for an empty mask.
    """
    distance = distance_to_paper(mask) if inside is None else inside
    ridge = (distance > 0) & (distance >= cv2.dilate(distance, _SQUARE_3x3))
    if not ridge.any():
        return 0.0
    return max(1.0, 2.0 * float(np.median(distance[ridge])) - 1.0)


def normalise_stroke(
    mask: np.ndarray, width: float, inside: np.ndarray | None = None
) -> np.ndarray:
    """Redraw a binary drawing with MNIST's pen width.

    After `fit_box` scales the drawing's longest side to BOX_SIZE, its strokes will be
    STROKE_WIDTH wide. Strokes are thinned or thickened by the same amount everywhere, using
    the distance to the paper (thinning) or to the ink (thickening), with a one-pixel soft edge.

    Args:
        mask: (H, W) bool, True on ink, longest side about WORK_SIDE.
        width: its pen width in pixels, from `stroke_width`.
        inside: `distance_to_paper(mask)`, when already computed.
    Returns:
        (H', W') float32 in [0, 1]: the redrawn ink, with a margin for thickened strokes.
    """
    # The drawing's skeleton spans `extent` pixels; the redrawn one spans extent + target.
    # Solving target / (extent + target) == STROKE_WIDTH / BOX_SIZE for target:
    extent = max(mask.shape) - width
    target = max(1.0, STROKE_WIDTH * extent / (BOX_SIZE - STROKE_WIDTH))
    change = (width - target) / 2.0
    if change > 0:
        # Thin: keep the pixels deeper than `change` inside the ink. Never thin by more
        # than 30% of the width each side, so that a stroke narrower here and there survives.
        distance = distance_to_paper(mask) if inside is None else inside
        # Nor by more than most of the thickest stroke's half-width: a digit written thinner
        # than the pen width given (a number's, measured across all its digits) keeps its ink.
        change = min(change, 0.3 * width, 0.6 * float(distance.max()))
        return np.clip(distance - change, 0.0, 1.0)
    # Thicken: add the paper within -change of the ink.
    margin = int(np.ceil(-change)) + 1
    paper = cv2.copyMakeBorder(
        (~mask).view(np.uint8), margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=1
    )
    distance = cv2.distanceTransform(paper, cv2.DIST_L2, _DISTANCE_MASK)
    return np.clip(1.0 - change - distance, 0.0, 1.0)


def fit_box(ink: np.ndarray) -> np.ndarray:
    """Crop to the ink and scale it, anti-aliased, so that its longest side is BOX_SIZE.

    Args:
        ink: (H, W) float32 in [0, 1] with some ink.
    Returns:
        (h, w) float32 in [0, 1] with max(h, w) == BOX_SIZE, aspect ratio kept.
    """
    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    height, width = crop.shape
    longest = max(height, width)
    size = (
        max(1, round(width * BOX_SIZE / longest)),
        max(1, round(height * BOX_SIZE / longest)),
    )
    # INTER_AREA averages every source pixel into the box: MNIST's anti-aliasing.
    return np.clip(cv2.resize(crop, size, interpolation=cv2.INTER_AREA), 0.0, 1.0)


def center_by_mass(glyph: np.ndarray) -> np.ndarray:
    """Place a glyph in a 28x28 image so that its centre of mass is at (CENTER, CENTER).

    The shift is sub-pixel (bilinear), which keeps the centre of mass exact.

    Args:
        glyph: (h, w) float32 in [0, 1], h and w <= BOX_SIZE.
    Returns:
        (28, 28) uint8, ink bright on 0, as MNIST stores it.
    """
    moments = cv2.moments(glyph)
    if moments["m00"] <= 0:
        cx, cy = (glyph.shape[1] - 1) / 2, (glyph.shape[0] - 1) / 2
    else:
        cx, cy = moments["m10"] / moments["m00"], moments["m01"] / moments["m00"]
    shift = np.array([[1.0, 0.0, CENTER - cx], [0.0, 1.0, CENTER - cy]], dtype=np.float64)
    placed = cv2.warpAffine(
        glyph,
        shift,
        (IMAGE_SIZE, IMAGE_SIZE),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0.0,
    )
    return np.clip(placed * 255.0 + 0.5, 0, 255).astype(np.uint8)

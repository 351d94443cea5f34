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

import functools
from dataclasses import dataclass

import cv2
import numpy as np

# Every image here is small (at most MAX_INPUT_SIDE): handing each OpenCV call to a thread
# pool costs more than it saves, and competes with the app's and the command's own workers.
cv2.setNumThreads(1)

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
# Larger inputs are first shrunk so that their longest side is at most this (a 5000x5000
# photo costs the same as a canvas). The ink's crop is still taken from this full image.
MAX_INPUT_SIDE = 1024
# Ink fainter than this (0-255, after the paper is subtracted) is no ink: a blank canvas or an
# empty sheet of paper with a little sensor noise.
MIN_INK_CONTRAST = 40
# Paper whose brightness varies less than this (0-255) across the picture is flat: a canvas or
# a scan. More than this is uneven light, as in a photo, and is flattened before thresholding.
FLAT_PAPER = 12
# Marks smaller than this share of the largest mark are specks of dust or noise, not ink.
MIN_MARK_SHARE = 0.04
_SQUARE_3x3 = np.ones((3, 3), np.uint8)
_DISC_7x7 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
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


@dataclass(frozen=True)
class Ink:
    """The ink of a picture, separated from its paper.

    Attributes:
        ink: (H, W) uint8 ink intensity (paper 0, ink up to 255), the picture shrunk to at
            most MAX_INPUT_SIDE.
        mask: (H, W) bool, the pixels counted as ink (specks removed).
        mark_boxes: (N, 4) int (x, y, width, height) of each separate mark, largest first.
        threshold: the ink level (0..254) above which a pixel is ink.
        input_scale: input pixels per `ink` pixel (1.0 unless the picture was shrunk).
    """

    ink: np.ndarray
    mask: np.ndarray
    mark_boxes: np.ndarray
    threshold: int
    input_scale: float


def find_ink(image: np.ndarray) -> Ink | None:
    """The ink of a picture (see `preprocess` for `image`), or None when it has none."""
    ink = ink_intensity(image)
    found = find_marks(ink)
    if found is None:
        return None
    mask, mark_boxes, threshold = found
    return Ink(ink, mask, mark_boxes, threshold, max(image.shape[:2]) / max(ink.shape))


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
    work = _resize(crop, scale)
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


def marks_box(mark_boxes: np.ndarray) -> tuple[int, int, int, int]:
    """The (x, y, width, height) around some marks' (N, 4) boxes: their ink's bounding box,
    without a pass over a wide canvas."""
    x0, y0 = (int(v) for v in mark_boxes[:, :2].min(axis=0))
    x1, y1 = (int(v) for v in (mark_boxes[:, :2] + mark_boxes[:, 2:4]).max(axis=0))
    return x0, y0, x1 - x0, y1 - y0


def ink_intensity(image: np.ndarray) -> np.ndarray:
    """Any supported picture -> ink intensity: (H, W) uint8, paper 0 and ink bright.

    Transparent paper is composited onto whichever of black or white contrasts with the ink.
    The paper is judged on a copy shrunk to 32 px: what lies along its edge says whether the
    paper is light or dark, and its brightness whether the light is even. On flat paper (a canvas, a
    scan) one pass turns the picture into ink: inverted if need be, minus the paper's level.
    Uneven light (a photo) is removed by subtracting a smooth estimate of the paper.
    """
    image = _validated(image)
    if max(image.shape[:2]) > MAX_INPUT_SIDE:
        image = _resize(image, MAX_INPUT_SIDE / max(image.shape[:2]))
    gray = _to_gray(image)
    height, width = gray.shape
    small = _thumbnail(gray)
    # Otsu's split of the small copy into its two tones; then which one is the paper.
    _, light = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    light_paper = _light_paper(small, light)  # dark ink on light paper: make the ink bright
    if light_paper:
        small, ink_small = cv2.bitwise_not(small), cv2.bitwise_not(light)
    else:
        ink_small = light
    paper = _uneven_paper(small, ink_small)
    if paper is None:
        # The paper's level: the median of the pixels on the paper's side of the split (all
        # of them when the picture has a single tone).
        on_paper = small[ink_small == 0]
        level = _percentiles(on_paper, 50)[0] if on_paper.size else _median(small)
        return cv2.LUT(gray, _ink_table(light_paper, level))
    paper = cv2.resize(cv2.blur(paper, (3, 3)), (width, height), interpolation=cv2.INTER_LINEAR)
    return cv2.subtract(cv2.bitwise_not(gray) if light_paper else gray, paper)


def find_marks(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray, int] | None:
    """Separate ink from paper noise.

    Args:
        ink: (H, W) uint8 ink intensity from `ink_intensity`.
    Returns:
        (mask, mark_boxes, threshold): (H, W) bool mask of the ink kept; an (N, 4) int array
        of the (x, y, width, height) of each of its N marks, largest first; and the ink level
        (0..254) above which a pixel is ink. None when there is no ink.
    """
    peak = int(cv2.minMaxLoc(ink)[1])
    if peak < MIN_INK_CONTRAST:
        return None
    # Otsu splits ink from paper noise; never below half the peak, so that the faint
    # anti-aliased rim of a clean drawing does not count as a separate mark.
    otsu, _ = cv2.threshold(ink, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    threshold = max(int(otsu), peak // 2)
    _, binary = cv2.threshold(ink, threshold, 1, cv2.THRESH_BINARY)
    # Label the marks inside the ink's bounding box only: on a canvas that is a fraction of
    # the picture, and labelling is the costliest step here.
    x, y, width, height = cv2.boundingRect(binary)
    if width == 0 or height == 0:
        return None
    box = binary[y : y + height, x : x + width]
    count, labels, stats = label_marks(box)
    areas = stats[1:, cv2.CC_STAT_AREA]
    min_area = max(2, MIN_MARK_SHARE * areas.max(), (max(ink.shape) / 200) ** 2)
    keep = np.flatnonzero(areas >= min_area) + 1
    if keep.size == 0:
        return None
    keep = keep[np.argsort(-stats[keep, cv2.CC_STAT_AREA])]
    if keep.size < count - 1:  # drop the specks
        lookup = np.zeros(count, dtype=np.uint8)
        lookup[keep] = 1
        binary[y : y + height, x : x + width] = lookup[labels]
    boxes = stats[keep, :4].astype(np.int64)
    boxes[:, :2] += (x, y)
    return binary.view(bool), boxes, int(threshold)


def label_marks(binary: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """The separate marks (8-connected pieces) of a binary picture.

    Args:
        binary: (H, W) uint8, nonzero on ink.
    Returns:
        (count, labels, stats) as cv2.connectedComponentsWithStats gives them: label 0 is
        the paper; labels (H, W) uint16 or int32; stats (count, 5) int32.
    """
    # 8-connected marks never touch, so at most one starts in each 2x2 block: a picture
    # with fewer blocks than uint16 holds needs no wider labels, which OpenCV counts twice
    # as fast (a canvas: 0.4 ms instead of 0.8 ms a call, several calls a number).
    blocks = -(-binary.shape[0] // 2) * -(-binary.shape[1] // 2)
    ltype = cv2.CV_16U if blocks < np.iinfo(np.uint16).max else cv2.CV_32S
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8, ltype=ltype)
    return count, labels, stats


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


def _validated(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray):
        raise ValueError(f"expected a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise ValueError(
            f"expected uint8 pixels (0..255), got dtype {image.dtype}; "
            "decode files with model.imageio.read_image"
        )
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (3, 4))):
        raise ValueError(
            f"expected an image of shape (H, W), (H, W, 3) or (H, W, 4), got {image.shape}"
        )
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"expected a non-empty image, got shape {image.shape}")
    return image


def _resize(image: np.ndarray, scale: float) -> np.ndarray:
    """Resize by `scale`, anti-aliased when shrinking; sides at least 1 pixel."""
    height, width = image.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if size == (width, height):
        return image
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(image, size, interpolation=interpolation)


def _to_gray(image: np.ndarray) -> np.ndarray:
    """(H, W[, 3|4]) uint8 -> (H, W) uint8 grey, transparent paper composited."""
    if image.ndim == 2:
        return image
    if image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    gray = cv2.cvtColor(image, cv2.COLOR_RGBA2GRAY)  # ignores alpha
    return composite_on_paper(gray, cv2.extractChannel(image, 3))


def composite_on_paper(gray: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Grey ink with an alpha channel -> grey on opaque paper.

    The paper is whichever of white or black contrasts with the ink: the ink's mean grey,
    weighted by how opaque each pixel is (on a sample of about a megapixel), says whether the
    ink is dark or light. All in uint8: a large transparent scan costs no float copies.

    Args:
        gray, alpha: (H, W) uint8.
    Returns:
        (H, W) uint8; all black for a fully transparent picture (blank).
    """
    if cv2.minMaxLoc(alpha)[0] == 255:  # opaque: nothing to composite
        return gray
    if cv2.countNonZero(alpha) == 0:
        return np.zeros_like(gray)
    step = max(1, int((gray.size / 1e6) ** 0.5))
    sample_gray, sample_alpha = gray[::step, ::step], alpha[::step, ::step]
    if not sample_alpha.any():  # the ink fell between the samples
        sample_gray, sample_alpha = gray, alpha
    if np.average(sample_gray, weights=sample_alpha) < 128:  # dark ink: white paper
        return cv2.bitwise_not(cv2.multiply(cv2.bitwise_not(gray), alpha, scale=1 / 255))
    return cv2.multiply(gray, alpha, scale=1 / 255)


def _median(gray: np.ndarray) -> int:
    """Median of a uint8 image from its histogram (linear time, no sort)."""
    histogram = cv2.calcHist([gray], [0], None, [256], [0, 256]).ravel()
    return int(np.searchsorted(np.cumsum(histogram), gray.size / 2))


def _percentiles(values: np.ndarray, *percents: float) -> list[int]:
    """Percentiles of uint8 values from their histogram (no sort)."""
    cumulative = np.cumsum(np.bincount(values.ravel(), minlength=256))
    return [int(np.searchsorted(cumulative, values.size * p / 100)) for p in percents]


def _thumbnail(gray: np.ndarray, side: int = 32) -> np.ndarray:
    """The picture shrunk by a whole factor to about `side` px, each pixel the mean of a
    k x k block (a whole factor lets OpenCV average blocks directly, 3x faster); the last
    few rows and columns beyond a multiple of k are left out."""
    k = max(1, -(-max(gray.shape) // side))
    if k == 1:
        return gray
    height, width = (max(k, n - n % k) for n in gray.shape)
    block = gray[:height, :width]
    return cv2.resize(
        block, (max(1, width // k), max(1, height // k)), interpolation=cv2.INTER_AREA
    )


@functools.cache
def _ink_table(light_paper: bool, level: int) -> np.ndarray:
    """Grey -> ink lookup table for flat paper: inverted if the paper is light, minus the
    paper's level, clipped to 0..255."""
    values = np.arange(256, dtype=np.int16)
    ink = (255 - values if light_paper else values) - level
    return np.clip(ink, 0, 255).astype(np.uint8)


def _light_paper(small: np.ndarray, light: np.ndarray) -> bool:
    """Whether the paper is the lighter of the picture's two tones.

    The paper is what runs along the picture's edge: a digit rarely touches most of it, even
    when it covers most of the picture (a filled shape, a scribble), where the majority would
    mistake the ink for paper. When the edge is mixed (a photo with a table at one side), the
    majority tone of the whole picture decides.

    Args:
        small: (h, w) uint8, the picture shrunk to 32 px.
        light: (h, w) uint8, 255 where `small` is above Otsu's split, else 0.
    """
    edge = np.concatenate([light[0], light[-1], light[1:-1, 0], light[1:-1, -1]])
    light_share = float(np.count_nonzero(edge)) / edge.size
    if light_share >= 0.6:
        return True
    if light_share <= 0.4:
        return False
    return _median(small) >= 128


def _uneven_paper(small: np.ndarray, ink_small: np.ndarray) -> np.ndarray | None:
    """The paper's brightness where the light is uneven, else None (flat paper).

    Args:
        small: (h, w) uint8, the picture shrunk to 32 px, ink bright.
        ink_small: (h, w) uint8, 255 where `small` is above Otsu's split (ink), else 0.
    Returns:
        (h, w) uint8 estimate of the paper alone, or None when the paper is flat.

    The estimate is a grey-level opening that wipes out strokes narrower than about a fifth of
    the picture. It is judged only on paper pixels away from the ink (the anti-aliased rim of a
    thick stroke is neither ink nor paper); where it is flat there, a thick blob of ink, which
    the opening would take for paper, is kept whole.
    """
    if min(small.shape) < 7:
        return None
    paper = cv2.morphologyEx(small, cv2.MORPH_OPEN, _DISC_7x7, borderType=cv2.BORDER_REPLICATE)
    on_paper = paper[cv2.dilate(ink_small, _SQUARE_3x3) == 0]
    low, high = _percentiles(on_paper, 2, 98) if on_paper.size else (0, 0)
    return None if high - low <= FLAT_PAPER else paper

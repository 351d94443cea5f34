"""Ink and paper: any supported picture -> where its ink is (`find_ink`), with uneven light,
either polarity, transparency and specks of noise dealt with. The first step of
model/preprocessing.py, which makes each digit's ink an MNIST image."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np

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
# The paper estimate's disc, on the 32 px copy: strokes up to 13/32 of the picture wide are
# ink, not paper (thick ink cropped tight to a box, as on a scanned form).
_DISC = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (13, 13))


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
        image = resize(image, MAX_INPUT_SIDE / max(image.shape[:2]))
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


def resize(image: np.ndarray, scale: float) -> np.ndarray:
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

    The estimate is a grey-level opening that wipes out strokes narrower than about two fifths of
    the picture. It is judged only on paper pixels away from the ink (the anti-aliased rim of a
    thick stroke is neither ink nor paper); where it is flat there, a thick blob of ink, which
    the opening would take for paper, is kept whole.
    """
    if min(small.shape) < 7:
        return None
    paper = cv2.morphologyEx(small, cv2.MORPH_OPEN, _DISC, borderType=cv2.BORDER_REPLICATE)
    on_paper = paper[cv2.dilate(ink_small, _SQUARE_3x3) == 0]
    low, high = _percentiles(on_paper, 2, 98) if on_paper.size else (0, 0)
    return None if high - low <= FLAT_PAPER else paper

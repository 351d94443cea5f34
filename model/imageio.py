"""Image files and bytes -> one grey uint8 array that `preprocessing.preprocess` accepts.

One decoding path, Pillow, for every format; one output type, (H, W) uint8 grey. Every odd
file people upload is either decoded correctly or refused with an ImageReadError whose
message can be shown as is: too big (bytes or pixels, checked from the header before
decoding, so a decompression bomb never expands), truncated, not an image, animated (first
frame used), 16-bit, palette, CMYK, transparent, or a phone photo stored sideways (its EXIF
rotation is applied).

Memory stays bounded whatever arrives: a JPEG is decoded by libjpeg at a reduced scale
(1/2 to 1/8, so a 48-megapixel phone photo costs what a 3-megapixel one does), every other
format is limited to MAX_PIXELS, and colour is turned into grey as early as possible.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from model.ink import MAX_INPUT_SIDE, composite_on_paper

MAX_FILE_BYTES = 20 * 1024 * 1024  # 20 MB: a generous phone photo
# Formats decoded at full size: at most this many pixels (a 300 dpi scan of a whole page, a
# 4K screenshot). Colour costs up to 4 bytes a pixel, and some decoders copy it once more.
MAX_PIXELS = 12_000_000
# JPEGs are decoded at reduced scale, so they may be larger: a 100-megapixel photo costs what
# a 1-megapixel one does. WebP's decoder keeps two RGBA copies of the picture: fewer pixels.
MAX_JPEG_PIXELS = 100_000_000
FORMAT_PIXEL_LIMITS = {"JPEG": MAX_JPEG_PIXELS, "WEBP": 8_000_000}
# What the preprocessing looks at: libjpeg's reduced decoding picks the smallest scale that
# still gives at least this many pixels on the longest side.
DECODED_SIDE = MAX_INPUT_SIDE
# Pillow's own bomb guard, set to the largest figure: it raises past twice this. Between once
# and twice it only warns; read_image refuses those images itself right after the header.
Image.MAX_IMAGE_PIXELS = MAX_JPEG_PIXELS
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


class ImageReadError(ValueError):
    """The file or bytes are not an image this app can read; the message says why."""


def read_image(source: str | os.PathLike | bytes) -> np.ndarray:
    """Decode an image file or its bytes into grey.

    Args:
        source: a path, or the file's bytes (PNG, JPEG, GIF, BMP, WebP, TIFF, ...).
    Returns:
        (H, W) uint8 grey, upright. Transparent paper is composited onto whichever of black
        or white contrasts with the ink, so ink on a transparent canvas keeps its contrast.
        A large JPEG comes back reduced (longest side at least DECODED_SIDE).
    Raises:
        ImageReadError: with a message for people.
    """
    data = _read_bytes(source)
    if len(data) == 0:
        raise ImageReadError("the file is empty")
    try:
        with Image.open(io.BytesIO(data)) as image:
            _check_size(image)
            image.seek(0)  # animated GIF/PNG/WebP: the first frame
            if image.format == "JPEG":
                # libjpeg decodes at 1/2, 1/4 or 1/8 scale directly, in grey: a fraction of
                # the memory and time of a full decode.
                scale = max(1, max(image.size) // DECODED_SIDE)
                image.draft("L", (max(1, image.size[0] // scale), max(1, image.size[1] // scale)))
            image.load()
            orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
            gray = _to_gray(image)
    except ImageReadError:
        raise
    except UnidentifiedImageError:
        raise ImageReadError(
            "this is not a picture that can be read: save it as PNG or JPEG and try again"
        ) from None
    except Image.DecompressionBombError:
        raise ImageReadError(_too_many_pixels(MAX_JPEG_PIXELS)) from None
    except (
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
        IndexError,
        TypeError,
        ArithmeticError,
    ) as error:
        # Pillow reports truncated or corrupt data with any of these.
        raise ImageReadError(f"the image is damaged or truncated ({error})") from None
    if orientation in _UPRIGHT:  # a phone photo stored sideways: turn the grey copy
        gray = np.asarray(Image.fromarray(gray).transpose(_UPRIGHT[orientation]))
    return gray


# EXIF orientation -> the transposition that makes the picture upright (as ImageOps does).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _check_size(image: Image.Image) -> None:
    """Refuse, from the header alone, an image too large to decode."""
    width, height = image.size
    if width == 0 or height == 0:
        raise ImageReadError("the image has no pixels")
    limit = FORMAT_PIXEL_LIMITS.get(image.format, MAX_PIXELS)
    if width * height > limit:
        raise ImageReadError(
            f"the image is {width}x{height} pixels; " + _too_many_pixels(limit, image.format)
        )


def _too_many_pixels(limit: int, kind: str | None = None) -> str:
    what = f"{kind} images" if kind else "images"
    return f"the limit for {what} is {limit // 1_000_000} megapixels"


def _to_gray(image: Image.Image) -> np.ndarray:
    """Any Pillow mode -> (H, W) uint8 grey, transparent paper composited."""
    mode = image.mode
    if mode == "L":
        return np.asarray(image)
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        return _rescaled(image)
    if mode in ("LA", "La", "PA", "RGBA", "RGBa") or "transparency" in image.info:
        if mode not in ("LA", "RGBA"):
            image = image.convert("RGBA")
        alpha = np.asarray(image.getchannel("A"))
        return composite_on_paper(np.asarray(image.convert("L")), alpha)
    # 1, P, RGB, CMYK, YCbCr, LAB, HSV, ...: Pillow knows how to make grey of them.
    return np.asarray(image.convert("L"))


def _rescaled(image: Image.Image) -> np.ndarray:
    """16-bit, 32-bit integer or float grey -> 0..255, without float copies of the image."""
    values = np.asarray(image)
    values = values.astype(values.dtype.newbyteorder("="), copy=False)  # I;16B is big-endian
    if values.dtype.kind == "f":
        values = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
    low, peak = cv2.minMaxLoc(values)[:2]
    if image.mode.startswith("I;16") or (image.mode == "I" and peak > 255):
        top = max(65535.0, peak)
    elif image.mode == "F" and peak <= 1.0:
        top = 1.0
    else:
        top = 255.0
    low = min(0.0, low)
    scale = 255.0 / (top - low)
    return cv2.convertScaleAbs(values, alpha=scale, beta=-low * scale)


def _read_bytes(source: str | os.PathLike | bytes) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        if len(data) > MAX_FILE_BYTES:
            raise ImageReadError(_too_big(len(data)))
        return data
    path = Path(source)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ImageReadError(_too_big(size))
        if not path.is_file():
            raise ImageReadError("not a file")
        return path.read_bytes()
    except FileNotFoundError:
        raise ImageReadError("no such file") from None
    except (IsADirectoryError, PermissionError, OSError) as error:
        raise ImageReadError(f"cannot read the file ({error.strerror or error})") from None


def _too_big(size: int) -> str:
    return f"the file is {size / 2**20:.1f} MB; the limit is {MAX_FILE_BYTES // 2**20} MB"


def read_preview(source: str | os.PathLike | bytes, side: int) -> np.ndarray:
    """A picture in its colours for display, upright, its longest side at most `side`:
    (h, w, 3) uint8 RGB. Call it after `read_image` has accepted the picture.

    Raises:
        ImageReadError: with a message for people.
    """
    try:
        with Image.open(io.BytesIO(_read_bytes(source))) as image:
            _check_size(image)
            image.seek(0)
            image.draft("RGB", (side, side))  # a JPEG decodes at a fraction of its size
            upright = ImageOps.exif_transpose(image).convert("RGB")
            upright.thumbnail((side, side))
            return np.asarray(upright)
    except ImageReadError:
        raise
    except Exception as error:  # Pillow's many ways of saying "damaged"
        raise ImageReadError(f"the image is damaged or truncated ({error})") from None

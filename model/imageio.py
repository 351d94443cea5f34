"""Image files and bytes -> uint8 arrays that `preprocessing.preprocess` accepts.

Every odd file people upload is either decoded correctly or refused with an ImageReadError
whose message can be shown as is: too big (bytes or pixels, checked before decoding, so a
decompression bomb never expands), truncated, not an image, animated (first frame used),
16-bit, palette, CMYK, or a phone photo stored sideways (its EXIF rotation is applied).
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

try:
    import pyspng  # libspng: the fastest PNG decoder with wheels for Python
except ImportError:  # a platform without its wheel: OpenCV decodes instead
    pyspng = None
try:
    from zlib_ng import zlib_ng  # inflates three times faster than zlib
except ImportError:
    zlib_ng = None

MAX_FILE_BYTES = 20 * 1024 * 1024  # 20 MB: a generous phone photo
MAX_PIXELS = 50_000_000  # 50 megapixels, checked from the header before decoding
# Pillow's own bomb guard, set to the same figure: it raises past twice this. Between once and
# twice it only warns, and read_image refuses those images itself right after reading the
# header, so the warning says nothing new.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
# OpenCV's decoder logs a warning for every damaged PNG; those are answered with a message of
# our own (through Pillow), so only its errors are worth logging.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_COLOURS = (0, 2, 6)  # grey, RGB, RGBA


class ImageReadError(ValueError):
    """The file or bytes are not an image this app can read; the message says why."""


def read_image(source: str | os.PathLike | bytes) -> np.ndarray:
    """Decode an image file or its bytes.

    Args:
        source: a path, or the file's bytes (PNG, JPEG, GIF, BMP, WebP, TIFF, ...).
    Returns:
        uint8 array: (H, W) grey, (H, W, 3) RGB or (H, W, 4) RGBA, upright. (An opaque
        colour PNG may come back grey: preprocessing only needs the grey.)
    Raises:
        ImageReadError: with a message for people.
    """
    data = _read_bytes(source)
    if len(data) == 0:
        raise ImageReadError("the file is empty")
    plain = _decode_plain_png(data)
    if plain is not None:
        return plain
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageReadError(
                    f"the image is {width}x{height} pixels; the limit is "
                    f"{MAX_PIXELS // 1_000_000} megapixels"
                )
            if width == 0 or height == 0:
                raise ImageReadError("the image has no pixels")
            image.seek(0)  # animated GIF/PNG/WebP: the first frame
            image.load()
            image = ImageOps.exif_transpose(image)  # phone photos stored sideways
            return _to_uint8(image)
    except ImageReadError:
        raise
    except UnidentifiedImageError:
        raise ImageReadError("this is not an image file Pillow can read") from None
    except Image.DecompressionBombError:
        raise ImageReadError(
            f"the image is larger than {MAX_PIXELS // 1_000_000} megapixels"
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError) as error:
        # Pillow reports truncated or corrupt data with any of these.
        raise ImageReadError(f"the image is damaged or truncated ({error})") from None


def _decode_plain_png(data: bytes) -> np.ndarray | None:
    """The fast path for what the drawing canvas sends: an 8-bit grey, RGB or RGBA PNG,
    not interlaced, without EXIF, decoded straight into an array (`_decode_simple_png`, else
    libspng), and an opaque one comes back grey. The size is checked from the header first.
    Anything else, or any failure, returns None and goes through Pillow, which says what is
    wrong.
    """
    if len(data) < 33 or not data.startswith(_PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    depth, colour, interlace = data[24], data[25], data[28]
    if depth != 8 or colour not in _PNG_COLOURS or interlace or b"eXIf" in data:
        return None
    if not 0 < width * height <= MAX_PIXELS:
        return None
    image = _decode_simple_png(data, width, height, colour)
    if image is None:
        image = _decode_png(data)
    if image is None or image.shape[:2] != (height, width) or image.dtype != np.uint8:
        return None
    if image.ndim == 2:
        return image
    if image.shape[2] == 4 and cv2.minMaxLoc(cv2.extractChannel(image, 3))[0] < 255:
        return image
    # Opaque (as the app's canvas is): grey is all that is needed, and a quarter of the data.
    return cv2.cvtColor(image, cv2.COLOR_RGBA2GRAY if image.shape[2] == 4 else cv2.COLOR_RGB2GRAY)


def _decode_simple_png(data: bytes, width: int, height: int, colour: int) -> np.ndarray | None:
    """Decode a PNG whose rows are all filtered with None, Sub or Up (OpenCV writes Sub),
    vectorised: inflating is most of a PNG's decoding time, and zlib-ng does it three times
    faster than the zlib inside the decoders. None for anything else (other filters, tRNS,
    damage), which then goes to the full decoder.

    Returns:
        (height, width) grey, or (height, width, 3 or 4) RGB(A), uint8.
    """
    if zlib_ng is None:
        return None
    channels = {0: 1, 2: 3, 6: 4}[colour]
    parts, position = [], 8
    while position + 12 <= len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        kind = data[position + 4 : position + 8]
        if kind == b"IDAT":
            parts.append(data[position + 8 : position + 8 + length])
        elif kind == b"tRNS":
            return None
        elif kind == b"IEND":
            break
        position += 12 + length
    stride = width * channels
    try:
        raw = zlib_ng.decompressobj().decompress(b"".join(parts), height * (stride + 1))
    except zlib_ng.error:
        return None
    if len(raw) != height * (stride + 1):
        return None
    rows = np.frombuffer(raw, np.uint8).reshape(height, stride + 1)
    filters, filtered = rows[:, 0], rows[:, 1:]
    if filters.max() > 2:  # Average or Paeth: sequential along the row
        return None
    image = filtered.copy()
    sub = filters == 1
    if sub.any():  # each byte plus the same channel's byte to its left, wrapping at 256
        pixels = filtered[sub].reshape(-1, width, channels)
        image[sub] = np.cumsum(pixels, axis=1, dtype=np.uint8).reshape(-1, stride)
    up_rows = np.flatnonzero(filters == 2)
    if up_rows.size:  # each byte plus the byte above: runs of Up rows accumulate downwards
        starts = up_rows[np.r_[True, np.diff(up_rows) > 1]]
        ends = up_rows[np.r_[np.diff(up_rows) > 1, True]] + 1
        for start, end in zip(starts, ends):
            above = image[start - 1] if start > 0 else np.zeros(stride, np.uint8)
            image[start:end] = np.cumsum(filtered[start:end], axis=0, dtype=np.uint8) + above
    return image.reshape(height, width) if channels == 1 else image.reshape(height, width, channels)


def _decode_png(data: bytes) -> np.ndarray | None:
    """PNG bytes -> RGB(A) or grey array with libspng (a third faster than libpng here),
    else OpenCV; None when the data is damaged."""
    if pyspng is not None:
        try:
            return pyspng.load(data)
        except RuntimeError:
            return None
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None or image.ndim == 2:
        return image
    return cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA if image.shape[2] == 4 else cv2.COLOR_BGR2RGB)


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


def _to_uint8(image: Image.Image) -> np.ndarray:
    """Any Pillow mode -> uint8 grey, RGB or RGBA."""
    mode = image.mode
    if mode in ("L", "RGB", "RGBA"):
        return np.asarray(image)
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        # 16-bit, 32-bit integer or float grey: rescale to 0..255.
        values = np.asarray(image, dtype=np.float64)
        values = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
        if mode.startswith("I;16") or (mode == "I" and values.max(initial=0) > 255):
            top = 65535.0 if values.max(initial=0) <= 65535 else values.max()
        elif mode == "F" and values.max(initial=0) <= 1.0:
            top = 1.0
        else:
            top = 255.0
        values = np.clip(values - min(0.0, values.min(initial=0)), 0, top)
        return (values * (255.0 / top) + 0.5).astype(np.uint8)
    if mode in ("P", "PA", "LA", "RGBa", "La") or "transparency" in image.info:
        return np.asarray(image.convert("RGBA"))
    # 1, CMYK, YCbCr, LAB, HSV, ...: Pillow knows how to make RGB of them.
    return np.asarray(image.convert("RGB"))

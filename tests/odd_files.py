"""Every kind of odd image file people upload, made on the fly: bytes plus what a correct
reader must do with them (the digit it shows, or the start of the error it must give)."""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass

import numpy as np
from PIL import Image

from harness.digit_paths import draw_digit
from model.imageio import MAX_FILE_BYTES


@dataclass(frozen=True)
class OddFile:
    name: str
    content: bytes
    digit: int | None = None  # the digit it shows, when readable
    error: str | None = None  # words the error message must contain, when not


def _gray(digit: int, size: int = 280, brush: int = 18) -> np.ndarray:
    """Black ink on white paper, (size, size) uint8."""
    return draw_digit(digit, "black_on_white", size=size, brush=brush)[:, :, 0]


def _save(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def png_bomb(width: int, height: int) -> bytes:
    """A valid, tiny PNG that decodes to width x height grey pixels (all zero)."""
    raw = zlib.compress(b"\0" * (width + 1) * min(height, 64), 9)  # a few rows suffice

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def exif_rotated_jpeg(digit: int) -> bytes:
    """A phone photo stored sideways: pixels rotated, EXIF orientation 6 says turn them back."""
    upright = Image.fromarray(_gray(digit, 400, 26)).convert("RGB")
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # what the sensor wrote
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 clockwise to display
    return _save(stored, "JPEG", exif=exif, quality=92)


def animated_gif(first: int, second: int) -> bytes:
    frames = [
        Image.fromarray(_gray(first)).convert("P"),
        Image.fromarray(_gray(second)).convert("P"),
    ]
    buffer = io.BytesIO()
    frames[0].save(
        buffer, format="GIF", save_all=True, append_images=frames[1:], duration=200, loop=0
    )
    return buffer.getvalue()


def readable_files() -> list[OddFile]:
    """Odd but valid files, each showing a digit that must be read right."""
    gray = Image.fromarray(_gray(3))
    sixteen = Image.fromarray(_gray(4).astype(np.uint16) * 257)  # mode I;16
    palette = Image.fromarray(_gray(5)).convert("RGB").convert("P", palette=Image.Palette.ADAPTIVE)
    transparent = Image.fromarray(draw_digit(6, "black_on_transparent"))
    cmyk = Image.fromarray(_gray(2)).convert("RGB").convert("CMYK")
    large = Image.fromarray(_gray(7, size=4000, brush=260))
    return [
        OddFile("grey.png", _save(gray, "PNG"), 3),
        OddFile("sixteen_bit.png", _save(sixteen, "PNG"), 4),
        OddFile("palette.png", _save(palette, "PNG"), 5),
        OddFile("transparent.png", _save(transparent, "PNG"), 6),
        OddFile(
            "palette_transparent.png",
            _save(transparent.convert("P", palette=Image.Palette.ADAPTIVE), "PNG"),
            6,
        ),
        OddFile("cmyk.jpg", _save(cmyk, "JPEG", quality=95), 2),
        OddFile("phone_photo.jpg", exif_rotated_jpeg(7), 7),
        OddFile("animated.gif", animated_gif(8, 1), 8),
        OddFile("jpeg_named.png", _save(gray.convert("RGB"), "JPEG", quality=90), 3),
        OddFile("scan.bmp", _save(gray, "BMP"), 3),
        OddFile("scan.tif", _save(gray, "TIFF"), 3),
        OddFile("photo.webp", _save(gray.convert("RGB"), "WEBP", quality=90), 3),
        OddFile("one_bit.png", _save(gray.convert("1"), "PNG"), 3),
        OddFile("large_3000px.png", _save(large.resize((3000, 3000)), "PNG"), 7),
        OddFile("photo_6000px.jpg", _save(large.resize((6000, 6000)), "JPEG", quality=85), 7),
    ]


def unreadable_files() -> list[OddFile]:
    """Files that must be refused with a clear message."""
    png = _save(Image.fromarray(_gray(9)), "PNG")
    jpeg = _save(Image.fromarray(_gray(9)).convert("RGB"), "JPEG")
    return [
        OddFile(
            "notes.png", b"Shopping list: eggs, milk\n", error="not a picture that can be read"
        ),
        OddFile("truncated.png", png[: len(png) // 2], error="damaged or truncated"),
        OddFile("truncated.jpg", jpeg[: len(jpeg) // 2], error="damaged or truncated"),
        OddFile("empty.png", b"", error="empty"),
        OddFile("bomb.png", png_bomb(30_000, 30_000), error="megapixels"),
        OddFile("scan_4000px.png", png_bomb(4000, 4000), error="megapixels"),
        OddFile("huge_header.png", png_bomb(70_000, 1_000), error="megapixels"),
        OddFile(
            "too_big.png", b"\x89PNG\r\n\x1a\n" + b"\0" * (MAX_FILE_BYTES + 1), error="the limit is"
        ),
        OddFile("garbage.jpg", b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8, error="picture"),
    ]

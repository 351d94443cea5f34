"""Peak memory of `python -m model.predict` on the largest files people send.

    python -m benchmarks.memory

Each file is classified by its own `python -m model.predict` process; its peak resident
memory (the kernel's high-water mark, from wait4) is reported. The files: a 7000x7000 drawing
as PNG and as JPEG (a few hundred KB each, tens of megapixels once decoded), and the largest
picture of each kind that is accepted (at the pixel limits of model/imageio.py), in its
costliest form (RGBA, 16-bit). Target: at most 250 MB for any file that is accepted.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from benchmarks.machine import describe
from model.imageio import FORMAT_PIXEL_LIMITS, MAX_PIXELS

REPO = Path(__file__).resolve().parents[1]
TARGET_MB = 250


def drawing(width: int, height: int) -> np.ndarray:
    """A 7 written with a thick marker on white paper: (height, width) uint8."""
    paper = np.full((height, width), 255, np.uint8)
    pen = max(3, min(width, height) // 25)
    points = np.array([[0.2, 0.15], [0.8, 0.15], [0.45, 0.9]]) * (width, height)
    cv2.polylines(paper, [points.astype(np.int32)], False, 0, pen, cv2.LINE_AA)
    return paper


def encoded(gray: np.ndarray, fmt: str, mode: str, **options) -> bytes:
    image = Image.fromarray(gray)
    if mode == "RGBA":  # ink on transparent paper
        image = Image.merge("RGBA", [image] * 3 + [Image.fromarray(255 - gray)])
    elif mode == "I;16":
        image = Image.fromarray(gray.astype(np.uint16) * 257)
    elif mode != "L":
        image = image.convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def side_for(pixels: int, aspect: float = 4 / 3) -> tuple[int, int]:
    """Width and height of a picture of `pixels` pixels (at most) and the given aspect."""
    height = int((pixels / aspect) ** 0.5)
    return int(height * aspect), height


def cases() -> list[tuple[str, bytes]]:
    png_w, png_h = side_for(MAX_PIXELS)
    webp_w, webp_h = side_for(FORMAT_PIXEL_LIMITS["WEBP"])
    jpeg_w, jpeg_h = side_for(FORMAT_PIXEL_LIMITS["JPEG"])
    big = drawing(7000, 7000)
    return [
        ("7000x7000 drawing, PNG", encoded(big, "PNG", "L", optimize=True)),
        ("7000x7000 drawing, JPEG", encoded(big, "JPEG", "RGB", quality=90)),
        (f"{png_w}x{png_h} RGBA PNG (pixel limit)", encoded(drawing(png_w, png_h), "PNG", "RGBA")),
        (f"{png_w}x{png_h} 16-bit PNG", encoded(drawing(png_w, png_h), "PNG", "I;16")),
        (
            f"{png_w}x{png_h} RGB TIFF",
            encoded(drawing(png_w, png_h), "TIFF", "RGB", compression="tiff_deflate"),
        ),
        (
            f"{webp_w}x{webp_h} RGBA WebP (its limit)",
            encoded(drawing(webp_w, webp_h), "WEBP", "RGBA", lossless=True),
        ),
        (
            f"{jpeg_w}x{jpeg_h} JPEG (its limit)",
            encoded(drawing(jpeg_w, jpeg_h), "JPEG", "RGB", quality=80),
        ),
        ("280x280 canvas PNG", encoded(drawing(280, 280), "PNG", "RGBA")),
    ]


# A small process that starts the command and reports its peak RSS (KB) on stderr. The
# command is not started from this process directly: a child's peak would then count this
# process's memory (the pictures made here), which it shares until it execs.
LAUNCHER = """import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, "-m", "model.predict", sys.argv[1]])
_, _, usage = os.wait4(pid, 0)
print(usage.ru_maxrss, file=sys.stderr)
"""


def peak_mb(path: Path) -> tuple[float, str]:
    """Run the predict command on one file: (its peak RSS in MB, its answer)."""
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, str(path)], cwd=REPO, capture_output=True, text=True
    )
    peak_kb = int(done.stderr.strip().splitlines()[-1])
    return peak_kb / 1024, done.stdout.strip().split(": ", 1)[-1]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.parse_args()
    print("Peak memory of python -m model.predict, one process per file")
    print(f"machine: {describe()}")
    worst = 0.0
    with tempfile.TemporaryDirectory(prefix="memory-") as folder:
        for name, content in cases():
            path = Path(folder) / name.split(" ")[0].replace("x", "_")
            path.write_bytes(content)
            mb, answer = peak_mb(path)
            accepted = not answer.startswith("error")
            if accepted:
                worst = max(worst, mb)
            print(f"  {name:<38} {len(content) / 1024:8.0f} KB  peak {mb:6.0f} MB  {answer}")
    verdict = "met" if worst <= TARGET_MB else "NOT met"
    print(
        f"largest peak for an accepted file: {worst:.0f} MB (target <= {TARGET_MB} MB: {verdict})"
    )
    return 0 if worst <= TARGET_MB else 1


if __name__ == "__main__":
    sys.exit(main())

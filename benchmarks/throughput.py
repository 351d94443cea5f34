"""`python -m model.predict --json` on thousands of canvas PNGs: images per second after
start-up, and the start-up time.

    python -m benchmarks.throughput            # 5,000 drawings
    python -m benchmarks.throughput --n 10000 --model ann

Start-up is the median wall time of the command on one image (interpreter start, imports,
model load, one image). Throughput is the remaining images divided by the remaining time of
one call on all N images.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.machine import describe
from harness import PEN_DIGITS
from model.strokes import drawings, encode_png, load_pen_digits

REPO = Path(__file__).resolve().parents[1]


def run(paths: list[Path], model: str) -> tuple[float, list[dict]]:
    command = [sys.executable, "-m", "model.predict", "--json", "--model", model]
    started = time.perf_counter()
    done = subprocess.run(
        command + [str(p) for p in paths], cwd=REPO, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"model.predict failed: {done.stderr}")
    return seconds, [json.loads(line) for line in done.stdout.splitlines()]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--n", type=int, default=5000, help="images")
    parser.add_argument("--model", choices=["cnn", "ann"], default="cnn", help="network")
    args = parser.parse_args()

    pen_digits = load_pen_digits(PEN_DIGITS)
    digits = (pen_digits * (args.n // len(pen_digits) + 1))[: args.n]
    with tempfile.TemporaryDirectory(prefix="throughput-") as folder:
        paths = []
        for index, (_, pen, rgba) in enumerate(drawings(digits)):
            path = Path(folder) / f"{index:05d}_{pen.style}.png"
            path.write_bytes(encode_png(rgba))
            paths.append(path)
        startup = statistics.median(run(paths[:1], args.model)[0] for _ in range(5))
        total, results = run(paths, args.model)

    assert len(results) == len(paths)
    right = sum(r.get("digit") == d.label for r, d in zip(results, digits))
    rate = (len(paths) - 1) / max(total - startup, 1e-9)
    print(f"model.predict --json --model {args.model} on {len(paths)} canvas PNGs (280x280)")
    print(f"machine: {describe()}")
    print(f"start-up (one image, median of 5): {startup:.2f} s")
    print(f"all {len(paths)} images in one call: {total:.2f} s")
    print(f"throughput after start-up: {rate:,.0f} images/s")
    print(f"accuracy on these drawings: {right / len(paths):.2%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Real-browser accuracy: real pen-stroke digits drawn with the mouse on the app's canvas.

    python -m benchmarks.browser_accuracy           # 50 digits
    python -m benchmarks.browser_accuracy --n 100 --seed 1

A seeded random sample of the UNIPEN digits (all of them eligible, multi-stroke included) is
drawn stroke by stroke, each 45-85% of the canvas high at a random place, with the app's
default brush. After the last stroke the page's "Prediction (CNN)" metric is read. A hedged
answer ("4 or 9?") counts as wrong.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from benchmarks.machine import describe
from harness import PEN_DIGITS
from harness.browser import chromium, clear, draw_and_wait, open_page, running
from model.strokes import load_pen_digits, pen_for, place_strokes


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--n", type=int, default=50, help="digits to draw")
    parser.add_argument("--seed", type=int, default=0, help="which digits")
    args = parser.parse_args()

    digits = load_pen_digits(PEN_DIGITS)
    picks = np.random.default_rng(args.seed).choice(len(digits), args.n, replace=False)
    rows = []
    with running("app.py") as server, chromium() as browser:
        page = open_page(browser, server.url)
        for index in picks:
            digit = digits[index]
            shown = draw_and_wait(page, place_strokes(digit, pen_for(int(index))))
            rows.append((int(index), digit.label, shown.get("Prediction (CNN)")))
            clear(page)
        tracebacks = server.log().count("Traceback")

    right = sum(shown == str(label) for _, label, shown in rows)
    print(
        f"Real-browser accuracy: {args.n} UNIPEN digits (seed {args.seed}) drawn with the "
        "mouse on the app's canvas, Chromium headless"
    )
    print(f"machine: {describe()}")
    for index, label, shown in rows:
        if shown != str(label):
            print(f"  digit #{index}: drawn {label}, page shows {shown!r}")
    print(f"RIGHT: {right} of {len(rows)}")
    print(f"server tracebacks: {tracebacks}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

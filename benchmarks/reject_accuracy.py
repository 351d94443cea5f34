"""Letters declined as "not a digit": real pen-stroke letters by writers the models never saw.

    python -m benchmarks.reject_accuracy               # every held-out letter
    python -m benchmarks.reject_accuracy --limit 2000

The letters of ../shared/data/letters_dev.jsonl.gz by the threshold writers (a fifth of
the writers, training/reject_data.py: writer_role: their letters never trained the model; their
digits chose its threshold) are drawn as canvas PNGs the way benchmarks/canvas_accuracy.py
draws digits, and read by `python -m model.predict --json` (and as the app reads its
canvas, with the pen's strokes). Reported: the share declined ("not_digit": true) of the
letters that look like no digit (A E F H K M N P R W X f h k m n r w x), per letter; and,
for the record, how the letters that many people write like digits (O l S Z ...) are
answered. Also: numbers of 2-5 characters by the same writers with one of those letters
inside (model/strokes.py: write_numbers), which must be declined whole ("number": null).
Real digits declined: `python -m benchmarks.canvas_accuracy`; numbers: `python -m
benchmarks.number_accuracy`. These writers' sources trained the model: on sources it never
saw, letters and digits declined are measured by `python -m benchmarks.leave_source_out`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

from benchmarks.machine import describe
from benchmarks.predict import canvas_reader, predict_json
from harness import PEN_DIGITS
from model.canvas import PenStrokes
from model.strokes import (
    drawings,
    encode_png,
    load_pen_digits,
    place_strokes,
    write_numbers,
)
from training.reject_data import writer_role

REPO = Path(__file__).resolve().parents[1]
LETTERS = PEN_DIGITS.parent / "letters_dev.jsonl.gz"
NO_DIGIT_LOOK = set("AEFHKMNPRWXfhkmnrwx")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--limit", type=int, default=None, help="at most this many letters")
    parser.add_argument("--numbers", type=int, default=600, help="numbers with a letter inside")
    args = parser.parse_args()

    letters = [item for item in load_pen_digits(LETTERS) if writer_role(item) == "threshold"][
        : args.limit
    ]
    digits = [d for d in load_pen_digits(PEN_DIGITS) if writer_role(d) == "threshold"]
    clear_letters = [item for item in letters if item.label in NO_DIGIT_LOOK]
    with tempfile.TemporaryDirectory(prefix="letters-") as folder:
        paths, letters_on_canvas = [], []
        read_canvas = canvas_reader()
        for index, (item, pen, rgba) in enumerate(drawings(letters, seed=7)):
            strokes = PenStrokes(tuple(place_strokes(item, pen)), float(pen.brush))
            letters_on_canvas.append(read_canvas(rgba, strokes).not_digit)
            path = Path(folder) / f"{index:05d}.png"
            path.write_bytes(encode_png(rgba))
            paths.append(path)
        number_paths, on_canvas = [], []
        written = write_numbers(digits, args.numbers, 7, (2, 3, 4, 5), clear_letters)
        for index, (_, rgba, _, strokes) in enumerate(written):
            on_canvas.append(read_canvas(rgba, strokes).number is None)
            path = Path(folder) / f"number_{index:05d}.png"
            path.write_bytes(encode_png(rgba))
            number_paths.append(path)
        results = predict_json(paths + number_paths)
    results, number_results = results[: len(paths)], results[len(paths) :]

    declined = defaultdict(list)
    for item, result in zip(letters, results):
        declined[item.label].append(bool(result.get("not_digit")))
    clear = [d for label in NO_DIGIT_LOOK for d in declined.get(label, [])]
    others = [d for label, ds in declined.items() if label not in NO_DIGIT_LOOK for d in ds]
    print(f"Letters by the threshold writers (never trained on): {len(letters)}")
    print(f"machine: {describe()}")
    print(
        f"\nletters that look like no digit, declined: {np.mean(clear):.2%} "
        f"({sum(clear)}/{len(clear)})"
    )
    print("  " + "  ".join(f"{k} {np.mean(declined[k]):.0%}" for k in sorted(NO_DIGIT_LOOK)))
    clear_on_canvas = [
        d for d, item in zip(letters_on_canvas, letters) if item.label in NO_DIGIT_LOOK
    ]
    print(
        f"  the same, as the app reads the canvas (picture and strokes): "
        f"{np.mean(clear_on_canvas):.2%} ({sum(clear_on_canvas)}/{len(clear_on_canvas)})"
    )
    print(
        f"other letters (many written like digits: O l S Z b g q ...), declined: "
        f"{np.mean(others):.2%} ({sum(others)}/{len(others)})"
    )
    print(
        "  "
        + "  ".join(
            f"{k} {np.mean(v):.0%}" for k, v in sorted(declined.items()) if k not in NO_DIGIT_LOOK
        )
    )
    whole = [r.get("number") is None for r in number_results]
    print(
        f"numbers of 2-5 with one such letter inside, declined: {np.mean(whole):.2%} "
        f"({sum(whole)}/{len(whole)}) as pictures (python -m model.predict), "
        f"{np.mean(on_canvas):.2%} ({sum(on_canvas)}/{len(on_canvas)}) as the app reads the "
        "canvas (picture and strokes)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

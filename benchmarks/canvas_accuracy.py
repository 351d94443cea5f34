"""Accuracy on real drawings: UNIPEN pen-stroke digits drawn as canvas PNGs, classified by
`python -m model.predict --json`, exactly as a user of the command would.

    python -m benchmarks.canvas_accuracy                 # all 6,929 digits, CNN
    python -m benchmarks.canvas_accuracy --model ann --limit 1000 --naive
    python -m benchmarks.canvas_accuracy --small         # written small, as on a phone

Each digit is drawn on a 280x280 canvas with a round brush 12-26 px wide, 45-85% of the
canvas high at a random place, styles cycling through white on black, black on white and
black on transparent (model/strokes.py; seeded, so every run draws the same images).
The PNGs are read by the predict command; the same drawings are also read as the app reads
its canvas, the picture with the pen's strokes (`benchmarks/predict.py: canvas_reader`),
which only matters where the ink might be several digits: how often a single digit is read
as several, both ways. Prints the accuracy overall, per half of the writers (the served CNN
was fine-tuned on one half's digits: the other half's figure is the one on new writers), per
style, per UNIPEN source and per digit. With --small, also apart for the digits the reader
names right at the normal size (`benchmarks/predict.py: read_alone`): what the small size
costs. --naive adds, for comparison, the same model on the whole canvas resized to 28x28
(what most demos do).
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

from benchmarks.predict import canvas_reader, predict_json, read_alone, split_by_alone
from harness import PEN_DIGITS
from model.canvas import PenStrokes
from model.strokes import (
    SMALL,
    STYLES,
    drawings,
    encode_png,
    load_pen_digits,
    place_strokes,
    writer_half,
)

REPO = Path(__file__).resolve().parents[1]
HALVES = ("writers fine-tuned on", "writers never trained on")


def naive_digit(rgba: np.ndarray) -> np.ndarray:
    """The whole canvas squashed to 28x28, ink made bright: what most demos feed the model."""
    gray = cv2.cvtColor(rgba[:, :, :3], cv2.COLOR_RGB2GRAY).astype(np.float32)
    alpha = rgba[:, :, 3].astype(np.float32) / 255
    composite = 255 - (255 - gray) * alpha  # transparent paper shows as white
    if np.median(composite) > 127:
        composite = 255 - composite
    small = cv2.resize(composite, (28, 28), interpolation=cv2.INTER_AREA)
    return (small / 255).astype(np.float32)


def report(title: str, groups: dict[str, list[bool]]) -> None:
    print(f"\n{title}")
    for key in sorted(groups):
        hits = groups[key]
        print(f"  {key:<22} {np.mean(hits):8.2%}  ({sum(hits)}/{len(hits)})")


def report_canvas(on_canvas: list, digits: list, alone) -> None:
    """The figures as the app reads its canvas: the picture with the strokes beside it."""
    canvas_hits = np.array([r.number == str(d.label) for r, d in zip(on_canvas, digits)])
    canvas_sure = canvas_hits & ~np.array([r.unsure for r in on_canvas])
    print(
        f"\nread as the app reads the canvas (picture and strokes): {canvas_hits.mean():.2%} "
        f"right, {sum(len(r.digits) > 1 for r in on_canvas)} read as several, "
        f"{sum(r.not_digit for r in on_canvas)} declined, "
        f"{sum(any(d.dot for d in r.digits) for r in on_canvas)} called a dot; "
        f"right and sure {canvas_sure.mean():.2%} ({canvas_sure.sum()}/{len(digits)})"
    )
    if alone is not None:
        print(f"  right and sure, digits {split_by_alone(canvas_sure, alone, 'at normal size')}")
    canvas_by_half = defaultdict(list)
    for hit, digit in zip(canvas_sure, digits):
        canvas_by_half[HALVES[writer_half(digit.source, digit.writer)]].append(bool(hit))
    report("read as the app reads the canvas, right and sure, per writer half", canvas_by_half)


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--model", choices=["cnn", "ann"], default="cnn", help="network")
    parser.add_argument("--data", type=Path, default=PEN_DIGITS, help="UNIPEN .jsonl.gz")
    parser.add_argument("--limit", type=int, default=None, help="only the first N digits")
    parser.add_argument("--seed", type=int, default=0, help="drawing seed")
    parser.add_argument(
        "--small",
        action="store_true",
        help="digits 12-20%% of the canvas high with a 12-18 px brush, as on a phone",
    )
    parser.add_argument(
        "--naive",
        action="store_true",
        help="also score the whole-canvas resize with the same model",
    )
    return parser.parse_args()


def main() -> int:
    args = parse()

    digits = load_pen_digits(args.data)[: args.limit]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="canvas-") as folder:
        paths, pens, naive_inputs, on_canvas = [], [], [], []
        ranges = SMALL if args.small else {}
        read_canvas = canvas_reader(args.model)
        for index, (digit, pen, rgba) in enumerate(drawings(digits, seed=args.seed, **ranges)):
            strokes = PenStrokes(tuple(place_strokes(digit, pen)), float(pen.brush))
            on_canvas.append(read_canvas(rgba, strokes))
            path = Path(folder) / f"{index:05d}_{pen.style}.png"
            path.write_bytes(encode_png(rgba))
            paths.append(path)
            pens.append(pen)
            if args.naive:
                naive_inputs.append(naive_digit(rgba))
        drawn = time.perf_counter()
        results = predict_json(paths, "--model", args.model)
    classified = time.perf_counter()
    alone = read_alone(digits, "--model", args.model, seed=args.seed) if args.small else None

    labels = np.array([d.label for d in digits])
    predicted = np.array([-1 if r.get("digit") is None else r["digit"] for r in results])
    hits = predicted == labels
    by_style, by_source, by_digit = defaultdict(list), defaultdict(list), defaultdict(list)
    by_half = defaultdict(list)
    for hit, digit, pen in zip(hits, digits, pens):
        by_half[HALVES[writer_half(digit.source, digit.writer)]].append(bool(hit))
        by_style[pen.style].append(bool(hit))
        by_source[digit.source].append(bool(hit))
        by_digit[str(digit.label)].append(bool(hit))
    unsure = np.array([bool(r.get("unsure")) for r in results])
    several = sum(len(r.get("digits", [])) > 1 for r in results)

    print(f"Canvas accuracy, model {args.model}: {len(digits)} UNIPEN digits from {args.data.name}")
    print(
        f"machine: {platform.machine()}, {platform.python_version()}; "
        f"drawing {drawn - started:.1f} s, model.predict {classified - drawn:.1f} s"
    )
    print(f"\nOVERALL  {hits.mean():.2%}  ({hits.sum()}/{len(hits)})")
    print(f"errors or blank: {sum('error' in r or r.get('number') is None for r in results)}")
    declined = sum(bool(r.get("not_digit")) for r in results)
    print(
        f"declined as not a digit: {declined} of {len(results)} ({declined / len(results):.2%})"
        " (a declined digit is never counted right)"
    )
    print(
        f"single digits read as several: {several} of {len(results)} ({several / len(results):.2%})"
    )
    right_and_sure = hits & ~unsure
    print(f"right and sure: {right_and_sure.mean():.2%} ({right_and_sure.sum()}/{len(hits)})")
    dots = sum(any("dot" in d for d in r.get("doubts", [])) for r in results)
    print(f"called a dot: {dots} ({dots / len(results):.2%})")
    print(
        f"shown as unsure: {unsure.mean():.2%}; accuracy of the sure ones "
        f"{hits[~unsure].mean():.2%}, of the unsure ones "
        f"{hits[unsure].mean() if unsure.any() else float('nan'):.2%}"
    )
    if alone is not None:
        print(f"right and sure, digits {split_by_alone(right_and_sure, alone, 'at normal size')}")
    report_canvas(on_canvas, digits, alone)
    report("per writer half (model/strokes.py: writer_half)", by_half)
    report("per style", by_style)
    report("per source", by_source)
    report("per digit", by_digit)
    assert set(by_style) <= set(STYLES)

    if args.naive:
        from model.classifier import Classifier, model_path

        classifier = Classifier(model_path(args.model), num_threads=2)
        naive = classifier.predict(np.stack(naive_inputs)).argmax(1) == labels
        print(f"\nNAIVE whole-canvas resize to 28x28, same model: {naive.mean():.2%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

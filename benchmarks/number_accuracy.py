"""Numbers read exactly: real pen-stroke digits written as numbers, read as the app reads the
canvas and as the predict command reads a picture.

    python -m benchmarks.number_accuracy                 # 1,200 numbers, 1-6 digits
    python -m benchmarks.number_accuracy --n 300 --seed 1

Each number is written the way a person writes one (model/strokes.py: compose_number): 1 to
6 digits of one UNIPEN writer (same `writer`), with that writer's own sizes, on a common
baseline, gaps around 0.3 digit heights that vary and sometimes close up so that digits
touch, on an 840x280 canvas, in the three paper/ink styles, brush 10-22 px. Every number is
seeded by its index. Each is read twice: as the app reads its canvas, the PNG with the
strokes the canvas records beside it (`benchmarks/predict.py: canvas_reader`), and as a
picture alone (an upload), through `python -m model.predict --json`; the "number" read is
compared with the digits written. Reported for each: numbers read exactly, by length; digits read
right (where the count is right); segmentation errors (a wrong count of digits); and the
numbers read exactly apart for those whose digits the reader each names right drawn alone on
the canvas (`benchmarks/predict.py: read_alone`), which measures segmentation. The naive
method, for comparison, on the same pictures: every connected piece of ink sorted left to
right and classified as a digit of its own.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

from benchmarks.machine import describe
from benchmarks.predict import canvas_reader, predict_json, read_alone, split_by_alone
from harness import PEN_DIGITS
from model.classifier import Classifier, model_path
from model.imageio import read_image
from model.preprocessing import digit_steps, find_ink
from model.strokes import encode_png, load_pen_digits, write_numbers, writer_half

REPO = Path(__file__).resolve().parents[1]


def numbers(n: int, seed: int, half: int | None = None):
    """(label, rgba, writer, digits, strokes) for n numbers of 1-6 digits, each by one writer
    (of `half` of the writers, `writer_half`, or any); `label` is the number written
    ("2025"), `writer` is (source, writer), `digits` the PenDigits written, left to right,
    `strokes` the PenStrokes drawn."""
    digits = [
        d
        for d in load_pen_digits(PEN_DIGITS)
        if half is None or writer_half(d.source, d.writer) == half
    ]
    for chosen, rgba, writer, strokes in write_numbers(digits, n, seed):
        yield "".join(str(d.label) for d in chosen), rgba, writer, chosen, strokes


def naive_number(path: Path, classifier: Classifier) -> str:
    """Every connected piece of ink, left to right, classified as a digit of its own."""
    found = find_ink(read_image(path))
    if found is None:
        return ""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(found.mask.view(np.uint8), 8)
    order = sorted(range(1, count), key=lambda n: stats[n, 0] + stats[n, 2] / 2)
    steps = [digit_steps(found, labels == n, stats[[n], :4]) for n in order]
    probabilities = classifier.predict(np.stack([s.digit_28x28 for s in steps]))
    return "".join(str(d) for d in probabilities.argmax(axis=1))


def report(title: str, written: list[str], read: list[str | None]) -> None:
    exact = np.array([w == r for w, r in zip(written, read)])
    counted = [(w, r) for w, r in zip(written, read) if r is not None and len(r) == len(w)]
    digits = [a == b for w, r in counted for a, b in zip(w, r)]
    wrong_count = sum(r is None or len(r) != len(w) for w, r in zip(written, read))
    print(f"\n{title}")
    print(f"  numbers read exactly: {exact.mean():.2%} ({exact.sum()}/{len(exact)})")
    for length in range(1, 7):
        hits = [e for w, e in zip(written, exact) if len(w) == length]
        if hits:
            print(f"    {length} digit{'s' if length > 1 else ' '}: {np.mean(hits):7.2%}")
    print(f"  digits read right (where the count is right): {np.mean(digits):.2%}")
    print(f"  segmentation errors (wrong count of digits): {wrong_count / len(written):.2%}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1200, help="numbers (lengths cycle 1-6)")
    parser.add_argument("--seed", type=int, default=0, help="which numbers")
    parser.add_argument("--model", choices=["cnn", "ann"], default="cnn", help="network")
    parser.add_argument("--save", type=Path, default=None, help="keep the PNGs in this folder")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="numbers-") as scratch:
        folder = args.save or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        read_canvas = canvas_reader(args.model)
        written, paths, halves, each_digit, on_canvas = [], [], [], [], []
        for index, (label, rgba, writer, chosen, strokes) in enumerate(numbers(args.n, args.seed)):
            on_canvas.append(read_canvas(rgba, strokes).number)
            halves.append(writer_half(*writer))
            each_digit.append(chosen)
            path = folder / f"{index:05d}_{label}.png"
            path.write_bytes(encode_png(rgba))
            written.append(label)
            paths.append(path)
        results = predict_json(paths, "--model", args.model)
        classifier = Classifier(model_path(args.model))
        naive = [naive_number(path, classifier) for path in paths]
    # Every digit written, also drawn alone: the numbers whose digits the reader all names
    # right alone measure what segmentation (and the cut-outs) cost.
    named = read_alone([d for chosen in each_digit for d in chosen], "--model", args.model)
    ends = np.cumsum([len(chosen) for chosen in each_digit])[:-1]
    alone = np.array([part.all() for part in np.split(named, ends)])

    print(f"Numbers: {args.n} numbers of 1-6 UNIPEN digits (seed {args.seed}), model {args.model}")
    print(f"machine: {describe()}")
    unseen = [i for i, half in enumerate(halves) if half == 1]
    pictures = [r.get("number") for r in results]
    for title, read in (
        ("the app: the canvas' picture and its strokes (model.recognize.read)", on_canvas),
        ("a picture alone, an upload (python -m model.predict)", pictures),
    ):
        report(title, written, read)
        exact = np.array([r == w for r, w in zip(read, written)])
        print(f"  numbers whose digits are all {split_by_alone(exact, alone, 'drawn alone')}")
        report(
            "  the same, numbers by writers never trained on (model/strokes.py: writer_half)",
            [written[i] for i in unseen],
            [read[i] for i in unseen],
        )
    report("naive: connected pieces, left to right", written, naive)
    misses = [(p.name, r) for p, w, r in zip(paths, written, on_canvas) if r != w]
    print(
        "\nfirst misses on the canvas: "
        + ", ".join(f"{name} -> {got}" for name, got in misses[:12])
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

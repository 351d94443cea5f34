"""Photos and scans: real pen-stroke digits rendered as phone photos of ink on paper.

    python -m benchmarks.photo_accuracy               # 2,400 photos
    python -m benchmarks.photo_accuracy --n 600 --save runs/photos

Each UNIPEN digit by a writer never trained on (half 1, model/strokes.py: writer_half) is
drawn on a 640x480 sheet as a person writes on paper, then photographed: a paper tint, an
ink colour, one light condition (even, light falling off by 10%, 20% or 40% across the page
in a random direction, or a soft shadow), one paper (plain, ruled, squared), one pen (a
ballpoint, a thick marker, or soft blurred edges), a tilt (rotation up to 8 degrees and a
little perspective), sensor noise, a little blur, and JPEG at quality 60-90. Conditions
cycle, so each is met equally often; every choice is seeded by the photo's index. The JPEGs
go through `python -m model.predict --json`; right = the digit named right, not declined.
Reported overall and per condition, and apart for the digits the reader names right drawn
alone on the canvas (`benchmarks/predict.py: read_alone`): what the photo costs, apart from
the digits it misses anyway.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

from benchmarks.machine import describe
from benchmarks.predict import predict_json, read_alone, split_by_alone
from harness import PEN_DIGITS
from harness.photos import conditions_for, photograph
from model.strokes import load_pen_digits, writer_half

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--n", type=int, default=2400, help="photos")
    parser.add_argument("--seed", type=int, default=0, help="which photos")
    parser.add_argument("--save", type=Path, default=None, help="keep the JPEGs here")
    args = parser.parse_args()

    digits = [d for d in load_pen_digits(PEN_DIGITS) if writer_half(d.source, d.writer) == 1]
    rng = np.random.default_rng(args.seed)
    chosen = [digits[i] for i in rng.choice(len(digits), min(args.n, len(digits)), False)]
    with tempfile.TemporaryDirectory(prefix="photos-") as scratch:
        folder = args.save or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        paths, conditions = [], []
        for index, digit in enumerate(chosen):
            condition = conditions_for(index)
            rng = np.random.default_rng([args.seed, index])
            jpeg = photograph(digit.strokes, condition, rng)
            path = folder / f"{index:05d}_{digit.label}.jpg"
            path.write_bytes(jpeg)
            paths.append(path)
            conditions.append(condition)
        results = predict_json(paths)
    alone = read_alone(chosen)

    hits = np.array([r.get("digit") == d.label for r, d in zip(results, chosen)])
    declined = np.array([bool(r.get("not_digit")) for r in results])
    print(f"Photos: {len(chosen)} UNIPEN digits by writers never trained on, as phone photos")
    print(f"machine: {describe()}")
    print(
        f"\nOVERALL  {hits.mean():.2%}  ({hits.sum()}/{len(hits)}); declined {declined.mean():.2%}"
    )
    print(f"the same digits drawn on the canvas: {alone.mean():.2%} named right")
    print(f"photos of digits {split_by_alone(hits, alone, 'on the canvas')}")
    for kind in ("light", "paper", "pen"):
        groups = defaultdict(list)
        for hit, condition in zip(hits, conditions):
            groups[condition[kind]].append(hit)
        print(f"per {kind}: " + "  ".join(f"{k} {np.mean(v):.2%}" for k, v in groups.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

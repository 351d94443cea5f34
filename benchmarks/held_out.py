"""Leave-source-out: each model folder measured on the UNIPEN sources it never learnt from.

    python -m benchmarks.held_out runs/fold_a runs/fold_b      # ~10 min on 2 cores
    python -m benchmarks.held_out runs/fold_a runs/fold_b --numbers 300 --letters 300

The eight UNIPEN sources are different writers on different tablets. A fold is a model
folder (cnn.tflite and line.tflite) whose line reader was trained without some sources
(`train_line.py --hold-out ...`, recorded in its line.json); it is measured on those
sources only, and the folds together hold every source out once. Per source, then the mean
over the sources and the worst one:
- single digits drawn on the canvas (as benchmarks/canvas_accuracy.py draws them) and read
  as a picture (`python -m model.predict --json --model-dir FOLD`): named right, declined
  (overall and the worst digit class), read as several;
- the same digits written small (`model.strokes.SMALL`): right and sure, as pictures and as
  the app reads its canvas (the picture with its strokes, a heavy pen redrawn with MNIST's);
- numbers of 1-6 digits by one writer (`model.strokes.write_numbers`), read exactly, as a
  picture and as the app reads its canvas (the picture with its strokes);
- clear letters (A E F H K M N P R W X f h k m n r w x) declined, as pictures;
- photos of the digits (harness/photos.py, conditions cycling): named right.
The CNN (cnn.tflite) is the same in every fold: it learnt from MNIST alone.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

from benchmarks.machine import describe
from benchmarks.predict import canvas_reader, predict_json
from harness import PEN_DIGITS
from harness.photos import conditions_for, photograph
from model.canvas import PenStrokes
from model.strokes import (
    SMALL,
    drawings,
    encode_png,
    load_pen_digits,
    place_strokes,
    write_numbers,
)

LETTERS = PEN_DIGITS.parent / "letters_dev.jsonl.gz"
CLEAR_LETTERS = set("AEFHKMNPRWXfhkmnrwx")


def read_pictures(folder: Path, pictures: list[bytes], suffix: str, model_dir: Path) -> list[dict]:
    paths = []
    for index, picture in enumerate(pictures):
        paths.append(folder / f"{index:05d}{suffix}")
        paths[-1].write_bytes(picture)
    results = predict_json(paths, "--model-dir", str(model_dir))
    for path in paths:
        path.unlink()
    return results


def measure_fold(model_dir: Path, args, digits, letters) -> dict[str, dict[str, list]]:
    """Per held-out source: lists of per-item outcomes."""
    held = set(json.loads((model_dir / "line.json").read_text())["hold_out"])
    out: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    mine = [d for d in digits if d.source in held]
    with tempfile.TemporaryDirectory(prefix="held-out-") as scratch:
        folder = Path(scratch)
        read_canvas = canvas_reader("cnn", model_dir)
        # Single digits, normal size and small; small ones also as the app reads its canvas,
        # the picture with its strokes (a heavy pen's drawing redrawn with MNIST's).
        for name, ranges in (("digit", {}), ("small", SMALL)):
            drawn = list(drawings(mine, seed=args.seed, **ranges))
            pictures = [encode_png(rgba) for _, _, rgba in drawn]
            if name == "small":
                for d, pen, rgba in drawn:
                    strokes = PenStrokes(tuple(place_strokes(d, pen)), float(pen.brush))
                    r = read_canvas(rgba, strokes)
                    right = r.number == str(d.label) and not r.unsure
                    out[d.source]["small canvas right and sure"].append(right)
            for d, r in zip(mine, read_pictures(folder, pictures, ".png", model_dir)):
                right = r.get("number") == str(d.label)
                if name == "digit":
                    out[d.source]["digit right"].append(right)
                    out[d.source]["digit declined"].append(bool(r.get("not_digit")))
                    out[d.source]["several"].append(len(r.get("number") or "") > 1)
                    out[d.source][f"declined {d.label}"].append(bool(r.get("not_digit")))
                else:
                    out[d.source]["small right and sure"].append(right and not r["unsure"])
        # Photos.
        rng = np.random.default_rng(args.seed)
        chosen = [mine[i] for i in rng.choice(len(mine), min(args.photos, len(mine)), False)]
        jpegs = [
            photograph(d.strokes, conditions_for(i), np.random.default_rng([args.seed, i]))
            for i, d in enumerate(chosen)
        ]
        for d, r in zip(chosen, read_pictures(folder, jpegs, ".jpg", model_dir)):
            out[d.source]["photo right"].append(r.get("digit") == d.label)
        # Numbers, per source by its own writers.
        for source in sorted(held):
            own = [d for d in mine if d.source == source]
            written, pictures = [], []
            for chosen_digits, rgba, _, strokes in write_numbers(own, args.numbers, args.seed):
                label = "".join(str(d.label) for d in chosen_digits)
                written.append(label)
                pictures.append(encode_png(rgba))
                out[source]["number canvas"].append(read_canvas(rgba, strokes).number == label)
            for label, r in zip(written, read_pictures(folder, pictures, ".png", model_dir)):
                out[source]["number picture"].append(r.get("number") == label)
        # Clear letters, at most args.letters per source.
        by_source = defaultdict(list)
        for item in letters:
            if item.source in held and len(by_source[item.source]) < args.letters:
                by_source[item.source].append(item)
        mine_letters = [item for items in by_source.values() for item in items]
        pictures = [encode_png(rgba) for _, _, rgba in drawings(mine_letters, seed=args.seed)]
        for item, r in zip(mine_letters, read_pictures(folder, pictures, ".png", model_dir)):
            out[item.source]["letter declined"].append(bool(r.get("not_digit")))
    return out


FIGURES = (
    "digit right",
    "digit declined",
    "several",
    "small right and sure",
    "small canvas right and sure",
    "number picture",
    "number canvas",
    "letter declined",
    "photo right",
)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("folds", nargs="+", type=Path, help="model folders, one per fold")
    parser.add_argument("--numbers", type=int, default=150, help="numbers per source")
    parser.add_argument("--letters", type=int, default=600, help="clear letters per source")
    parser.add_argument("--photos", type=int, default=1200, help="photos per fold")
    parser.add_argument("--seed", type=int, default=0, help="drawing seed")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()

    digits = load_pen_digits(PEN_DIGITS)
    letters = [item for item in load_pen_digits(LETTERS) if item.label in CLEAR_LETTERS]
    per_source: dict[str, dict[str, list]] = {}
    for fold in args.folds:
        per_source |= measure_fold(fold, args, digits, letters)

    folds = ", ".join(map(str, args.folds))
    print(f"Leave-source-out over {len(per_source)} UNIPEN sources, folds: {folds}")
    print(f"machine: {describe()}")
    sources = sorted(per_source)
    print(f"\n{'figure':<28}" + "".join(f"{s:>8}" for s in sources) + f"{'mean':>8}{'worst':>8}")
    summary = {}
    for figure in FIGURES:
        values = [np.mean(per_source[s][figure]) for s in sources if per_source[s][figure]]
        higher_is_better = figure not in ("digit declined", "several")
        worst = min(values) if higher_is_better else max(values)
        summary[figure] = {"mean": float(np.mean(values)), "worst": float(worst)}
        summary[figure] |= {s: float(np.mean(per_source[s][figure])) for s in sources}
        row = "".join(f"{np.mean(per_source[s][figure]):8.2%}" for s in sources)
        print(f"{figure:<28}{row}{np.mean(values):8.2%}{worst:8.2%}")
    counts = "".join(f"{len(per_source[s]['digit right']):>8}" for s in sources)
    print(f"{'(digits per source)':<28}{counts}")
    declined = {
        label: np.mean([v for s in sources for v in per_source[s][f"declined {label}"]])
        for label in range(10)
    }
    worst_class = max(declined, key=declined.get)
    pooled = np.mean([v for s in sources for v in per_source[s]["digit declined"]])
    print(
        f"\ndigits declined, all sources pooled: {pooled:.2%}; by class: "
        + " ".join(f"{k}:{v:.2%}" for k, v in declined.items())
        + f" (worst {worst_class})"
    )
    summary["declined by class"] = {str(k): float(v) for k, v in declined.items()}
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

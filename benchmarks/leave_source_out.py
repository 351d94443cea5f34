"""The "not a digit" model measured on pen sources it never saw (leave-source-out).

    python -m benchmarks.leave_source_out                       # 2 folds, trains each
    python -m benchmarks.leave_source_out --recipe plain        # without the variants
    python -m benchmarks.leave_source_out --folds apb ibm,pri   # folds of your choice
    python -m benchmarks.leave_source_out --rate 0.001          # each threshold chosen again

Eight UNIPEN sources are few, and a model or threshold chosen on them fits them. So for each
fold, `train_reject.py --hold-out <fold>` trains the model and chooses its threshold on the
other sources only (about 12 minutes on 2 cores; a fold already trained in --runs is reused),
and the held-out sources are then read by the app's own path (`model.recognize.read`, the
picture with the pen's strokes, as the page reads its canvas):
- their digits, drawn as benchmarks/canvas_accuracy.py draws them: named right, declined as
  "not a digit", read as several, named wrong; declined per digit class;
- their letters that look like no digit (A E F H K M N P R W X f h k m n r w x): declined;
- MNIST's 10,000 test digits (no pen data): declined.
Each figure is given per held-out source, with the mean over sources and the worst.

The digit reader is the MNIST-only CNN (`--cnn`, made by `python train_model.py --model cnn
--out runs/mnist_cnn`): the served one was fine-tuned on writers of every source. The
digit-count model is the served one (it was trained on every source; it decides only
whether a digit is read as several).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from benchmarks.machine import describe
from harness import PEN_DIGITS
from model.canvas import PenStrokes
from model.classifier import Classifier
from model.count import load_counter
from model.recognize import read
from model.reject import Rejecter
from model.strokes import drawings, load_pen_digits, place_strokes
from training.data import load_mnist

REPO = Path(__file__).resolve().parents[1]
LETTERS = PEN_DIGITS.parent / "letters_dev.jsonl.gz"
CLEAR_LETTERS = set("AEFHKMNPRWXfhkmnrwx")
# Two folds of about 3,400 digits each.
FOLDS = ("apb,app,art,pri", "ibm,ced,aga,imp")
RECIPES = {"variants": [], "plain": ["--plain"]}


def outcome(reading, label: int) -> str:
    if reading.number == str(label):
        return "right"
    if reading.not_digit:
        return "declined"
    if len(reading.digits) > 1:
        return "several"
    return "wrong"


def read_drawn(items, classifier, rejecter, counter) -> list:
    """Each pen character drawn on the canvas (seed 0), read as the page reads it."""
    readings = []
    for item, pen, rgba in drawings(items, seed=0):
        strokes = PenStrokes(tuple(place_strokes(item, pen)), float(pen.brush))
        readings.append(read(rgba, classifier, rejecter, counter, strokes))
    return readings


def train_fold(fold: str, out: Path, recipe: str, args) -> None:
    if (out / "reject.json").exists():
        print(f"fold {fold}: reusing {out}", flush=True)
        return
    command = [sys.executable, "train_reject.py", "--hold-out", fold, "--out", str(out),
               "--epochs", str(args.epochs), *RECIPES[recipe]]  # fmt: skip
    if args.data:
        command += ["--data", str(args.data)]
    print("training:", " ".join(command), flush=True)
    subprocess.run(command, cwd=REPO, check=True, stdout=subprocess.DEVNULL)


def rethreshold(fold: str, out: Path, rate: float, args) -> Path:
    """A copy of a fold's model whose threshold is chosen again for `rate` of its threshold
    writers' digits declined (`train_reject.py --threshold-only`: no training)."""
    import shutil

    again = out.parent / f"{out.name}_rate_{rate:g}"
    if (again / "reject.json").exists():
        return again
    again.mkdir(parents=True, exist_ok=True)
    for name in ("reject.tflite", "reject.json"):
        shutil.copy2(out / name, again / name)
    command = [sys.executable, "train_reject.py", "--threshold-only", "--hold-out", fold,
               "--out", str(again), "--reject-rate", str(rate)]  # fmt: skip
    if args.data:
        command += ["--data", str(args.data)]
    print("threshold:", " ".join(command), flush=True)
    subprocess.run(command, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    return again


def measure_fold(fold: str, out: Path, pen: dict, mnist, readers) -> dict:
    """Figures of one fold, per held-out source."""
    classifier, counter = readers
    rejecter = Rejecter(out)
    sources = fold.split(",")
    figures = {}
    for source in sources:
        digits = [d for d in pen["digits"] if d.source == source]
        letters = [d for d in pen["letters"] if d.source == source]
        outcomes = [outcome(r, d.label) for r, d in zip(
            read_drawn(digits, classifier, rejecter, counter), digits)]  # fmt: skip
        by_class = defaultdict(list)
        for result, digit in zip(outcomes, digits):
            by_class[digit.label].append(result == "declined")
        letter_readings = read_drawn(letters, classifier, rejecter, counter)
        figures[source] = {
            "digits": len(digits),
            **{key: outcomes.count(key) / len(digits) for key in ("right", "declined", "several")},
            "worst_class_declined": max(np.mean(v) for v in by_class.values()),
            "worst_class": max(by_class, key=lambda label: np.mean(by_class[label])),
            "ones_declined": float(np.mean(by_class[1])),
            "letters": len(letters),
            "letters_declined": float(np.mean([r.not_digit for r in letter_readings])),
        }
        print(f"  {source}: {figures[source]}", flush=True)
    declined = rejecter.declines(mnist)
    print(f"  MNIST test declined by this fold's model: {declined.mean():.2%}", flush=True)
    return figures


def summary(figures: dict) -> None:
    keys = ("right", "declined", "several", "worst_class_declined", "ones_declined",
            "letters_declined")  # fmt: skip
    print(f"\n{'source':<8}" + "".join(f"{k:>22}" for k in keys))
    for source, row in sorted(figures.items()):
        print(f"{source:<8}" + "".join(f"{row[k]:>22.2%}" for k in keys))
    for name, pick in (("mean", np.mean), ("worst", None)):
        cells = []
        for k in keys:
            values = [row[k] for row in figures.values()]
            worse_is_high = k != "right" and k != "letters_declined"
            value = pick(values) if pick else (max(values) if worse_is_high else min(values))
            cells.append(f"{value:>22.2%}")
        print(f"{name:<8}" + "".join(cells))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--folds", nargs="+", default=list(FOLDS), help="held-out sources")
    parser.add_argument("--recipe", choices=sorted(RECIPES), default="variants",
                        help="train_reject.py's data: with digit variants, or --plain")  # fmt: skip
    parser.add_argument("--runs", type=Path, default=REPO / "runs" / "leave_source_out",
                        help="where each fold's model is kept")  # fmt: skip
    parser.add_argument("--cnn", type=Path, default=REPO / "runs" / "mnist_cnn" / "cnn.tflite",
                        help="the MNIST-only digit reader")  # fmt: skip
    parser.add_argument("--epochs", type=int, default=15, help="train_reject.py --epochs")
    parser.add_argument("--data", default=None, help="MNIST .npz (None: $MNIST_NPZ)")
    parser.add_argument("--rate", type=float, default=None,
                        help="choose each fold's threshold again for this share of its "
                        "threshold writers' digits declined (None: as trained)")  # fmt: skip
    args = parser.parse_args()

    print(describe())
    classifier = Classifier(args.cnn)
    counter = load_counter(REPO / "model")
    mnist_test = load_mnist(args.data).x_test
    from training.augment import served_versions

    mnist = served_versions(mnist_test).astype(np.float32) / 255
    pen = {
        "digits": load_pen_digits(PEN_DIGITS),
        "letters": [d for d in load_pen_digits(LETTERS) if d.label in CLEAR_LETTERS],
    }
    figures = {}
    for fold in args.folds:
        out = args.runs / args.recipe / fold.replace(",", "_")
        train_fold(fold, out, args.recipe, args)
        if args.rate is not None:
            out = rethreshold(fold, out, args.rate, args)
        print(f"fold {fold} ({args.recipe}, threshold {Rejecter(out).threshold:.4f}):", flush=True)
        figures |= measure_fold(fold, out, pen, mnist, (classifier, counter))
    rate = "as trained" if args.rate is None else f"chosen again for {args.rate:.2%}"
    print(
        f"\nrecipe {args.recipe}, threshold {rate}; each source read by a model that never saw it:"
    )
    summary(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())

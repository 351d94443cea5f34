"""Train the "not a digit" model: a small CNN that tells a digit from anything else.

    python train_reject.py --data ../shared/data/mnist.npz     # ~10 min on 2 cores, model/
    python train_reject.py --dry-run                            # seconds, into runs/

It reads the same 28x28 image the digit reader reads and says how likely that is not a
digit at all: a letter, a symbol, a shape, a doodle. It sits beside the digit reader rather
than inside it (an 11th class), so the digit reader's MNIST accuracy is untouched.

Digits and non-digits must look alike apart from what they are, or the model learns
"drawn or MNIST" instead of "digit or not". So both sides are mostly drawn the same way
(training/reject_data.py makes them):
- digits: MNIST training digits as the app serves them, and real pen-stroke digits
  (../shared/data/unipen_dev.jsonl.gz) drawn as canvas images;
- not digits: real pen-stroke letters that look like no digit (letters_dev.jsonl.gz) drawn
  the same way, OpenCV's stroke fonts (letters and symbols), random scribbles and shapes.
The digits of a number are read the same way, each cut from its neighbours and drawn with
the number's pen: so the characters of numbers, each cut where it was written
(training/written.py; not as the app cuts them, so that no model learns another's
heuristics), are digits too, and letters written inside numbers are not.
A fifth of the writers (by writer) is kept out to choose the threshold: the score above
which a drawing is declined, set so that --reject-rate of those writers' real digits are
declined, drawn alone and cut from their numbers together. Declining a real digit is worse
than naming a letter, so the digits also come as other people write them
(training/pen_variants.py: bare and flagged 1s, crossed 7s, slashed 0s, slanted, sparse and
jagged paths, thin and thick pens), and so do the letters (slanted, sparse and jagged).
--hold-out leaves whole sources out of everything, for benchmarks/leave_source_out.py,
which measures the recipe on the sources it never saw.

Writes model/reject.tflite (served with LiteRT) and model/reject.json (threshold, the rate it
was chosen for, figures on the held-out writers, data, command).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np

from model.classifier import Classifier
from model.preprocessing import scale_pixels
from model.strokes import SMALL, PenDigit, load_pen_digits
from training.augment import served_versions
from training.data import MnistUnavailableError, load_mnist
from training.reject_data import (
    NOT_DIGIT_LETTERS,
    NOT_DIGIT_SYMBOLS,
    THRESHOLD_SHARE,
    drawn,
    number_parts,
    training_set,
    writer_role,
)

MODEL_DIR = Path(__file__).resolve().parent / "model"
SHARED = Path(__file__).resolve().parent.parent / "shared" / "data"


def build_reject(dropout: float = 0.3):
    """A small CNN: (N, 28, 28, 1) float32 in [0, 1] -> (N, 2) [digit, not a digit]."""
    from training.networks import build_small

    return build_small(2, "not_digit", dropout)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--data", default=None, help="MNIST .npz (None: $MNIST_NPZ)")
    parser.add_argument("--pen-data", type=Path, default=SHARED, help="folder of the UNIPEN files")
    parser.add_argument("--out", type=Path, default=None, help="None: model/ (runs/ dry run)")
    parser.add_argument("--epochs", type=int, default=15, help="epochs")
    parser.add_argument(
        "--reject-rate",
        type=float,
        default=0.003,
        help="share of the threshold writers' real digits declined",
    )
    parser.add_argument(
        "--threshold-only",
        action="store_true",
        help="choose the threshold of the model in --out again for --reject-rate; no training",
    )
    parser.add_argument(
        "--hold-out",
        default="",
        help="UNIPEN sources left out of everything, comma-separated (e.g. apb,ibm)",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument(
        "--plain",
        action="store_true",
        help="without the digits and letters as others write them, MNIST's variants and the "
        "pen symbols (for the ablation)",
    )
    parser.add_argument("--dry-run", action="store_true", help="a few hundred images, 1 epoch")
    return parser.parse_args(argv)


def fit(x: np.ndarray, y: np.ndarray, epochs: int, seed: int):
    """The "not a digit" network trained on the images, digits and the rest weighing the
    same whatever their counts, with the augmentation every model here shares."""
    import keras
    import tensorflow as tf

    from training.augment import augment_batch
    from training.config import Augment

    keras.utils.set_random_seed(seed)
    model = build_reject()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    weights = {0: len(y) / (2 * (y == 0).sum()), 1: len(y) / (2 * (y == 1).sum())}
    generator = tf.random.Generator.from_seed(seed)
    augment = Augment(rotation=8.0, scale=0.08, shear=0.12, shift=1.5)
    dataset = (
        tf.data.Dataset.from_tensor_slices((scale_pixels(x)[..., None], y.astype(np.int64)))
        .shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
        .batch(128)
        .map(lambda images, labels: (augment_batch(images, augment, generator), labels))
        .prefetch(tf.data.AUTOTUNE)
    )
    model.fit(dataset, epochs=epochs, class_weight=weights, verbose=2)
    return model


def threshold_record(path: Path, mnist, digits, letters, seed: int, small, rate: float) -> dict:
    """The threshold (`rate` of the threshold writers' real digits score above it, drawn
    alone or cut from their numbers: the app reads both), and what it declines of theirs."""
    served_model = Classifier(path, classes=2)

    def scores(images: np.ndarray) -> np.ndarray:
        return served_model.predict(scale_pixels(images))[:, 1] if len(images) else np.zeros(0)

    held = [item for item in digits if writer_role(item) == "threshold"][:small]
    held_letters = [item for item in letters if writer_role(item) == "threshold"][:small]
    held_digits = scores(drawn(held, copies=1, seed=seed + 2))
    held_parts = scores(number_parts(held, 30 if small else 600, seed + 9))
    threshold = float(np.quantile(np.concatenate([held_digits, held_parts]), 1 - rate))
    held_small = scores(drawn(held, copies=1, seed=seed + 6, **SMALL))
    letter_scores = scores(drawn(held_letters, copies=1, seed=seed + 3))
    mnist_test = scores(served_versions(mnist.x_test[: 500 if small else None]))
    return {
        "threshold": round(threshold, 6),
        "chosen_for": f"{rate:.1%} of real digits declined, drawn alone and cut from "
        f"numbers together, on the threshold writers ({THRESHOLD_SHARE:.0%} of the writers, "
        "never trained on)",
        "threshold_writers": {
            "digits": int(len(held_digits)),
            "digits_declined": float((held_digits > threshold).mean()),
            "small_digits_declined": float((held_small > threshold).mean()),
            "number_digits": int(len(held_parts)),
            "number_digits_declined": float((held_parts > threshold).mean()),
            "letters": int(len(letter_scores)),
            "letters_declined": float((letter_scores > threshold).mean()),
        },
        "mnist_test_declined": float((mnist_test > threshold).mean()),
    }


def choose_again(out: Path, mnist, digits, letters, args, command: str) -> int:
    """--threshold-only: the threshold of out/reject.tflite chosen again, its record kept."""
    small = 200 if args.dry_run else None
    try:
        record = json.loads((out / "reject.json").read_text())
    except (OSError, ValueError) as error:
        print(f"error: no model to choose a threshold for in {out} ({error})", file=sys.stderr)
        return 2
    record |= threshold_record(
        out / "reject.tflite", mnist, digits, letters, args.seed, small, args.reject_rate
    )
    record.setdefault("trained_by", record["command"])
    record["command"] = command
    (out / "reject.json").write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(record["threshold_writers"], indent=1))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    out = args.out or (Path("runs/reject-dry-run") if args.dry_run else MODEL_DIR)
    command = shlex.join(["python", "train_reject.py", *(sys.argv[1:] if argv is None else argv)])
    from training.export import export_litert

    held_out = {name for name in args.hold_out.split(",") if name}

    def pen_data(name: str, labels=None) -> list[PenDigit]:
        items = load_pen_digits(args.pen_data / name)
        return [
            item
            for item in items
            if item.source not in held_out and (labels is None or item.label in labels)
        ]

    try:
        mnist = load_mnist(args.data)
        digits = pen_data("unipen_dev.jsonl.gz")
        letters = pen_data("letters_dev.jsonl.gz", NOT_DIGIT_LETTERS)
        symbols = pen_data("symbols_dev.jsonl.gz", NOT_DIGIT_SYMBOLS)
        if not digits or not letters:
            raise ValueError(f"--hold-out {args.hold_out} leaves no pen digits or letters")
    except (MnistUnavailableError, OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    small = 200 if args.dry_run else None
    if args.threshold_only:
        return choose_again(out, mnist, digits, letters, args, command)
    started = time.perf_counter()
    x, y, counts = training_set(mnist, digits, letters, symbols, args.seed, small, args.plain)
    print(f"training images: {counts}, prepared in {time.perf_counter() - started:.0f} s")
    epochs = 1 if args.dry_run else args.epochs
    model = fit(x, y, epochs, args.seed)
    seconds = time.perf_counter() - started

    out.mkdir(parents=True, exist_ok=True)
    path = out / "reject.tflite"
    export_litert(model, path)
    record = threshold_record(path, mnist, digits, letters, args.seed, small, args.reject_rate) | {
        "held_out_sources": sorted(held_out),
        "not_digit_letters": "".join(sorted(NOT_DIGIT_LETTERS)),
        "training_images": counts,
        "epochs": epochs,
        "training_seconds": round(seconds, 1),
        "data": "MNIST training digits (served versions, and 0s, 1s and 7s slashed, footed "
        "and crossed); UNIPEN digits, letters and symbols of 80% of the writers of the "
        "sources not held out, drawn as canvas images at a normal size and small, digits "
        "also as other people write them (training/pen_variants.py), and written as numbers, "
        "each character cut where it was written; OpenCV stroke fonts; random "
        "scribbles and shapes",
        "bytes": path.stat().st_size,
        "command": command,
    }
    (out / "reject.json").write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps({k: v for k, v in record.items() if k != "command"}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Train the digit-count model: how many digits one group of ink holds (1, 2, or 3 or more).

    python train_count.py                  # ~10 min on 2 cores, into model/
    python train_count.py --dry-run        # seconds, into runs/

Digits written close run into each other: one stroke touches the next, and the ink of "41"
or "2025" is one connected piece. Where to cut it is for the digit reader to judge (the cut
whose sides it reads best, `model/recognize.py`); whether to cut it at all is this model's
question. It reads the same 28x28 input as the digit reader: a group of touching ink
scaled to fit, with the pen measured across the whole number, as `recognize.read` serves it.

Training groups come from numbers written as the benchmark writes them
(`strokes.compose_number`: one writer's digits on a line, their own sizes), with every other
gap closed up so that digits touch often; the ink is grouped by which digit drew it
(training/written.py, not the app's own grouping: no model learns the app's heuristics), and
each group is labelled by how many digits it holds. Lone digits drawn on the square canvas,
at a normal size and small, are more examples of one; so are MNIST's training digits, as
stored and filling their picture (thick, cropped tight: training/augment.py), all the ink of
each one group: a wide 0, a thick 1 or a digit in two pieces is one digit, however the pen
strokes went. Pen strokes come only from the writers of half 0 (model/strokes.py:
writer_half); the figures in model/count.json are on half 1's writers, never seen, and on
MNIST's test digits.

Writes model/count.tflite (served with LiteRT) and model/count.json (figures, data, command).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from model.classifier import Classifier
from model.count import CLASSES, MODEL_FILE, RECORD_FILE
from model.preprocessing import find_ink, number_pen, scale_pixels
from model.strokes import (
    NUMBER_CANVAS,
    SMALL,
    STYLES,
    PenDigit,
    compose_number,
    drawings,
    load_pen_digits,
    render,
    writer_half,
)
from training.augment import filling_the_picture
from training.data import MnistUnavailableError, load_mnist
from training.written import as_input, own_masks, touching_groups, whole

MODEL_DIR = Path(__file__).resolve().parent / "model"
SHARED = Path(__file__).resolve().parent.parent / "shared" / "data"
HEIGHT, WIDTH = NUMBER_CANVAS
TOUCHING = 0.5  # share of gaps closed up in training numbers (the benchmark: 1 in 8)


def number_groups(digits: list[PenDigit], count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Groups of touching ink from `count` numbers of 1-4 digits, each by one writer of
    `digits`, grouped by which digit drew which ink (training/written.py).

    Returns:
        (N, 28, 28) uint8 served inputs and (N,) int64 how many digits each holds.
    """
    by_writer = defaultdict(list)
    for digit in digits:
        by_writer[(digit.source, digit.writer)].append(digit)
    writers = sorted(w for w, own in by_writer.items() if len(own) >= 4)
    images, labels = [], []
    for index in range(count):
        rng = np.random.default_rng([seed, index])
        own = by_writer[writers[rng.integers(len(writers))]]
        chosen = [own[i] for i in rng.choice(len(own), int(rng.integers(1, 5)), replace=False)]
        strokes = compose_number(chosen, rng, HEIGHT, WIDTH, TOUCHING)
        brush = int(rng.integers(10, 23))
        found = find_ink(render(strokes, brush, STYLES[index % len(STYLES)], HEIGHT, WIDTH))
        if found is None:
            continue
        pen = number_pen(found)
        for members, group in touching_groups(found, own_masks(found, strokes, chosen, brush)):
            images.append(as_input(found, group, pen))
            labels.append(len(members))
    return np.array(images, np.uint8).reshape(-1, 28, 28), np.array(labels, np.int64)


def lone_digits(digits: list[PenDigit], seed: int, **ranges) -> np.ndarray:
    """Every digit drawn alone on the square canvas, all its ink as one input."""
    images = [whole(rgba) for _, _, rgba in drawings(digits, seed=seed, **ranges)]
    return np.array([i for i in images if i is not None], np.uint8).reshape(-1, 28, 28)


def mnist_groups(images: np.ndarray, seed: int) -> np.ndarray:
    """MNIST digits as stored and filling their picture, all the ink of each as one input:
    (N, 28, 28) uint8."""
    rng = np.random.default_rng(seed)
    served = [whole(p) for image in images for p in (image, filling_the_picture(image, rng))]
    return np.array([i for i in served if i is not None], np.uint8).reshape(-1, 28, 28)


def examples(
    digits: list[PenDigit], numbers: int, seed: int, mnist: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(N, 28, 28) uint8 inputs and (N,) int64 classes (0: one digit, 1: two, 2: more);
    `mnist`: (M, 28, 28) uint8 MNIST digits, more examples of one."""
    x, held = number_groups(digits, numbers, seed)
    lone = [
        lone_digits(digits, seed + 1),
        lone_digits(digits, seed + 2, **SMALL),
        mnist_groups(mnist, seed + 3),
    ]
    x = np.concatenate([x, *lone])
    held = np.concatenate([held, np.ones(sum(map(len, lone)), np.int64)])
    return x, np.minimum(held, CLASSES) - 1


def build_counter(dropout: float = 0.3):
    """A small CNN: (N, 28, 28, 1) float32 in [0, 1] -> (N, 3) [one, two, three or more]."""
    from training.networks import build_small

    return build_small(CLASSES, "count", dropout)


def confusion(probabilities: np.ndarray, classes: np.ndarray) -> list[list[int]]:
    """rows: the true count (1, 2, 3+); columns: the model's."""
    said = probabilities.argmax(axis=1)
    return [[int(((classes == a) & (said == b)).sum()) for b in range(CLASSES)]
            for a in range(CLASSES)]  # fmt: skip


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--data", default=None, help="MNIST .npz (None: $MNIST_NPZ)")
    parser.add_argument("--pen-data", type=Path, default=SHARED, help="folder of the UNIPEN files")
    parser.add_argument("--mnist", type=int, default=15_000, help="MNIST training digits used")
    parser.add_argument("--out", type=Path, default=None, help="default: model/ (runs/ dry run)")
    parser.add_argument("--numbers", type=int, default=40_000, help="training numbers")
    parser.add_argument("--epochs", type=int, default=6, help="epochs")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument("--dry-run", action="store_true", help="a few hundred numbers, 1 epoch")
    return parser.parse_args(argv)


def train(x, y, x_held, y_held, epochs: int, seed: int):
    """The digit-count network trained on the groups (cosine learning rate), validated on
    the held-out writers' groups."""
    import keras

    keras.utils.set_random_seed(seed)
    model = build_counter()
    steps = epochs * -(-len(x) // 128)
    schedule = keras.optimizers.schedules.CosineDecay(1e-3, steps)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    model.fit(scale_pixels(x)[..., None], y, batch_size=128, epochs=epochs, verbose=2,
              validation_data=(scale_pixels(x_held)[..., None], y_held))  # fmt: skip
    return model


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    out = args.out or (Path("runs/count-dry-run") if args.dry_run else MODEL_DIR)
    command = shlex.join(["python", "train_count.py", *(sys.argv[1:] if argv is None else argv)])
    try:
        digits = load_pen_digits(args.pen_data / "unipen_dev.jsonl.gz")
        mnist = load_mnist(args.data)
    except (MnistUnavailableError, OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    from training.export import export_litert

    started = time.perf_counter()
    seen = [d for d in digits if writer_half(d.source, d.writer) == 0]
    unseen = [d for d in digits if writer_half(d.source, d.writer) == 1]
    if args.dry_run:
        seen, unseen, args.numbers, args.epochs, args.mnist = seen[:300], unseen[:300], 200, 1, 300
    x, y = examples(seen, args.numbers, args.seed, mnist.x_train[: args.mnist])
    x_held, y_held = examples(
        unseen, args.numbers // 8, args.seed + 100, mnist.x_test[: args.mnist // 8]
    )
    print(f"training groups: {np.bincount(y, minlength=CLASSES).tolist()} (1, 2, 3+ digits), "
          f"prepared in {time.perf_counter() - started:.0f} s")  # fmt: skip

    model = train(x, y, x_held, y_held, args.epochs, args.seed)
    seconds = time.perf_counter() - started

    out.mkdir(parents=True, exist_ok=True)
    path = out / MODEL_FILE
    export_litert(model, path)
    held = Classifier(path, classes=CLASSES).predict(scale_pixels(x_held))
    # MNIST's test digits (one group each, as stored and filling their picture) alone.
    mnist_held = mnist_groups(mnist.x_test[: args.mnist // 8], args.seed + 200)
    table = confusion(held, y_held)
    record = {
        "held_out_writers": {
            "groups": int(len(y_held)),
            "counted_right": float((held.argmax(axis=1) == y_held).mean()),
            "one_digit_said_several": float((held[y_held == 0].argmax(axis=1) > 0).mean()),
            "several_said_one": float((held[y_held > 0].argmax(axis=1) == 0).mean()),
            "confusion_1_2_3plus": table,
        },
        "mnist_test_said_several": float(
            (
                Classifier(path, classes=CLASSES).predict(scale_pixels(mnist_held)).argmax(1) > 0
            ).mean()
        ),
        "training_groups": np.bincount(y, minlength=CLASSES).tolist(),
        "epochs": args.epochs,
        "training_seconds": round(seconds, 1),
        "data": "UNIPEN digits of the writers of half 0 (model/strokes.py: writer_half) "
        f"written as numbers of 1-4 digits ({TOUCHING:.0%} of gaps closed up) and alone; "
        f"{args.mnist} MNIST training digits as stored and filling their picture; figures "
        "on half 1's writers and MNIST test digits",
        "bytes": path.stat().st_size,
        "command": command,
    }
    (out / RECORD_FILE).write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps({k: v for k, v in record.items() if k != "command"}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Train the "not a digit" model: a small CNN that tells a digit from anything else.

    python train_reject.py --data ../shared/data/mnist.npz     # ~10 min on 2 cores, model/
    python train_reject.py --dry-run                            # seconds, into runs/

It reads the same 28x28 image the digit reader reads and says how likely that is not a
digit at all: a letter, a symbol, a shape, a doodle. It sits beside the digit reader rather
than inside it (an 11th class), so the digit reader's MNIST accuracy is untouched.

Digits and non-digits must look alike apart from what they are, or the model learns
"drawn or MNIST" instead of "digit or not". So both sides are mostly drawn the same way:
- digits: MNIST training digits as the app serves them, and real pen-stroke digits
  (../shared/data/unipen_dev.jsonl.gz) drawn as canvas images;
- not digits: real pen-stroke letters that look like no digit (letters_dev.jsonl.gz) drawn
  the same way, OpenCV's stroke fonts (letters and symbols), random scribbles and shapes.
The digits of a number are read the same way, each cut from its neighbours and drawn with
the number's pen (model/recognize.py: read): so the digits of numbers, as the served digit
reader and digit-count model (--readers) cut them, are digits too, and letters written
inside numbers are not.
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
import hashlib
import json
import shlex
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from model.classifier import Classifier, ModelError
from model.count import Counter, load_counter
from model.preprocessing import preprocess_steps, scale_pixels
from model.recognize import read
from model.reject import Rejecter
from model.strokes import (
    SMALL,
    PenDigit,
    load_pen_digits,
    pen_for,
    place_strokes,
    render,
    write_numbers,
)
from training.augment import (
    CONVENTION_CLASSES,
    served_filling_the_picture,
    served_versions,
    with_convention,
)
from training.data import MnistUnavailableError, load_mnist
from training.pen_variants import written_variant

MODEL_DIR = Path(__file__).resolve().parent / "model"
SHARED = Path(__file__).resolve().parent.parent / "shared" / "data"
# Letters that look like no digit: the ones the app must decline. Others (O, l, S, Z, b, g,
# q, ...) are written like digits by many people, and are left out of training.
NOT_DIGIT_LETTERS = set("AEFHKMNPRWXfhkmnrwx")
# Symbols written like a digit (! ] } | / ( like a 1, ? like a 2, $ like a 5, ^ like a 1
# with a long flag, . , ' like a dot, - _ ~ like a bar) are left out too.
FONT_CHARACTERS = "AEFHKMNPRWXfhkmnrwx+=#*@&%"
NOT_DIGIT_SYMBOLS = set("+=#*@&%")  # of symbols_dev.jsonl.gz
THRESHOLD_SHARE = 0.2  # of the writers, kept to choose the threshold
# Pens of the digits written as others write them: thinner and thicker than the canvas'.
VARIANT_BRUSHES = (6, 36)


def writer_role(item: PenDigit) -> str:
    """ "train" or "threshold" (a fifth of the writers), by writer."""
    key = f"reject/{item.source}/{item.writer}".encode()
    share = int(hashlib.sha256(key).hexdigest()[:8], 16) / 2**32
    return "threshold" if share < THRESHOLD_SHARE else "train"


def served(rgba: np.ndarray) -> np.ndarray | None:
    """A picture as the models read it: (28, 28) uint8, or None when blank."""
    steps = preprocess_steps(rgba)
    return None if steps is None else steps.digit_uint8


def drawn(items: list[PenDigit], copies: int, seed: int, **ranges) -> np.ndarray:
    """Each character drawn `copies` times with seeded pens (`ranges`: `pen_for`'s), as the
    models read it."""
    images = []
    for index, item in enumerate(items):
        for copy in range(copies):
            pen = pen_for(index * copies + copy, seed=seed, **ranges)
            image = served(render(place_strokes(item, pen), pen.brush, pen.style))
            if image is not None:
                images.append(image)
    return np.array(images, np.uint8).reshape(-1, 28, 28)


def as_others_write(items: list[PenDigit], copies: int, seed: int) -> list[PenDigit]:
    """Each character rewritten `copies` times (training/pen_variants.py: written_variant)."""
    rng = np.random.default_rng(seed)
    return [written_variant(item, rng) for item in items for _ in range(copies)]


def mnist_conventions(images: np.ndarray, labels: np.ndarray, seed: int) -> np.ndarray:
    """MNIST's 0s, 1s and 7s with a slash, a foot or a bar (training/augment.py:
    with_convention), as the app serves them: (N, 28, 28) uint8."""
    rng = np.random.default_rng(seed)
    chosen = np.flatnonzero(np.isin(labels, CONVENTION_CLASSES))
    return np.array([with_convention(images[i], int(labels[i]), rng) for i in chosen], np.uint8)


def number_parts(
    digits: list[PenDigit],
    count: int,
    seed: int,
    readers: tuple[Classifier, Counter],
    letters: list[PenDigit] | None = None,
) -> np.ndarray:
    """The characters of `count` numbers of 2-6 characters (`write_numbers`; with `letters`,
    only the letter inside each), as the digit reader and digit-count model `readers` cut
    them, from the numbers cut into as many parts as were written: (N, 28, 28) uint8."""
    classifier, counter = readers
    parts = []
    for chosen, rgba, _, _ in write_numbers(digits, count, seed, (2, 3, 4, 5, 6), letters):
        reading = read(rgba, classifier, None, counter)
        if len(reading.digits) == len(chosen):
            parts += [
                d.steps.digit_uint8
                for d, written in zip(reading.digits, chosen)
                if letters is None or isinstance(written.label, str)
            ]
    return np.array(parts, np.uint8).reshape(-1, 28, 28)


def font_glyphs(count: int, rng: np.random.Generator) -> np.ndarray:
    """Letters and symbols in OpenCV's stroke fonts, tilted and of varied weight."""
    fonts = [
        cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX,
        cv2.FONT_HERSHEY_TRIPLEX, cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, cv2.FONT_HERSHEY_PLAIN,
    ]  # fmt: skip
    images = []
    while len(images) < count:
        canvas = np.zeros((280, 280), np.uint8)
        char = FONT_CHARACTERS[rng.integers(len(FONT_CHARACTERS))]
        font = fonts[rng.integers(len(fonts))]
        cv2.putText(canvas, char, (60, 210), font, rng.uniform(4, 7), 255,
                    int(rng.integers(8, 24)), cv2.LINE_AA)  # fmt: skip
        angle = rng.uniform(-15, 15)
        turn = cv2.getRotationMatrix2D((140, 140), angle, 1.0)
        image = served(cv2.warpAffine(canvas, turn, (280, 280)))
        if image is not None:
            images.append(image)
    return np.array(images, np.uint8)


def scribbles(count: int, rng: np.random.Generator) -> np.ndarray:
    """Doodles: random smooth strokes, zigzags, and shapes (triangles, boxes, stars, arrows,
    check marks, hashes), drawn with a canvas brush."""
    images = []
    while len(images) < count:
        kind = rng.integers(4)
        if kind == 0:  # 1-3 random smooth strokes
            strokes = []
            for _ in range(rng.integers(1, 4)):
                steps = rng.normal(0, 1, (rng.integers(4, 9), 2)).cumsum(0)
                t = np.linspace(0, len(steps) - 1, 60)
                strokes.append(np.stack([np.interp(t, range(len(steps)), steps[:, i])
                                         for i in (0, 1)], 1))  # fmt: skip
        elif kind == 1:  # a zigzag
            corners = rng.integers(4, 9)
            x = np.linspace(0, 1, corners + 1)
            strokes = [np.stack([x, np.arange(corners + 1) % 2 * rng.uniform(0.3, 1)], 1)]
        elif kind == 2:  # a triangle, a box, or a star (round shapes are 0s)
            star = rng.uniform() < 0.5
            corners = int(rng.integers(4, 7)) if star else int(rng.integers(3, 5))
            n = corners * (2 if star else 1)
            angle = np.linspace(0, 2 * np.pi, n + 1) + rng.uniform(0, np.pi)
            radius = np.where(np.arange(n + 1) % 2 == 1, 0.45, 1.0) if star else np.ones(n + 1)
            strokes = [np.stack([radius * np.cos(angle), radius * np.sin(angle)], 1)]
        else:  # an arrow, a check mark, or a hash
            choice = rng.integers(3)
            if choice == 0:
                strokes = [
                    np.array([[0, 0.5], [1, 0.5]]),
                    np.array([[0.7, 0.2], [1, 0.5], [0.7, 0.8]]),
                ]
            elif choice == 1:
                strokes = [np.array([[0, 0.5], [0.35, 1], [1, 0]])]
            else:
                strokes = [
                    np.array([[0.3, 0], [0.2, 1]]),
                    np.array([[0.7, 0], [0.6, 1]]),
                    np.array([[0, 0.35], [1, 0.35]]),
                    np.array([[0, 0.7], [1, 0.7]]),
                ]
        item = PenDigit(-1, [s * 100 + rng.normal(0, 2, s.shape) for s in strokes], "", "")
        pen = pen_for(len(images), seed=int(rng.integers(1 << 30)))
        image = served(render(place_strokes(item, pen), pen.brush, pen.style))
        if image is not None:
            images.append(image)
    return np.array(images, np.uint8)


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
    parser.add_argument(
        "--readers", type=Path, default=MODEL_DIR, help="the digit reader and digit-count model"
    )
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


def training_set(
    mnist, digits, letters, symbols, readers, seed: int, small: int | None, plain: bool = False
):
    """Digits (label 0) against what is not a digit (1): (N, 28, 28) uint8 images, (N,)
    labels, and how many of each kind. The writers of the "train" role only. `plain`: without
    the digits and letters as others write them, MNIST's variants and the pen symbols."""
    rng = np.random.default_rng(seed)

    def role(items):
        chosen = [item for item in items if writer_role(item) == "train"]
        return chosen[:small] if small else chosen

    def unless_plain(make):
        return None if plain else make()

    pick = rng.choice(len(mnist.x_train), 300 if small else 20_000, replace=False)
    conventions = rng.choice(len(mnist.x_train), 300 if small else 10_000, replace=False)
    tight = rng.choice(len(mnist.x_train), 300 if small else 10_000, replace=False)
    positives = {
        "mnist_digits": served_versions(mnist.x_train[pick]),
        "mnist_slashed_footed_crossed": unless_plain(
            lambda: mnist_conventions(
                mnist.x_train[conventions], mnist.y_train[conventions], seed + 11
            )
        ),
        # Thick ink to the picture's edge: a tight crop, a form box.
        "mnist_filling_their_picture": unless_plain(
            lambda: served_filling_the_picture(mnist.x_train[tight], seed + 15)
        ),
        "digits_as_others_write_them": unless_plain(
            lambda: drawn(
                as_others_write(role(digits), 1 if small else 3, seed + 12),
                copies=1,
                seed=seed + 13,
                brushes=VARIANT_BRUSHES,
            )
        ),
        "drawn_digits": drawn(role(digits), copies=1 if small else 4, seed=seed),
        # Written small, as on a phone, a heavy pen fills loops: such digits are digits too.
        "drawn_digits_small": drawn(role(digits), copies=1, seed=seed + 4, **SMALL),
        "digits_cut_from_numbers": number_parts(
            role(digits), 30 if small else 2_500, seed + 7, readers
        ),
    }
    negatives = {
        "drawn_letters": drawn(role(letters), copies=1 if small else 3, seed=seed + 1),
        "drawn_letters_small": drawn(role(letters), copies=1, seed=seed + 5, **SMALL),
        # As slanted, sparse and jagged as the digits written so: or those would pass for
        # digits whatever they are.
        "letters_as_others_write_them": unless_plain(
            lambda: drawn(
                as_others_write(role(letters), 1 if small else 2, seed + 16),
                copies=1,
                seed=seed + 17,
                brushes=VARIANT_BRUSHES,
            )
        ),
        "letters_cut_from_numbers": number_parts(
            role(digits), 30 if small else 3_000, seed + 8, readers, role(letters)
        ),
        "drawn_symbols": unless_plain(
            lambda: drawn(role(symbols), copies=1 if small else 3, seed=seed + 14)
        ),
        "font_glyphs": font_glyphs(100 if small else 6_000, rng),
        "scribbles_and_shapes": scribbles(100 if small else 6_000, rng),
    }
    # --plain: the kinds made `unless_plain` are left out.
    positives = {name: images for name, images in positives.items() if images is not None}
    negatives = {name: images for name, images in negatives.items() if images is not None}
    x = np.concatenate([*positives.values(), *negatives.values()])
    y = np.concatenate(
        [np.zeros(sum(map(len, positives.values()))), np.ones(sum(map(len, negatives.values())))]
    )
    counts = {name: len(images) for name, images in (positives | negatives).items()}
    return x, y, counts


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


def threshold_record(
    path: Path, mnist, digits, letters, readers, seed: int, small, rate: float
) -> dict:
    """The threshold (`rate` of the threshold writers' real digits score above it, drawn
    alone or cut from their numbers: the app reads both), and what it declines of theirs."""
    served_model = Classifier(path, classes=2)

    def scores(images: np.ndarray) -> np.ndarray:
        return served_model.predict(scale_pixels(images))[:, 1] if len(images) else np.zeros(0)

    held = [item for item in digits if writer_role(item) == "threshold"][:small]
    held_letters = [item for item in letters if writer_role(item) == "threshold"][:small]
    held_digits = scores(drawn(held, copies=1, seed=seed + 2))
    held_parts = scores(number_parts(held, 30 if small else 600, seed + 9, readers))
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


def numbers_with_a_letter_declined(out: Path, digits, letters, readers, seed: int, small):
    """Share of the threshold writers' numbers with a letter inside that are declined whole."""
    classifier, counter = readers
    rejecter = Rejecter(out)
    held = [item for item in digits if writer_role(item) == "threshold"][:small]
    held_letters = [item for item in letters if writer_role(item) == "threshold"][:small]
    with_letter = write_numbers(held, 20 if small else 400, seed + 10, (2, 3, 4, 5), held_letters)
    declined = [
        read(rgba, classifier, rejecter, counter).number is None for _, rgba, _, _ in with_letter
    ]
    return float(np.mean(declined))


def choose_again(out: Path, mnist, digits, letters, readers, args, command: str) -> int:
    """--threshold-only: the threshold of out/reject.tflite chosen again, its record kept."""
    small = 200 if args.dry_run else None
    try:
        record = json.loads((out / "reject.json").read_text())
    except (OSError, ValueError) as error:
        print(f"error: no model to choose a threshold for in {out} ({error})", file=sys.stderr)
        return 2
    record |= threshold_record(
        out / "reject.tflite", mnist, digits, letters, readers, args.seed, small, args.reject_rate
    )
    record.setdefault("trained_by", record["command"])
    record["command"] = command
    (out / "reject.json").write_text(json.dumps(record, indent=1) + "\n")  # read by the next
    record["threshold_writers"]["numbers_with_a_letter_declined"] = numbers_with_a_letter_declined(
        out, digits, letters, readers, args.seed, small
    )
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
        readers = (Classifier(args.readers / "cnn.tflite"), load_counter(args.readers))
    except (MnistUnavailableError, ModelError, OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    small = 200 if args.dry_run else None
    if args.threshold_only:
        return choose_again(out, mnist, digits, letters, readers, args, command)
    started = time.perf_counter()
    x, y, counts = training_set(
        mnist, digits, letters, symbols, readers, args.seed, small, args.plain
    )
    print(f"training images: {counts}, prepared in {time.perf_counter() - started:.0f} s")
    epochs = 1 if args.dry_run else args.epochs
    model = fit(x, y, epochs, args.seed)
    seconds = time.perf_counter() - started

    out.mkdir(parents=True, exist_ok=True)
    path = out / "reject.tflite"
    export_litert(model, path)
    record = threshold_record(
        path, mnist, digits, letters, readers, args.seed, small, args.reject_rate
    ) | {
        "held_out_sources": sorted(held_out),
        "not_digit_letters": "".join(sorted(NOT_DIGIT_LETTERS)),
        "training_images": counts,
        "epochs": epochs,
        "training_seconds": round(seconds, 1),
        "data": "MNIST training digits (served versions, and 0s, 1s and 7s slashed, footed "
        "and crossed); UNIPEN digits, letters and symbols of 80% of the writers of the "
        "sources not held out, drawn as canvas images at a normal size and small, digits "
        "also as other people write them (training/pen_variants.py), and written as numbers "
        "cut by the digit reader and digit-count model; OpenCV stroke fonts; random "
        "scribbles and shapes",
        "bytes": path.stat().st_size,
        "command": command,
    }
    (out / "reject.json").write_text(json.dumps(record, indent=1) + "\n")
    record["threshold_writers"]["numbers_with_a_letter_declined"] = numbers_with_a_letter_declined(
        out, digits, letters, readers, args.seed, small
    )
    (out / "reject.json").write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps({k: v for k, v in record.items() if k != "command"}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

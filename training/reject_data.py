"""The "not a digit" model's data (train_reject.py): digits against what is not a digit, as
the models read them (28x28 uint8), and which writers may train it.

Both sides are mostly drawn the same way, so that the model learns "digit or not" rather than
"drawn or MNIST": MNIST digits as the app serves them and real pen-stroke digits drawn as
canvas images, against pen-stroke letters and symbols drawn the same way, OpenCV's stroke
fonts, and scribbles and shapes. The characters of numbers come cut where they were written
(`number_parts`), not as the app cuts them: no model learns another's heuristics.
"""

from __future__ import annotations

import hashlib

import cv2
import numpy as np

from model.preprocessing import find_ink, preprocess_steps
from model.strokes import SMALL, PenDigit, pen_for, place_strokes, render, write_numbers
from training.augment import (
    CONVENTION_CLASSES,
    served_filling_the_picture,
    served_versions,
    with_convention,
)
from training.pen_variants import written_variant
from training.written import characters, own_masks

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


def as_others_write(items: list[PenDigit], copies: int, seed: int) -> np.ndarray:
    """Each character rewritten `copies` times (training/pen_variants.py: written_variant),
    drawn with pens thinner and thicker than the canvas', as the models read it (seeds
    `seed` and `seed + 1`)."""
    rng = np.random.default_rng(seed)
    rewritten = [written_variant(item, rng) for item in items for _ in range(copies)]
    return drawn(rewritten, copies=1, seed=seed + 1, brushes=VARIANT_BRUSHES)


def mnist_conventions(images: np.ndarray, labels: np.ndarray, seed: int) -> np.ndarray:
    """MNIST's 0s, 1s and 7s with a slash, a foot or a bar (training/augment.py:
    with_convention), as the app serves them: (N, 28, 28) uint8."""
    rng = np.random.default_rng(seed)
    chosen = np.flatnonzero(np.isin(labels, CONVENTION_CLASSES))
    return np.array([with_convention(images[i], int(labels[i]), rng) for i in chosen], np.uint8)


def number_parts(
    digits: list[PenDigit], count: int, seed: int, letters: list[PenDigit] | None = None
) -> np.ndarray:
    """The characters of `count` numbers of 2-6 characters (`write_numbers`; with `letters`,
    only the letter inside each), each cut where it was written (training/written.py) and
    drawn with the number's pen: (N, 28, 28) uint8."""
    parts = []
    for chosen, rgba, _, drawn_with in write_numbers(digits, count, seed, (2, 3, 4, 5, 6), letters):
        found = find_ink(rgba)
        if found is None:
            continue
        masks = own_masks(found, list(drawn_with.paths), chosen, int(drawn_with.width))
        parts += [
            part
            for part, written in zip(characters(found, masks), chosen)
            if part is not None and (letters is None or isinstance(written.label, str))
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


def training_set(
    mnist, digits, letters, symbols, seed: int, small: int | None, plain: bool = False
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
            lambda: as_others_write(role(digits), 1 if small else 3, seed + 12)
        ),
        "drawn_digits": drawn(role(digits), copies=1 if small else 4, seed=seed),
        # Written small, as on a phone, a heavy pen fills loops: such digits are digits too.
        "drawn_digits_small": drawn(role(digits), copies=1, seed=seed + 4, **SMALL),
        "digits_cut_from_numbers": number_parts(role(digits), 30 if small else 2_500, seed + 7),
    }
    negatives = {
        "drawn_letters": drawn(role(letters), copies=1 if small else 3, seed=seed + 1),
        "drawn_letters_small": drawn(role(letters), copies=1, seed=seed + 5, **SMALL),
        # As slanted, sparse and jagged as the digits written so: or those would pass for
        # digits whatever they are.
        "letters_as_others_write_them": unless_plain(
            lambda: as_others_write(role(letters), 1 if small else 2, seed + 16)
        ),
        "letters_cut_from_numbers": number_parts(
            role(digits), 30 if small else 3_000, seed + 8, role(letters)
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

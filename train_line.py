"""Train the line reader: a small CNN with CTC that reads a line of digits (model/line.py).

    python train_line.py --data ../shared/data/mnist.npz           # ~50 min on 2 cores, model/
    python train_line.py --hold-out apb,app,imp,pri --out runs/a   # a fold: never sees them
    python train_line.py --dry-run                                 # seconds, into runs/

It learns from synthetic lines: 1 to 8 characters side by side, each an MNIST training
digit, a real pen-stroke digit (../shared/data/unipen_dev.jsonl.gz) or, as "not a digit", a
pen-stroke letter or symbol that looks like no digit (letters_dev, symbols_dev), the pen
strokes of a line mostly by one writer. Sizes, slants, pens (thin to filling the loops),
baselines and gaps (far apart to overlapping) vary; a third of the lines are one character,
since most drawings are; some are photographed-looking (uneven light, noise, blur) or cropped
tight to the ink. Every line goes through the served path to its input (`find_ink`, then
`line.line_input`), so the reader learns from exactly what it will read.

--hold-out leaves out the pen strokes of some sources (the writers of each UNIPEN source are
different people): benchmarks measure a fold's model on the sources it never saw.

Writes OUT/line.keras (the trained model), OUT/line.tflite (served with LiteRT, weights int8,
any width) and OUT/line.json (the record: data, sources, steps, time, command, validation
figures).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shlex
import sys
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from multiprocessing import Pool
from pathlib import Path

import cv2
import numpy as np

from model.canvas import pen_coverage
from model.data import load_mnist
from model.line import BLANK, CLASSES, HEIGHT, NOT_DIGIT, RIGHT_PAPER, WIDTH, line_input
from model.preprocessing import find_ink
from model.strokes import PenDigit, load_pen_digits

ROOT = Path(__file__).resolve().parent
SHARED = ROOT.parent / "shared" / "data"
SOURCES = ("apb", "ced", "app", "aga", "imp", "art", "pri", "ibm")
# Characters that look like no digit, which the reader learns to call "not a digit". Others
# (O, l, S, Z, b, g, q, | / ( ) . - ...) are written like digits or parts of them.
NOT_DIGIT_LETTERS = set("AEFHKMNPRWXfhkmnrwx")
NOT_DIGIT_SYMBOLS = set("+=#*@&%")
MAX_CHARACTERS = 8


@dataclass(frozen=True)
class Config:
    lines: int = 160_000  # synthetic lines made once, shared by the epochs
    batch_size: int = 64
    minutes: float = 45.0  # training time
    learning_rate: float = 2e-3
    one_character: float = 0.35  # share of lines of one character
    not_digit_alone: float = 0.2  # of lines of one character: a letter or a symbol
    not_digit_inside: float = 0.05  # of the characters of longer lines
    mnist_lines: float = 0.4  # lines of MNIST digits (the rest: pen strokes)
    photo: float = 0.2  # lines made to look photographed
    tight: float = 0.1  # pictures cropped to the ink


# --- Data -------------------------------------------------------------------------------


@dataclass
class Pools:
    """What lines are made of: MNIST digits, and pen characters by source and writer."""

    mnist_x: np.ndarray
    mnist_y: np.ndarray
    writers: list[tuple[str, str]]  # (source, writer), weighted by their digits' count
    weights: np.ndarray
    digits: dict[tuple[str, str], list[PenDigit]]
    others: dict[tuple[str, str], list[PenDigit]]
    all_others: list[PenDigit]


def load_pools(mnist_path: str | None, hold_out: set[str], limit: int | None = None) -> Pools:
    mnist = load_mnist(mnist_path)
    x, y = mnist.x_train, mnist.y_train
    if limit:
        x, y = x[:limit], y[:limit]
    digits, others = defaultdict(list), defaultdict(list)
    for item in load_pen_digits(SHARED / "unipen_dev.jsonl.gz"):
        if item.source not in hold_out:
            digits[(item.source, item.writer)].append(item)
    for name, keep in (("letters_dev", NOT_DIGIT_LETTERS), ("symbols_dev", NOT_DIGIT_SYMBOLS)):
        for item in _load_characters(SHARED / f"{name}.jsonl.gz", keep):
            if item.source not in hold_out:
                others[(item.source, item.writer)].append(item)
    writers = sorted(digits)
    weights = np.array([len(digits[w]) for w in writers], np.float64)
    all_others = [item for items in others.values() for item in items]
    return Pools(x, y, writers, weights / weights.sum(), dict(digits), dict(others), all_others)


def _load_characters(path: Path, keep: set[str]) -> list[PenDigit]:
    """Pen characters whose label is in `keep`, y pointing down (as `load_pen_digits`)."""
    items = []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            if row["label"] not in keep or not row["strokes"]:
                continue
            strokes = [np.asarray(s, np.float64).reshape(-1, 2) * (1, -1) for s in row["strokes"]]
            if np.concatenate(strokes).min(axis=0).tolist() == [0.0, -0.0]:
                continue
            items.append(PenDigit(-1, strokes, row["source"], row["writer"]))
    return items


def make_line(pools: Pools, config: Config, rng: np.random.Generator):
    """One synthetic line: (picture (H, W) uint8, ink bright or dark on light paper; the
    labels, 1-10 for digits 0-9 and NOT_DIGIT, left to right)."""
    if rng.uniform() < config.one_character:
        count = 1
        rates = config.not_digit_alone
    else:
        count = int(rng.integers(2, MAX_CHARACTERS + 1))
        rates = config.not_digit_inside
    mnist = rng.uniform() < config.mnist_lines
    writer = pools.writers[rng.choice(len(pools.writers), p=pools.weights)]
    height = float(rng.uniform(20, 90))  # a character's height, pixels
    brush = height * (rng.uniform(0.25, 0.45) if rng.uniform() < 0.15 else rng.uniform(0.04, 0.2))
    slant = rng.uniform(-0.3, 0.3)
    strokes, pastes, labels, cursor = [], [], [], 0.0
    for _ in range(count):
        size = height * rng.uniform(0.7, 1.25)
        base = rng.normal(0, 0.04) * height
        if rng.uniform() < rates:
            own = pools.others.get(writer) or pools.all_others
            item = (
                own[rng.integers(len(own))]
                if rng.uniform() < 0.7
                else pools.all_others[rng.integers(len(pools.all_others))]
            )
            labels.append(NOT_DIGIT)
            width = _place_strokes(item, size, cursor, base, slant, strokes)
        elif mnist:
            index = rng.integers(len(pools.mnist_x))
            labels.append(int(pools.mnist_y[index]) + 1)
            width = _place_mnist(pools.mnist_x[index], size, cursor, base, pastes, rng)
        else:
            own = pools.digits[writer]
            if rng.uniform() < 0.2:
                other = pools.writers[rng.choice(len(pools.writers), p=pools.weights)]
                own = pools.digits[other]
            item = own[rng.integers(len(own))]
            labels.append(item.label + 1)
            width = _place_strokes(item, size, cursor, base, slant, strokes)
        gap = rng.uniform(-0.25, 0.0) if rng.uniform() < 0.3 else rng.normal(0.3, 0.15)
        cursor += width + float(np.clip(gap, -0.25, 1.2)) * height
    picture = _render(strokes, pastes, brush, rng)
    return _finish(picture, config, rng), labels


def _place_strokes(item, size, cursor, base, slant, out) -> float:
    """Scale a pen character to `size` high, slant it, put its left edge at `cursor`."""
    points = np.concatenate(item.strokes)
    low, high = points.min(axis=0), points.max(axis=0)
    span = np.maximum(high - low, 1e-9)
    scale = size / span[1] if span[1] > 0.2 * span[0] else 0.4 * size / span[0]
    placed = []
    for stroke in item.strokes:
        p = (stroke - low) * scale
        p[:, 0] += slant * (size - p[:, 1])
        placed.append(p)
    left = min(p[:, 0].min() for p in placed)
    for p in placed:
        p[:, 0] += cursor - left
        p[:, 1] += base - (high[1] - low[1]) * scale  # bottom on the baseline (y = 0)
    out.extend(placed)
    return float(max(p[:, 0].max() for p in placed) - cursor)


def _place_mnist(image, size, cursor, base, out, rng) -> float:
    """An MNIST digit cropped to its ink, scaled to `size` high, to paste at `cursor`."""
    rows, cols = np.flatnonzero(image.any(1)), np.flatnonzero(image.any(0))
    crop = image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    scale = size / crop.shape[0]
    width = max(1, round(crop.shape[1] * scale))
    glyph = cv2.resize(crop, (width, max(1, round(size))), interpolation=cv2.INTER_LINEAR)
    if rng.uniform() < 0.3:  # a heavier or lighter pen than MNIST's
        k = max(1, int(size * rng.uniform(0.03, 0.1)))
        kernel = np.ones((k, k), np.uint8)
        glyph = cv2.dilate(glyph, kernel) if rng.uniform() < 0.7 else cv2.erode(glyph, kernel)
    out.append((glyph, cursor, base - glyph.shape[0]))
    return float(width)


def _render(strokes, pastes, brush, rng) -> np.ndarray:
    """The strokes and pasted glyphs as one ink-bright picture with a margin."""
    boxes = [(p[:, 0].min(), p[:, 1].min(), p[:, 0].max(), p[:, 1].max()) for p in strokes]
    boxes += [(x, y, x + g.shape[1], y + g.shape[0]) for g, x, y in pastes]
    boxes = np.array(boxes)
    margin = brush + rng.uniform(2, 30)
    x0, y0 = boxes[:, 0].min() - margin, boxes[:, 1].min() - margin
    width = int(boxes[:, 2].max() - x0 + margin) + 1
    height = int(boxes[:, 3].max() - y0 + margin) + 1
    shifted = [p - (x0, y0) for p in strokes]
    picture = pen_coverage(shifted, max(1, int(round(brush))), (height, width))
    for glyph, x, y in pastes:
        gx, gy = int(round(x - x0)), int(round(y - y0))
        region = picture[gy : gy + glyph.shape[0], gx : gx + glyph.shape[1]]
        np.maximum(region, glyph[: region.shape[0], : region.shape[1]], out=region)
    return picture


def _finish(ink: np.ndarray, config: Config, rng) -> np.ndarray:
    """Cropped tight, or photographed: dark ink on uneven paper, noise and blur."""
    if rng.uniform() < config.tight:
        x, y, w, h = cv2.boundingRect((ink > 128).view(np.uint8))
        if w and h:
            ink = ink[y : y + h, x : x + w]
    if rng.uniform() >= config.photo:
        return ink
    height, width = ink.shape
    paper = rng.uniform(170, 250)
    ramp = np.linspace(0, 1, width)[None, :] * np.cos(rng.uniform(0, np.pi))
    ramp = ramp + np.linspace(0, 1, height)[:, None] * np.sin(rng.uniform(0, np.pi))
    light = 1.0 - rng.uniform(0, 0.4) * (ramp - ramp.min()) / max(np.ptp(ramp), 1e-9)
    contrast = rng.uniform(0.5, 0.95)
    picture = (paper * light) * (1 - contrast * ink / 255.0)
    picture = cv2.GaussianBlur(picture, (0, 0), rng.uniform(0.3, 1.5))
    picture += rng.normal(0, rng.uniform(1, 6), picture.shape)
    return np.clip(picture, 0, 255).astype(np.uint8)


def make_examples(pools: Pools, config: Config, seed: int, count: int):
    """`count` lines as inputs: (count, HEIGHT, WIDTH) uint8 and (count, MAX_CHARACTERS)
    int32 labels, -1 past the end."""
    rng = np.random.default_rng(seed)
    x = np.zeros((count, HEIGHT, WIDTH), np.uint8)
    y = np.full((count, MAX_CHARACTERS), -1, np.int32)
    made = 0
    while made < count:
        picture, labels = make_line(pools, config, rng)
        found = find_ink(picture)
        if found is None:
            continue
        x[made] = np.round(line_input(found).pixels * 255)
        y[made, : len(labels)] = labels
        made += 1
    return x, y


_POOLS: Pools | None = None


def _init_worker(mnist_path, hold_out, limit):
    global _POOLS
    cv2.setNumThreads(1)
    _POOLS = load_pools(mnist_path, hold_out, limit)


def _examples_task(args):
    config, seed, count = args
    return make_examples(_POOLS, config, seed, count)


def make_dataset(mnist_path, hold_out, config: Config, seed: int, workers: int, limit=None):
    chunks = [(config, seed * 1000 + i, 2000) for i in range(-(-config.lines // 2000))]
    with Pool(workers, _init_worker, (mnist_path, hold_out, limit)) as pool:
        parts = pool.map(_examples_task, chunks)
    x = np.concatenate([p[0] for p in parts])[: config.lines]
    y = np.concatenate([p[1] for p in parts])[: config.lines]
    return x, y


# --- Model ------------------------------------------------------------------------------


def build_model(width: int | None = WIDTH):
    """(N, 32, width, 1) line -> (N, width / 4, 12) logits: one column of classes every 4
    pixels. With width None, any width: a short line costs less (`line.LineReader` trims
    the paper on its right)."""
    import keras
    from keras import layers

    def conv(x, filters):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        return layers.ReLU()(layers.BatchNormalization()(x))

    inputs = keras.Input((HEIGHT, width, 1))
    x = conv(inputs, 16)
    x = layers.MaxPooling2D(2)(x)  # 16 x 128
    x = conv(x, 32)
    x = layers.MaxPooling2D(2)(x)  # 8 x 64
    x = conv(conv(x, 64), 64)
    x = layers.MaxPooling2D((2, 1))(x)  # 4 x 64: height pooled, columns kept
    x = conv(x, 96)
    x = layers.Conv2D(128, (HEIGHT // 8, 1), activation="relu")(x)  # 1 x 64: each column
    x = layers.Reshape((-1, 128))(x)
    # Context along the line: a digit's neighbours say where it ends.
    x = layers.Conv1D(128, 5, padding="same", activation="relu")(x)
    x = layers.Dropout(0.2)(x)
    x = layers.Conv1D(128, 5, padding="same", dilation_rate=2, activation="relu")(x)
    logits = layers.Dense(CLASSES)(x)
    return keras.Model(inputs, logits, name="line")


def ctc_loss(y_true, logits):
    from keras import ops

    labels = ops.cast(y_true, "int32")
    lengths = ops.sum(ops.cast(labels >= 0, "int32"), axis=1)
    batch, steps = ops.shape(labels)[0], ops.shape(logits)[1]
    steps = ops.full((batch,), steps, dtype="int32")
    return ops.ctc_loss(ops.maximum(labels, 0), logits, lengths, steps, mask_index=BLANK)


def greedy(step_probabilities: np.ndarray) -> list[list[int]]:
    best = step_probabilities.argmax(axis=-1)
    out = []
    for row in best:
        labels, previous = [], BLANK
        for c in row:
            if c != BLANK and c != previous:
                labels.append(int(c))
            previous = c
        out.append(labels)
    return out


def exact(logits: np.ndarray, y: np.ndarray) -> float:
    truth = [[int(v) for v in row if v >= 0] for row in y]
    return float(np.mean([a == b for a, b in zip(greedy(logits), truth)]))


def widths(x: np.ndarray) -> np.ndarray:
    """(N,) int: the input width each line needs, its ink and the paper the reader sees
    beyond it (`line.RIGHT_PAPER`), in steps of 32 columns up to WIDTH: a line of one digit
    is trained on 64 columns, not 256, as it is served."""
    inked = (x > 0).any(axis=1)
    last = np.where(inked.any(axis=1), WIDTH - 1 - np.argmax(inked[:, ::-1], axis=1), 0)
    return np.minimum(WIDTH, -(-(last + 1 + RIGHT_PAPER) // 32) * 32)


def batches(x, y, width, batch_size: int, rng: np.random.Generator, count: int):
    """`count` batches, each of lines of about one width, shuffled, as float32 0..1 cut to
    the widest of them (made one at a time: all of them at once would take 5 GB)."""
    order = np.argsort(width + rng.uniform(0, 16, len(width)), kind="stable")
    groups = [order[i : i + batch_size] for i in range(0, len(order) - batch_size + 1, batch_size)]
    for index in rng.permutation(len(groups))[:count]:
        lines = np.sort(groups[index])
        columns = int(width[lines].max())
        yield x[lines, :, :columns, None] / np.float32(255), y[lines]


def fit(model, x, y, width, batch_size: int, rng, count: int) -> float:
    """Train on `count` batches; their mean loss."""
    losses = [
        model.train_on_batch(xb, yb) for xb, yb in batches(x, y, width, batch_size, rng, count)
    ]
    return float(np.mean(losses))


def train(model, x, y, x_val, y_val, config: Config) -> dict:
    """Train for about config.minutes (cosine learning rate over the steps that fit)."""
    import keras

    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate, clipnorm=5.0), loss=ctc_loss
    )
    width = widths(x)
    rng = np.random.default_rng(0)
    # Warm up (each width is traced once), time some steps, then set the schedule for the
    # steps that fit in the time.
    fit(model, x, y, width, config.batch_size, rng, 40)
    start = time.time()
    fit(model, x, y, width, config.batch_size, rng, 40)
    rate = 40 / (time.time() - start)
    total = max(10, int(config.minutes * 60 * rate))
    schedule = keras.optimizers.schedules.CosineDecay(config.learning_rate, total, alpha=0.02)
    model.optimizer.learning_rate = schedule
    history, done = [], 0
    while done < total:
        steps = min(1000, total - done)
        loss = fit(model, x, y, width, config.batch_size, rng, steps)
        done += steps
        val = exact(model.predict(x_val[..., None] / np.float32(255), verbose=0), y_val)
        history.append({"steps": done, "loss": loss, "val_exact": val})
        print(f"steps {done}/{total}: loss {loss:.3f}, val exact {val:.2%}", flush=True)
    return {"steps": total, "history": history}


def export(model, path: Path) -> None:
    """The model with a softmax and any width, as LiteRT (int8 weights, float activations)."""
    import keras
    import tensorflow as tf

    served = keras.Model(model.input, keras.layers.Softmax()(model.output))
    path.parent.mkdir(parents=True, exist_ok=True)
    served.export(
        str(path), format="litert", verbose=False, optimizations=[tf.lite.Optimize.DEFAULT]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--data", default=None, help="MNIST .npz (default: $MNIST_NPZ or download)")
    parser.add_argument("--out", type=Path, default=None, help="folder (default: model/)")
    parser.add_argument("--hold-out", default="", help="UNIPEN sources left out, comma-separated")
    parser.add_argument("--minutes", type=float, default=Config.minutes, help="training time")
    parser.add_argument("--lines", type=int, default=Config.lines, help="synthetic lines")
    parser.add_argument("--seed", type=int, default=0, help="data and weights seed")
    parser.add_argument("--workers", type=int, default=2, help="processes making lines")
    parser.add_argument("--threads", type=int, default=0, help="TensorFlow threads (0: all)")
    parser.add_argument("--dry-run", action="store_true", help="seconds: 512 lines, 1 epoch, runs/")
    args = parser.parse_args(argv)
    hold_out = {s for s in args.hold_out.split(",") if s}
    if hold_out - set(SOURCES):
        parser.error(f"unknown sources {sorted(hold_out - set(SOURCES))}; known: {SOURCES}")
    config = Config(lines=args.lines, minutes=args.minutes)
    limit = None
    if args.dry_run:
        config = Config(lines=512, minutes=0.05)
        limit = 2000
    out = args.out or (ROOT / "runs" / "dry-run" if args.dry_run else ROOT / "model")
    if args.threads:
        os.environ["TF_NUM_INTRAOP_THREADS"] = str(args.threads)
        os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    command = shlex.join(["python", *sys.argv])
    start = time.time()
    x, y = make_dataset(args.data, hold_out, config, args.seed, args.workers, limit)
    x_val, y_val = make_dataset(
        args.data, hold_out, Config(lines=min(2000, config.lines // 4)), args.seed + 7919,
        args.workers, limit,
    )  # fmt: skip
    print(f"{len(x)} lines made in {time.time() - start:.0f} s")
    import keras

    keras.utils.set_random_seed(args.seed)
    model = build_model(None)  # trained on each batch's own width
    record = train(model, x, y, x_val, y_val, config)
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / "line.keras")
    export(model, out / "line.tflite")
    record |= {
        "hold_out": sorted(hold_out),
        "sources": [s for s in SOURCES if s not in hold_out],
        "config": asdict(config),
        "parameters": int(model.count_params()),
        "seconds": round(time.time() - start),
        "command": command,
    }
    (out / "line.json").write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {out / 'line.tflite'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Train the CNN and the ANN baseline on MNIST, test them, and write what the app serves.

    python train_model.py                      # both models, full runs (CNN ~21 min on 2 cores)
    python train_model.py --model ann --epochs 5 --out runs/ann5
    python train_model.py --dry-run            # seconds: a few hundred images, into runs/
    python train_model.py --fine-tune --feedback sqlite:///data/feedback.sqlite3 --out runs/ft

Only a full run writes into model/ (what the app serves); shorter runs need --out. For each
model it writes into --out:
    {name}.keras          the trained Keras model (training format)
    {name}.tflite         the same model for LiteRT, which the app and model.predict serve
    {name}_mistakes.npz   every MNIST test image the served model gets wrong, for the gallery
    metrics.json          the served model's test accuracy, per-class precision/recall and
                          confusion matrix; the training history per epoch, time, config, ...
    samples.npz           fixed sample of MNIST test images with labels, for the app

--fine-tune starts from the served CNN instead and learns from users' corrections (the
feedback store, model/feedback.py), with MNIST replayed so that MNIST is not forgotten; a
gate on corrections held out by session decides whether it may be served (see `fine_tune`).
"""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from model.classifier import Classifier
from model.data import MnistUnavailableError, load_mnist
from model.preprocessing import IMAGE_SIZE, STROKE_WIDTH, preprocess_steps, scale_pixels
from model.process import cpu_cores

MODEL_DIR = Path(__file__).resolve().parent / "model"
SAMPLES_PER_CLASS = 30  # 300 gallery images
CONVENTION_CLASSES = (0, 1, 7)  # digits that have a common slashed, footed or crossed form


@dataclass(frozen=True)
class Augment:
    """Random distortions of each training image, drawn anew every epoch.

    Drawn digits vary in slant, proportions and pen width more than MNIST does, even after
    preprocessing: these teach the network to ignore that.
    """

    rotation: float = 10.0  # degrees, either way
    scale: float = 0.10  # zoom in or out by up to 10%
    aspect: float = 0.06  # stretch x against y by up to 6%
    shear: float = 0.15  # horizontal shear factor (~8.5 degrees of slant)
    shift: float = 2.0  # pixels, each axis
    thickness: float = 0.5  # blend towards a 3x3 dilation (thicker) or erosion (thinner)


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of one training run."""

    epochs: int
    batch_size: int = 128
    learning_rate: float = 2e-3  # peak, after one epoch of linear warm-up; cosine decay after
    weight_decay: float = 1e-4
    # Share of training images replaced, each time they are drawn, by the same MNIST digit
    # passed through the serving preprocessing (pen width set to MNIST's median, re-cropped,
    # re-centred): the network learns MNIST as it is and exactly what the app will show it.
    served_share: float = 0.0
    # Of those served versions, the share of 0s, 1s and 7s written in another convention:
    # slashed zero, footed one, crossed seven (see `with_convention`).
    convention_share: float = 0.0
    augment: Augment = field(default_factory=Augment)


CONFIGS = {
    "cnn": TrainConfig(epochs=30, served_share=0.5, convention_share=0.4),
    # The dense baseline underfits heavy distortion: milder augmentation, more epochs.
    "ann": TrainConfig(
        epochs=40,
        learning_rate=1e-3,
        augment=Augment(rotation=8.0, scale=0.08, aspect=0.04, shear=0.1, shift=1.5, thickness=0.3),
    ),
}


def augment_batch(images, augment: Augment, seed: int):
    """Random affine distortion and pen-width change of a batch.

    Args:
        images: (B, 28, 28, 1) float32 tf.Tensor in [0, 1].
    Returns:
        (B, 28, 28, 1) float32 tf.Tensor in [0, 1].
    """
    import tensorflow as tf

    batch = tf.shape(images)[0]
    rng = tf.random.Generator.from_seed(seed) if isinstance(seed, int) else seed

    def uniform(limit):
        return rng.uniform([batch], -limit, limit)

    angle = uniform(np.deg2rad(augment.rotation))
    zoom = 1.0 + uniform(augment.scale)
    stretch = 1.0 + uniform(augment.aspect)
    sx, sy = zoom * stretch, zoom / stretch
    shear = uniform(augment.shear)
    tx, ty = uniform(augment.shift), uniform(augment.shift)
    # The forward map is output = A @ input about the image centre, A = R @ Shear @ diag(sx, sy).
    # ImageProjectiveTransformV3 wants the inverse map (output pixel -> input pixel).
    cos, sin = tf.cos(angle), tf.sin(angle)
    a00, a01 = cos * sx, (cos * shear - sin) * sy
    a10, a11 = sin * sx, (sin * shear + cos) * sy
    det = a00 * a11 - a01 * a10
    i00, i01, i10, i11 = a11 / det, -a01 / det, -a10 / det, a00 / det
    c = (IMAGE_SIZE - 1) / 2.0
    ox, oy = c + tx, c + ty  # where the centre goes
    b0 = c - (i00 * ox + i01 * oy)
    b1 = c - (i10 * ox + i11 * oy)
    zeros = tf.zeros_like(angle)
    transforms = tf.stack([i00, i01, b0, i10, i11, b1, zeros, zeros], axis=1)
    images = tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=transforms,
        output_shape=[IMAGE_SIZE, IMAGE_SIZE],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )
    # Pen width: blend each image part-way towards its grey dilation or erosion.
    thicker = tf.nn.max_pool2d(images, 3, 1, "SAME")
    thinner = -tf.nn.max_pool2d(-images, 3, 1, "SAME")
    amount = tf.reshape(uniform(augment.thickness), [-1, 1, 1, 1])
    target = tf.where(amount > 0, thicker, thinner)
    images = images + tf.abs(amount) * (target - images)
    return tf.clip_by_value(images, 0.0, 1.0)


def served_versions(images: np.ndarray) -> np.ndarray:
    """MNIST digits as the app would serve them: each (28, 28) uint8 image through
    `preprocess_steps`, returned as (N, 28, 28) uint8 (a blank image stays as it is)."""
    served = images.copy()
    for i, image in enumerate(images):
        steps = preprocess_steps(image)
        if steps is not None:
            served[i] = steps.digit_uint8
    return served


def with_convention(image: np.ndarray, label: int, rng: np.random.Generator) -> np.ndarray:
    """An MNIST digit rewritten in a common convention its American writers rarely used: a
    slashed zero, a one with a foot (and sometimes a flag), a crossed seven.

    Args:
        image: (28, 28) uint8 MNIST digit of class 0, 1 or 7.
    Returns:
        (28, 28) uint8, the digit with the extra stroke, framed as MNIST frames digits.
    """
    scale = 4  # draw at 4x so the added stroke is anti-aliased like the rest
    big = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    rows, cols = np.flatnonzero((big > 96).any(1)), np.flatnonzero((big > 96).any(0))
    if rows.size == 0:
        return image
    x0, x1, y0, y1 = cols[0], cols[-1], rows[0], rows[-1]
    height = y1 - y0
    pen = int(round(STROKE_WIDTH * scale * rng.uniform(0.8, 1.2)))

    def line(a, b):
        points = np.round(np.array([a, b]) * 16).astype(np.int32)
        cv2.line(big, tuple(points[0]), tuple(points[1]), 255, pen, cv2.LINE_AA, shift=4)

    if label == 0:  # a slash through the oval, a little beyond it: / mostly, sometimes \
        over = rng.uniform(0.05, 0.2) * height
        if rng.uniform() < 0.8:
            line((x0 - over / 2, y1 + over), (x1 + over / 2, y0 - over))
        else:
            line((x0 - over / 2, y0 - over), (x1 + over / 2, y1 + over))
    elif label == 1:  # a foot, centred under the stem; sometimes also a flag at the top
        # Where the stem is at its top and bottom rows (x of the brightest pixel).
        top = float(np.argmax(big[min(y0 + 2, y1)]))
        bottom = float(np.argmax(big[max(y1 - 2, y0)]))
        half = rng.uniform(0.2, 0.35) * height
        line((bottom - half, y1), (bottom + half, y1))
        if rng.uniform() < 0.5:
            line((top, y0), (top - rng.uniform(0.2, 0.35) * height, y0 + 0.25 * height))
    elif label == 7:  # a bar across the stem at mid-height
        mid = int((y0 + y1) / 2)
        stem = np.flatnonzero(big[mid] > 96)
        centre = stem.mean() if stem.size else (x0 + x1) / 2
        half = rng.uniform(0.15, 0.25) * height
        line((centre - half, mid), (centre + half, mid))
    steps = preprocess_steps(big)
    return image if steps is None else steps.digit_uint8


def alternative_versions(
    images: np.ndarray, labels: np.ndarray, convention_share: float, seed: int
) -> np.ndarray:
    """Every MNIST digit as the app would serve it (`served_versions`); a `convention_share`
    of the 0s, 1s and 7s rewritten `with_convention` instead. (N, 28, 28) uint8."""
    alternatives = served_versions(images)
    rng = np.random.default_rng(seed)
    for i in np.flatnonzero(np.isin(labels, CONVENTION_CLASSES)):
        if rng.uniform() < convention_share:
            alternatives[i] = with_convention(images[i], int(labels[i]), rng)
    return alternatives


def make_dataset(x, x_served, y, config: TrainConfig, seed: int):
    """Shuffled, augmented batches of (B, 28, 28, 1) float32 images and their labels.

    Each image is drawn from `x` or, with probability `config.served_share`, from `x_served`.
    """
    import tensorflow as tf

    rng = tf.random.Generator.from_seed(seed)

    def pick(raw, served, labels):
        chosen = rng.uniform([tf.shape(raw)[0], 1, 1, 1]) < config.served_share
        return augment_batch(tf.where(chosen, served, raw), config.augment, rng), labels

    return (
        tf.data.Dataset.from_tensor_slices((x, x_served, y))
        .shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
        .batch(config.batch_size)
        .map(pick)
        .prefetch(tf.data.AUTOTUNE)
    )


def train(model, x_train, x_served, y_train, config: TrainConfig, seed: int, validation) -> dict:
    """Fit `model` with AdamW and a warm-up + cosine schedule.

    Args:
        validation: (images (N, 28, 28, 1) float32, labels (N,)) scored after every epoch to
            show training progress; nothing is chosen on it (fixed epochs, no early stop).
    Returns:
        per-epoch history: {"loss", "accuracy", "val_loss", "val_accuracy"} lists.
    """
    import keras

    steps_per_epoch = -(-len(x_train) // config.batch_size)
    warmup = min(steps_per_epoch, max(1, steps_per_epoch * config.epochs // 10))
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=config.learning_rate / 20,
        warmup_target=config.learning_rate,
        warmup_steps=warmup,
        decay_steps=max(1, steps_per_epoch * config.epochs - warmup),
        alpha=0.01,
    )
    model.compile(
        optimizer=keras.optimizers.AdamW(schedule, weight_decay=config.weight_decay),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    dataset = make_dataset(x_train, x_served, y_train, config, seed)
    fitted = model.fit(dataset, epochs=config.epochs, validation_data=validation, verbose=2)
    return {key: [round(float(v), 5) for v in values] for key, values in fitted.history.items()}


def test(probabilities: np.ndarray, labels: np.ndarray) -> dict:
    """Accuracy, per-class precision and recall, and the confusion matrix.

    Args:
        probabilities: (N, 10) float32. labels: (N,) int.
    """
    predicted = probabilities.argmax(axis=1)
    confusion = np.zeros((10, 10), np.int64)  # rows: true digit, columns: predicted
    np.add.at(confusion, (labels, predicted), 1)
    hits = np.diag(confusion)
    return {
        "test_images": int(len(labels)),
        "test_accuracy": float(hits.sum() / len(labels)),
        "test_errors": int(len(labels) - hits.sum()),
        "precision": [float(h / c) if c else 0.0 for h, c in zip(hits, confusion.sum(0))],
        "recall": [float(h / r) if r else 0.0 for h, r in zip(hits, confusion.sum(1))],
        "confusion_matrix": confusion.tolist(),
    }


def export_litert(model, path: Path) -> None:
    """Write the model as a LiteRT flatbuffer for serving: the inference graph (dropout off,
    batch norm folded) with its weights stored as int8 (dynamic-range quantization: a quarter
    of the size and three times faster on a CPU; activations stay float)."""
    import tensorflow as tf

    path.parent.mkdir(parents=True, exist_ok=True)
    model.export(
        str(path), format="litert", verbose=False, optimizations=[tf.lite.Optimize.DEFAULT]
    )


def export_and_test(model, name: str, out: Path, data, command: str) -> dict:
    """Export `model` for serving as out/{name}.tflite and test what is served.

    The figures are the served (LiteRT) model's on the whole MNIST test set, with its
    agreement with the Keras model it came from; its mistakes go to out/{name}_mistakes.npz
    for the app's gallery.
    """
    x_test = scale_pixels(data.x_test)
    expected = model(x_test[..., None], training=False).numpy()
    path = out / f"{name}.tflite"
    export_litert(model, path)
    served = Classifier(path).predict(x_test)
    metrics = test(served, data.y_test)
    metrics["served"] = {
        "runtime": "LiteRT",
        "weights": "int8 (dynamic-range quantization)",
        "bytes": path.stat().st_size,
        "keras_test_accuracy": float((expected.argmax(1) == data.y_test).mean()),
        "agreement_with_keras": float((served.argmax(1) == expected.argmax(1)).mean()),
        "max_probability_difference": float(np.abs(served - expected).max()),
        "command": command,
    }
    wrong = np.flatnonzero(served.argmax(1) != data.y_test)
    np.savez_compressed(
        out / f"{name}_mistakes.npz",
        images=data.x_test[wrong],
        labels=data.y_test[wrong],
        predicted=served.argmax(1)[wrong],
        confidence=served.max(1)[wrong],
        index=wrong,
    )
    return metrics


@dataclass(frozen=True)
class FineTuneConfig:
    """A short fine-tune of the served CNN on users' corrections, with MNIST replay."""

    epochs: int = 8
    batch_size: int = 128
    learning_rate: float = 2e-4  # Adam; a tenth of training's peak: adjust, do not relearn
    # Per epoch: every correction this many times (each time distorted anew), and this many
    # MNIST training digits drawn afresh, half of them as the app serves them.
    repeats: int = 4
    replay: int = 15_000
    gate_share: float = 0.2  # of the sessions (never of the samples), held out for the gate
    mnist_floor: float = 0.996  # served MNIST test accuracy the new model must keep
    # Fit a temperature on the gate's corrections (model/calibrate.py) and serve it.
    calibrate: bool = False
    augment: Augment = field(default_factory=Augment)  # as in training


def load_corrections(url: str) -> dict:
    """The digits users labelled (in the feedback store at `url`), split by session.

    Returns:
        {"x": (N, 28, 28) uint8, "y": (N,) int64, "sessions": (N,) each row's session id,
        "not_digit": how many rows say "not a digit" (left out: the digit reader has no
        such class)}.
    """
    from model.feedback import NOT_DIGIT, Store

    store = Store(url, per_minute=None)
    rows = store.rows()
    store.close()
    digits = [row for row in rows if row.label != NOT_DIGIT]
    x = np.stack([row.digit_image() for row in digits]) if digits else np.zeros((0, 28, 28))
    return {
        "x": x.astype(np.uint8),
        "y": np.array([int(row.label) for row in digits], np.int64),
        "sessions": np.array([row.session_id for row in digits]),
        "not_digit": len(rows) - len(digits),
    }


def held_out_sessions(sessions: np.ndarray, share: float) -> np.ndarray:
    """(N,) bool: the rows of the sessions kept out of training for the gate, about `share`
    of the sessions, chosen by a hash of their id (the same on every run); at least one
    session when there are two or more."""
    from model.feedback import session_hash

    names = sorted(set(sessions.tolist()), key=session_hash)
    if len(names) < 2:
        return np.zeros(len(sessions), bool)
    kept = set(names[: max(1, round(share * len(names)))])
    return np.array([s in kept for s in sessions.tolist()])


def gate(before: dict, after: dict, mnist_floor: float) -> dict:
    """Whether a fine-tuned model may be served: no worse than the served one on the held-out
    corrections, and MNIST test accuracy at least `mnist_floor`.

    Args:
        before, after: {"mnist": accuracy, "corrections": accuracy or None (none held out)}.
    """
    reasons = []
    if after["corrections"] is None:
        reasons.append("no corrections held out: it takes corrections from two sessions or more")
    elif after["corrections"] < before["corrections"]:
        reasons.append(
            f"worse on held-out corrections ({after['corrections']:.2%} < "
            f"{before['corrections']:.2%})"
        )
    if after["mnist"] < mnist_floor:
        reasons.append(f"MNIST test accuracy {after['mnist']:.2%} < {mnist_floor:.2%}")
    return {"passed": not reasons, "reasons": reasons, "mnist_floor": mnist_floor}


def fine_tune(
    data,
    url: str,
    config: FineTuneConfig,
    base: Path,
    out: Path,
    seed: int,
    command: str,
    note: str = "",
) -> dict:
    """Fine-tune base/cnn.keras on the corrections in the store at `url`; write out/ (cnn.keras,
    cnn.tflite, cnn_mistakes.npz, samples.npz, metrics.json with before/after and the gate's
    verdict). Returns the metrics."""
    import keras
    import tensorflow as tf

    from model.networks import BUILDERS, load_keras_model

    corrections = load_corrections(url)
    held_out = held_out_sessions(corrections["sessions"], config.gate_share)
    x_fix, y_fix = corrections["x"][~held_out], corrections["y"][~held_out]
    x_gate, y_gate = corrections["x"][held_out], corrections["y"][held_out]
    if len(x_fix) == 0:
        raise ValueError(f"no corrections to learn from in {url}")

    def measure(classifier: Classifier) -> dict:
        mnist = classifier.predict(scale_pixels(data.x_test)).argmax(1) == data.y_test
        gate_hits = (
            classifier.predict(scale_pixels(x_gate)).argmax(1) == y_gate if len(y_gate) else None
        )
        return {
            "mnist": float(mnist.mean()),
            "corrections": None if gate_hits is None else float(gate_hits.mean()),
        }

    before = measure(Classifier(base / "cnn.tflite"))
    keras.utils.set_random_seed(seed)
    model = load_keras_model(base / "cnn.keras")
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    x_served = served_versions(data.x_train)  # as the app shows MNIST digits
    rng = np.random.default_rng(seed)
    generator = tf.random.Generator.from_seed(seed)
    history = {"loss": [], "accuracy": []}
    started = time.perf_counter()
    for epoch in range(config.epochs):
        replay = rng.choice(len(data.x_train), min(config.replay, len(data.x_train)), False)
        served = rng.uniform(size=len(replay)) < 0.5
        x_replay = np.where(served[:, None, None], x_served[replay], data.x_train[replay])
        x = np.concatenate([np.repeat(x_fix, config.repeats, 0), x_replay])
        y = np.concatenate([np.repeat(y_fix, config.repeats), data.y_train[replay]])
        dataset = (
            tf.data.Dataset.from_tensor_slices((scale_pixels(x)[..., None], y))
            .shuffle(len(x), seed=seed + epoch)
            .batch(config.batch_size)
            .map(lambda images, labels: (augment_batch(images, config.augment, generator), labels))
            .prefetch(tf.data.AUTOTUNE)
        )
        fitted = model.fit(dataset, epochs=1, verbose=2)
        for key in history:
            history[key].append(round(float(fitted.history[key][0]), 5))
    seconds = time.perf_counter() - started

    out.mkdir(parents=True, exist_ok=True)
    inference_model = BUILDERS["cnn"]()  # saved without the optimizer's state, as `run` does
    inference_model.set_weights(model.get_weights())
    inference_model.save(out / "cnn.keras")
    metrics = export_and_test(inference_model, "cnn", out, data, command)
    after = measure(Classifier(out / "cnn.tflite"))
    calibration = (
        calibrate(out / "cnn.tflite", x_gate, y_gate, data, command) if config.calibrate else None
    )
    base_record = read_metrics(base / "metrics.json").get("cnn", {})
    metrics.update(
        {
            "model": "cnn",
            "parameters": int(model.count_params()),
            "fine_tune": {
                "from": {
                    "model": str(base / "cnn.keras"),
                    "test_accuracy": base_record.get("test_accuracy"),
                    "command": base_record.get("command"),
                },
                "feedback": _without_password(url),
                "note": note,
                "corrections": int(len(x_fix)),
                "held_out_corrections": int(len(x_gate)),
                "sessions": int(len(set(corrections["sessions"].tolist()))),
                "held_out_sessions": int(len(set(corrections["sessions"][held_out].tolist()))),
                "not_digit_rows_left_out": corrections["not_digit"],
                "mnist_replay_per_epoch": int(min(config.replay, len(data.x_train))),
                "before": before,
                "after": after,
                "gate": gate(before, after, config.mnist_floor),
                "calibration": calibration,
                "config": asdict(config),
                "seconds": round(seconds, 1),
            },
            "history": history,
            "epochs": config.epochs,
            "seed": seed,
            "data": f"{data.source} (replay) + corrections from {_without_password(url)}",
            "versions": versions(),
            "machine": f"{platform.machine()}, {cpu_cores()} CPU cores, no GPU",
            "command": command,
            "keras_bytes": (out / "cnn.keras").stat().st_size,
            "training_seconds": round(seconds, 1),
        }
    )
    (out / "metrics.json").write_text(json.dumps({"cnn": metrics}, indent=1) + "\n")
    write_samples(data.x_test, data.y_test, out, seed=0)
    verdict = metrics["fine_tune"]["gate"]
    print(
        f"fine-tune: held-out corrections {_percent(before['corrections'])} -> "
        f"{_percent(after['corrections'])}, MNIST {before['mnist']:.2%} -> {after['mnist']:.2%}, "
        f"{seconds / 60:.1f} min; gate {'passed' if verdict['passed'] else 'refused'}"
        + "".join(f"\n  - {reason}" for reason in verdict["reasons"])
    )
    return metrics


def calibrate(path: Path, x_held: np.ndarray, y_held: np.ndarray, data, command: str) -> dict:
    """Fit the served model's temperature on held-out drawings (model/calibrate.py) and write
    it beside the model; returns the record, with the calibration error before and after.
    Without held-out drawings, nothing is written."""
    from model.calibrate import expected_calibration_error, fit_temperature, with_temperature
    from model.classifier import calibration_path

    calibration_path(path).unlink(missing_ok=True)
    if len(y_held) == 0:
        return {"temperature": 1.0, "fitted_on": "nothing: no corrections held out"}
    raw = Classifier(path, calibrated=False)
    held = raw.predict(scale_pixels(x_held))
    temperature = fit_temperature(held, y_held)
    mnist = raw.predict(scale_pixels(data.x_test))
    record = {
        "temperature": temperature,
        "fitted_on": f"{len(y_held)} corrections held out by session (the gate's)",
        "ece_held_out_corrections": {
            "before": expected_calibration_error(held, y_held),
            "after": expected_calibration_error(with_temperature(held, temperature), y_held),
        },
        "ece_mnist_test": {
            "before": expected_calibration_error(mnist, data.y_test),
            "after": expected_calibration_error(with_temperature(mnist, temperature), data.y_test),
        },
        "command": command,
    }
    calibration_path(path).write_text(json.dumps(record, indent=1) + "\n")
    return record


def promote(out: Path, base: Path) -> None:
    """Serve the fine-tuned CNN in out/ from base/: the files it replaces go to
    base/previous/ (roll back by copying them back)."""
    previous = base / "previous"
    previous.mkdir(exist_ok=True)
    files = ("cnn.keras", "cnn.tflite", "cnn_mistakes.npz", "cnn_calibration.json")
    for name in (*files, "metrics.json"):
        (previous / name).unlink(missing_ok=True)
        if (base / name).exists():
            shutil.copy2(base / name, previous / name)
    for name in files:
        (base / name).unlink(missing_ok=True)
        if (out / name).exists():
            shutil.copy2(out / name, base / name)
    all_metrics = read_metrics(base / "metrics.json")
    all_metrics["cnn"] = read_metrics(out / "metrics.json")["cnn"]
    (base / "metrics.json").write_text(json.dumps(all_metrics, indent=1) + "\n")
    print(f"promoted {out}/cnn.* into {base}/ (the previous model is in {previous}/)")


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2%}"


def _without_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def versions() -> dict:
    import cv2
    import keras
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "opencv": cv2.__version__,
    }


def write_samples(x_test, y_test, out: Path, seed: int) -> None:
    """A fixed, class-balanced sample of MNIST test images for the app's gallery."""
    rng = np.random.default_rng(seed)
    per_class = min(SAMPLES_PER_CLASS, min(np.bincount(y_test, minlength=10)))
    index = np.sort(
        np.concatenate(
            [rng.choice(np.flatnonzero(y_test == d), per_class, replace=False) for d in range(10)]
        )
    )
    np.savez_compressed(
        out / "samples.npz", images=x_test[index], labels=y_test[index], index=index
    )


def run(name: str, data, config: TrainConfig, seed: int, out: Path, command: str) -> dict:
    """Train, save, export and test one model; returns its metrics."""
    import keras

    from model.networks import BUILDERS

    keras.utils.set_random_seed(seed)
    model = BUILDERS[name]()
    model.summary(print_fn=lambda line, **_: print(line))
    x_train = scale_pixels(data.x_train)[..., None]
    started = time.perf_counter()
    x_served = (
        scale_pixels(
            alternative_versions(data.x_train, data.y_train, config.convention_share, seed)
        )[..., None]
        if config.served_share > 0
        else x_train
    )
    validation = (scale_pixels(data.x_test)[..., None], data.y_test)
    history = train(model, x_train, x_served, data.y_train, config, seed, validation)
    seconds = time.perf_counter() - started  # preparing the served versions included

    out.mkdir(parents=True, exist_ok=True)
    # Saved without the optimizer's state (the app never trains): a third of the size.
    inference_model = BUILDERS[name]()
    inference_model.set_weights(model.get_weights())
    inference_model.save(out / f"{name}.keras")
    metrics = export_and_test(inference_model, name, out, data, command)
    metrics.update(
        {
            "model": name,
            "parameters": int(model.count_params()),
            "epochs": config.epochs,
            "train_images": int(len(x_train)),
            "training_seconds": round(seconds, 1),
            "history": history,
            "validation": "the MNIST test set, scored after each epoch to show progress only",
            "config": asdict(config),
            "seed": seed,
            "data": data.source,
            "versions": versions(),
            "machine": f"{platform.machine()}, {cpu_cores()} CPU cores, no GPU",
            "command": command,
            "keras_bytes": (out / f"{name}.keras").stat().st_size,
        }
    )
    print(
        f"{name}: served test accuracy {metrics['test_accuracy']:.4%} "
        f"({metrics['test_errors']} errors of {metrics['test_images']}), Keras "
        f"{metrics['served']['keras_test_accuracy']:.4%}, agreement "
        f"{metrics['served']['agreement_with_keras']:.4%}, trained in {seconds / 60:.1f} min"
    )
    return metrics


# What metrics.json records about how a model was trained: kept when it is exported again.
TRAINING_RECORD = (
    "model",
    "parameters",
    "epochs",
    "train_images",
    "training_seconds",
    "history",
    "validation",
    "config",
    "seed",
    "data",
    "versions",
    "machine",
    "command",
    "keras_bytes",
)


def export_only(names, source: Path, out: Path, data, command: str) -> int:
    """Export saved Keras models for serving again, without training, and test them.

    Reads source/{name}.keras; writes into `out` everything the app needs: the Keras model,
    its LiteRT export, metrics.json (the training record from source/metrics.json, when there
    is one, with the served model's new test figures), the mistakes and the samples.
    """
    from model.networks import UnsafeModelError, load_keras_model

    out.mkdir(parents=True, exist_ok=True)
    trained = read_metrics(source / "metrics.json")
    all_metrics = read_metrics(out / "metrics.json")
    for name in names:
        path = source / f"{name}.keras"
        try:
            model = load_keras_model(path)
        except (OSError, UnsafeModelError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        if path.resolve() != (out / path.name).resolve():
            shutil.copyfile(path, out / path.name)
        record = {k: v for k, v in trained.get(name, {}).items() if k in TRAINING_RECORD}
        metrics = record | export_and_test(model, name, out, data, command)
        all_metrics[name] = metrics
        (out / "metrics.json").write_text(json.dumps(all_metrics, indent=1) + "\n")
        print(
            f"{name}: exported {metrics['served']['bytes']:,} bytes, served test accuracy "
            f"{metrics['test_accuracy']:.4%}, agreement with Keras "
            f"{metrics['served']['agreement_with_keras']:.4%}"
        )
    write_samples(data.x_test, data.y_test, out, seed=0)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--model", choices=["cnn", "ann", "both"], default="both", help="which network to train"
    )
    parser.add_argument("--epochs", type=int, default=None, help="epochs (default: cnn 30, ann 40)")
    parser.add_argument("--batch-size", type=int, default=None, help="batch size (default: 128)")
    parser.add_argument(
        "--data",
        default=None,
        help="MNIST .npz with Keras' arrays (default: $MNIST_NPZ, else download)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default: model/ for a full run, runs/dry-run with --dry-run; "
        "required with --epochs, --batch-size or --limit, which do not reproduce the "
        "served models)",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument(
        "--limit", type=int, default=None, help="use only the first N training and test images"
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="smoke test: 512 training and 256 test images, 1 epoch",
    )
    parser.add_argument(
        "--export-only",
        action="store_true",
        help="no training: export {name}.keras from --from for serving, test it, write --out",
    )
    parser.add_argument(
        "--from",
        dest="source",
        type=Path,
        default=MODEL_DIR,
        help="with --export-only: the folder holding the trained {name}.keras",
    )
    tuning = parser.add_argument_group("fine-tuning on users' corrections")
    tuning.add_argument(
        "--fine-tune",
        action="store_true",
        help="fine-tune the served CNN (--base) on the corrections in --feedback; needs --out",
    )
    tuning.add_argument("--feedback", default=None, help="feedback store URL (model/feedback.py)")
    tuning.add_argument(
        "--base", type=Path, default=MODEL_DIR, help="model folder to start from and promote into"
    )
    tuning.add_argument(
        "--promote",
        action="store_true",
        help="serve the fine-tuned model (copy it into --base) if it passed the gate",
    )
    tuning.add_argument("--learning-rate", type=float, default=None, help="default: 2e-4")
    tuning.add_argument(
        "--replay", type=int, default=None, help="MNIST digits mixed in per epoch (default: 15000)"
    )
    tuning.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="times each correction is seen per epoch (default: 4)",
    )
    tuning.add_argument(
        "--note", default="", help="what the corrections are, recorded in metrics.json"
    )
    tuning.add_argument(
        "--calibrate",
        action="store_true",
        help="fit a temperature on the held-out corrections and serve it with the model",
    )
    args = parser.parse_args(argv)

    partial = args.epochs or args.batch_size or args.limit
    if args.out is None and partial and not (args.dry_run or args.export_only):
        print(
            "error: --epochs, --batch-size and --limit do not reproduce the served models, so "
            "they never write into model/: pass --out DIR (a model folder that "
            "`python -m model.predict --model-dir DIR` and the app can serve).",
            file=sys.stderr,
        )
        return 2
    out = args.out or (Path("runs/dry-run") if args.dry_run else MODEL_DIR)
    limit = 512 if args.dry_run and args.limit is None else args.limit
    try:
        data = load_mnist(args.data)
    except (MnistUnavailableError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if limit:
        data = replace(
            data,
            x_train=data.x_train[:limit],
            y_train=data.y_train[:limit],
            x_test=data.x_test[: max(limit // 2, 10)],
            y_test=data.y_test[: max(limit // 2, 10)],
        )

    command = shlex.join(
        [
            "python",
            *([sys.argv[0]] if argv is None else ["train_model.py"]),
            *(sys.argv[1:] if argv is None else argv),
        ]
    )
    names = ["cnn", "ann"] if args.model == "both" else [args.model]
    if args.fine_tune:
        return run_fine_tune(args, data, command)
    if args.export_only:
        return export_only(names, args.source, out, data, command)
    all_metrics = read_metrics(out / "metrics.json")
    for name in names:
        config = CONFIGS[name]
        config = replace(
            config,
            epochs=1 if args.dry_run else (args.epochs or config.epochs),
            batch_size=args.batch_size or config.batch_size,
        )
        all_metrics[name] = run(name, data, config, args.seed, out, command)
        # Written after each model, so a long run keeps what it has finished.
        (out / "metrics.json").write_text(json.dumps(all_metrics, indent=1) + "\n")
    write_samples(data.x_test, data.y_test, out, seed=0)
    print(f"wrote {', '.join(sorted(p.name for p in out.iterdir() if p.is_file()))} to {out}")
    return 0


def run_fine_tune(args, data, command: str) -> int:
    """--fine-tune: write --out, and with --promote serve it if the gate passed."""
    if args.out is None or args.feedback is None:
        print("error: --fine-tune needs --feedback URL and --out DIR", file=sys.stderr)
        return 2
    if args.out.resolve() == args.base.resolve():
        print("error: --out must be a new folder; --promote serves it", file=sys.stderr)
        return 2
    config = FineTuneConfig()
    config = replace(
        config,
        epochs=1 if args.dry_run else (args.epochs or config.epochs),
        batch_size=args.batch_size or config.batch_size,
        learning_rate=args.learning_rate or config.learning_rate,
        replay=256 if args.dry_run else (args.replay or config.replay),
        repeats=args.repeats or config.repeats,
        calibrate=args.calibrate,
    )
    from model.feedback import StoreError
    from model.networks import UnsafeModelError

    try:
        metrics = fine_tune(
            data, args.feedback, config, args.base, args.out, args.seed, command, args.note
        )
    except (StoreError, ValueError, OSError, UnsafeModelError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.promote:
        if not metrics["fine_tune"]["gate"]["passed"]:
            print(f"not promoted: the gate refused it; {args.base}/ is unchanged")
            return 1
        promote(args.out, args.base)
    return 0


def read_metrics(path: Path) -> dict:
    """metrics.json, or {} when there is none."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


if __name__ == "__main__":
    sys.exit(main())

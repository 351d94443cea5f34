"""Export a trained Keras model for serving (LiteRT), test what is served on MNIST's test set,
and write the files the app reads beside it: metrics.json, the mistakes, the samples."""

from __future__ import annotations

import json
import platform
import shlex
import shutil
import sys
from pathlib import Path

import numpy as np

from model.classifier import MODEL_DIR, Classifier
from model.preprocessing import scale_pixels
from model.process import cpu_cores
from training.config import SAMPLES_PER_CLASS


def evaluate(probabilities: np.ndarray, labels: np.ndarray) -> dict:
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
    metrics = evaluate(served, data.y_test)
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


def read_metrics(path: Path) -> dict:
    """metrics.json, or {} when there is none."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def write_metrics(path: Path, metrics: dict) -> None:
    path.write_text(json.dumps(metrics, indent=1) + "\n")


def machine() -> str:
    return f"{platform.machine()}, {cpu_cores()} CPU cores, no GPU"


def command_line(script: str, argv: list[str] | None) -> str:
    """How the command was run, as metrics.json records it: `python script.py ARGS`."""
    args = sys.argv[1:] if argv is None else argv
    return shlex.join(["python", script, *args])


# The rest of the reader beside the digit networks: the "not a digit" and digit-count models
# (train_reject.py, train_count.py) with their records.
COMPANIONS = ("reject.tflite", "reject.json", "count.tflite", "count.json")


def with_companions(out: Path, served: Path = MODEL_DIR) -> list[str]:
    """Copy the served "not a digit" and digit-count models into the model folder `out`
    where it has none of its own, so that the folder is the whole reader (`--model-dir`
    and DIGIT_MODEL_DIR then read as the app does). Returns the names copied."""
    copied = []
    if out.resolve() == served.resolve():
        return copied
    for name in COMPANIONS:
        if (served / name).is_file() and not (out / name).exists():
            shutil.copy2(served / name, out / name)
            copied.append(name)
    return copied

"""A trained digit model, loaded once, that classifies batches of 28x28 images fast.

Models are trained in Keras and served from their LiteRT export (`{name}.tflite`, written by
train_model.py from the same weights and checked there to give the same predictions). LiteRT
loads in milliseconds and runs the CNN in a fraction of a millisecond on one core, where
importing TensorFlow alone takes seconds and hundreds of megabytes. A LiteRT model is a
flatbuffer of weights and built-in operators: loading one never runs code from the file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import threading
from pathlib import Path

import numpy as np

from model.preprocessing import IMAGE_SIZE

MODEL_DIR = Path(__file__).resolve().parent  # the committed models
MODEL_DIR_ENV = "DIGIT_MODEL_DIR"  # serve models from another folder instead
MODEL_NAMES = ("cnn", "ann")
_LITERT_MAGIC = b"TFL3"  # flatbuffer file identifier, bytes 4..8
_MAX_MODEL_BYTES = 64 * 1024 * 1024


@contextlib.contextmanager
def _runtime_quiet():
    """The LiteRT runtime's notes ("INFO: Created TensorFlow Lite XNNPACK delegate") kept
    off stderr, which is the user's: it writes them from C, past Python's sys.stderr, and
    has no switch for them. Its errors still raise."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no stderr to keep quiet
        yield
        return
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


class ModelError(RuntimeError):
    """A model file is missing, unreadable, or not a digit model."""


def model_dir() -> Path:
    """The folder of the served models and their files: $DIGIT_MODEL_DIR, else model/."""
    return Path(os.environ.get(MODEL_DIR_ENV) or MODEL_DIR)


def model_path(name: str, folder: Path | None = None) -> Path:
    """Where the served model `name` ("cnn" or "ann") lives."""
    return Path(folder or model_dir()) / f"{name}.tflite"


def train_hint(name: str) -> str:
    return f"Train it with: python train_model.py --model {name}"


class Classifier:
    """A LiteRT digit model.

    Thread-safe: its interpreter is used under a lock (a call takes well under a
    millisecond, so concurrent sessions barely wait).
    """

    def __init__(self, path: str | Path, num_threads: int = 1, classes: int = 10):
        """Load a `.tflite` model of 28x28 images: a digit model (10 classes), or the "not a
        digit" model (2: digit, not a digit).

        Raises:
            ModelError: the file is missing, truncated, not LiteRT, or not (N, 28, 28, 1) ->
                (N, 10); the message says how to train it.
        """
        path = Path(path)
        self.path = path
        self.name = path.stem
        hint = train_hint(self.name) if self.name in MODEL_NAMES else "Retrain it."
        if not path.is_file():
            raise ModelError(f"Model file not found: {path}. {hint}")
        if path.stat().st_size > _MAX_MODEL_BYTES:
            raise ModelError(f"Model file {path} is too large to be a digit model. {hint}")
        content = path.read_bytes()
        if len(content) < 8 or content[4:8] != _LITERT_MAGIC:
            raise ModelError(f"{path} is not a LiteRT model file. {hint}")

        from ai_edge_litert.interpreter import Interpreter

        try:
            # LiteRT verifies the flatbuffer before using it: a truncated or corrupt file
            # raises here instead of being read out of bounds.
            with _runtime_quiet():
                self._interpreter = Interpreter(model_content=content, num_threads=num_threads)
                self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as error:
            raise ModelError(f"{path} is damaged or not a LiteRT model ({error}). {hint}") from None
        (inputs,), (outputs,) = (
            self._interpreter.get_input_details(),
            self._interpreter.get_output_details(),
        )
        if (
            list(inputs["shape"][1:]) != [IMAGE_SIZE, IMAGE_SIZE, 1]
            or outputs["shape"][-1] != classes
        ):
            raise ModelError(
                f"{path} is not the model expected: it maps {inputs['shape'].tolist()} to "
                f"{outputs['shape'].tolist()}, not (N, 28, 28, 1) to (N, {classes}). {hint}"
            )
        if inputs["dtype"] != np.float32:
            raise ModelError(f"{path} expects {inputs['dtype']} input, not float32. {hint}")
        self.classes = classes
        self._input = inputs["index"]
        self._output = outputs["index"]
        self._batch_size = int(inputs["shape"][0])
        self._lock = threading.Lock()
        # Which model this is, for the feedback store: its name and the start of its hash.
        self.version = f"{self.name}-{hashlib.sha256(content).hexdigest()[:12]}"

    def predict(self, digits: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Class probabilities for a batch of preprocessed digits.

        Args:
            digits: (N, 28, 28) or (28, 28) float32 in [0, 1] (`preprocessing.preprocess`).
            batch_size: largest batch handed to the interpreter at once.
        Returns:
            (N, classes) float32 probabilities (each row sums to 1); (classes,) for a single
            image.
        """
        digits = np.asarray(digits, dtype=np.float32)
        single = digits.ndim == 2
        batch = digits.reshape(-1, IMAGE_SIZE, IMAGE_SIZE, 1)
        if len(batch) == 0:
            return np.zeros((0, self.classes), np.float32)
        if not np.isfinite(batch).all():
            raise ValueError("digits must be finite numbers in [0, 1]")
        outputs = [
            self._invoke(batch[start : start + batch_size])
            for start in range(0, len(batch), batch_size)
        ]
        probabilities = outputs[0] if len(outputs) == 1 else np.concatenate(outputs)
        return probabilities[0] if single else probabilities

    def _invoke(self, batch: np.ndarray) -> np.ndarray:
        with self._lock:
            if len(batch) != self._batch_size:  # re-plan the interpreter for this batch size
                self._interpreter.resize_tensor_input(self._input, batch.shape, strict=False)
                self._interpreter.allocate_tensors()
                self._batch_size = len(batch)
            self._interpreter.set_tensor(self._input, np.ascontiguousarray(batch))
            self._interpreter.invoke()
            return self._interpreter.get_tensor(self._output)

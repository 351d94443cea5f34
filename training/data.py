"""MNIST: from a local .npz file when there is one, else Keras' usual download.

Order of lookup: the `path` argument, then the MNIST_NPZ environment variable, then
`keras.datasets.mnist.load_data()` (downloads once to ~/.keras/datasets). The file must hold
Keras' arrays: x_train (60000, 28, 28) uint8, y_train (60000,) uint8, x_test (10000, 28, 28)
uint8, y_test (10000,) uint8, ink bright (255) on 0.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from model.preprocessing import IMAGE_SIZE

ENV_VAR = "MNIST_NPZ"
KEYS = ("x_train", "y_train", "x_test", "y_test")


class MnistUnavailableError(RuntimeError):
    """MNIST could neither be read from a local file nor downloaded."""


@dataclass(frozen=True)
class Mnist:
    """MNIST arrays: images (N, 28, 28) uint8, labels (N,) uint8 in 0..9."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str  # where the arrays came from (a path, or "keras download")


def load_mnist(path: str | os.PathLike | None = None) -> Mnist:
    """Load and validate MNIST.

    Args:
        path: a .npz file with Keras' four arrays; None to use $MNIST_NPZ or the download.
    Raises:
        MnistUnavailableError: the file is missing or unreadable, or the download failed.
        ValueError: the arrays are not MNIST-shaped.
    """
    path = path or os.environ.get(ENV_VAR) or None
    if path is not None:
        arrays, source = _read_npz(Path(path)), str(path)
    else:
        arrays, source = _download(), "keras download"
    _validate(arrays)
    return Mnist(*(arrays[key] for key in KEYS), source=source)


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise MnistUnavailableError(
            f"MNIST file not found: {path}. Pass --data PATH to an mnist.npz with Keras' "
            f"arrays, set {ENV_VAR}, or leave both unset to download MNIST."
        )
    try:
        # allow_pickle=False: an .npz must never run code when it is read.
        with np.load(path, allow_pickle=False) as npz:
            missing = [key for key in KEYS if key not in npz.files]
            if missing:
                raise ValueError(f"{path} lacks the arrays {missing}; expected {list(KEYS)}")
            return {key: npz[key] for key in KEYS}
    except (OSError, EOFError, zipfile.BadZipFile) as error:
        raise MnistUnavailableError(f"cannot read MNIST file {path}: {error}") from error


def _download_arrays():
    import keras  # imported here: only training needs Keras

    return keras.datasets.mnist.load_data()


def _download() -> dict[str, np.ndarray]:
    try:
        (x_train, y_train), (x_test, y_test) = _download_arrays()
    except Exception as error:  # Keras raises a bare Exception on a failed fetch
        raise MnistUnavailableError(
            f"could not download MNIST ({error}). Without network access, point to a local "
            f"copy: --data /path/to/mnist.npz, or set {ENV_VAR}=/path/to/mnist.npz."
        ) from error
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def _validate(arrays: dict[str, np.ndarray]) -> None:
    for split in ("train", "test"):
        images, labels = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
            raise ValueError(f"x_{split} must be (N, 28, 28), got {images.shape}")
        if images.dtype != np.uint8:
            raise ValueError(f"x_{split} must be uint8, got {images.dtype}")
        if labels.shape != (len(images),):
            raise ValueError(f"y_{split} must be ({len(images)},), got {labels.shape}")
        if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() > 9:
            raise ValueError(f"y_{split} must hold integer labels 0..9")
        if len(images) == 0:
            raise ValueError(f"x_{split} is empty")


def limited(data: Mnist, limit: int | None) -> Mnist:
    """The first `limit` training images and half as many test images (at least 10); all
    of them when `limit` is None (a dry run or --limit)."""
    if not limit:
        return data
    tests = max(limit // 2, 10)
    return replace(
        data,
        x_train=data.x_train[:limit],
        y_train=data.y_train[:limit],
        x_test=data.x_test[:tests],
        y_test=data.y_test[:tests],
    )

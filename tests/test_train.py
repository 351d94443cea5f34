"""train_model.py end to end on a few hundred images, and its augmentation."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO, mnist_path

from model.classifier import Classifier


@pytest.fixture(scope="module")
def small_mnist(tmp_path_factory):
    """600 real MNIST images when the file is here; otherwise synthetic digit-like blobs."""
    path = tmp_path_factory.mktemp("data") / "small.npz"
    source = mnist_path()
    if source is not None:
        with np.load(source) as npz:
            arrays = {k: npz[k][:600] if "train" in k else npz[k][:300] for k in npz.files}
    else:
        rng = np.random.default_rng(0)
        arrays = {
            "x_train": rng.integers(0, 256, (600, 28, 28), dtype=np.uint8),
            "y_train": rng.integers(0, 10, 600).astype(np.uint8),
            "x_test": rng.integers(0, 256, (300, 28, 28), dtype=np.uint8),
            "y_test": rng.integers(0, 10, 300).astype(np.uint8),
        }
    np.savez(path, **arrays)
    return path


def test_dry_run_writes_models_that_load_and_predict(small_mnist, tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "train_model.py",
            "--dry-run",
            "--data",
            str(small_mnist),
            "--out",
            str(tmp_path),
            "--seed",
            "3",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for name in ("cnn", "ann"):
        for suffix in (".keras", ".tflite", "_mistakes.npz"):
            assert (tmp_path / f"{name}{suffix}").is_file()
        probabilities = Classifier(tmp_path / f"{name}.tflite").predict(
            np.random.default_rng(0).random((5, 28, 28), dtype=np.float32)
        )
        assert probabilities.shape == (5, 10)
        np.testing.assert_allclose(probabilities.sum(1), 1, atol=1e-4)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert set(metrics) == {"cnn", "ann"}
    assert metrics["cnn"]["epochs"] == 1 and metrics["cnn"]["train_images"] == 512
    assert "--dry-run" in metrics["cnn"]["command"]
    assert metrics["cnn"]["litert"]["agreement_with_keras"] == 1.0
    with np.load(tmp_path / "samples.npz") as samples:
        assert samples["images"].shape[1:] == (28, 28)
        assert len(samples["images"]) == len(samples["labels"]) > 0


def test_missing_data_is_a_clear_error(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "train_model.py",
            "--dry-run",
            "--data",
            str(tmp_path / "none.npz"),
            "--out",
            str(tmp_path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2
    assert "MNIST file not found" in done.stderr and "Traceback" not in done.stderr


def test_help_shows_defaults():
    done = subprocess.run(
        [sys.executable, "train_model.py", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0
    assert "--epochs" in done.stdout and "default: both" in done.stdout


def test_augmentation_keeps_digits_recognisable():
    import tensorflow as tf

    from train_model import CONFIGS, augment_batch

    image = np.zeros((1, 28, 28, 1), np.float32)
    image[0, 6:22, 13:15, 0] = 1.0  # a "1"
    batch = np.repeat(image, 64, axis=0)
    out = augment_batch(tf.constant(batch), CONFIGS["cnn"].augment, seed=0).numpy()
    assert out.shape == batch.shape and out.min() >= 0 and out.max() <= 1
    assert not np.allclose(out[0], out[1])  # every image gets its own distortion
    mass = out.sum(axis=(1, 2, 3))
    assert (mass > 0.4 * image.sum()).all() and (mass < 2.5 * image.sum()).all()
    ys, xs = np.nonzero(out[..., 0].mean(0) > 0.05)
    assert 10 <= xs.mean() <= 18 and 10 <= ys.mean() <= 18  # still near the centre

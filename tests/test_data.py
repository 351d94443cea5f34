"""MNIST loading: local file, environment variable, download, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from model import data
from model.data import ENV_VAR, MnistUnavailableError, load_mnist


def write_npz(path, n_train=20, n_test=10, **overrides):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train).astype(np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test).astype(np.uint8),
    }
    arrays.update(overrides)
    np.savez(path, **arrays)
    return path


def test_loads_a_path(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    mnist = load_mnist(write_npz(tmp_path / "m.npz"))
    assert mnist.x_train.shape == (20, 28, 28) and mnist.x_test.shape == (10, 28, 28)
    assert mnist.source.endswith("m.npz")


def test_environment_variable_is_used(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(write_npz(tmp_path / "env.npz", n_train=7)))
    assert len(load_mnist().x_train) == 7


def test_missing_file_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(MnistUnavailableError, match="MNIST_NPZ"):
        load_mnist(tmp_path / "nope.npz")


def test_failed_download_says_what_to_do(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)

    def offline():
        raise Exception("URL fetch failure on https://storage.googleapis.com/...")

    monkeypatch.setattr(data, "_download_arrays", offline)
    with pytest.raises(MnistUnavailableError, match="--data") as error:
        load_mnist()
    assert "URL fetch failure" in str(error.value)


def test_download_is_used_without_a_file(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV_VAR, raising=False)
    with np.load(write_npz(tmp_path / "d.npz")) as npz:
        arrays = ((npz["x_train"], npz["y_train"]), (npz["x_test"], npz["y_test"]))
    monkeypatch.setattr(data, "_download_arrays", lambda: arrays)
    assert load_mnist().source == "keras download"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"x_train": np.zeros((20, 28, 27), np.uint8)}, r"\(N, 28, 28\)"),
        ({"x_test": np.zeros((10, 28, 28), np.float32)}, "uint8"),
        ({"y_train": np.full(20, 11, np.uint8)}, "0..9"),
        ({"y_test": np.zeros(9, np.uint8)}, r"y_test must be \(10,\)"),
    ],
)
def test_malformed_arrays_are_rejected(tmp_path, override, message):
    with pytest.raises(ValueError, match=message):
        load_mnist(write_npz(tmp_path / "bad.npz", **override))


def test_missing_arrays_are_rejected(tmp_path):
    path = tmp_path / "partial.npz"
    np.savez(path, x_train=np.zeros((1, 28, 28), np.uint8))
    with pytest.raises(ValueError, match="lacks the arrays"):
        load_mnist(path)


def test_not_an_npz_is_rejected(tmp_path):
    path = tmp_path / "text.npz"
    path.write_text("hello")
    with pytest.raises((MnistUnavailableError, ValueError)):
        load_mnist(path)


def test_shared_mnist_checks(mnist):
    assert mnist.y_train[0] == 5 and mnist.y_test[0] == 7
    assert np.bincount(mnist.y_test).tolist() == [
        980,
        1135,
        1032,
        1010,
        982,
        892,
        958,
        1028,
        974,
        1009,
    ]

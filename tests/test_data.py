"""MNIST loading: local file, environment variable, download, and clear errors; the pen
strokes file, with the records it cannot trust left out."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
from conftest import require

from training import data
from training.data import ENV_VAR, MnistUnavailableError, load_mnist


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


def write_pen_file(path, records):
    with gzip.open(path, "wt", encoding="utf-8") as lines:
        for label, strokes in records:
            row = {"label": label, "strokes": strokes, "source": "s", "writer": "w"}
            lines.write(json.dumps(row) + "\n")
    return path


def test_pen_records_moved_to_start_at_the_origin_are_left_out(tmp_path):
    from model.strokes import load_pen_digits

    records = [
        (4, [[[0, 40], [0, 90]]]),  # touches x = 0 only: kept
        (1, [[[0, 0], [80, 5]]]),  # a bar filed on its own, moved to (0, 0): left out
        (8, [[[30, 10], [60, 50]], [[5, 0], [40, 0]]]),  # y = 0 only: kept
        (0, [[[20, 30], [0, 60]], [[10, 0], [12, 3]]]),  # (0, 0) across strokes: left out
    ]
    digits = load_pen_digits(write_pen_file(tmp_path / "pen.jsonl.gz", records))
    assert [d.label for d in digits] == [4, 8]
    assert digits[0].strokes[0].tolist() == [[0, -40], [0, -90]]  # y flipped to point down


def test_shared_pen_files_leave_out_only_ibm_records_moved_to_the_origin():
    from harness import PEN_DIGITS
    from model.strokes import load_pen_digits

    require(PEN_DIGITS.is_file(), f"UNIPEN pen strokes not found at {PEN_DIGITS}")
    with gzip.open(PEN_DIGITS, "rt", encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    digits = load_pen_digits(PEN_DIGITS)
    assert len(rows) == 6929 and len(digits) == 6533
    kept = {(d.source, d.writer) for d in digits}
    left_out = len(rows) - len(digits)
    from_ibm = sum(r["source"] == "ibm" for r in rows) - sum(d.source == "ibm" for d in digits)
    assert left_out == from_ibm == 396
    assert {(r["source"], r["writer"]) for r in rows} == kept  # every writer keeps digits

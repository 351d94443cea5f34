"""Shared fixtures.

Some tests need things that are not part of the project: MNIST (`MNIST_NPZ`,
../shared/data/mnist.npz, or Keras' download), the UNIPEN pen strokes
(../shared/data/unipen_dev.jsonl.gz) and Chromium (/usr/bin/chromium). Without them those
tests are skipped with the reason, except when STRICT_TESTS=1 (set by .ci/run), where a
missing prerequisite is a failure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def require(condition: bool, reason: str) -> None:
    """Skip (or fail under STRICT_TESTS=1) when a prerequisite is missing."""
    if condition:
        return
    if os.environ.get("STRICT_TESTS") == "1":
        pytest.fail(f"missing prerequisite (STRICT_TESTS=1): {reason}")
    pytest.skip(reason)


def run_module(module: str, *args) -> subprocess.CompletedProcess:
    """`python -m MODULE ARGS` for real; it must never print a traceback."""
    done = subprocess.run(
        [sys.executable, "-m", module, *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def run_predict(*args) -> subprocess.CompletedProcess:
    """`python -m model.predict ARGS`."""
    return run_module("model.predict", *args)


def json_lines(done: subprocess.CompletedProcess) -> list[dict]:
    return [json.loads(line) for line in done.stdout.splitlines()]


def mnist_path() -> Path | None:
    candidates = [os.environ.get("MNIST_NPZ"), SHARED / "mnist.npz"]
    return next((Path(c) for c in candidates if c and Path(c).is_file()), None)


@pytest.fixture(scope="session")
def mnist():
    """Full MNIST (`training.data.Mnist`): the local file, else Keras' download."""
    from training.data import MnistUnavailableError, load_mnist

    try:
        return load_mnist(mnist_path())
    except MnistUnavailableError as error:
        require(False, f"MNIST unavailable: {error}")


@pytest.fixture(scope="session")
def pen_digits():
    """The UNIPEN pen-stroke digits (model.strokes.PenDigit list)."""
    from harness import PEN_DIGITS
    from model.strokes import load_pen_digits

    require(PEN_DIGITS.is_file(), f"UNIPEN pen strokes not found at {PEN_DIGITS}")
    return load_pen_digits(PEN_DIGITS)


@pytest.fixture(scope="session")
def cnn():
    from model.classifier import Classifier, model_path

    return Classifier(model_path("cnn"))


@pytest.fixture(scope="session")
def counter():
    from model.classifier import MODEL_DIR
    from model.count import Counter

    return Counter(MODEL_DIR)


@pytest.fixture(scope="session")
def ann():
    from model.classifier import Classifier, model_path

    return Classifier(model_path("ann"))


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def pytest_terminal_summary(terminalreporter):
    """Report how many fuzz cases ran (tests/test_fuzz.py counts them)."""
    fuzz = sys.modules.get("test_fuzz")
    if fuzz is not None and fuzz.FUZZ_CASES["count"]:
        terminalreporter.write_line(f"fuzz cases run: {fuzz.FUZZ_CASES['count']}")

"""The committed models: they load, score on the committed samples, match their Keras
originals, and a damaged or missing model file gets a clear error."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from model.classifier import MODEL_DIR, Classifier, ModelError, model_path
from model.preprocessing import scale_pixels

ARTIFACTS = [
    "cnn.keras",
    "cnn.tflite",
    "ann.keras",
    "ann.tflite",
    "metrics.json",
    "samples.npz",
    "cnn_mistakes.npz",
    "ann_mistakes.npz",
]


@pytest.fixture(scope="module")
def samples():
    with np.load(MODEL_DIR / "samples.npz", allow_pickle=False) as npz:
        return scale_pixels(npz["images"]), npz["labels"]


def test_artifacts_are_committed_and_small():
    sizes = {name: (MODEL_DIR / name).stat().st_size for name in ARTIFACTS}
    assert sum(sizes.values()) < 8 * 1024 * 1024, sizes


def test_samples_are_a_balanced_few_hundred(samples):
    images, labels = samples
    assert images.shape[1:] == (28, 28) and 200 <= len(images) <= 1000
    assert np.bincount(labels, minlength=10).min() >= 20


@pytest.mark.parametrize(("name", "floor"), [("cnn", 0.99), ("ann", 0.97)])
def test_committed_model_scores_on_samples(name, floor, samples):
    images, labels = samples
    probabilities = Classifier(model_path(name)).predict(images)
    assert probabilities.shape == (len(images), 10)
    np.testing.assert_allclose(probabilities.sum(1), 1.0, atol=1e-4)
    assert (probabilities.argmax(1) == labels).mean() >= floor


def test_metrics_record_the_served_models_figures(mnist):
    """metrics.json holds what the served files score on MNIST's 10,000 test images: measured
    again here, answer by answer (a model swapped without its record fails)."""
    metrics = json.loads((MODEL_DIR / "metrics.json").read_text())
    for name, floor in [("cnn", 0.996), ("ann", 0.982)]:
        m = metrics[name]
        predicted = Classifier(model_path(name)).predict(scale_pixels(mnist.x_test)).argmax(1)
        confusion = np.zeros((10, 10), np.int64)
        np.add.at(confusion, (mnist.y_test, predicted), 1)
        assert m["confusion_matrix"] == confusion.tolist()
        assert m["test_images"] == 10_000
        assert m["test_accuracy"] == (predicted == mnist.y_test).mean() >= floor
        assert len(m["precision"]) == len(m["recall"]) == 10
        confusion = np.array(m["confusion_matrix"])
        assert confusion.shape == (10, 10) and confusion.sum() == 10_000
        assert np.trace(confusion) == round(m["test_accuracy"] * 10_000)
        assert m["served"]["agreement_with_keras"] >= 0.999
        assert m["served"]["keras_test_accuracy"] >= floor
        for series in m.get("history", {}).values():  # one value per epoch
            assert len(series) == m["epochs"]
        commands = ("python train_model.py", "python fine_tune.py", "python export_model.py")
        assert m["command"].startswith(commands) and m["served"]["command"].startswith(commands)
        assert {"tensorflow", "keras", "numpy", "python"} <= set(m["versions"])
        assert m["training_seconds"] > 0 and m["parameters"] > 0
    assert any("history" in m for m in metrics.values())


def test_litert_matches_keras(samples):
    """The served export (int8 weights) gives the Keras model's answers."""
    import keras

    images, _ = samples
    for name in ("cnn", "ann"):
        original = keras.saving.load_model(MODEL_DIR / f"{name}.keras")  # safe_mode on
        expected = original(images[..., None], training=False).numpy()
        served = Classifier(model_path(name)).predict(images)
        assert (served.argmax(1) == expected.argmax(1)).mean() >= 0.995
        assert np.abs(served - expected).max() < 0.05


def test_predicts_single_images_and_any_batch_size(cnn, samples):
    images, _ = samples
    whole = cnn.predict(images)
    assert cnn.predict(images[0]).shape == (10,)
    np.testing.assert_allclose(cnn.predict(images[0]), whole[0], atol=1e-5)
    np.testing.assert_allclose(cnn.predict(images[:7]), whole[:7], atol=1e-5)
    np.testing.assert_allclose(cnn.predict(images, batch_size=64), whole, atol=1e-5)
    assert cnn.predict(images[:0]).shape == (0, 10)
    np.testing.assert_allclose(cnn.predict(images), whole, atol=1e-5)  # back to 256


def test_rejects_non_finite_input(cnn):
    with pytest.raises(ValueError, match="finite"):
        cnn.predict(np.full((28, 28), np.nan, np.float32))


def test_missing_model_says_how_to_train(tmp_path):
    with pytest.raises(ModelError, match="python train_model.py --model cnn"):
        Classifier(tmp_path / "cnn.tflite")


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not a model at all",
        b"\x89PNG\r\n\x1a\n" + b"\0" * 100,
        "truncated",
    ],
)
def test_damaged_model_file_gives_a_clear_error(tmp_path, content):
    if content == "truncated":
        content = model_path("cnn").read_bytes()[:5000]
    path = tmp_path / "cnn.tflite"
    path.write_bytes(content)
    with pytest.raises(ModelError, match="train_model.py"):
        Classifier(path)


def test_model_of_the_wrong_shape_is_refused(tmp_path):
    # A valid LiteRT model that is not a digit classifier.
    import keras

    other = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3)])
    path = tmp_path / "ann.tflite"
    other.export(str(path), format="litert", verbose=False)
    with pytest.raises(ModelError, match="not the model expected"):
        Classifier(path)


def test_no_code_runs_from_model_or_data_files():
    """Models and arrays are loaded without executing anything from the file: LiteRT
    flatbuffers, .npz with allow_pickle=False, Keras with safe mode left on."""
    from conftest import REPO

    sources = [p for p in REPO.rglob("*.py") if ".venv" not in p.parts]
    this_file = Path(__file__).resolve()
    offending = []
    for path in sources:
        if path.resolve() == this_file:
            continue
        text = path.read_text()
        for needle in ("safe_mode=False", "allow_pickle=True", "import pickle", "pickle.load"):
            if needle in text:
                offending.append(f"{path.relative_to(REPO)}: {needle}")
    assert not offending

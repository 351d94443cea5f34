"""The training commands end to end on a few hundred images (train_model.py, export_model.py,
fine_tune.py, train_reject.py, train_count.py), and the augmentation they share."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO, mnist_path, require

from model.classifier import MODEL_DIR, Classifier


@pytest.fixture(scope="module")
def small_mnist(tmp_path_factory):
    """600 real MNIST training and 300 test images. Without MNIST the tests that train are
    skipped, or fail under STRICT_TESTS=1: training on noise would prove nothing."""
    source = mnist_path()
    require(source is not None, "MNIST not found: set MNIST_NPZ or put it in ../shared/data")
    path = tmp_path_factory.mktemp("data") / "small.npz"
    with np.load(source) as npz:
        arrays = {k: npz[k][:600] if "train" in k else npz[k][:300] for k in npz.files}
    np.savez(path, **arrays)
    return path


def command(script: str, *args, timeout: int = 600) -> subprocess.CompletedProcess:
    """`python SCRIPT ARGS`, for real."""
    return subprocess.run(
        [sys.executable, script, *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def train_model(*args, timeout: int = 600) -> subprocess.CompletedProcess:
    return command("train_model.py", *args, timeout=timeout)


def export_model(*args) -> subprocess.CompletedProcess:
    return command("export_model.py", *args)


def fine_tune(*args) -> subprocess.CompletedProcess:
    return command("fine_tune.py", *args)


def test_dry_run_writes_models_that_load_and_predict(small_mnist, tmp_path):
    done = train_model("--dry-run", "--data", small_mnist, "--out", tmp_path, "--seed", 3)
    assert done.returncode == 0, done.stderr[-3000:]
    for name in ("cnn", "ann"):
        for suffix in (".keras", ".tflite", "_mistakes.npz"):
            assert (tmp_path / f"{name}{suffix}").is_file()
        probabilities = Classifier(tmp_path / f"{name}.tflite").predict(
            np.random.default_rng(0).random((5, 28, 28), dtype=np.float32)
        )
        assert probabilities.shape == (5, 10)
        np.testing.assert_allclose(probabilities.sum(1), 1, atol=1e-4)
    # The folder is the whole reader: the served "not a digit" and count models come along.
    from model.count import load_counter
    from model.reject import load_rejecter

    assert load_rejecter(tmp_path) is not None and load_counter(tmp_path) is not None
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert set(metrics) == {"cnn", "ann"}
    assert metrics["cnn"]["epochs"] == 1 and metrics["cnn"]["train_images"] == 512
    assert "--dry-run" in metrics["cnn"]["command"]
    for name in ("cnn", "ann"):
        m = metrics[name]
        # One epoch of history, on the training batches and on the watched test images.
        assert {k: len(v) for k, v in m["history"].items()} == {
            "loss": 1,
            "accuracy": 1,
            "val_loss": 1,
            "val_accuracy": 1,
        }
        # The figures are the served model's: its confusion matrix is over the test images.
        assert np.array(m["confusion_matrix"]).sum() == m["test_images"] == 256
        # Int8 weights may flip a few answers of a one-epoch model that is unsure of many
        # (the trained models: test_models.py).
        assert m["served"]["agreement_with_keras"] >= 0.95
    with np.load(tmp_path / "samples.npz") as samples:
        assert samples["images"].shape[1:] == (28, 28)
        assert len(samples["images"]) == len(samples["labels"]) > 0


@pytest.mark.parametrize("flags", [["--epochs", "1"], ["--limit", "100"], ["--batch-size", "64"]])
def test_a_short_run_never_overwrites_the_served_models(flags):
    before = {p.name: p.stat().st_mtime_ns for p in MODEL_DIR.iterdir()}
    done = train_model(*flags, timeout=120)
    assert done.returncode == 2
    assert "--out" in done.stderr and "Traceback" not in done.stderr
    assert {p.name: p.stat().st_mtime_ns for p in MODEL_DIR.iterdir()} == before


def test_export_into_a_fresh_folder_writes_what_the_app_serves(small_mnist, tmp_path):
    out = tmp_path / "served"
    done = export_model("--model", "ann", "--data", small_mnist, "--out", out)
    assert done.returncode == 0, done.stderr[-3000:]
    names = {p.name for p in out.iterdir()}
    assert {"ann.keras", "ann.tflite", "ann_mistakes.npz", "metrics.json", "samples.npz"} <= names
    metrics = json.loads((out / "metrics.json").read_text())["ann"]
    assert metrics["test_images"] == 300  # tested again, on the data given
    assert metrics["served"]["agreement_with_keras"] >= 0.99
    assert metrics["history"]  # the training record is carried over from model/
    assert Classifier(out / "ann.tflite").predict(np.zeros((28, 28), np.float32)).shape == (10,)


def test_a_keras_file_holding_code_is_refused(small_mnist, tmp_path):
    """A .keras file with a Lambda layer would run its code when loaded: refused, not run."""
    import keras

    inputs = keras.Input((28, 28, 1))
    outputs = keras.layers.Dense(10)(
        keras.layers.Flatten()(keras.layers.Lambda(lambda x: x)(inputs))
    )
    keras.Model(inputs, outputs).save(tmp_path / "cnn.keras")
    done = export_model(
        "--model",
        "cnn",
        "--from",
        tmp_path,
        "--data",
        small_mnist,
        "--out",
        tmp_path / "out",
    )
    assert done.returncode == 2
    assert "refusing to load" in done.stderr and "Lambda" in done.stderr
    assert not (tmp_path / "out" / "cnn.tflite").exists()


def test_missing_data_is_a_clear_error(tmp_path):
    done = train_model("--dry-run", "--data", tmp_path / "none.npz", "--out", tmp_path)
    assert done.returncode == 2
    assert "MNIST file not found" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "script, shown",
    [
        ("train_model.py", ["default: both", "cnn 30, ann 40", "default: 128"]),
        ("export_model.py", ["default: both"]),
        ("fine_tune.py", ["default: 0.0002", "default: 15000", "default: 4", "default: 8"]),
    ],
)
def test_help_shows_the_defaults_from_the_one_config(script, shown):
    done = command(script, "--help", timeout=60)
    assert done.returncode == 0
    text = " ".join(done.stdout.split())  # argparse wraps lines
    assert all(default in text for default in shown), text


@pytest.mark.parametrize("flags", [["--learning-rate", "0"], ["--epochs", "0"], ["--repeats", "0"]])
def test_fine_tune_refuses_settings_that_would_be_ignored(flags, tmp_path):
    done = fine_tune("--feedback", "sqlite://", "--out", tmp_path / "out", *flags)
    assert done.returncode == 2 and "must be" in done.stderr and "Traceback" not in done.stderr


def test_augmentation_keeps_digits_recognisable():
    import tensorflow as tf

    from training.augment import augment_batch
    from training.config import CONFIGS

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


@pytest.mark.parametrize("label", [0, 1, 7])
def test_conventions_add_a_stroke_and_keep_mnist_framing(mnist, label):
    import cv2

    from model.preprocessing import BOX_SIZE, CENTER, STROKE_WIDTH
    from training.augment import with_convention

    rng = np.random.default_rng(0)
    for image in mnist.x_train[mnist.y_train == label][:20]:
        styled = with_convention(image, label, rng)
        assert styled.shape == (28, 28)
        assert styled.dtype == np.uint8
        ink = styled > 96
        rows_with_ink = np.flatnonzero(ink.any(1))
        if label == 0:  # the slash crosses the empty middle of the oval
            assert ink[12:16, 12:16].any()
        elif label == 1:  # a foot: the bottom of the ink is wider than a stem
            bottom = ink[rows_with_ink[-3] : rows_with_ink[-1] + 1]
            assert np.ptp(np.flatnonzero(bottom.any(0))) >= 5
        else:  # a bar: in the middle third a row of ink at least twice MNIST's pen width
            top, height = rows_with_ink[0], np.ptp(rows_with_ink)
            middle = ink[top + height // 3 : top + 2 * height // 3]
            widest = max(np.ptp(np.flatnonzero(row)) + 1 if row.any() else 0 for row in middle)
            assert widest >= 2 * STROKE_WIDTH
        m = cv2.moments(styled.astype(np.float32))
        assert abs(m["m10"] / m["m00"] - CENTER) < 0.5
        assert abs(m["m01"] / m["m00"] - CENTER) < 0.5
        rows, cols = np.flatnonzero(styled.any(1)), np.flatnonzero(styled.any(0))
        assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 <= BOX_SIZE + 1
        # Still one piece of ink: the added stroke crosses or touches the digit.
        count, _ = cv2.connectedComponents((styled > 64).astype(np.uint8))
        assert count - 1 <= 2


def test_digits_filling_their_picture_reach_its_edges_on_paper(mnist):
    from training.augment import filling_the_picture

    rng = np.random.default_rng(0)
    for image in mnist.x_train[:30]:
        picture = filling_the_picture(image, rng)
        assert picture.dtype == np.uint8 and 20 <= max(picture.shape) <= 116
        # Dark ink (0-60) on lighter paper (100-255, however the light falls).
        assert picture.min() <= 60 and picture.max() >= 190
        # Cropped to the ink: each side's outer 3 px hold ink (a third of the way from paper
        # to ink, or darker: the crop keeps what the pen covered 40% of).
        edge = int(picture.max()) - (int(picture.max()) - int(picture.min())) / 3
        for band in (picture[:3], picture[-3:], picture[:, :3], picture[:, -3:]):
            assert band.min() < edge


def pen_digit(label, strokes):
    from model.strokes import PenDigit

    return PenDigit(label, [np.asarray(s, np.float64) for s in strokes], "src", "writer")


def test_ones_come_bare_flagged_and_footed():
    from training.pen_variants import one_as_written

    stem = np.stack([np.full(30, 50.0), np.linspace(0, 100, 30)], axis=1)
    hook = np.array([[40.0, 10.0], [50.0, 0.0]])  # a short tick drawn apart
    rng = np.random.default_rng(0)
    kinds = set()
    for _ in range(40):
        strokes = one_as_written([hook, stem], rng)
        assert any(s is stem for s in strokes)  # the longest stroke is the stem
        flag = strokes[0] is not stem
        foot = strokes[-1] is not stem
        if flag:  # from the top of the stem, down and to the left
            assert np.allclose(strokes[0][-1], [50, 0]) and strokes[0][0][0] < 50
            assert 0 < strokes[0][0][1] <= 65
        if foot:  # across the bottom of the stem
            assert np.allclose(strokes[-1][:, 1], 100) and np.isclose(strokes[-1][:, 0].mean(), 50)
        kinds.add((flag, foot))
    assert kinds == {(False, False), (True, False), (False, True), (True, True)}


def test_sevens_are_crossed_and_zeros_slashed():
    from training.pen_variants import crossed_or_slashed

    t = np.linspace(0, 1, 30)[:, None]
    seven = [np.vstack([[0.0, 0.0] + t * [60.0, 0.0], [60.0, 0.0] + t * [-30.0, 100.0]])]
    zero = [np.stack([50 + 30 * np.cos(t), 50 + 50 * np.sin(t)], 1)
            for t in [np.linspace(0, 2 * np.pi, 40)]]  # fmt: skip
    rng = np.random.default_rng(0)
    bar = crossed_or_slashed(7, seven, rng)[-1]
    assert np.ptp(bar[:, 1]) < 1e-9 and 40 <= bar[0, 1] <= 60  # level, near mid-height
    stem_x = 60 - 30 * bar[0, 1] / 100
    assert bar[0, 0] < stem_x - 5 and bar[-1, 0] > stem_x + 5  # across the stem
    slash = crossed_or_slashed(0, zero, rng)[-1]
    assert np.ptp(slash[:, 0]) > 60 and np.ptp(slash[:, 1]) > 100  # corner to corner, beyond


def test_variants_keep_the_label_and_the_look_of_the_hand():
    from training.pen_variants import sparse_jagged, written_variant

    rng = np.random.default_rng(0)
    stroke = np.stack([np.linspace(0, 50, 60), np.linspace(0, 100, 60)], axis=1)
    sparse = sparse_jagged([stroke], rng)[0]
    assert 10 <= len(sparse) < 60
    assert np.abs(sparse[[0, -1]] - stroke[[0, -1]]).max() <= 12.5  # ends kept, jittered
    digit = pen_digit(3, [stroke])
    for _ in range(10):
        variant = written_variant(digit, rng)
        assert variant.label == 3 and variant.writer == "writer"
        points = np.concatenate(variant.strokes)
        assert 70 <= np.ptp(points[:, 1]) <= 130  # the same height, give or take the jitter


# --- Fine-tuning on users' corrections ---------------------------------------------------------


@pytest.fixture
def corrections(small_mnist, tmp_path):
    """A feedback store holding 120 labelled digits from 6 sessions (MNIST digits stand in
    for drawings: the fine-tune reads the stored 28x28 inputs)."""
    from model.feedback import Click, Store

    url = f"sqlite:///{tmp_path / 'feedback.sqlite3'}"
    store = Store(url, per_minute=None)
    with np.load(small_mnist) as npz:
        images, labels = npz["x_train"][:120], npz["y_train"][:120]
    for n, (image, label) in enumerate(zip(images, labels)):
        store.add(
            Click(
                drawing_png=f"drawing {n}".encode(),  # one answer per drawing is kept
                digit_28x28=image,
                label=str(label),
                answer=int(label),
                probabilities=np.full(10, 0.1),
                model_version="cnn-test",
                session_id=f"session-{n % 6}",
            )
        )
    store.add(
        Click(b"scribble", images[0], "not a digit", 3, np.full(10, 0.1), "cnn-test", "session-0")
    )
    store.close()
    return url


def served_copy(tmp_path):
    """A copy of the served CNN's folder, to promote into."""
    import shutil

    base = tmp_path / "served"
    base.mkdir()
    for name in ("cnn.keras", "cnn.tflite", "cnn_mistakes.npz", "metrics.json"):
        shutil.copy2(MODEL_DIR / name, base / name)
    return base


def test_fine_tune_dry_run_writes_a_model_folder_that_serves(small_mnist, corrections, tmp_path):
    out = tmp_path / "tuned"
    done = fine_tune("--dry-run", "--feedback", corrections, "--out", out, "--data", small_mnist)
    assert done.returncode == 0, done.stderr[-3000:]
    whole_reader = {"cnn.keras", "cnn.tflite", "metrics.json", "samples.npz", "reject.tflite",
                    "reject.json", "count.tflite", "count.json"}  # fmt: skip
    assert whole_reader <= {p.name for p in out.iterdir()}
    record = json.loads((out / "metrics.json").read_text())["cnn"]["fine_tune"]
    # Held out by session: the gate's rows come from sessions never trained on.
    assert record["sessions"] == 6 and 1 <= record["held_out_sessions"] < 6
    assert record["corrections"] + record["held_out_corrections"] == 120
    assert record["not_digit_rows_left_out"] == 1
    for side in ("before", "after"):
        assert 0 <= record[side]["mnist"] <= 1 and 0 <= record[side]["corrections"] <= 1
    assert isinstance(record["gate"]["passed"], bool)
    assert "gate" in done.stdout
    # The curves of the base model's training on MNIST come along, and the fine-tune's own.
    served = json.loads((MODEL_DIR / "metrics.json").read_text())["cnn"]
    base = served["fine_tune"]["from"] if "fine_tune" in served else served
    assert record["from"]["history"] == base.get("history")
    assert len(json.loads((out / "metrics.json").read_text())["cnn"]["history"]["loss"]) == 1

    from conftest import json_lines, run_predict

    from harness.digit_paths import draw_digit
    from model.strokes import encode_png

    image = tmp_path / "seven.png"
    image.write_bytes(encode_png(draw_digit(7, "black_on_white")))
    (line,) = json_lines(run_predict("--json", "--model-dir", out, image))
    assert line["number"] is not None and len(line["probabilities"]) == 10


def test_the_gate_refuses_a_model_that_got_worse(small_mnist, corrections, tmp_path):
    base = served_copy(tmp_path)
    before = {p.name: p.read_bytes() for p in base.iterdir()}
    out = tmp_path / "ruined"
    # A learning rate 5,000 times too high wrecks the network in one epoch.
    done = fine_tune(
        "--dry-run", "--feedback", corrections, "--out", out, "--data", small_mnist,
        "--base", base, "--learning-rate", "1.0", "--promote",
    )  # fmt: skip
    assert done.returncode == 1, done.stderr[-3000:]
    assert "not promoted" in done.stdout
    gate = json.loads((out / "metrics.json").read_text())["cnn"]["fine_tune"]["gate"]
    assert not gate["passed"] and any("MNIST" in r for r in gate["reasons"])
    assert {p.name: p.read_bytes() for p in base.iterdir()} == before  # nothing promoted


@pytest.mark.parametrize(
    "after, passed",
    [
        ({"mnist": 0.997, "corrections": 0.95}, True),
        ({"mnist": 0.997, "corrections": 0.90}, True),  # no worse
        ({"mnist": 0.997, "corrections": 0.89}, False),  # worse on people's drawings
        ({"mnist": 0.990, "corrections": 0.99}, False),  # MNIST forgotten
        ({"mnist": 0.997, "corrections": None}, False),  # nothing held out
    ],
)
def test_the_gate_needs_no_worse_corrections_and_mnist_kept(after, passed):
    from fine_tune import gate

    before = {"mnist": 0.9968, "corrections": 0.90}
    verdict = gate(before, after, mnist_floor=0.996)
    assert verdict["passed"] is passed
    assert bool(verdict["reasons"]) is not passed


def test_promote_serves_the_new_model_and_keeps_the_previous_one(tmp_path):
    from fine_tune import promote

    base = served_copy(tmp_path)
    out = tmp_path / "tuned"
    out.mkdir()
    for name in ("cnn.keras", "cnn.tflite", "cnn_mistakes.npz"):
        (out / name).write_bytes(b"new " + name.encode())
    (out / "metrics.json").write_text(json.dumps({"cnn": {"test_accuracy": 0.5}}))
    old = {p.name: p.read_bytes() for p in base.iterdir() if p.is_file()}
    promote(out, base)
    assert (base / "cnn.tflite").read_bytes() == b"new cnn.tflite"
    for name, content in old.items():
        assert (base / "previous" / name).read_bytes() == content  # for a rollback
    metrics = json.loads((base / "metrics.json").read_text())
    assert metrics["cnn"] == {"test_accuracy": 0.5} and "ann" in metrics  # the ANN's kept


def test_held_out_sessions_are_whole_sessions():
    from fine_tune import held_out_sessions

    sessions = np.array([f"s{n % 10}" for n in range(200)])
    held = held_out_sessions(sessions, 0.2)
    assert set(sessions[held]).isdisjoint(sessions[~held])
    assert len(set(sessions[held])) == 2
    assert not held_out_sessions(np.array(["only"] * 5), 0.2).any()


def test_reject_dry_run_writes_a_not_a_digit_model_that_serves(small_mnist, tmp_path):
    from conftest import SHARED

    from model.reject import Rejecter

    require((SHARED / "letters_dev.jsonl.gz").is_file(), "UNIPEN letters not found")
    done = subprocess.run(
        [sys.executable, "train_reject.py", "--dry-run", "--data", str(small_mnist),
         "--out", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    rejecter = Rejecter(tmp_path)
    record = json.loads((tmp_path / "reject.json").read_text())
    assert 0 < rejecter.threshold < 1 and record["threshold"] == rejecter.threshold
    assert record["training_images"]["drawn_letters"] > 0
    assert record["training_images"]["digits_cut_from_numbers"] > 0
    held = record["threshold_writers"]
    assert held["number_digits"] > 0 and 0 <= held["number_digits_declined"] <= 1
    scores = rejecter.scores(np.zeros((3, 28, 28), np.float32))
    assert scores.shape == (3,) and ((scores >= 0) & (scores <= 1)).all()
    # The threshold chosen again for another rate, without training: the model is the same.
    model_bytes = (tmp_path / "reject.tflite").read_bytes()
    done = subprocess.run(
        [sys.executable, "train_reject.py", "--dry-run", "--data", str(small_mnist),
         "--out", str(tmp_path), "--threshold-only", "--reject-rate", "0.2"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    again = json.loads((tmp_path / "reject.json").read_text())
    assert (tmp_path / "reject.tflite").read_bytes() == model_bytes
    assert again["chosen_for"].startswith("20.0%") and "--threshold-only" in again["command"]
    assert again["trained_by"] == record["command"]
    assert again["threshold"] <= record["threshold"]  # more digits declined: a lower bar


def test_reject_leaves_held_out_sources_out_of_everything(small_mnist, tmp_path):
    from conftest import SHARED

    require((SHARED / "letters_dev.jsonl.gz").is_file(), "UNIPEN letters not found")
    every = ["apb", "ced", "app", "aga", "imp", "art", "pri", "ibm"]
    done = subprocess.run(
        [sys.executable, "train_reject.py", "--dry-run", "--data", str(small_mnist),
         "--out", str(tmp_path), "--hold-out", ",".join(every)],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 2 and "leaves no pen digits" in done.stderr
    done = subprocess.run(
        [sys.executable, "train_reject.py", "--dry-run", "--data", str(small_mnist),
         "--out", str(tmp_path), "--hold-out", "apb,ibm"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    record = json.loads((tmp_path / "reject.json").read_text())
    assert record["held_out_sources"] == ["apb", "ibm"]
    assert record["training_images"]["digits_as_others_write_them"] > 0


def test_count_dry_run_writes_a_count_model_that_serves(small_mnist, tmp_path):
    from harness import PEN_DIGITS
    from model.count import Counter

    require(PEN_DIGITS.is_file(), "UNIPEN pen strokes not found")
    done = subprocess.run(
        [sys.executable, "train_count.py", "--dry-run", "--data", str(small_mnist),
         "--out", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    record = json.loads((tmp_path / "count.json").read_text())
    assert record["training_groups"][0] > 0 and record["training_groups"][1] > 0
    assert "train_count.py --dry-run" in record["command"]
    assert 0 <= record["mnist_test_said_several"] <= 1
    counts = Counter(tmp_path).counts(np.zeros((3, 28, 28), np.float32))
    assert counts.shape == (3,) and set(counts.tolist()) <= {1, 2, 3}

"""Fine-tune the served CNN on users' corrections (the feedback store, model/feedback.py),
with MNIST replayed so that MNIST is not forgotten; a gate on corrections held out by
session decides whether it may be served.

    python fine_tune.py --feedback sqlite:///data/feedback.sqlite3 --out runs/ft
    python fine_tune.py --feedback URL --out runs/ft --promote   # serve it if the gate passes
    python fine_tune.py --feedback URL --out runs/ft --dry-run   # seconds: one short epoch

Writes into --out: cnn.keras, cnn.tflite, cnn_mistakes.npz, samples.npz and metrics.json
(MNIST test and held-out corrections before and after, what it learnt from, the gate's
verdict, the curves of the base model's training and of the fine-tune). --promote copies it
into --base (the files it replaces into --base/previous/).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from model.classifier import Classifier
from model.preprocessing import scale_pixels
from training.augment import augment_batch, served_versions
from training.config import DRY_RUN_IMAGES, MODEL_DIR, FineTuneConfig
from training.data import MnistUnavailableError, limited, load_mnist
from training.export import (
    command_line,
    export_and_test,
    machine,
    read_metrics,
    versions,
    with_companions,
    write_metrics,
    write_samples,
)


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


def measure(classifier: Classifier, data, x_gate: np.ndarray, y_gate: np.ndarray) -> dict:
    """{"mnist": MNIST test accuracy, "corrections": accuracy on the held-out corrections, or
    None when none are held out}."""
    mnist = classifier.predict(scale_pixels(data.x_test)).argmax(1) == data.y_test
    hits = classifier.predict(scale_pixels(x_gate)).argmax(1) == y_gate if len(y_gate) else None
    return {
        "mnist": float(mnist.mean()),
        "corrections": None if hits is None else float(hits.mean()),
    }


def fit(model, x_fix: np.ndarray, y_fix: np.ndarray, data, config: FineTuneConfig, seed: int):
    """Train `model` on the corrections (each `config.repeats` times per epoch) mixed with
    `config.replay` MNIST digits drawn afresh every epoch, half of them as the app serves
    them; all distorted anew. Returns the per-epoch {"loss", "accuracy"} history."""
    import keras
    import tensorflow as tf

    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    x_served = served_versions(data.x_train)  # as the app shows MNIST digits
    rng = np.random.default_rng(seed)
    generator = tf.random.Generator.from_seed(seed)
    history = {"loss": [], "accuracy": []}
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
    return history


def fine_tune(
    data, url: str, config: FineTuneConfig, base: Path, out: Path, seed: int, command: str, note=""
) -> dict:
    """Fine-tune base/cnn.keras on the corrections in the store at `url`; write out/ (cnn.keras,
    cnn.tflite, cnn_mistakes.npz, samples.npz, metrics.json with before/after and the gate's
    verdict). Returns the metrics."""
    import keras

    from training.networks import BUILDERS, load_keras_model

    corrections = load_corrections(url)
    held_out = held_out_sessions(corrections["sessions"], config.gate_share)
    x_fix, y_fix = corrections["x"][~held_out], corrections["y"][~held_out]
    x_gate, y_gate = corrections["x"][held_out], corrections["y"][held_out]
    if len(x_fix) == 0:
        raise ValueError(f"no corrections to learn from in {url}")
    before = measure(Classifier(base / "cnn.tflite"), data, x_gate, y_gate)
    keras.utils.set_random_seed(seed)
    model = load_keras_model(base / "cnn.keras")
    started = time.perf_counter()
    history = fit(model, x_fix, y_fix, data, config, seed)
    seconds = time.perf_counter() - started

    out.mkdir(parents=True, exist_ok=True)
    inference_model = BUILDERS["cnn"]()  # saved without the optimizer's state
    inference_model.set_weights(model.get_weights())
    inference_model.save(out / "cnn.keras")
    metrics = export_and_test(inference_model, "cnn", out, data, command)
    after = measure(Classifier(out / "cnn.tflite"), data, x_gate, y_gate)
    base_record = read_metrics(base / "metrics.json").get("cnn", {})
    sessions = corrections["sessions"]
    metrics |= {
        "model": "cnn",
        "parameters": int(model.count_params()),
        "fine_tune": {
            # The base model's own training: what it was, and its curves on MNIST.
            "from": {
                "model": str(base / "cnn.keras"),
                "test_accuracy": base_record.get("test_accuracy"),
                "command": base_record.get("command"),
                "history": base_record.get("fine_tune", {}).get("from", {}).get("history")
                if "fine_tune" in base_record
                else base_record.get("history"),
            },
            "feedback": _without_password(url),
            "note": note,
            "corrections": int(len(x_fix)),
            "held_out_corrections": int(len(x_gate)),
            "sessions": len(set(sessions.tolist())),
            "held_out_sessions": len(set(sessions[held_out].tolist())),
            "not_digit_rows_left_out": corrections["not_digit"],
            "mnist_replay_per_epoch": int(min(config.replay, len(data.x_train))),
            "before": before,
            "after": after,
            "gate": gate(before, after, config.mnist_floor),
            "config": asdict(config),
            "seconds": round(seconds, 1),
        },
        "history": history,
        "epochs": config.epochs,
        "seed": seed,
        "data": f"{data.source} (replay) + corrections from {_without_password(url)}",
        "versions": versions(),
        "machine": machine(),
        "command": command,
        "keras_bytes": (out / "cnn.keras").stat().st_size,
        "training_seconds": round(seconds, 1),
    }
    write_metrics(out / "metrics.json", {"cnn": metrics})
    write_samples(data.x_test, data.y_test, out, seed=0)
    with_companions(out, base)
    verdict = metrics["fine_tune"]["gate"]
    print(
        f"fine-tune: held-out corrections {_percent(before['corrections'])} -> "
        f"{_percent(after['corrections'])}, MNIST {before['mnist']:.2%} -> {after['mnist']:.2%}, "
        f"{seconds / 60:.1f} min; gate {'passed' if verdict['passed'] else 'refused'}"
        + "".join(f"\n  - {reason}" for reason in verdict["reasons"])
    )
    return metrics


def promote(out: Path, base: Path) -> None:
    """Serve the fine-tuned CNN in out/ from base/: the files it replaces go to
    base/previous/ (roll back by copying them back)."""
    previous = base / "previous"
    previous.mkdir(exist_ok=True)
    files = ("cnn.keras", "cnn.tflite", "cnn_mistakes.npz")
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
    write_metrics(base / "metrics.json", all_metrics)
    print(f"promoted {out}/cnn.* into {base}/ (the previous model is in {previous}/)")


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2%}"


def _without_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def parse(argv: list[str] | None) -> argparse.Namespace:
    defaults = FineTuneConfig()
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--feedback", required=True, help="feedback store URL (model/feedback.py)")
    parser.add_argument("--out", type=Path, required=True, help="output folder, a new one")
    parser.add_argument(
        "--base", type=Path, default=MODEL_DIR, help="model folder to start from and promote into"
    )
    parser.add_argument(
        "--promote",
        action="store_true",
        help="serve the fine-tuned model (copy it into --base) if it passed the gate",
    )
    parser.add_argument(
        "--data",
        default=None,
        help="MNIST .npz with Keras' arrays (None: $MNIST_NPZ, else download)",
    )
    parser.add_argument("--epochs", type=int, default=defaults.epochs, help="epochs")
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size, help="batch size")
    parser.add_argument(
        "--learning-rate", type=float, default=defaults.learning_rate, help="Adam's learning rate"
    )
    parser.add_argument(
        "--replay", type=int, default=defaults.replay, help="MNIST digits mixed in per epoch"
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=defaults.repeats,
        help="times each correction is seen per epoch",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument(
        "--note", default="", help="what the corrections are, recorded in metrics.json"
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help=f"smoke test: 1 epoch, {DRY_RUN_IMAGES} MNIST images, {DRY_RUN_IMAGES // 2} replayed",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.out.resolve() == args.base.resolve():
        print("error: --out must be a new folder; --promote serves it", file=sys.stderr)
        return 2
    if args.learning_rate <= 0 or args.epochs < 1 or args.repeats < 1 or args.replay < 0:
        print(
            "error: --learning-rate must be above 0, --epochs and --repeats at least 1, "
            "--replay at least 0",
            file=sys.stderr,
        )
        return 2
    config = replace(
        FineTuneConfig(),
        epochs=1 if args.dry_run else args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        replay=DRY_RUN_IMAGES // 2 if args.dry_run else args.replay,
        repeats=args.repeats,
    )
    from model.feedback import StoreError
    from training.networks import UnsafeModelError

    try:
        data = load_mnist(args.data)
        data = limited(data, DRY_RUN_IMAGES if args.dry_run else None)
        command = command_line("fine_tune.py", argv)
        metrics = fine_tune(
            data, args.feedback, config, args.base, args.out, args.seed, command, args.note
        )
    except (MnistUnavailableError, StoreError, ValueError, OSError, UnsafeModelError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.promote:
        if not metrics["fine_tune"]["gate"]["passed"]:
            print(f"not promoted: the gate refused it; {args.base}/ is unchanged")
            return 1
        promote(args.out, args.base)
    return 0


if __name__ == "__main__":
    sys.exit(main())

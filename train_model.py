"""Train the CNN and the ANN baseline on MNIST, test them, and write what the app serves.

    python train_model.py                      # both models, full runs (CNN ~21 min on 2 cores)
    python train_model.py --model ann --epochs 5 --out runs/ann5
    python train_model.py --dry-run            # seconds: a few hundred images, into runs/

Only a full run writes into model/ (what the app serves); shorter runs need --out. For each
model it writes into --out:
    {name}.keras          the trained Keras model (training format)
    {name}.tflite         the same model for LiteRT, which the app and model.predict serve
    {name}_mistakes.npz   every MNIST test image the served model gets wrong, for the gallery
    metrics.json          the served model's test accuracy, per-class precision/recall and
                          confusion matrix; the training curves per epoch, time, config, ...
    samples.npz           fixed sample of MNIST test images with labels, for the app

export_model.py exports a trained model again; fine_tune.py fine-tunes the served CNN on
users' corrections.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

from model.preprocessing import scale_pixels
from training.augment import alternative_versions, make_dataset
from training.config import CONFIGS, DRY_RUN_IMAGES, MODEL_DIR, TrainConfig
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


def train(model, x_train, x_served, y_train, config: TrainConfig, seed: int, validation) -> dict:
    """Fit `model` with AdamW and a warm-up + cosine schedule.

    Args:
        validation: (images (N, 28, 28, 1) float32, labels (N,)) scored after every epoch to
            show training progress; nothing is chosen on it (fixed epochs, no early stop).
    Returns:
        per-epoch history: {"loss", "accuracy", "val_loss", "val_accuracy"} lists.
    """
    import keras

    steps_per_epoch = -(-len(x_train) // config.batch_size)
    warmup = min(steps_per_epoch, max(1, steps_per_epoch * config.epochs // 10))
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=config.learning_rate / 20,
        warmup_target=config.learning_rate,
        warmup_steps=warmup,
        decay_steps=max(1, steps_per_epoch * config.epochs - warmup),
        alpha=0.01,
    )
    model.compile(
        optimizer=keras.optimizers.AdamW(schedule, weight_decay=config.weight_decay),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    dataset = make_dataset(x_train, x_served, y_train, config, seed)
    fitted = model.fit(dataset, epochs=config.epochs, validation_data=validation, verbose=2)
    return {key: [round(float(v), 5) for v in values] for key, values in fitted.history.items()}


def run(name: str, data, config: TrainConfig, seed: int, out: Path, command: str) -> dict:
    """Train, save, export and test one model; returns its metrics."""
    import keras

    from training.networks import BUILDERS

    keras.utils.set_random_seed(seed)
    model = BUILDERS[name]()
    model.summary(print_fn=lambda line, **_: print(line))
    x_train = scale_pixels(data.x_train)[..., None]
    started = time.perf_counter()
    x_served = (
        scale_pixels(
            alternative_versions(data.x_train, data.y_train, config.convention_share, seed)
        )[..., None]
        if config.served_share > 0
        else x_train
    )
    validation = (scale_pixels(data.x_test)[..., None], data.y_test)
    history = train(model, x_train, x_served, data.y_train, config, seed, validation)
    seconds = time.perf_counter() - started  # preparing the served versions included

    out.mkdir(parents=True, exist_ok=True)
    # Saved without the optimizer's state (the app never trains): a third of the size.
    inference_model = BUILDERS[name]()
    inference_model.set_weights(model.get_weights())
    inference_model.save(out / f"{name}.keras")
    metrics = export_and_test(inference_model, name, out, data, command)
    metrics.update(
        {
            "model": name,
            "parameters": int(model.count_params()),
            "epochs": config.epochs,
            "train_images": int(len(x_train)),
            "training_seconds": round(seconds, 1),
            "history": history,
            "validation": "the MNIST test set, scored after each epoch to show progress only",
            "config": asdict(config),
            "seed": seed,
            "data": data.source,
            "versions": versions(),
            "machine": machine(),
            "command": command,
            "keras_bytes": (out / f"{name}.keras").stat().st_size,
        }
    )
    print(
        f"{name}: served test accuracy {metrics['test_accuracy']:.4%} "
        f"({metrics['test_errors']} errors of {metrics['test_images']}), Keras "
        f"{metrics['served']['keras_test_accuracy']:.4%}, agreement "
        f"{metrics['served']['agreement_with_keras']:.4%}, trained in {seconds / 60:.1f} min"
    )
    return metrics


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--model", choices=["cnn", "ann", "both"], default="both", help="which network to train"
    )
    epochs = ", ".join(f"{name} {config.epochs}" for name, config in CONFIGS.items())
    parser.add_argument("--epochs", type=int, default=None, help=f"epochs (None: {epochs})")
    parser.add_argument(
        "--batch-size", type=int, default=CONFIGS["cnn"].batch_size, help="batch size"
    )
    parser.add_argument(
        "--data",
        default=None,
        help="MNIST .npz with Keras' arrays (None: $MNIST_NPZ, else download)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (None: model/ for a full run, runs/dry-run with --dry-run; "
        "required with --epochs, --batch-size or --limit, which do not reproduce the "
        "served models)",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument(
        "--limit", type=int, default=None, help="use only the first N training and test images"
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help=f"smoke test: {DRY_RUN_IMAGES} training and {DRY_RUN_IMAGES // 2} test images, "
        "1 epoch",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    partial = args.epochs or args.limit or args.batch_size != CONFIGS["cnn"].batch_size
    if args.out is None and partial and not args.dry_run:
        print(
            "error: --epochs, --batch-size and --limit do not reproduce the served models, so "
            "they never write into model/: pass --out DIR (a model folder that "
            "`python -m model.predict --model-dir DIR` and the app can serve).",
            file=sys.stderr,
        )
        return 2
    out = args.out or (Path("runs/dry-run") if args.dry_run else MODEL_DIR)
    try:
        data = load_mnist(args.data)
    except (MnistUnavailableError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    data = limited(data, DRY_RUN_IMAGES if args.dry_run and args.limit is None else args.limit)
    command = command_line("train_model.py", argv)
    all_metrics = read_metrics(out / "metrics.json")
    for name in ["cnn", "ann"] if args.model == "both" else [args.model]:
        config = replace(
            CONFIGS[name],
            epochs=1 if args.dry_run else (args.epochs or CONFIGS[name].epochs),
            batch_size=args.batch_size,
        )
        all_metrics[name] = run(name, data, config, args.seed, out, command)
        # Written after each model, so a long run keeps what it has finished.
        write_metrics(out / "metrics.json", all_metrics)
    write_samples(data.x_test, data.y_test, out, seed=0)
    with_companions(out)
    print(f"wrote {', '.join(sorted(p.name for p in out.iterdir() if p.is_file()))} to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

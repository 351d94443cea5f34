"""Export trained Keras models for serving (LiteRT) again, without training, and test them.

    python export_model.py --from runs/x --out runs/y        # both models
    python export_model.py --model cnn --out model/          # the CNN in model/, in place

Reads {from}/{name}.keras (with Keras' safe mode: a file holding code is refused) and writes
into --out everything the app needs: the Keras model, its LiteRT export, metrics.json (the
training record from {from}/metrics.json, with the served model's new test figures), the
mistakes and the samples.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from training.config import DRY_RUN_IMAGES, MODEL_DIR
from training.data import MnistUnavailableError, limited, load_mnist
from training.export import (
    TRAINING_RECORD,
    command_line,
    export_and_test,
    read_metrics,
    write_metrics,
    write_samples,
)


def export(names: list[str], source: Path, out: Path, data, command: str) -> int:
    """Export saved Keras models for serving again, without training, and test them.

    Reads source/{name}.keras; writes into `out` everything the app needs: the Keras model,
    its LiteRT export, metrics.json (the training record from source/metrics.json, when there
    is one, with the served model's new test figures), the mistakes and the samples.
    """
    from training.networks import UnsafeModelError, load_keras_model

    out.mkdir(parents=True, exist_ok=True)
    trained = read_metrics(source / "metrics.json")
    all_metrics = read_metrics(out / "metrics.json")
    for name in names:
        path = source / f"{name}.keras"
        try:
            model = load_keras_model(path)
        except (OSError, UnsafeModelError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        if path.resolve() != (out / path.name).resolve():
            shutil.copyfile(path, out / path.name)
        record = {k: v for k, v in trained.get(name, {}).items() if k in TRAINING_RECORD}
        metrics = record | export_and_test(model, name, out, data, command)
        all_metrics[name] = metrics
        write_metrics(out / "metrics.json", all_metrics)
        print(
            f"{name}: exported {metrics['served']['bytes']:,} bytes, served test accuracy "
            f"{metrics['test_accuracy']:.4%}, agreement with Keras "
            f"{metrics['served']['agreement_with_keras']:.4%}"
        )
    write_samples(data.x_test, data.y_test, out, seed=0)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--model", choices=["cnn", "ann", "both"], default="both", help="which network to export"
    )
    parser.add_argument(
        "--from",
        dest="source",
        type=Path,
        default=MODEL_DIR,
        help="the folder holding the trained {name}.keras",
    )
    parser.add_argument("--out", type=Path, default=MODEL_DIR, help="output folder")
    parser.add_argument(
        "--data",
        default=None,
        help="MNIST .npz with Keras' arrays (None: $MNIST_NPZ, else download)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help=f"test on {DRY_RUN_IMAGES // 2} test images only"
    )
    args = parser.parse_args(argv)
    try:
        data = load_mnist(args.data)
    except (MnistUnavailableError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.dry_run:
        data = limited(data, DRY_RUN_IMAGES)
    names = ["cnn", "ann"] if args.model == "both" else [args.model]
    return export(names, args.source, args.out, data, command_line("export_model.py", argv))


if __name__ == "__main__":
    sys.exit(main())

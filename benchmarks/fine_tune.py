"""Simulated users: half the UNIPEN writers correct the app, the other half measure the result.

    python -m benchmarks.fine_tune                  # full fine-tune (minutes)
    python -m benchmarks.fine_tune --keep runs/ft-unipen   # keep the store and the model
    python -m benchmarks.fine_tune --base model/previous   # after the fine-tune was promoted
    python -m benchmarks.fine_tune --small --replay 60000   # users on phones write small too
    python -m benchmarks.fine_tune --small --numbers 2500 --photos   # ... numbers and photos

1. The writers of ../shared/data/unipen_dev.jsonl.gz are split in two halves by a hash of
   their id (source/writer; model/strokes.py: writer_half): no writer is on both sides.
2. The first half's digits, drawn as canvas PNGs (as in benchmarks/canvas_accuracy.py), are
   stored as corrections with `python -m model.feedback add` (one session per writer) in a
   fresh SQLite store.
3. `python fine_tune.py --feedback URL --out DIR` fine-tunes the served CNN; its
   time is the fine-tune time.
4. The second half's digits go through `python -m model.predict --model-dir`, once with the
   served model and once with the fine-tuned one: digits named right (the digit reader alone:
   its most probable digit, whether or not the folder also has a "not a digit" model). MNIST
   test accuracy and the gate's verdict come from the fine-tuned model's metrics.json.

With --small every writer also writes each digit small, as on a phone (drawn as
`benchmarks/canvas_accuracy.py --small` draws them): half 0 stores both, half 1 is measured
on both. With --numbers N, half 0's writers also write N numbers (as
`benchmarks/number_accuracy.py` composes them) and label each whole number (`add --label
2025`: its digits are stored one by one where the served models find as many digits as the
label has). With --photos, half 0 also photographs each digit (as
`benchmarks/photo_accuracy.py` does) and labels the photo. Numbers and photos of half 1 are
measured by those benchmarks once a model is served.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from benchmarks.machine import describe
from benchmarks.number_accuracy import numbers
from benchmarks.predict import predict_json
from harness import PEN_DIGITS
from harness.photos import conditions_for, photograph
from model import feedback
from model.classifier import MODEL_DIR
from model.feedback.__main__ import main as feedback_command
from model.strokes import SMALL, drawings, encode_png, load_pen_digits, writer_half

REPO = Path(__file__).resolve().parents[1]
SEED = 7  # of half 0's numbers and photos (the benchmarks' own use seed 0)


def accuracy(paths: list[Path], labels: list[int], model_dir: Path) -> float:
    """Share of the pictures whose most probable digit is the label: the digit reader alone,
    whether or not the folder also holds a "not a digit" model."""
    results = predict_json(paths, "--model-dir", str(model_dir))
    return float(
        np.mean(
            [
                r.get("probabilities") is not None and int(np.argmax(r["probabilities"])) == label
                for r, label in zip(results, labels)
            ]
        )
    )


def store_corrections(corrections: dict, url: str) -> None:
    """Each writer's pictures stored with their label by `python -m model.feedback add`, one
    session per writer (its output silenced)."""
    for (session, label), paths in corrections.items():
        with open(os.devnull, "w") as quiet:
            sys.stdout, stdout = quiet, sys.stdout
            sys.stderr, stderr = quiet, sys.stderr
            try:
                code = feedback_command(
                    ["add", "--db", url, "--label", str(label), "--session", session]
                    + [str(p) for p in paths]
                )
            finally:
                sys.stdout, sys.stderr = stdout, stderr
        # 1: some pictures were not stored (a number read with another count of digits)
        if code not in (0, 1):
            raise SystemExit(f"feedback add failed for {session}")


def write_photos_and_numbers(args, digits: list, folder: Path, corrections: dict) -> None:
    """Half 0's digits photographed (--photos) and its numbers (--numbers), as corrections."""
    if args.photos:
        half_0 = [d for d in digits if writer_half(d.source, d.writer) == 0]
        for index, digit in enumerate(half_0):
            jpeg = photograph(
                digit.strokes, conditions_for(index), np.random.default_rng([SEED, index])
            )
            path = folder / "photos" / f"{index:05d}_{digit.label}.jpg"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(jpeg)
            corrections[(f"{digit.source}/{digit.writer}", digit.label)].append(path)
    for index, (label, rgba, writer, *_) in enumerate(numbers(args.numbers, SEED, half=0)):
        path = folder / "numbers" / f"{index:05d}_{label}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(encode_png(rgba))
        corrections[("/".join(writer), label)].append(path)


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--keep", type=Path, default=None, help="keep store and model here")
    parser.add_argument("--data", default=None, help="MNIST .npz (default: $MNIST_NPZ)")
    parser.add_argument("--dry-run", action="store_true", help="a fine-tune dry run (seconds)")
    parser.add_argument(
        "--base",
        type=Path,
        default=MODEL_DIR,
        help="model folder to fine-tune and compare with (model/previous after a --promote)",
    )
    parser.add_argument("--small", action="store_true", help="each digit also written small")
    parser.add_argument("--numbers", type=int, default=0, help="numbers half 0 writes and labels")
    parser.add_argument("--photos", action="store_true", help="each digit also photographed")
    parser.add_argument("--replay", type=int, default=None, help="passed to the fine-tune")
    parser.add_argument("--repeats", type=int, default=None, help="passed to the fine-tune")
    return parser.parse_args()


def main() -> int:
    args = parse()

    with tempfile.TemporaryDirectory(prefix="fine-tune-") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{folder / 'feedback.sqlite3'}"
        if (folder / "feedback.sqlite3").exists():
            raise SystemExit(f"{folder}/feedback.sqlite3 exists: pick a new --keep folder")
        digits = load_pen_digits(PEN_DIGITS)
        corrections = defaultdict(list)  # (session, label) -> paths
        measured = defaultdict(lambda: ([], []))  # size -> (paths, labels)
        sizes = {"normal": {}}
        if args.small:
            sizes["small"] = SMALL
        for size, ranges in sizes.items():
            for index, (digit, _pen, rgba) in enumerate(drawings(digits, **ranges)):
                half = writer_half(digit.source, digit.writer)
                path = folder / "drawings" / size / f"{half}" / f"{index:05d}_{digit.label}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(encode_png(rgba))
                if half == 0:
                    corrections[(f"{digit.source}/{digit.writer}", digit.label)].append(path)
                else:
                    measured[size][0].append(path)
                    measured[size][1].append(digit.label)
        write_photos_and_numbers(args, digits, folder, corrections)
        store_corrections(corrections, url)
        store = feedback.Store(url, per_minute=None)
        stored = store.count()
        store.close()

        out = folder / "model"
        command = [sys.executable, "fine_tune.py", "--feedback", url]
        command += ["--out", str(out), "--base", str(args.base)]
        command += ["--dry-run"] if args.dry_run else []
        command += ["--data", args.data] if args.data else []
        command += ["--replay", str(args.replay)] if args.replay else []
        command += ["--repeats", str(args.repeats)] if args.repeats else []
        started = time.perf_counter()
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"fine-tune failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}")
        tuned = json.loads((out / "metrics.json").read_text())["cnn"]
        results = {
            size: (accuracy(*measured[size], args.base), accuracy(*measured[size], out))
            for size in sizes
        }

    record = tuned["fine_tune"]
    print("Simulated users: UNIPEN writers split in two halves by writer")
    print(f"machine: {describe()}")
    print(
        f"corrections: {stored} digits by {len({s for s, _ in corrections})} writers "
        f"({record['corrections']} learnt from, {record['held_out_corrections']} of "
        f"{record['held_out_sessions']} sessions held out for the gate)"
    )
    print(f"fine-tune time: {seconds / 60:.1f} min (python fine_tune.py ...)")
    for size, (before, after) in results.items():
        print(
            f"held-out writers, {size} ({len(measured[size][0])} drawings, python -m "
            f"model.predict): {before:.2%} served -> {after:.2%} fine-tuned "
            f"({(after - before) * 100:+.2f} points)"
        )
    mnist_before, mnist_after = record["before"]["mnist"], tuned["test_accuracy"]
    print(f"MNIST test (served LiteRT): {mnist_before:.2%} -> {mnist_after:.2%}")
    reasons = "; ".join(record["gate"]["reasons"]) or "no worse on held-out corrections, MNIST kept"
    print(f"gate: {'passed' if record['gate']['passed'] else 'refused'} ({reasons})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

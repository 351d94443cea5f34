"""The benchmarks' ways of reading: files through `python -m model.predict --json`, as a
user of the command would; the canvas as the app reads it, its picture with its strokes."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from model.canvas import PenStrokes
from model.classifier import Classifier, model_dir, model_path
from model.count import load_counter
from model.imageio import read_image
from model.recognize import Reading, read
from model.reject import load_rejecter
from model.strokes import PenDigit, drawings, encode_png

REPO = Path(__file__).resolve().parents[1]


def predict_json(paths: list[Path], *flags: str) -> list[dict]:
    """`python -m model.predict --json FLAGS PATHS`: one result dict per path, in order."""
    command = [sys.executable, "-m", "model.predict", "--json", *flags, *map(str, paths)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"model.predict failed ({done.returncode}): {done.stderr[-2000:]}")
    results = [json.loads(line) for line in done.stdout.splitlines()]
    if [r["path"] for r in results] != [str(p) for p in paths]:
        raise SystemExit("model.predict did not answer once per path, in order")
    return results


def canvas_reader(model: str = "cnn"):
    """A function (rgba, PenStrokes) -> Reading that reads a canvas drawing as the app does:
    its PNG (`read_image`) with the strokes the canvas records beside it, by the served
    models, in this process."""
    classifier = Classifier(model_path(model))
    rejecter, counter = load_rejecter(model_dir()), load_counter(model_dir())

    def read_canvas(rgba: np.ndarray, strokes: PenStrokes) -> Reading:
        return read(read_image(encode_png(rgba)), classifier, rejecter, counter, strokes)

    return read_canvas


def read_alone(digits: list[PenDigit], *flags: str, seed: int = 0) -> np.ndarray:
    """Whether each digit, drawn alone on the 280x280 canvas as the canvas benchmark draws
    it (`model.strokes.drawings`, its pen seeded by its place in `digits`), is named right
    and not declined by `python -m model.predict --json FLAGS`.

    The benchmarks that write the same digits smaller, inside numbers or as photos use it to
    tell the digit reader's own misses (hard or mislabelled digits) from what their setting
    adds. Returns (len(digits),) bool.
    """
    with tempfile.TemporaryDirectory(prefix="alone-") as folder:
        paths = []
        for index, (_, _, rgba) in enumerate(drawings(digits, seed=seed)):
            paths.append(Path(folder) / f"{index:05d}.png")
            paths[-1].write_bytes(encode_png(rgba))
        results = predict_json(paths, *flags)
    return np.array([r.get("number") == str(d.label) for r, d in zip(results, digits)], bool)


def split_by_alone(hits: np.ndarray, alone: np.ndarray, where: str) -> str:
    """`hits` (N,) bool told apart by `alone` (N,) bool (`read_alone`), as one line of text;
    `where` says how the digits were drawn alone ("on the canvas")."""
    parts = []
    for kept, name in ((alone, f"named right {where}"), (~alone, f"missed {where}")):
        share = f"{hits[kept].mean():.2%}" if kept.any() else "-"
        parts.append(f"{name}: {share} ({hits[kept].sum()}/{kept.sum()})")
    return "; ".join(parts)

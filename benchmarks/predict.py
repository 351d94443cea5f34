"""The benchmarks' ways of reading: files through `python -m model.predict --json`, as a
user of the command would; the canvas as the app reads it, its picture with its strokes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from model.answers import Reading
from model.canvas import PenStrokes
from model.classifier import Classifier, model_dir, model_path
from model.imageio import read_image
from model.line import load_line_reader
from model.recognize import read
from model.strokes import encode_png

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


def canvas_reader(model: str = "cnn", folder: Path | None = None):
    """A function (rgba, PenStrokes) -> Reading that reads a canvas drawing as the app does:
    its PNG (`read_image`) with the strokes the canvas records beside it, by the models of
    `folder` (default: the served ones), in this process."""
    folder = folder or model_dir()
    classifier = Classifier(model_path(model, folder))
    line_reader = load_line_reader(folder)

    def read_canvas(rgba: np.ndarray, strokes: PenStrokes) -> Reading:
        return read(read_image(encode_png(rgba)), classifier, line_reader, strokes)

    return read_canvas

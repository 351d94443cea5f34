"""`python -m model.predict`: the documented output for every kind of file, run for real."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import REPO, run_predict

from harness.digit_paths import draw_digit, draw_number
from model import predict
from model.classifier import model_path
from model.strokes import STYLES, encode_png, render


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("images")
    paths = {}
    for i, style in enumerate(STYLES):
        digit = (3, 7, 4)[i]
        paths[f"{style}"] = (folder / f"{style}_{digit}.png", digit)
        paths[style][0].write_bytes(encode_png(draw_digit(digit, style)))
    jpeg = folder / "photo_2.jpg"
    cv2.imwrite(
        str(jpeg),
        cv2.cvtColor(draw_digit(2, "black_on_white", size=900, brush=50), cv2.COLOR_RGBA2BGR),
    )
    paths["jpeg"] = (jpeg, 2)
    blank = folder / "blank.png"
    blank.write_bytes(encode_png(render([], 18, "black_on_white")))
    paths["blank"] = (blank, None)
    corrupt = folder / "corrupt.png"
    corrupt.write_bytes(encode_png(draw_digit(8))[:300])
    paths["corrupt"] = (corrupt, "error")
    return paths


def test_json_lines_in_input_order(files):
    order = ["white_on_black", "blank", "corrupt", "black_on_white", "jpeg", "black_on_transparent"]
    done = run_predict("--json", *(files[k][0] for k in order))
    assert done.returncode == 1  # one file failed
    lines = done.stdout.splitlines()
    assert len(lines) == len(order)
    for key, line in zip(order, lines):
        result = json.loads(line)
        path, expected = files[key]
        assert result["path"] == str(path)
        if expected == "error":
            assert set(result) == {"path", "error"} and result["error"]
        elif expected is None:
            assert result["digit"] is None and result["probabilities"] is None
        else:
            assert result["digit"] == expected
            assert len(result["probabilities"]) == 10
            assert sum(result["probabilities"]) == pytest.approx(1.0, abs=1e-3)
            assert result["confidence"] == pytest.approx(max(result["probabilities"]))
            assert isinstance(result["unsure"], bool) and isinstance(result["doubts"], list)


def test_all_readable_gives_status_0_and_plain_lines(files):
    done = run_predict(files["white_on_black"][0], files["blank"][0])
    assert done.returncode == 0
    first, second = done.stdout.splitlines()
    assert first.startswith(f"{files['white_on_black'][0]}: 3 (")
    assert second.endswith("no digit (blank)")


def test_missing_file_is_an_error_line(tmp_path, files):
    done = run_predict("--json", tmp_path / "absent.png", files["jpeg"][0])
    assert done.returncode == 1
    first, second = map(json.loads, done.stdout.splitlines())
    assert "no such file" in first["error"] and second["digit"] == 2


def test_ann_model_is_selectable(files):
    done = run_predict("--json", "--model", "ann", files["white_on_black"][0])
    assert done.returncode == 0 and json.loads(done.stdout)["digit"] == 3


def test_missing_model_is_a_clear_error(tmp_path, files):
    done = run_predict("--model-dir", tmp_path, files["jpeg"][0])
    assert done.returncode == 2
    assert "python train_model.py --model cnn" in done.stderr


def test_thousands_of_paths_in_one_call(tmp_path):
    rng = np.random.default_rng(0)
    digits = rng.integers(0, 10, 2500)
    sources = {d: tmp_path / f"digit_{d}.png" for d in range(10)}
    for d, path in sources.items():
        path.write_bytes(encode_png(draw_digit(d, "black_on_white")))
    # Thousands of distinct paths: hard links to the ten drawings.
    paths = []
    for i, d in enumerate(digits):
        link = tmp_path / f"{i:05d}.png"
        link.hardlink_to(sources[d])
        paths.append(link)
    done = run_predict("--json", *paths)
    assert done.returncode == 0
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["path"] for r in results] == [str(p) for p in paths]
    assert [r["digit"] for r in results] == digits.tolist()


def crash_on_poison(paths: list[str]) -> list[dict]:
    """A worker's task that dies, as a crashing decoder would, on any batch holding a file
    named poison*; otherwise the real task."""
    if any(Path(p).name.startswith("poison") for p in paths):
        os._exit(3)
    return predict._classify_in_worker(paths)


def test_a_worker_that_dies_still_leaves_one_line_per_file(tmp_path, monkeypatch):
    # Spawned workers import the parent's __main__; after an AppTest in this process that is
    # the app's script. The command's own __main__ is model.predict: stand in a bare one.
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    digits = np.random.default_rng(1).integers(0, 10, 3 * predict.BATCH)
    sources = {d: tmp_path / f"digit_{d}.png" for d in range(10)}
    for d, path in sources.items():
        path.write_bytes(encode_png(draw_digit(d, "black_on_white")))
    paths = []
    for i, d in enumerate(digits):
        name = "poison.png" if i == 70 else f"{i:04d}.png"
        (tmp_path / name).hardlink_to(sources[d])
        paths.append(str(tmp_path / name))
    batches = [paths[i : i + predict.BATCH] for i in range(0, len(paths), predict.BATCH)]
    results = list(
        predict._classify_in_workers(batches, model_path("cnn"), 2, task=crash_on_poison)
    )
    assert [r["path"] for r in results] == paths  # one line per file, in order
    assert "stopped its worker" in results[70]["error"]
    others = [r for i, r in enumerate(results) if i != 70]
    assert [r.get("digit") for r in others] == [int(d) for i, d in enumerate(digits) if i != 70]


def test_piping_into_head_ends_promptly(tmp_path):
    source = tmp_path / "digit.png"
    source.write_bytes(encode_png(draw_digit(5, "black_on_white")))
    for i in range(2000):
        (tmp_path / f"{i:05d}.png").hardlink_to(source)
    command = f"{sys.executable} -m model.predict --json {tmp_path}/0*.png | head -n 2"
    done = subprocess.run(
        ["bash", "-c", command], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert len(done.stdout.splitlines()) == 2
    assert json.loads(done.stdout.splitlines()[0])["digit"] == 5
    assert "Traceback" not in done.stderr and "Broken pipe" not in done.stderr, done.stderr


def test_a_number_gets_its_digits_and_boxes(tmp_path):
    path = tmp_path / "number.png"
    path.write_bytes(encode_png(draw_number("2025", height=0.5)))
    done = run_predict("--json", path)
    assert done.returncode == 0
    result = json.loads(done.stdout)
    assert result["number"] == "2025"
    assert result["digit"] is None and result["probabilities"] is None
    assert [d["digit"] for d in result["digits"]] == [2, 0, 2, 5]
    for d in result["digits"]:
        x, y, w, h = d["box"]
        assert x >= 0 and y >= 0 and x + w <= 780 and y + h <= 280 and w > 0 and h > 0
        assert 0 < d["confidence"] <= 1 and isinstance(d["unsure"], bool)
    lefts = [d["box"][0] for d in result["digits"]]
    assert lefts == sorted(lefts)

    plain = run_predict(path).stdout.strip()
    assert plain.startswith(f"{path}: 2025 (digits ") and plain.count("%") == 4


def test_a_single_digit_keeps_its_fields(files):
    result = json.loads(run_predict("--json", files["white_on_black"][0]).stdout)
    assert result["number"] == "3" and result["digit"] == 3
    (only,) = result["digits"]
    assert only["digit"] == 3 and only["confidence"] == result["confidence"]

"""Classify image files of handwritten digits from the command line.

    python -m model.predict digit.png photo.jpg
    python -m model.predict --json --model ann drawings/*.png

One line per path, in the order given. With --json, one JSON object per line:
    {"path": "a.png", "digit": 7, "confidence": 0.998, "probabilities": [10 floats],
     "unsure": false, "doubts": []}
A picture with no ink gives "digit": null. A file that cannot be read gives
{"path": ..., "error": "..."}; the other files are still classified, and the exit status is 1.
The model is loaded once and the images are classified in batches, so thousands of paths in
one call are fine.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from model.classifier import MODEL_NAMES, Classifier, ModelError, model_dir, model_path
from model.imageio import ImageReadError, read_image
from model.preprocessing import Preprocessed, preprocess_steps
from model.process import cpu_cores, keep_freed_memory
from model.recognize import Recognition, recognize_steps

# Files classified together in one model call. Small enough that a batch of very large
# images stays within a few hundred MB.
BATCH = 64
# From this many files on, batches go to worker processes, one per core, each with its own
# copy of the model (reading and preprocessing are many small numpy/OpenCV calls: threads
# would wait on Python's GIL). Fewer files are done here, without the workers' start-up.
PARALLEL_FROM = 2 * BATCH


def classify_paths(
    paths: list[str], classifier: Classifier, workers: int | None = None
) -> Iterator[dict]:
    """One result dict per path, in order (see the module docstring for the keys).

    Batches of BATCH files are read, preprocessed and classified by `workers` processes
    (default: one per core, at most 8; none for fewer than PARALLEL_FROM files).
    """
    batches = [paths[start : start + BATCH] for start in range(0, len(paths), BATCH)]
    workers = workers or min(8, cpu_cores())
    if workers < 2 or len(paths) < PARALLEL_FROM:
        for batch in batches:
            yield from _classify_batch(batch, classifier)
        return
    # "spawn": fresh workers that import only this module's needs; a fork of this process
    # would copy the model runtime's threads mid-flight.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_load_worker_model, initargs=(classifier.path,)
    ) as pool:
        for results in pool.map(_classify_in_worker, batches):
            yield from results


def _classify_batch(paths: list[str], classifier: Classifier) -> list[dict]:
    """Read, preprocess and classify some files at once: one result dict per path."""
    prepared = [_prepare(path) for path in paths]
    results = recognize_steps([steps for steps, _ in prepared], classifier)
    return [
        {"path": path, "error": error} if error else _as_dict(path, result)
        for path, (_, error), result in zip(paths, prepared, results)
    ]


def _prepare(path: str) -> tuple[Preprocessed | None, str | None]:
    """Read and preprocess one file: (steps or None when blank, error message or None)."""
    try:
        return preprocess_steps(read_image(path)), None
    except (ImageReadError, ValueError) as error:
        return None, str(error)
    except Exception as error:  # never a traceback for one bad file
        return None, f"cannot process this image ({type(error).__name__}: {error})"


_worker_classifier: Classifier | None = None


def _load_worker_model(path: Path) -> None:
    global _worker_classifier
    keep_freed_memory()
    _worker_classifier = Classifier(path)


def _classify_in_worker(paths: list[str]) -> list[dict]:
    return _classify_batch(paths, _worker_classifier)


def _as_dict(path: str, result: Recognition) -> dict:
    if result.blank:
        return {
            "path": path,
            "digit": None,
            "confidence": None,
            "probabilities": None,
            "unsure": False,
            "doubts": ["no ink"],
        }
    return {
        "path": path,
        "digit": result.digit,
        "confidence": round(result.confidence, 6),
        "probabilities": [round(float(p), 6) for p in result.probabilities],
        "unsure": result.unsure,
        "doubts": list(result.doubts),
    }


def format_line(result: dict) -> str:
    """The plain-text line for one result."""
    if "error" in result:
        return f"{result['path']}: error: {result['error']}"
    if result["digit"] is None:
        return f"{result['path']}: no digit (blank)"
    line = f"{result['path']}: {result['digit']} ({result['confidence']:.1%})"
    return line + (f"  unsure: {'; '.join(result['doubts'])}" if result["unsure"] else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m model.predict",
        description="Classify images of handwritten digits (PNG, JPEG, ...; any size).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files")
    parser.add_argument("--model", choices=MODEL_NAMES, default="cnn", help="which network")
    parser.add_argument(
        "--model-dir",
        type=Path,
        default=model_dir(),
        help="folder holding {cnn,ann}.tflite ($DIGIT_MODEL_DIR overrides)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    args = parser.parse_args(argv)
    keep_freed_memory()

    try:
        classifier = Classifier(model_path(args.model, args.model_dir))
    except ModelError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    failed = False
    out = sys.stdout
    for result in classify_paths(args.images, classifier):
        failed |= "error" in result
        out.write((json.dumps(result) if args.json else format_line(result)) + "\n")
    out.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

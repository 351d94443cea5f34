"""Read handwritten digits and numbers in image files from the command line.

    python -m model.predict digit.png number.png photo.jpg
    python -m model.predict --json --model ann drawings/*.png

One line per path, in the order given: "digit.png: 7 (99%)", "number.png: 2025 (digits
98% 99% 97% 99%)", confidence said as the page says it. With --json, one JSON object per line:
    {"path": "a.png", "number": "7", "digit": 7, "confidence": 0.998,
     "probabilities": [10 floats], "unsure": false, "not_digit": false, "doubts": [],
     "digits": [{"digit": 7, "confidence": 0.998, "box": [x, y, w, h], "unsure": false,
                 "not_digit": false}]}
"number" is the digits read left to right; "digits" gives each one, its box in the picture's
pixels. "digit", "confidence" and "probabilities" are the single digit's, and null when the
picture holds several. A picture with no ink gives "number": null, "digit": null and
"not_digit": false. A picture that is not a digit (a letter, a symbol, a doodle, a dot; see
model/reject.py) gives "digit": null, "not_digit": true, and its "digits" entry says what it
looks closest to; a number with such a part inside is declined: "number": null. A file
that cannot be read gives {"path": ..., "error": "..."}; the other files are still read, and
the exit status is 1. The model is loaded once, so thousands of paths in one call are fine.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from model.classifier import MODEL_NAMES, Classifier, ModelError, model_dir, model_path
from model.count import Counter, load_counter
from model.imageio import ImageReadError, read_image
from model.process import cpu_cores
from model.recognize import Reading, percent, read
from model.reject import Rejecter, load_rejecter

# Files classified together in one model call. Small enough that a batch of very large
# images stays within a few hundred MB.
BATCH = 64
# From this many files on, batches go to worker processes, one per core, each with its own
# copy of the model (reading and preprocessing are many small numpy/OpenCV calls: threads
# would wait on Python's GIL). Fewer files are done here, without the workers' start-up.
PARALLEL_FROM = 2 * BATCH


def classify_paths(
    paths: list[str],
    classifier: Classifier,
    workers: int | None = None,
    rejecter: Rejecter | None = None,
    counter: Counter | None = None,
) -> Iterator[dict]:
    """One result dict per path, in order (see the module docstring for the keys).

    Batches of BATCH files are read, preprocessed and classified by `workers` processes
    (default: one per core, at most 8; none for fewer than PARALLEL_FROM files). With a
    rejecter (the "not a digit" model of the classifier's folder; the workers load it from
    there), drawings that are not digits are declined; with a counter (the digit-count model,
    likewise), touching digits are cut apart.
    """
    batches = [paths[start : start + BATCH] for start in range(0, len(paths), BATCH)]
    workers = workers or min(8, cpu_cores())
    if workers < 2 or len(paths) < PARALLEL_FROM:
        for batch in batches:
            yield from _classify_batch(batch, classifier, rejecter, counter)
        return
    yield from _classify_in_workers(batches, classifier.path, workers)


def _classify_in_workers(
    batches: list[list[str]], model: Path, workers: int, task=None
) -> Iterator[dict]:
    """Batches classified by worker processes; results in order.

    At most two batches per worker are in flight, so a reader that stops early (`| head`)
    stops the work too. A worker that dies (out of memory, a crash in a decoder) breaks the
    pool: the files that were in flight are then read one at a time, each file that kills a
    worker again gets an error line, and a new pool takes the rest.

    Args:
        task: what a worker runs on a batch (tests replace it); default `_classify_in_worker`.
    """
    task = task or _classify_in_worker
    queue = deque(batches)
    while queue:
        in_flight = deque()
        with _closing_pool(workers, model) as pool:
            while queue or in_flight:
                while queue and len(in_flight) < 2 * workers:
                    batch = queue.popleft()
                    in_flight.append((batch, pool.submit(task, batch)))
                try:
                    results = in_flight[0][1].result()
                except BrokenProcessPool:
                    break
                in_flight.popleft()
                yield from results
        suspects = [path for batch, _ in in_flight for path in batch]
        yield from _classify_one_at_a_time(suspects, model, task)


def _classify_one_at_a_time(paths: list[str], model: Path, task) -> Iterator[dict]:
    """Each file alone in a worker; a file whose worker dies gets an error line."""
    pool = None
    try:
        for path in paths:
            pool = pool or _start_pool(1, model)
            try:
                yield from pool.submit(task, [path]).result()
            except BrokenProcessPool:
                pool.shutdown(wait=True)
                pool = None
                yield {"path": path, "error": "reading this file stopped its worker process"}
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _start_pool(workers: int, model: Path) -> ProcessPoolExecutor:
    # "spawn": fresh workers that import only this module's needs; a fork of this process
    # would copy the model runtime's threads mid-flight.
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(
        workers, mp_context=context, initializer=_load_worker_model, initargs=(model,)
    )


@contextlib.contextmanager
def _closing_pool(workers: int, model: Path) -> Iterator[ProcessPoolExecutor]:
    """A pool that, when left early, drops the batches not yet started."""
    pool = _start_pool(workers, model)
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _classify_batch(
    paths: list[str],
    classifier: Classifier,
    rejecter: Rejecter | None = None,
    counter: Counter | None = None,
) -> list[dict]:
    """Read some files: one result dict per path."""
    return [_read_file(path, classifier, rejecter, counter) for path in paths]


def _read_file(
    path: str, classifier: Classifier, rejecter: Rejecter | None, counter: Counter | None
) -> dict:
    try:
        return _as_dict(path, read(read_image(path), classifier, rejecter, counter))
    except (ImageReadError, ValueError) as error:
        return {"path": path, "error": str(error)}
    except Exception as error:  # never a traceback for one bad file
        return {"path": path, "error": f"cannot read this image ({type(error).__name__}: {error})"}


_worker_classifier: Classifier | None = None
_worker_rejecter: Rejecter | None = None
_worker_counter: Counter | None = None


def _load_worker_model(path: Path) -> None:
    global _worker_classifier, _worker_rejecter, _worker_counter
    _worker_classifier = Classifier(path)
    _worker_rejecter = load_rejecter(path.parent)
    _worker_counter = load_counter(path.parent)


def _classify_in_worker(paths: list[str]) -> list[dict]:
    return _classify_batch(paths, _worker_classifier, _worker_rejecter, _worker_counter)


def _as_dict(path: str, reading: Reading) -> dict:
    if reading.blank:
        return {
            "path": path,
            "number": None,
            "digit": None,
            "confidence": None,
            "probabilities": None,
            "unsure": False,
            "not_digit": False,
            "doubts": ["no ink"],
            "digits": [],
        }
    single = reading.digits[0] if len(reading.digits) == 1 else None
    if single is not None:
        doubts = list(single.doubts)
    else:
        doubts = [
            f"digit {position}: {doubt}"
            for position, digit in enumerate(reading.digits, start=1)
            for doubt in digit.doubts
        ]
    return {
        "path": path,
        "number": reading.number,
        "digit": None if single is None or single.not_digit else single.digit,
        "confidence": None if single is None else round(single.confidence, 6),
        "probabilities": None
        if single is None
        else [round(float(p), 6) for p in single.probabilities],
        "unsure": reading.unsure,
        "not_digit": reading.not_digit,
        "doubts": doubts,
        "digits": [
            {
                "digit": digit.digit,
                "confidence": round(digit.confidence, 6),
                "box": list(box),
                "unsure": digit.unsure,
                "not_digit": digit.not_digit,
            }
            for digit, box in zip(reading.digits, reading.boxes)
        ],
    }


def format_line(result: dict) -> str:
    """The plain-text line for one result."""
    if "error" in result:
        return f"{result['path']}: error: {result['error']}"
    if result.get("not_digit"):
        closest = result["digits"][0]["digit"] if len(result["digits"]) == 1 else None
        what = "not a digit" if len(result["digits"]) == 1 else "not a number"
        line = f"{result['path']}: {what}" + (
            f" (closest: {closest})" if closest is not None else ""
        )
        return line + f"  ({'; '.join(result['doubts'])})"
    if result["number"] is None:
        return f"{result['path']}: no digit (blank)"
    if result["digit"] is not None:
        line = f"{result['path']}: {result['digit']} ({percent(result['confidence'])})"
    else:
        sure = " ".join(percent(d["confidence"]) for d in result["digits"])
        line = f"{result['path']}: {result['number']} (digits {sure})"
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

    try:
        classifier = Classifier(model_path(args.model, args.model_dir))
        rejecter = load_rejecter(args.model_dir)
        counter = load_counter(args.model_dir)
    except ModelError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    failed = False
    results = classify_paths(args.images, classifier, rejecter=rejecter, counter=counter)
    try:
        for result in results:
            failed |= "error" in result
            sys.stdout.write((json.dumps(result) if args.json else format_line(result)) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader has gone (`| head`): stop the work, and say nothing more.
        results.close()
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

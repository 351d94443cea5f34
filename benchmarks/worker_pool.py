"""`model.predict`'s worker pool against a plain `ProcessPoolExecutor.map`, on the same files.

    python -m benchmarks.worker_pool          # 5,000 canvas PNGs, each way three times

The served pool keeps at most two batches per worker in flight (a reader that stops early,
`| head`, stops the work) and, when a worker dies, reads the files that were in flight one
at a time, so that every file still gets its line. A plain map submits every batch at once
and loses the rest of the output when a worker dies. This prints what the first costs.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from benchmarks.machine import describe
from harness import PEN_DIGITS
from model import predict
from model.classifier import model_path
from model.strokes import drawings, encode_png, load_pen_digits


def plain(batches: list[list[str]], model: Path, workers: int):
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=predict._load_worker_model, initargs=(model,)
    ) as pool:
        for results in pool.map(predict._classify_in_worker, batches):
            yield from results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--n", type=int, default=5000, help="canvas PNGs")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--repeats", type=int, default=3, help="runs each way")
    args = parser.parse_args()
    digits = load_pen_digits(PEN_DIGITS)
    digits = (digits * (args.n // len(digits) + 1))[: args.n]
    model = model_path("cnn")
    print(f"Worker pools on {args.n} canvas PNGs, {args.workers} workers")
    print(f"machine: {describe()}")
    with tempfile.TemporaryDirectory(prefix="pool-") as folder:
        paths = []
        for index, (_, _, rgba) in enumerate(drawings(digits)):
            paths.append(str(Path(folder) / f"{index:05d}.png"))
            Path(paths[-1]).write_bytes(encode_png(rgba))
        batches = [paths[s : s + predict.BATCH] for s in range(0, len(paths), predict.BATCH)]
        ways = {
            "served (recovering)": lambda: predict._classify_in_workers(
                batches, model, args.workers
            ),
            "plain map": lambda: plain(batches, model, args.workers),
        }
        for _ in range(args.repeats):
            for name, run in ways.items():
                started = time.perf_counter()
                count = sum(1 for _ in run())
                seconds = time.perf_counter() - started
                print(f"  {name:<20} {count / seconds:6.0f} files/s ({seconds:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

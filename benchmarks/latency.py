"""Per-drawing server latency: the canvas PNG in, probabilities out, as the app does it.

    python -m benchmarks.latency               # 1,000 real drawings, CNN
    python -m benchmarks.latency --n 2000 --model ann

The app receives each stroke's canvas as PNG bytes and runs `read_image` (decode),
`read` (find the digits, preprocess, model, doubts) and, as the page shows it by default,
`occlusion_saliency` (one batch of erased copies through the model); for a number, with the
strokes the canvas records beside its picture (`canvas_strokes`). This times exactly those
calls on UNIPEN pen-stroke digits drawn as the app's canvas draws them (black on white,
280x280, brush 12-26 px), with and without the saliency, on 200 six-digit numbers written
on the app's wide canvas (model/strokes.py: compose_number), and on 200 digits written small
with a heavy pen, which are read redrawn from their strokes (`canvas.with_mnist_pen`).
In the same run it times the naive path: the same decode and preprocessing, then Keras'
`model.predict` on each image, and prints the ratio.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from benchmarks.machine import describe
from harness import PEN_DIGITS
from harness.digit_paths import canvas_json
from model.canvas import canvas_strokes
from model.classifier import Classifier, model_dir, model_path
from model.count import load_counter
from model.explain import occlusion_saliency
from model.imageio import read_image
from model.preprocessing import preprocess
from model.recognize import read
from model.reject import load_rejecter
from model.strokes import (
    SMALL,
    compose_number,
    drawings,
    encode_png,
    load_pen_digits,
    place_strokes,
    render,
)


def percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000
    return {f"p{q}": float(np.percentile(ms, q)) for q in (50, 90, 99)}


def time_each(function, inputs, warmup: int = 20) -> list[float]:
    for item in inputs[:warmup]:
        function(item)
    times = []
    for item in inputs:
        started = time.perf_counter()
        function(item)
        times.append(time.perf_counter() - started)
    return times


def breakdown(pngs: list[bytes], classifier: Classifier) -> None:
    """Where the served time of a digit goes (medians)."""
    images = [read_image(p) for p in pngs[:300]]
    steps = [preprocess(i) for i in images]
    parts = {
        "decode (read_image)": np.median(time_each(read_image, pngs[:300])),
        "preprocess": np.median(time_each(preprocess, images[:300])),
        "model (LiteRT, 1 image)": np.median(time_each(classifier.predict, steps)),
    }
    print("breakdown (median ms): " + ", ".join(f"{k} {v * 1000:.3f}" for k, v in parts.items()))


def canvas_drawings(digits: list) -> tuple[list, list]:
    """Canvas drawings as the app receives them, (PNG, strokes json, canvas width) each:
    200 six-digit numbers by one writer each on the wide canvas (280x780), and 200 digits
    written small, as on a phone, with a heavy pen (read redrawn from their strokes)."""
    # Six-digit numbers by one writer each, on the app's wide canvas (280x780), with the
    # strokes the canvas records beside the picture (its json_data), as the app reads them.
    rng = np.random.default_rng(0)
    numbers = []
    for _ in range(200):
        strokes = compose_number([digits[i] for i in rng.choice(len(digits), 6)], rng, 280, 780)
        png = encode_png(render(strokes, 18, "black_on_white", 280, 780))
        numbers.append((png, canvas_json(strokes, 18), 780))
    # Digits written small, as on a phone, with a heavy pen: read redrawn from their strokes.
    small = [
        (encode_png(rgba), canvas_json(place_strokes(digit, pen), pen.brush), 280)
        for digit, pen, rgba in drawings(digits[:200], style="black_on_white", **SMALL)
    ]

    return numbers, small


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1000, help="drawings (at least 1,000)")
    parser.add_argument("--model", choices=["cnn", "ann"], default="cnn", help="network")
    parser.add_argument(
        "--naive-n",
        type=int,
        default=None,
        help="drawings for the slow naive path (default: same as --n)",
    )
    return parser.parse_args()


def main() -> int:
    args = parse()

    digits = load_pen_digits(PEN_DIGITS)[: args.n]
    pngs = [encode_png(rgba) for _, _, rgba in drawings(digits, style="black_on_white")]
    classifier = Classifier(model_path(args.model))
    rejecter = load_rejecter(model_dir())  # the page's "not a digit" model, as the app uses it
    counter = load_counter(model_dir())  # and its digit-count model

    def served(png: bytes) -> np.ndarray:
        return read(read_image(png), classifier, rejecter, counter).digits[0].probabilities

    def served_with_saliency(png: bytes) -> np.ndarray:
        reading = read(read_image(png), classifier, rejecter, counter)
        picked = reading.digits[reading.least_certain()]
        occlusion_saliency(classifier, picked.steps.digit_28x28)
        return picked.probabilities

    ours = time_each(served, pngs)
    numbers, small = canvas_drawings(digits)

    def served_canvas(drawing: tuple[bytes, dict, int], saliency: bool = False) -> np.ndarray:
        png, json_data, canvas_width = drawing
        image = read_image(png)
        strokes = canvas_strokes(json_data, image.shape[1] / canvas_width)
        reading = read(image, classifier, rejecter, counter, strokes)
        picked = reading.digits[reading.least_certain()]
        if saliency:
            occlusion_saliency(classifier, picked.steps.digit_28x28)
        return picked.probabilities

    number_times = time_each(served_canvas, numbers)
    small_times = time_each(served_canvas, small)
    number_why_times = time_each(lambda drawing: served_canvas(drawing, True), numbers)
    with_why = time_each(served_with_saliency, pngs)

    import keras  # only the naive path needs TensorFlow

    keras_model = keras.saving.load_model(model_dir() / f"{args.model}.keras")

    def naive(png: bytes) -> np.ndarray:
        digit = preprocess(read_image(png))
        return keras_model.predict(digit[None, :, :, None], verbose=0)[0]

    naive_times = time_each(naive, pngs[: args.naive_n or args.n], warmup=5)

    # The same answers both ways (the served model is the Keras one, exported).
    sample = pngs[:200]
    agree = np.mean([served(p).argmax() == naive(p).argmax() for p in sample])

    ours_p, naive_p = percentiles(ours), percentiles(naive_times)
    rows = [
        ("a digit: read_image + read (LiteRT)", ours_p),
        ("as the page: the same + saliency (default on)", percentiles(with_why)),
        ("a 6-digit number (280x780 canvas)", percentiles(number_times)),
        ("the same + saliency of one digit", percentiles(number_why_times)),
        ("a digit written small, redrawn from its strokes", percentiles(small_times)),
        ("naive: a digit + keras model.predict", naive_p),
    ]
    print(f"Per-drawing server latency, {args.model}, {len(pngs)} UNIPEN drawings as canvas PNGs")
    print(f"machine: {describe()}")
    print(f"{'path':<46} {'p50':>8} {'p90':>8} {'p99':>8}  (ms)")
    for label, figures in rows:
        print(f"{label:<46} " + " ".join(f"{figures[k]:8.3f}" for k in ("p50", "p90", "p99")))
    print(
        f"speed-up (naive / served): p50 {naive_p['p50'] / ours_p['p50']:.1f}x, "
        f"p99 {naive_p['p99'] / ours_p['p99']:.1f}x"
    )
    print(f"same digit both ways on {len(sample)} drawings: {agree:.1%}")

    breakdown(pngs, classifier)
    return 0


if __name__ == "__main__":
    sys.exit(main())

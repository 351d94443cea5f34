"""Stroke finished (mouse up) to the whole answer shown, in a real browser, against the floor.

    python -m benchmarks.browser_latency            # 20 single-stroke drawings on each page

Two servers run side by side: the app, and benchmarks/bare_app.py, a page holding only the
same canvas and a metric. Each single-stroke UNIPEN digit is drawn with the mouse on a freshly
loaded page of each, alternately. Recorded, in the page's own clock: the time from the mouseup
event to the moment the answer is on screen. On the bare page that is its metric; on the app
it is the whole answer: the metric, the probability bars, and the 28x28 input and the
saliency pictures loaded (checked on every change to the page and every image load). Prints the
median for each page and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys

from benchmarks.machine import describe
from harness import PEN_DIGITS
from harness.browser import (
    CANVAS,
    chromium,
    draw_strokes,
    running,
    settle,
    wait_for_canvas,
)
from model.strokes import load_pen_digits, pen_for, place_strokes

INSTRUMENT = """() => {
  window.__latency = {up: null, shown: null};
  document.addEventListener('mouseup', () => {
    window.__latency.up = performance.now();
  }, {capture: true});
  const loaded = alt => [...document.querySelectorAll(`img[alt^="${alt}"]`)].some(
    image => image.complete && image.naturalWidth > 0);
  const answered = () => {
    const value = document.querySelector('[data-testid=stMetricValue]');
    if (!value || !value.innerText.trim()) return false;
    if (!document.querySelector('[data-testid=stTabs]')) return true;  // the bare page
    return loaded('What the model sees') && loaded('Why')
      && document.querySelector('.ds-bars') !== null;
  };
  const seen = () => {
    if (window.__latency.up !== null && window.__latency.shown === null && answered()) {
      window.__latency.shown = performance.now();
    }
  };
  new MutationObserver(seen).observe(document.body,
    {subtree: true, childList: true, characterData: true, attributes: true});
  document.addEventListener('load', seen, true);  // an image finished loading
}"""


def measure(page, url: str, strokes) -> float:
    """Load `url` fresh, draw one stroke, return mouseup -> answer shown in ms."""
    page.goto(url)
    wait_for_canvas(page)
    settle(page, quiet_ms=300)
    # The mouse comes to the canvas before it draws, as a hand does: the canvas' toolbar
    # (hidden over its top edge until hovered, on the bare page) moves out of the way.
    box = page.locator(CANVAS).first.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_timeout(300)
    page.evaluate(INSTRUMENT)
    draw_strokes(page, strokes)
    page.wait_for_function("() => window.__latency.shown !== null", timeout=30_000)
    latency = page.evaluate("() => window.__latency.shown - window.__latency.up")
    settle(page, quiet_ms=200)
    return latency


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--n", type=int, default=20, help="single-stroke drawings per page")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured drawings per page")
    args = parser.parse_args()

    single = [d for d in load_pen_digits(PEN_DIGITS) if len(d.strokes) == 1]
    drawings = [place_strokes(d, pen_for(i)) for i, d in enumerate(single[: args.n + args.warmup])]
    times = {"app": [], "bare": []}
    with running("app.py") as app, running("benchmarks/bare_app.py") as bare, chromium() as b:
        page = b.new_page(viewport={"width": 1280, "height": 900})
        urls = {"app": app.url, "bare": bare.url}
        for i, strokes in enumerate(drawings):
            order = ["app", "bare"] if i % 2 == 0 else ["bare", "app"]
            for name in order:
                latency = measure(page, urls[name], [strokes[0]])
                if i >= args.warmup:
                    times[name].append(latency)
        app_errors = [line for line in app.log().splitlines() if "Traceback" in line]

    app_median, bare_median = (statistics.median(times[k]) for k in ("app", "bare"))
    print(
        f"Mouse up -> answer shown, {args.n} single-stroke UNIPEN drawings per page, "
        "Chromium headless"
    )
    print(f"machine: {describe()}")
    pages = [
        ("app", "app.py (metric, bars, input, saliency)"),
        ("bare", "bare page (canvas + metric)"),
    ]
    for name, label in pages:
        values = times[name]
        print(
            f"  {label:<40} median {statistics.median(values):6.0f} ms   "
            f"min {min(values):5.0f}  max {max(values):5.0f}"
        )
    print(f"ratio app / bare (medians): {app_median / bare_median:.2f}")
    print(f"server tracebacks: {len(app_errors)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Stroke finished (mouse up) to prediction shown, in a real browser, against the floor.

    python -m benchmarks.browser_latency            # 20 single-stroke drawings on each page

Two servers run side by side: the app, and benchmarks/bare_app.py, a page holding only the
same canvas and a metric. Each single-stroke UNIPEN digit is drawn with the mouse on a freshly
loaded page of each, alternately; the time from the mouseup event to the moment a metric
appears in the page (a MutationObserver, in the page's own clock) is recorded. Prints the
median for each page and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys

from benchmarks.browser import (
    CANVAS,
    chromium,
    draw_strokes,
    running,
    settle,
    wait_for_canvas,
)
from benchmarks.drawings import PEN_DIGITS, load_pen_digits, pen_for, place_strokes
from benchmarks.machine import describe

INSTRUMENT = """() => {
  window.__latency = {up: null, shown: null};
  document.addEventListener('mouseup', () => {
    window.__latency.up = performance.now();
  }, {capture: true});
  const seen = () => {
    const value = document.querySelector('[data-testid=stMetricValue]');
    if (window.__latency.up !== null && window.__latency.shown === null && value
        && value.innerText.trim()) {
      window.__latency.shown = performance.now();
    }
  };
  new MutationObserver(seen).observe(document.body,
    {subtree: true, childList: true, characterData: true});
}"""


def measure(page, url: str, strokes) -> float:
    """Load `url` fresh, draw one stroke, return mouseup -> metric shown in ms."""
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
        f"Mouse up -> prediction shown, {args.n} single-stroke UNIPEN drawings per page, "
        "Chromium headless"
    )
    print(f"machine: {describe()}")
    for name, label in [("app", "app.py"), ("bare", "bare page (canvas + metric)")]:
        values = times[name]
        print(
            f"  {label:<30} median {statistics.median(values):6.0f} ms   "
            f"min {min(values):5.0f}  max {max(values):5.0f}"
        )
    print(f"ratio app / bare (medians): {app_median / bare_median:.2f}")
    print(f"server tracebacks: {len(app_errors)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

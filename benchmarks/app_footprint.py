"""The app's footprint: time from `streamlit run` to the first prediction, and the server's
memory while 10 sessions draw.

    python -m benchmarks.app_footprint
    python -m benchmarks.app_footprint --sessions 10 --seconds 45

First prediction: Chromium is started first; then the clock starts with `streamlit run
app.py`; the page is requested as soon as the server answers, a digit is drawn, and the clock
stops when its prediction shows. The seconds the mouse spends drawing (Playwright moves it
point by point) are the user's time, not the app's: they are taken off and printed apart.
Then `--sessions` sessions (websocket clients speaking the browser's protocol, see
benchmarks/load.py) draw for `--seconds` while the server's resident memory (RSS) is sampled:
the peak (the kernel's high-water mark, VmHWM) and the steady figure after the run are printed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from benchmarks.load import print_report
from benchmarks.machine import describe
from harness.browser import (
    Server,
    chromium,
    draw_strokes,
    predictions,
    settle,
    wait_for_canvas,
)
from harness.digit_paths import DIGIT_PATHS, place
from harness.load import run_load


def first_prediction(browser, server: Server) -> tuple[float, float]:
    """(seconds from the server's start to the first prediction shown in a browser, of which
    seconds the mouse spent drawing). The drawing's own time is the user's, not the app's."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    while True:
        try:
            page.goto(server.url, timeout=30_000)
            break
        except Exception:  # not listening yet
            if server.process.poll() is not None:
                raise RuntimeError(server.log()) from None
            time.sleep(0.05)
    wait_for_canvas(page, timeout=60_000)
    drawing_started = time.perf_counter()
    draw_strokes(page, place(DIGIT_PATHS[3]))
    drawing = time.perf_counter() - drawing_started
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('[data-testid=stMetricValue]'))"
        ".some(v => v.innerText.trim() === '3')",
        timeout=60_000,
    )
    elapsed = time.perf_counter() - server.started
    settle(page)
    assert predictions(page) == {"Prediction (CNN)": "3"}
    page.close()
    return elapsed, drawing


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=10, help="sessions drawing at once")
    parser.add_argument("--seconds", type=float, default=45, help="how long they draw")
    parser.add_argument("--starts", type=int, default=3, help="cold starts timed")
    args = parser.parse_args()

    starts = []
    with chromium() as browser:
        for _ in range(args.starts):
            server = Server("app.py")
            try:
                starts.append(first_prediction(browser, server))
            finally:
                server.stop()
    server = Server("app.py")
    try:
        server.wait_ready()
        report = run_load(args.sessions, args.seconds, server=server)
    finally:
        server.stop()

    print(f"App footprint: streamlit run app.py, {args.sessions} sessions drawing")
    print(f"machine: {describe()}")
    app_times = [elapsed - drawing for elapsed, drawing in starts]
    print(
        f"first prediction after streamlit run, not counting the time the mouse spent "
        f"drawing: median {statistics.median(app_times):.2f} s over {len(starts)} cold starts "
        f"({', '.join(f'{s:.2f}' for s in app_times)})"
    )
    print(
        "  with the drawing: median "
        f"{statistics.median(elapsed for elapsed, _ in starts):.2f} s; the mouse drew for "
        f"{statistics.median(drawing for _, drawing in starts):.2f} s"
    )
    memory = [rss for _, rss in report.memory]
    print(
        f"server RSS with {args.sessions} sessions drawing: peak {report.peak_rss:.0f} MB "
        f"(VmHWM), steady {report.end_rss:.0f} MB after the run, "
        f"median while drawing {statistics.median(memory):.0f} MB"
    )
    print_report(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Many people drawing at once on one `streamlit run app.py`: answers, failures, memory.

    python -m benchmarks.load                         # 20 sessions for 60 s
    python -m benchmarks.load --sessions 30 --seconds 120

harness/load.py drives the sessions (each its own websocket connection speaking the
browser's protocol, drawing, checking its answer, pressing Clear); this prints what happened
and the server's memory: flat after warm-up means no growth per drawing.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from benchmarks.machine import describe
from harness.load import LoadReport, run_load


def print_report(report: LoadReport) -> None:
    per_session = np.bincount([a[0] for a in report.answers], minlength=report.sessions)
    print(
        f"{report.sessions} concurrent sessions drawing for {report.seconds:.0f} s "
        "against one streamlit server (websocket clients)"
    )
    print(f"machine: {describe()}")
    print(
        f"drawings answered: {len(report.answers)} ({per_session.min()}-{per_session.max()} "
        f"per session), messages answered: {report.strokes}; wrong: {len(report.wrong)}; "
        f"failures: {len(report.failures)}; server log errors: {len(report.log_errors)}"
    )
    print(
        f"server RSS: after warm-up {report.warm_rss:.0f} MB, after the run "
        f"{report.end_rss:.0f} MB ({report.end_rss - report.warm_rss:+.0f} MB), "
        f"peak {report.peak_rss:.0f} MB"
    )
    print(f"first prediction {report.first_prediction:.1f} s after streamlit run")
    for session, drawn, shown in report.wrong[:10]:
        print(f"  session {session}: drew {drawn}, page showed {shown!r}")
    for failure in report.failures[:10]:
        print(f"  {failure}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=20, help="concurrent sessions")
    parser.add_argument("--seconds", type=float, default=60, help="how long they draw")
    parser.add_argument("--pause", type=float, default=0.5, help="seconds between strokes")
    args = parser.parse_args()
    report = run_load(args.sessions, args.seconds, args.pause)
    print_report(report)
    growth = report.end_rss - report.warm_rss
    flat = growth < max(25.0, 0.08 * report.warm_rss)
    print(f"memory flat after warm-up (< max(25 MB, 8%)): {'yes' if flat else 'NO'}")
    ok = flat and not (report.wrong or report.failures or report.log_errors)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

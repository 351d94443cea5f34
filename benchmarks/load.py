"""Many people drawing at once on one `streamlit run app.py`.

    python -m benchmarks.load                         # 20 sessions for 60 s
    python -m benchmarks.load --sessions 30 --seconds 120

Each session is its own websocket connection to the server, so its own Streamlit session,
speaking the browser's protocol (benchmarks/ws_session.py). Session i draws digit i mod 10,
then the next, ... (hand-made pen paths at a size and place of its own): stroke by stroke,
the canvas PNG after each stroke goes to the server as the canvas component sends it, with a
person's pause between strokes. After the last stroke it checks that the page shows the digit
it drew, presses Clear, checks the prediction is gone, and repeats until the time is up. The
server's resident memory is sampled throughout. A session that saw another session's answer
would show a wrong digit: wrong answers count cross-talk too.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from benchmarks.browser import Server
from benchmarks.digit_paths import DIGIT_PATHS, place
from benchmarks.drawings import encode_png, render
from benchmarks.machine import describe
from benchmarks.ws_session import WebsocketSession

BRUSH = 18  # the app's default brush
METRIC = "Prediction (CNN)"


@dataclass
class LoadReport:
    sessions: int
    seconds: float
    answers: list[tuple[int, int, str | None]] = field(
        default_factory=list
    )  # session, drawn, shown
    strokes: int = 0  # messages answered, every stroke of every drawing and every Clear
    failures: list[str] = field(default_factory=list)  # exceptions and wrong pages
    memory: list[tuple[float, float]] = field(default_factory=list)  # (seconds, RSS MB)
    warm_rss: float = 0.0  # once every session has had its first answer
    end_rss: float = 0.0  # after the last answer
    peak_rss: float = 0.0
    first_prediction: float = 0.0  # seconds from `streamlit run` to the first answer shown
    log_errors: list[str] = field(default_factory=list)

    @property
    def wrong(self) -> list[tuple[int, int, str | None]]:
        return [a for a in self.answers if a[2] != str(a[1])]


def drawing_for(session: int, turn: int) -> tuple[int, list[bytes]]:
    """The digit for a session's turn and the canvas PNG after each of its strokes: each
    session draws at a size and place of its own."""
    rng = np.random.default_rng([session, turn])
    digit = (session + turn) % 10
    strokes = place(
        DIGIT_PATHS[digit],
        height=float(rng.uniform(0.5, 0.85)),
        left=float(rng.uniform()),
        top=float(rng.uniform()),
    )
    pngs = [
        encode_png(render(strokes[: i + 1], BRUSH, "black_on_white")) for i in range(len(strokes))
    ]
    return digit, pngs


async def _session(url, index, stop_at, pause, report, first_answer, started):
    try:
        async with WebsocketSession(url) as session:
            await session.open()
            turn = 0
            while time.perf_counter() < stop_at or turn == 0:
                digit, pngs = drawing_for(index, turn)
                for png in pngs:
                    await asyncio.sleep(pause)  # a person drawing the next stroke
                    page = await session.draw(png)
                    report.strokes += 1
                shown = page.metrics.get(METRIC)
                if not report.answers:
                    report.first_prediction = time.perf_counter() - started
                report.answers.append((index, digit, shown))
                if page.exceptions:
                    report.failures.append(f"session {index}: page error {page.exceptions}")
                if turn == 0:
                    first_answer.set()
                await asyncio.sleep(pause)
                cleared = await session.clear()
                report.strokes += 1
                if cleared.metrics:
                    report.failures.append(f"session {index}: Clear left {cleared.metrics}")
                turn += 1
    except Exception as error:  # reported, and fails the run
        report.failures.append(f"session {index}: {type(error).__name__}: {error}")
        first_answer.set()


async def _drive(server: Server, sessions: int, seconds: float, pause: float, report) -> None:
    stop_at = time.perf_counter() + seconds
    firsts = [asyncio.Event() for _ in range(sessions)]

    async def warm():
        for event in firsts:
            await event.wait()
        await asyncio.sleep(2)
        report.warm_rss = server.rss_mb()[0]

    tasks = [
        _session(server.url, i, stop_at, pause, report, firsts[i], server.started)
        for i in range(sessions)
    ]
    await asyncio.gather(warm(), *tasks)


def run_load(
    sessions: int = 20, seconds: float = 60.0, pause: float = 0.5, server: Server | None = None
) -> LoadReport:
    """Start the app (unless given a running one), drive `sessions` drawing sessions."""
    own = server is None
    server = server or Server("app.py")
    report = LoadReport(sessions=sessions, seconds=seconds)
    done = threading.Event()

    def sample():
        while not done.is_set() and server.process.poll() is None:
            report.memory.append((time.perf_counter() - server.started, server.rss_mb()[0]))
            time.sleep(0.25)

    try:
        if own:
            server.wait_ready()
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        asyncio.run(_drive(server, sessions, seconds, pause, report))
        time.sleep(2)
        report.end_rss, report.peak_rss = server.rss_mb()
        done.set()
        sampler.join()
        report.log_errors = [
            line
            for line in server.log().splitlines()
            if "Traceback" in line or " ERROR " in line or "Exception" in line
        ]
    finally:
        done.set()
        if own:
            server.stop()
    return report


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
    ok = not (report.wrong or report.failures or report.log_errors)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

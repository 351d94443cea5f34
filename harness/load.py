"""Many people drawing at once on one `streamlit run app.py` (tests/test_load.py and
benchmarks/load.py).

Each session is its own websocket connection to the server, so its own Streamlit session,
speaking the browser's protocol (harness/ws_session.py). Session i draws digit i mod 10,
then the next, ... (hand-made pen paths at a size and place of its own): stroke by stroke,
the canvas PNG after each stroke goes to the server as the canvas component sends it, with a
person's pause between strokes. After the last stroke it checks that the page shows the digit
it drew, presses Clear, checks the prediction is gone, and repeats until the time is up. The
server's resident memory is sampled throughout. A session that saw another session's answer
would show a wrong digit: wrong answers count cross-talk too.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from harness.browser import Server
from harness.digit_paths import DIGIT_PATHS, place
from harness.ws_session import WebsocketSession
from model.strokes import encode_png, render

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

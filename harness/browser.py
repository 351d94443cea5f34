"""Drive the real app in a real browser: start `streamlit run`, open it in Debian's Chromium
through Playwright, draw pen strokes on the canvas with the mouse, read what the page shows.

Used by tests/test_browser.py and the browser benchmarks. Chromium comes from the system
(`apt-get install chromium` -> /usr/bin/chromium); Playwright never downloads a browser.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from playwright.sync_api import TimeoutError as PlaywrightTimeout

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
CANVAS = "canvas.upper-canvas"  # Fabric.js' top canvas takes the pointer events
METRIC = '[data-testid="stMetric"]'
# Page-side JavaScript shared by the sync and async helpers.
IS_IDLE_JS = (
    "() => document.querySelector('[data-testid=stApp]')"
    "?.getAttribute('data-test-script-state') === 'notRunning'"
)
# The 28x28 model input the app shows (an inline picture, found by its text): its URL holds
# its content, so it changes exactly when the app has answered a changed drawing.
INPUT_IMAGE_JS = (
    "() => document.querySelector('img[alt^=\"What the model sees\"]')?.getAttribute('src') ?? null"
)
CHANGED_JS = (
    f"before => {{ const now = ({INPUT_IMAGE_JS})(); return now !== null && now !== before; }}"
)
# The canvas lives in a shadow root: find every Fabric top canvas in the page.
_UPPER_CANVASES = """() => { const out = [];
  const walk = root => { root.querySelectorAll('canvas.upper-canvas').forEach(c => out.push(c));
    root.querySelectorAll('*').forEach(e => { if (e.shadowRoot) walk(e.shadowRoot); }); };
  walk(document); return out; }"""
MARK_CANVAS_JS = f"() => ({_UPPER_CANVASES})().forEach(c => {{ c.__stale = true; }})"
NEW_CANVAS_JS = (
    f"() => ({_UPPER_CANVASES})().some(c => !c.__stale && c.isConnected"
    " && c.getBoundingClientRect().width > 0)"
)
RERAN_JS = f"since => window.__runs > since && ({IS_IDLE_JS})()"
PREDICTIONS_JS = """() => Object.fromEntries(
    Array.from(document.querySelectorAll('[data-testid="stMetric"]'))
      .map(m => [m.querySelector('[data-testid=stMetricLabel]')?.innerText.trim(),
                 m.querySelector('[data-testid=stMetricValue]')?.innerText.trim()])
      .filter(([label]) => label && label.startsWith('Prediction')))"""


def fake_camera(y4m: Path) -> list[str]:
    """Chromium's flags for a camera that films `y4m`, allowed without asking."""
    return [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={y4m}",
    ]


def write_y4m(path: Path, grey: np.ndarray, frames: int = 2) -> Path:
    """A still video of an (H, W) uint8 grey picture (H and W even), in the YUV4MPEG2 format
    Chromium's fake camera plays."""
    height, width = grey.shape
    chroma = np.full((height // 2) * (width // 2), 128, np.uint8).tobytes()
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + grey.astype(np.uint8).tobytes() + chroma + chroma)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A `streamlit run` process on a free port, with its output in a log file."""

    def __init__(
        self, script: str | Path = "app.py", log_path: Path | None = None, env: dict | None = None
    ):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path or Path(f"/tmp/streamlit-{self.port}.log")
        command = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(script),
            "--server.port",
            str(self.port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ]
        self._log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop())
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            command,
            cwd=REPO,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )

    def wait_ready(self, timeout: float = 60) -> float:
        """Block until /_stcore/health answers; returns seconds since start."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited early:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        return time.perf_counter() - self.started
            except OSError:
                time.sleep(0.05)
        raise TimeoutError(f"streamlit did not start in {timeout} s:\n{self.log()}")

    def rss_mb(self) -> tuple[float, float]:
        """(current, peak) resident memory of the server process, MB (Linux)."""
        fields = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            fields[key] = value
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


@contextmanager
def running(script: str | Path = "app.py", **kwargs) -> Iterator[Server]:
    server = Server(script, **kwargs)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@contextmanager
def chromium(camera_y4m: Path | None = None) -> Iterator[object]:
    """A headless Chromium (Playwright Browser) from the system's package; with
    `camera_y4m`, its camera films that video (a .y4m file) and is allowed without asking."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise FileNotFoundError(f"{CHROMIUM} not found: apt-get install chromium")
    args = CHROMIUM_ARGS + (fake_camera(camera_y4m) if camera_y4m is not None else [])
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser, url: str, width: int = 1280, height: int = 900):
    """A new page (of a Browser or a BrowserContext) on `url`, ready to draw on."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(url)
    wait_for_canvas(page)
    return page


# A phone's browser: its User-Agent says "Mobi", which gives the square canvas by default.
PHONE_USER_AGENT = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Mobile Safari/537.36"
)


def phone_context(browser, width: int = 390, height: int = 844, **options):
    """A BrowserContext like a phone's: small, touch, a mobile User-Agent."""
    return browser.new_context(
        viewport={"width": width, "height": height},
        has_touch=True,
        is_mobile=True,
        user_agent=PHONE_USER_AGENT,
        **options,
    )


def in_view(page, locator) -> bool:
    """Whether the element is wholly on screen without scrolling (the page at its top)."""
    box = locator.bounding_box()
    size = page.viewport_size
    return (
        box is not None
        and box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= size["width"]
        and box["y"] + box["height"] <= size["height"]
    )


def wait_for_canvas(page, timeout: float = 30_000) -> None:
    page.locator(CANVAS).first.wait_for(state="visible", timeout=timeout)
    wait_idle(page)


def wait_idle(page, timeout: float = 30_000) -> None:
    """Wait until the app's script (or fragment) is not running."""
    page.wait_for_function(IS_IDLE_JS, timeout=timeout)


def settle(page, quiet_ms: int = 400, timeout: float = 30_000) -> None:
    """Wait for a rerun to start (if one is coming) and to finish, then stay quiet."""
    deadline = time.perf_counter() + timeout / 1000
    while time.perf_counter() < deadline:
        wait_idle(page, timeout)
        page.wait_for_timeout(quiet_ms)
        if page.evaluate(IS_IDLE_JS):
            return
    raise TimeoutError("the app kept rerunning")


def canvas_origin(page) -> tuple[float, float]:
    box = page.locator(CANVAS).first.bounding_box()
    return box["x"], box["y"]


def draw_strokes(page, strokes: list[np.ndarray], step_px: float = 3.0) -> None:
    """Draw canvas-pixel strokes (x, y from the canvas' top-left) with the mouse."""
    for stroke in strokes:
        _stroke(page, canvas_origin(page), stroke, step_px)


def _stroke(page, origin: tuple[float, float], stroke: np.ndarray, step_px: float) -> None:
    x0, y0 = origin
    points = resample(stroke, step_px)
    page.mouse.move(x0 + points[0, 0], y0 + points[0, 1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x0 + x, y0 + y)
    if len(points) == 1:  # a dot: a tiny move so the brush leaves a mark
        page.mouse.move(x0 + points[0, 0] + 1, y0 + points[0, 1])
    page.mouse.up()


def swipe_strokes(page, strokes: list[np.ndarray], step_px: float = 3.0) -> None:
    """Draw canvas-pixel strokes with a finger: touch events, as a phone's screen sends them
    (the page must be in a browser context made with has_touch=True)."""
    x0, y0 = canvas_origin(page)
    touch = page.context.new_cdp_session(page)
    for stroke in strokes:
        points = resample(stroke, step_px)
        kinds = ["touchStart"] + ["touchMove"] * (len(points) - 1)
        for kind, (x, y) in zip(kinds, points):
            point = {"x": x0 + float(x), "y": y0 + float(y), "radiusX": 4, "radiusY": 4}
            touch.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [point]})
        touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    touch.detach()


def wait_for_answer(page, before: str | None) -> dict[str, str]:
    """Wait until the app has answered a changed drawing (its 28x28 input changed, or went
    away when the drawing did); return what the page then shows."""
    page.wait_for_function(f"before => ({INPUT_IMAGE_JS})() !== before", arg=before, timeout=30_000)
    settle(page, quiet_ms=150)
    return predictions(page)


def model_input(page) -> str | None:
    """The URL of the 28x28 input image shown, or None: changes with every new answer."""
    return page.evaluate(INPUT_IMAGE_JS)


def draw_and_wait(page, strokes: list[np.ndarray], step_px: float = 3.0) -> dict[str, str]:
    """Draw stroke by stroke, each time waiting for the app's answer to the changed drawing;
    return what the page shows for the finished drawing."""
    origin = canvas_origin(page)
    for stroke in strokes:
        before = page.evaluate(INPUT_IMAGE_JS)
        _stroke(page, origin, stroke, step_px)
        # A stroke that leaves the 28x28 input unchanged gives no new image: wait, then go on.
        with contextlib.suppress(PlaywrightTimeout):
            page.wait_for_function(CHANGED_JS, arg=before, timeout=30_000)
        settle(page, quiet_ms=150)
    return predictions(page)


def clear(page) -> None:
    """Press the app's Clear button; wait until its new, empty canvas is ready to draw on."""
    page.evaluate(MARK_CANVAS_JS)
    click_button(page, "Clear")
    page.wait_for_function(f"() => ({NEW_CANVAS_JS})() && !({INPUT_IMAGE_JS})()", timeout=60_000)
    settle(page, quiet_ms=150)


def resample(points: np.ndarray, step_px: float) -> np.ndarray:
    """Points every `step_px` along a polyline, corners kept, as a moving mouse reports them.

    The canvas' pencil brush smooths through the midpoints of successive mouse events: a long
    straight jump between two events would cut the corner at its end.
    """
    points = np.asarray(points, dtype=np.float64)
    out = [points[0]]
    for start, end in zip(points[:-1], points[1:]):
        length = float(np.hypot(*(end - start)))
        steps = int(length // step_px)
        out.extend(start + (end - start) * (k / (steps + 1)) for k in range(1, steps + 1))
        if length > 0:
            out.append(end)
    return np.array(out)


def predictions(page) -> dict[str, str]:
    """What the page shows: {"Prediction (CNN)": "7", ...}."""
    return page.evaluate(PREDICTIONS_JS)


def click_button(page, label: str) -> None:
    page.get_by_role("button", name=label).click()

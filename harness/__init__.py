"""Drives the real app for the tests and the benchmarks: a `streamlit run` server, Chromium
through Playwright, websocket sessions, hand-made digit strokes, many users at once."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Development data beside the checkout (never needed by the app): real pen-stroke digits.
PEN_DIGITS = REPO.parent / "shared" / "data" / "unipen_dev.jsonl.gz"

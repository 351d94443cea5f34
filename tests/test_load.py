"""Load: the real server with 20 browser sessions drawing different digits for a minute."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import require

from benchmarks.browser import CHROMIUM
from benchmarks.load import print_report, run_load

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_twenty_sessions_drawing_for_a_minute():
    require(Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM}")
    report = run_load(sessions=20, seconds=60)
    print_report(report)
    assert not report.failures
    assert {session for session, _, _ in report.answers} == set(range(20))
    assert len(report.answers) >= 40  # every session drew and was answered repeatedly
    assert not report.wrong  # its own digit every time: no cross-talk
    assert not report.log_errors
    # Memory flat after warm-up: no growth per drawing.
    assert report.end_rss - report.warm_rss < max(25.0, 0.08 * report.warm_rss)

"""Load: the real server with 20 sessions drawing different digits for a minute."""

from __future__ import annotations

from collections import Counter

import pytest

from benchmarks.load import print_report, run_load

pytestmark = pytest.mark.slow

SESSIONS = 20


def test_twenty_sessions_drawing_for_a_minute():
    report = run_load(sessions=SESSIONS, seconds=60)
    print_report(report)
    assert not report.failures
    per_session = Counter(session for session, _, _ in report.answers)
    assert set(per_session) == set(range(SESSIONS))
    assert min(per_session.values()) >= 3  # every session drew and was answered repeatedly
    assert not report.wrong  # its own digit every time: no cross-talk
    assert not report.log_errors
    # Memory flat after warm-up: no growth per drawing.
    assert report.end_rss - report.warm_rss < max(25.0, 0.08 * report.warm_rss)

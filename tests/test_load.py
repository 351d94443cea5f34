"""Load: the real server with 20 sessions drawing different digits for a minute.

Marked slow: `python -m pytest` leaves it out, `.ci/run` runs it on its own
(`python -m pytest -m slow`). Its memory figures are benchmarks/load.py's.
"""

from __future__ import annotations

from collections import Counter

import pytest

from harness.load import run_load

pytestmark = pytest.mark.slow

SESSIONS = 20


def test_twenty_sessions_drawing_for_a_minute():
    report = run_load(sessions=SESSIONS, seconds=60)
    assert not report.failures, report.failures[:5]
    per_session = Counter(session for session, _, _ in report.answers)
    assert set(per_session) == set(range(SESSIONS))
    assert min(per_session.values()) >= 3  # every session drew and was answered repeatedly
    assert not report.wrong  # its own digit every time: no cross-talk
    assert not report.log_errors

"""The serving processes' malloc setting (model/process.py)."""

from __future__ import annotations

import platform
import sys

from model.process import keep_freed_memory


def test_keep_freed_memory_applies_on_glibc_only():
    on_glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert keep_freed_memory() is on_glibc
    assert keep_freed_memory() is on_glibc  # idempotent

"""Process-wide facts and settings: the CPU cores this process may use, and the malloc
setting for the processes that serve drawings (the app, the command).

Every stroke allocates and frees a few buffers of about 300 KB: the decoded canvas and its
working copies. By default glibc's malloc maps buffers that large fresh from the kernel and
unmaps them when they are freed (and trims freed memory off its heap), so each stroke pays
for hundreds of page faults: about half a millisecond on a small virtual machine, more than
preprocessing and the model together. Keeping freed memory for reuse removes that cost; the
process's resident memory stays at its high-water mark instead of shrinking between strokes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

# mallopt() parameters, from glibc's malloc.h.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 4 * 2**20  # buffers below this come from the heap, and are reused
TRIM_THRESHOLD = 64 * 2**20  # free memory at the heap's top kept before returning it


def cpu_cores() -> int:
    """CPU cores this process may run on (its affinity where the OS tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def keep_freed_memory() -> bool:
    """Tell glibc's malloc to keep freed buffers for reuse (see the module docstring).

    Returns:
        Whether the setting was applied: False on other C libraries (macOS, Windows, musl),
        where nothing changes.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )

"""One line describing the machine a benchmark ran on, printed with every figure."""

from __future__ import annotations

import platform
from pathlib import Path

from model.process import cpu_cores


def describe() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    cores = cpu_cores()
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        kb = int(meminfo.read_text().split("MemTotal:")[1].split()[0])
        memory = f", {kb / 1024**2:.0f} GB RAM"
    return (
        f"{cpu}, {cores} cores{memory}, no GPU; {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
    )

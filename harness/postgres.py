"""A throwaway PostgreSQL server in a temporary folder, on a free loopback port.

Uses Debian's `postgresql` package (`initdb`, `pg_ctl` under /usr/lib/postgresql/N/bin, or
$PG_BIN). PostgreSQL refuses to run as root, so as root it runs as the package's `postgres`
user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    """PostgreSQL's server programs are not installed."""


def server_bin() -> Path:
    """The folder holding initdb and pg_ctl."""
    candidates = [os.environ.get("PG_BIN", "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_major, reverse=True)
    if shutil.which("initdb"):
        candidates.append(str(Path(shutil.which("initdb")).parent))
    for folder in candidates:
        if folder and (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    raise PostgresUnavailable(
        "PostgreSQL is not installed (apt-get install postgresql, or set PG_BIN)"
    )


def _major(folder: str) -> int:
    try:
        return int(Path(folder).parent.name)
    except ValueError:
        return 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Start a server for the duration of the block; yields its SQLAlchemy URL
    (postgresql+psycopg://test@127.0.0.1:PORT/postgres, no password: loopback only)."""
    binaries = server_bin()
    as_root = os.geteuid() == 0
    run_as = ["runuser", "-u", "postgres", "--"] if as_root else []
    with tempfile.TemporaryDirectory(prefix="pg-") as scratch:
        folder = Path(scratch)
        if as_root:
            shutil.chown(folder, "postgres")
        data, port = folder / "data", _free_port()

        def call(*command: str) -> None:
            done = subprocess.run(
                run_as + list(command), capture_output=True, text=True, timeout=120, check=False
            )
            if done.returncode != 0:
                log = folder / "log"
                tail = log.read_text()[-2000:] if log.exists() else ""
                raise RuntimeError(f"{command[0]} failed: {done.stderr[-2000:]}{tail}")

        call(
            str(binaries / "initdb"), "-D", str(data), "-U", "test", "--auth=trust",
            "--encoding=UTF8", "--no-sync",
        )  # fmt: skip
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        call(str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"),
             "-w", "start")  # fmt: skip
        try:
            yield f"postgresql+psycopg://test@127.0.0.1:{port}/postgres"
        finally:
            call(str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")

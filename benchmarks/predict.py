"""The benchmarks' way of reading files: `python -m model.predict --json`, as a user would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def predict_json(paths: list[Path], *flags: str) -> list[dict]:
    """`python -m model.predict --json FLAGS PATHS`: one result dict per path, in order."""
    command = [sys.executable, "-m", "model.predict", "--json", *flags, *map(str, paths)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"model.predict failed ({done.returncode}): {done.stderr[-2000:]}")
    results = [json.loads(line) for line in done.stdout.splitlines()]
    if [r["path"] for r in results] != [str(p) for p in paths]:
        raise SystemExit("model.predict did not answer once per path, in order")
    return results

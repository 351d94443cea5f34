"""The feedback store under load: concurrent sessions storing clicks, nothing lost or doubled.

    python -m benchmarks.store_load                       # SQLite and PostgreSQL, 60 s each
    python -m benchmarks.store_load --db sqlite --seconds 10

20 sessions, each its own process (as app replicas would be; threads of one server contend
less), store clicks as fast as they can for a minute: a real canvas drawing (PNG) and its
28x28 input per click, through `Store.add` with the rate-limit query on (its cap set out of
reach). Every click carries its own id and answers a drawing of its own. Afterwards the rows
are counted against the clicks that were acknowledged: lost rows, duplicated rows and errors
are reported, with writes/s.
PostgreSQL runs as a throwaway server (harness/postgres.py).
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import numpy as np

from benchmarks.machine import describe
from harness import PEN_DIGITS
from harness.postgres import postgres_server
from model.feedback import Click, Store, StoreError
from model.strokes import drawings, encode_png, load_pen_digits


def session(url: str, seconds: float, index: int, payload: bytes) -> tuple[list[str], int]:
    """One session storing clicks until time is up: (ids acknowledged, errors)."""
    store = Store(url, per_minute=10**9)
    session_id = f"load-{index}-{uuid.uuid4().hex[:8]}"
    rng = np.random.default_rng(index)
    stored, errors = [], 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        uid = uuid.uuid4().hex
        click = Click(
            # A drawing of its own (a later answer to the same drawing replaces the earlier
            # by design): the canvas PNG with the click's id after its end.
            drawing_png=payload + uid.encode(),
            digit_28x28=rng.integers(0, 256, (28, 28), dtype=np.uint8),
            label=str(rng.integers(10)),
            answer=int(rng.integers(10)),
            probabilities=rng.dirichlet(np.ones(10)),
            model_version="cnn-load",
            session_id=session_id,
        )
        try:
            store.add(click, uid=uid)
            stored.append(uid)
        except StoreError as error:
            errors += 1
            print(f"session {index}: {error}", file=sys.stderr)
    store.close()
    return stored, errors


def run(url: str, sessions: int, seconds: float, payload: bytes) -> dict:
    Store(url).close()  # the schema, once, before the sessions start
    context = multiprocessing.get_context("spawn")
    with context.Pool(sessions) as pool:
        started = time.perf_counter()
        results = pool.starmap(session, [(url, seconds, i, payload) for i in range(sessions)])
        elapsed = time.perf_counter() - started
    acknowledged = [uid for ids, _ in results for uid in ids]
    errors = sum(e for _, e in results)
    store = Store(url, per_minute=None)
    uids = Counter(row.uid for row in store.rows())
    store.close()
    return {
        "acknowledged": len(acknowledged),
        "rows": sum(uids.values()),
        "lost": sum(1 for uid in acknowledged if uid not in uids),
        "duplicated": sum(n - 1 for n in uids.values() if n > 1),
        "errors": errors,
        "writes_per_second": len(acknowledged) / elapsed,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--sessions", type=int, default=20, help="concurrent sessions")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long each one writes")
    args = parser.parse_args()

    digit = load_pen_digits(PEN_DIGITS)[0]
    _, _, rgba = next(drawings([digit]))
    payload = encode_png(rgba)
    print(f"Store load: {args.sessions} sessions for {args.seconds:.0f} s each, clicks with a "
          f"{len(payload):,}-byte drawing")  # fmt: skip
    print(f"machine: {describe()}")
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    failed = False
    for kind in kinds:
        with tempfile.TemporaryDirectory(prefix="store-load-") as scratch:
            if kind == "sqlite":
                figures = run(f"sqlite:///{Path(scratch) / 'feedback.sqlite3'}", args.sessions,
                              args.seconds, payload)  # fmt: skip
            else:
                with postgres_server() as url:
                    figures = run(url, args.sessions, args.seconds, payload)
        failed |= bool(figures["lost"] or figures["duplicated"] or figures["errors"])
        print(
            f"{kind:>10}: {figures['acknowledged']:,} clicks acknowledged, {figures['rows']:,} "
            f"rows; lost {figures['lost']}, duplicated {figures['duplicated']}, errors "
            f"{figures['errors']}; {figures['writes_per_second']:.0f} writes/s"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

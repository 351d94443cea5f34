"""The feedback store: what users say about the model's answers, kept to measure and improve it.

Each row is one click on "Right" or "Wrong: it was ...": the drawing as the app received it (a
PNG), the 28x28 image the model read, the user's label, the model's answer and
probabilities, which model answered, when, and an anonymous id of the browser session.
Nothing personal.

One database URL decides where it lives (`database_url`): a SQLite file by default, or
PostgreSQL (psycopg 3) for a hosted app or several replicas. The schema carries its version
and is created and upgraded here (`MIGRATIONS`), so an older database is brought up to date
when it is opened. SQLite runs in WAL mode with a busy timeout, and every transaction takes
the write lock up front, so concurrent sessions wait for each other instead of failing; one
that SQLite refuses at once as "locked" is run again (`_retry_locked`).

The schema and its migrations are in model/feedback/schema.py; the command line
(`python -m model.feedback add | stats | export`) in model/feedback/__main__.py.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
import tomllib
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image
from sqlalchemy import create_engine, event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from model.feedback.schema import (
    DIGIT_SIZE,
    MIGRATIONS,
    SCHEMA_VERSION,
    Feedback,
    StoreError,
    migrate,
    schema_version,
)

__all__ = [
    "LABELS",
    "MIGRATIONS",
    "NOT_DIGIT",
    "SCHEMA_VERSION",
    "Click",
    "Feedback",
    "RateLimited",
    "Store",
    "StoreError",
    "check_label",
    "database_url",
    "file_png",
    "iter_export",
    "migrate",
    "png_bytes",
    "schema_version",
    "session_hash",
    "stats",
]

URL_ENV = "FEEDBACK_DB_URL"  # e.g. postgresql+psycopg://user:password@host/db
SECRETS_FILE = Path(".streamlit/secrets.toml")  # `feedback_db_url = "..."`, as on the Cloud
DEFAULT_PATH = Path("data/feedback.sqlite3")  # data/ is git-ignored
NOT_DIGIT = "not a digit"
LABELS = tuple(str(d) for d in range(10)) + (NOT_DIGIT,)
# Clicks one browser session may store per minute (a person correcting drawings makes a few).
PER_MINUTE = 20
SQLITE_BUSY_MS = 30_000
CONNECT_TIMEOUT = {"connect_timeout": 5}  # seconds, PostgreSQL


class RateLimited(StoreError):
    """This session stored PER_MINUTE clicks in the last minute."""


# --- Where the store lives -----------------------------------------------------------------
def database_url(secrets: Mapping | None = None) -> str:
    """The store's URL: $FEEDBACK_DB_URL, else `feedback_db_url` in the given secrets (the
    app passes st.secrets) or in .streamlit/secrets.toml, else a SQLite file in data/."""
    if os.environ.get(URL_ENV):
        return os.environ[URL_ENV]
    if secrets is None and SECRETS_FILE.is_file():
        try:
            secrets = tomllib.loads(SECRETS_FILE.read_text())
        except (OSError, tomllib.TOMLDecodeError):
            secrets = None
    if secrets and secrets.get("feedback_db_url"):
        return str(secrets["feedback_db_url"])
    return f"sqlite:///{DEFAULT_PATH}"


def _engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        # A server that is down is reported in seconds, not after the OS's long timeout.
        return create_engine(
            url, pool_pre_ping=True, pool_size=5, max_overflow=10, connect_args=CONNECT_TIMEOUT
        )
    database = url.split("///", 1)[-1]
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_MS / 1000})

    @event.listens_for(engine, "connect")
    def _sqlite_setup(dbapi_connection, _record):
        # Transactions are begun below, not by the driver; WAL lets readers run while one
        # session writes; writers wait for the lock (busy timeout) instead of failing.
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    @event.listens_for(engine, "begin")
    def _sqlite_begin(connection):
        # Take the write lock at the start: a transaction that reads, then writes (the rate
        # limit, then the insert) would otherwise fail at once when another writes first.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _retry_locked(transaction, attempts: int = 5):
    """Run `transaction()`, again after a short wait when SQLite says "database is locked"
    at once instead of waiting out its busy timeout (as it may when connections open or
    close while the write-ahead log is being set up or checkpointed). Each try is a whole
    transaction, and a click carries its uid, so a retry never stores twice."""
    for attempt in range(attempts):
        try:
            return transaction()
        except OperationalError as error:
            if "database is locked" not in str(error) or attempt == attempts - 1:
                raise
            time.sleep(0.05 * 2**attempt)


# --- The store -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Click:
    """What one click on "Right" or "Wrong: it was ..." stores.

    Attributes:
        drawing_png: the drawing as received, PNG bytes.
        digit_28x28: (28, 28) uint8, the image the model read.
        label: the user's answer, one of LABELS.
        answer: the model's answer: a digit, NOT_DIGIT (it declined the drawing), or None.
        probabilities: (10,) float, the model's.
        model_version: which model answered (`Classifier.version`).
        session_id: anonymous id of the browser session (or of a command-line run).
        box: the digit's (x, y, w, h) in the drawing, for a digit of a number.
        source: "app" or "cli".
    """

    drawing_png: bytes
    digit_28x28: np.ndarray
    label: str
    answer: int | str | None
    probabilities: np.ndarray
    model_version: str
    session_id: str
    box: tuple[int, int, int, int] | None = None
    source: str = "app"

    @property
    def drawing_key(self) -> str:
        """Which drawing, and which digit of it, this click answers within its session: the
        same for every click on it, in any replica, so the last one is the answer kept."""
        box = "" if self.box is None else ",".join(str(int(v)) for v in self.box)
        key = hashlib.sha256(self.session_id.encode() + b"\0" + box.encode() + b"\0")
        key.update(self.drawing_png)
        return key.hexdigest()[:40]


def check_label(label: str | int) -> str:
    """A user's label as stored: "0".."9" or NOT_DIGIT. Raises ValueError for anything else."""
    label = str(label).strip()
    if label.lower().replace("-", " ").replace("_", " ") == NOT_DIGIT:
        return NOT_DIGIT
    if label not in LABELS:
        raise ValueError(f"a label is a digit 0-9 or {NOT_DIGIT!r}, not {label!r}")
    return label


class Store:
    """The feedback database at `url` (see `database_url`), its schema brought up to date.

    Args:
        per_minute: clicks one session may store per minute; None for no limit (the command
            line, which stores what an operator gives it).
    Raises:
        StoreError: the database cannot be opened or upgraded.
    """

    def __init__(self, url: str, per_minute: int | None = PER_MINUTE):
        self.url = url
        self.per_minute = per_minute
        try:
            self.engine = _engine(url)
            _retry_locked(lambda: migrate(self.engine))
        except (SQLAlchemyError, OSError) as error:
            raise StoreError(_unavailable(error)) from None

    def add(self, click: Click, uid: str | None = None) -> int:
        """Store one click; returns its row id. A `uid` already stored is not stored twice,
        and a later answer to the same drawing (`Click.drawing_key`) replaces the earlier:
        a person who changes their mind is counted once, with their last answer.

        Raises:
            ValueError: a label that is not 0-9 or NOT_DIGIT, or a digit image not 28x28.
            RateLimited: this session stored `per_minute` clicks in the last minute.
            StoreError: the database is down, full or read-only.
        """
        label = check_label(click.label)
        digit = np.asarray(click.digit_28x28)
        if digit.shape != (DIGIT_SIZE, DIGIT_SIZE) or digit.dtype != np.uint8:
            raise ValueError(f"digit_28x28 must be (28, 28) uint8, got {digit.shape} {digit.dtype}")
        uid = uid or uuid.uuid4().hex
        now = datetime.now(UTC)
        values = dict(
            uid=uid,
            created_at=now,
            session_id=click.session_id[:64],
            label=label,
            answer=None if click.answer is None else check_label(click.answer),
            probabilities=json.dumps([round(float(p), 6) for p in click.probabilities]),
            model_version=click.model_version[:64],
            drawing_png=click.drawing_png,
            digit_28x28=digit.tobytes(),
            box=None if click.box is None else json.dumps([int(v) for v in click.box]),
            source=click.source,
            drawing_key=click.drawing_key,
        )
        try:
            try:
                return _retry_locked(lambda: self._insert(Feedback(**values)))
            except IntegrityError:
                # Another replica stored an answer to this drawing between our look and our
                # write: ours is the later one, and replaces it.
                return _retry_locked(lambda: self._insert(Feedback(**values)))
        except SQLAlchemyError as error:
            raise StoreError(_unavailable(error)) from None

    def _insert(self, row: Feedback) -> int:
        """One transaction: the row's id, stored now or already (its uid), unless rate limited."""
        uid, now = row.uid, row.created_at
        with Session(self.engine) as session, session.begin():
            stored = session.scalar(select(Feedback.id).where(Feedback.uid == uid))
            if stored is not None:
                return stored
            earlier = session.scalar(
                select(Feedback).where(Feedback.drawing_key == row.drawing_key)
            )
            if earlier is not None:  # a change of mind: the answer is replaced
                for name in ("uid", "created_at", "label", "answer", "probabilities"):
                    setattr(earlier, name, getattr(row, name))
                earlier.model_version = row.model_version
                return earlier.id
            if self.per_minute is not None:
                recent = session.scalar(
                    select(func.count(Feedback.id)).where(
                        Feedback.session_id == row.session_id,
                        Feedback.created_at > now - timedelta(minutes=1),
                    )
                )
                if recent >= self.per_minute:
                    raise RateLimited(
                        f"{self.per_minute} answers a minute is the limit: try again soon"
                    )
            session.add(row)
            session.flush()
            return row.id

    def rows(self, newest_first: bool = False, limit: int | None = None) -> list[Feedback]:
        """Stored clicks, oldest first (or newest first), all columns loaded."""
        order = Feedback.id.desc() if newest_first else Feedback.id
        try:
            with Session(self.engine, expire_on_commit=False) as session:
                return list(session.scalars(select(Feedback).order_by(order).limit(limit)))
        except SQLAlchemyError as error:
            raise StoreError(_unavailable(error)) from None

    def summary(self) -> list[dict]:
        """One dict per click without the images: created_at, session_id, label, answer,
        model_version, source; oldest first. Cheap enough for every page view."""
        columns = (
            Feedback.created_at,
            Feedback.session_id,
            Feedback.label,
            Feedback.answer,
            Feedback.model_version,
            Feedback.source,
        )
        try:
            with Session(self.engine) as session:
                result = session.execute(select(*columns).order_by(Feedback.id))
                return [row._asdict() for row in result]
        except SQLAlchemyError as error:
            raise StoreError(_unavailable(error)) from None

    def count(self) -> int:
        try:
            with Session(self.engine) as session:
                return int(session.scalar(select(func.count(Feedback.id))))
        except SQLAlchemyError as error:
            raise StoreError(_unavailable(error)) from None

    def close(self) -> None:
        self.engine.dispose()


def _unavailable(error: Exception) -> str:
    """A short message for a store error (the first line of the driver's words)."""
    detail = str(getattr(error, "orig", None) or error).strip().splitlines()
    reason = detail[0] if detail else type(error).__name__
    if "full" in reason.lower():
        return f"the feedback store is full ({reason})"
    return f"the feedback store is unavailable ({reason[:200]})"


def stats(rows: list[dict]) -> dict:
    """Counts and accuracy on stored drawings.

    Args:
        rows: `Store.summary()`.
    Returns:
        {"drawings", "sessions", "right", "accuracy" (None when empty),
         "per_label": {label: {"confirmed", "corrected"}}, "per_model": {version: {...}}}
    """
    per_label = {label: {"confirmed": 0, "corrected": 0} for label in LABELS}
    per_model: dict[str, Counter] = {}
    for row in rows:
        right = row["answer"] == row["label"]
        per_label[row["label"]]["confirmed" if right else "corrected"] += 1
        per_model.setdefault(row["model_version"], Counter())["right" if right else "wrong"] += 1
    right = sum(v["confirmed"] for v in per_label.values())
    return {
        "drawings": len(rows),
        "sessions": len({row["session_id"] for row in rows}),
        "right": right,
        "accuracy": right / len(rows) if rows else None,
        "per_label": per_label,
        "per_model": {
            version: {
                "drawings": c["right"] + c["wrong"],
                "accuracy": c["right"] / (c["right"] + c["wrong"]),
            }
            for version, c in per_model.items()
        },
    }


def png_bytes(image: np.ndarray) -> bytes:
    """(H, W) grey, (H, W, 3) RGB or (H, W, 4) RGBA uint8 -> PNG bytes."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buffer, format="PNG")
    return buffer.getvalue()


def file_png(path: Path, picture: np.ndarray) -> bytes:
    """A file as stored: its own bytes when it is a PNG, else the decoded picture as PNG."""
    data = path.read_bytes()
    return data if data.startswith(b"\x89PNG\r\n\x1a\n") else png_bytes(picture)


def session_hash(session_id: str) -> float:
    """A session's place in [0, 1), the same on every machine: splits sessions for the gate."""
    return int(hashlib.sha256(session_id.encode()).hexdigest()[:8], 16) / 2**32


def iter_export(rows: list[Feedback], folder: Path) -> Iterator[Path]:
    """Write each drawing as folder/<label>/<id>.png (label "not-a-digit" for NOT_DIGIT)."""
    for row in rows:
        directory = folder / row.label.replace(" ", "-")
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{row.id:06d}.png"
        path.write_bytes(row.drawing_png)
        yield path

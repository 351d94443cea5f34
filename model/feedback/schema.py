"""The feedback store's schema: the table of clicks (`Feedback`) and the migrations that create
it and bring an older database up to date (`MIGRATIONS`; the version is kept in the database)."""

from __future__ import annotations

from datetime import datetime

import numpy as np
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    select,
    text,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

DIGIT_SIZE = 28  # the stored digit is the 28x28 image the model read


class StoreError(RuntimeError):
    """The store cannot be reached or written (down, full, read-only); the message says so."""


class Base(DeclarativeBase):
    pass


class Feedback(Base):
    """One click: a user's label for one drawing and what the model said about it."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Made by the writer: writing the same click twice (a retry) stores it once.
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    session_id: Mapped[str] = mapped_column(String(64), index=True)
    label: Mapped[str] = mapped_column(String(16))  # "0".."9" or NOT_DIGIT
    answer: Mapped[str | None] = mapped_column(String(16))  # the model's: as label, or None
    probabilities: Mapped[str] = mapped_column(Text)  # JSON list of 10 floats
    model_version: Mapped[str] = mapped_column(String(64))
    drawing_png: Mapped[bytes] = mapped_column(LargeBinary)
    digit_28x28: Mapped[bytes] = mapped_column(LargeBinary)  # 784 bytes, uint8 row-major
    # Schema version 2: where the digit is in the drawing (a number's digit), who stored it.
    box: Mapped[str | None] = mapped_column(String(64))  # JSON [x, y, w, h] in drawing pixels
    source: Mapped[str] = mapped_column(String(16), server_default="app")  # "app" or "cli"
    # Schema version 3: which drawing (and digit of it) the row answers, within its session:
    # a later answer to the same one replaces the earlier (`Click.drawing_key`).
    drawing_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    @property
    def correct(self) -> bool:
        """Whether the model's answer was the user's label."""
        return self.answer == self.label

    def digit_image(self) -> np.ndarray:
        """(28, 28) uint8, the image the model read."""
        return np.frombuffer(self.digit_28x28, np.uint8).reshape(DIGIT_SIZE, DIGIT_SIZE)


# --- Schema versions -----------------------------------------------------------------------
# Each migration takes the schema from the version before it to its own. A new database runs
# them all, so new and upgraded databases are the same.
_version_table = Table("schema_version", MetaData(), Column("version", Integer, nullable=False))


def _create_v1(connection: Connection) -> None:
    """Version 1: one digit per drawing."""
    v1 = MetaData()
    Table(
        "feedback",
        v1,
        Column("id", Integer, primary_key=True),
        Column("uid", String(32), unique=True, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, index=True),
        Column("session_id", String(64), nullable=False, index=True),
        Column("label", String(16), nullable=False),
        Column("answer", String(16)),
        Column("probabilities", Text, nullable=False),
        Column("model_version", String(64), nullable=False),
        Column("drawing_png", LargeBinary, nullable=False),
        Column("digit_28x28", LargeBinary, nullable=False),
    )
    v1.create_all(connection)


def _add_box_and_source(connection: Connection) -> None:
    """Version 2: a number's digits are labelled one by one (their box), and rows say whether
    the app or the command line stored them."""
    connection.execute(text("ALTER TABLE feedback ADD COLUMN box VARCHAR(64)"))
    connection.execute(
        text("ALTER TABLE feedback ADD COLUMN source VARCHAR(16) NOT NULL DEFAULT 'app'")
    )


def _add_drawing_key(connection: Connection) -> None:
    """Version 3: one answer per drawing; rows stored before keep theirs (no key)."""
    connection.execute(text("ALTER TABLE feedback ADD COLUMN drawing_key VARCHAR(64)"))
    connection.execute(
        text("CREATE UNIQUE INDEX ix_feedback_drawing_key ON feedback (drawing_key)")
    )


MIGRATIONS = (_create_v1, _add_box_and_source, _add_drawing_key)
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(connection: Connection) -> int:
    """The database's schema version; 0 for an empty database."""
    if not connection.dialect.has_table(connection, "schema_version"):
        return 0
    return int(connection.execute(select(_version_table.c.version)).scalar_one())


def migrate(engine: Engine, target: int = SCHEMA_VERSION) -> int:
    """Create or upgrade the schema to version `target`, in one transaction (two processes
    opening a new database at once wait for each other). Returns the version found before."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(7285)"))  # "migrating"
        found = schema_version(connection)
        if found > SCHEMA_VERSION:
            raise StoreError(
                f"the feedback database has schema version {found}, newer than this code's "
                f"{SCHEMA_VERSION}: update the app"
            )
        if found == 0:
            _version_table.metadata.create_all(connection)
            connection.execute(_version_table.insert().values(version=0))
        for step in MIGRATIONS[found:target]:
            step(connection)
        if target > found:
            connection.execute(_version_table.update().values(version=target))
    return found

"""The feedback store (model/feedback.py) on SQLite and on a real PostgreSQL server that the
tests start themselves, its command line, and the schema upgrade."""

from __future__ import annotations

import json
import subprocess
import threading
import time

import numpy as np
import pytest
from conftest import require, run_module
from sqlalchemy import create_engine, text

from harness.digit_paths import draw_digit, draw_number
from harness.postgres import PostgresUnavailable, postgres_server, server_bin
from model.feedback import (
    NOT_DIGIT,
    SCHEMA_VERSION,
    Click,
    RateLimited,
    Store,
    StoreError,
    migrate,
    schema_version,
    stats,
)
from model.strokes import encode_png


@pytest.fixture(scope="module")
def postgres():
    """A throwaway PostgreSQL server for this module's tests: its URL."""
    try:
        server_bin()
    except PostgresUnavailable as error:
        require(False, str(error))
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'feedback.sqlite3'}"
    server = request.getfixturevalue("postgres")
    engine = create_engine(server)
    with engine.begin() as connection:  # each test starts from an empty database
        connection.execute(text("DROP TABLE IF EXISTS feedback, schema_version"))
    engine.dispose()
    return server


def a_click(label="7", session="s1", answer=1, seed=0) -> Click:
    rng = np.random.default_rng(seed)
    return Click(
        drawing_png=encode_png(draw_digit(7, "black_on_white")),
        digit_28x28=rng.integers(0, 256, (28, 28), dtype=np.uint8),
        label=label,
        answer=answer,
        probabilities=rng.dirichlet(np.ones(10)),
        model_version="cnn-0123456789ab",
        session_id=session,
        box=(10 + seed, 20, 30, 40),  # each seed another digit of the drawing
    )


def test_a_click_is_stored_with_everything_it_holds(url):
    store = Store(url)
    click = a_click()
    row_id = store.add(click)
    (row,) = store.rows()
    assert row.id == row_id
    assert row.drawing_png == click.drawing_png
    np.testing.assert_array_equal(row.digit_image(), click.digit_28x28)
    assert (row.label, row.answer, row.session_id) == ("7", "1", "s1")
    assert row.model_version == "cnn-0123456789ab" and row.source == "app"
    assert json.loads(row.box) == [10, 20, 30, 40]
    np.testing.assert_allclose(json.loads(row.probabilities), click.probabilities, atol=1e-6)
    assert not row.correct
    assert row.created_at is not None
    store.close()


def test_a_retried_click_is_stored_once(url):
    store = Store(url)
    first = store.add(a_click(), uid="click-1")
    assert store.add(a_click(), uid="click-1") == first
    assert store.count() == 1
    store.close()


@pytest.mark.parametrize("label", ["10", "-1", "a", "", "7.5", "not a number"])
def test_labels_are_digits_or_not_a_digit(url, label):
    store = Store(url)
    with pytest.raises(ValueError, match="0-9"):
        store.add(a_click(label=label))
    store.add(a_click(label="not-a-digit"))
    assert [row.label for row in store.rows()] == [NOT_DIGIT]
    store.close()


def test_a_digit_image_must_be_28x28_uint8(url):
    store = Store(url)
    with pytest.raises(ValueError, match="28, 28"):
        store.add(Click(**{**a_click().__dict__, "digit_28x28": np.zeros((28, 27), np.uint8)}))
    assert store.count() == 0
    store.close()


def test_each_session_is_capped_per_minute(url):
    store = Store(url, per_minute=3)
    for n in range(3):
        store.add(a_click(seed=n))
    with pytest.raises(RateLimited, match="3 answers a minute"):
        store.add(a_click(seed=9))
    store.add(a_click(session="s2"))  # another session is not held back
    assert store.count() == 4
    store.close()


def test_concurrent_sessions_lose_and_double_nothing(url):
    """8 sessions writing at once (the load benchmark runs 20 processes for a minute)."""
    errors, done = [], []

    def session(index: int) -> None:
        try:  # every failure, opening the store included, is one the test reports
            store = Store(url, per_minute=None)
            for n in range(25):
                store.add(a_click(session=f"s{index}", seed=n), uid=f"{index}-{n}")
                done.append(f"{index}-{n}")
            store.close()
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=session, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    store = Store(url)
    uids = sorted(row.uid for row in store.rows())
    assert uids == sorted(done) and len(uids) == 200
    store.close()


def test_changing_your_mind_keeps_the_last_answer(url):
    """ "Wrong: it was 1", then "Right" on the same drawing: one row, the last answer; the
    same click from another replica (another Store on the same database) too. Another
    session's answer to the same picture is its own."""
    store, replica = Store(url), Store(url)
    first = store.add(a_click(label="1", answer=7))
    assert replica.add(a_click(label="7", answer=7)) == first
    (row,) = store.rows()
    assert (row.label, row.answer) == ("7", "7")
    assert stats(store.summary())["drawings"] == 1
    store.add(a_click(label="7", answer=7, session="s2"))
    store.add(a_click(label="7", answer=7, seed=1))  # another digit of the same drawing
    assert store.count() == 3
    store.close()
    replica.close()


def test_stats_count_confirmations_and_corrections(url):
    store = Store(url)
    store.add(a_click(label="7", answer=7))
    store.add(a_click(label="7", answer=1, seed=1))
    store.add(a_click(label=NOT_DIGIT, answer=4, session="s2"))
    figures = stats(store.summary())
    assert figures["drawings"] == 3 and figures["sessions"] == 2 and figures["right"] == 1
    assert figures["accuracy"] == pytest.approx(1 / 3)
    assert figures["per_label"]["7"] == {"confirmed": 1, "corrected": 1}
    assert figures["per_label"][NOT_DIGIT] == {"confirmed": 0, "corrected": 1}
    assert figures["per_model"]["cnn-0123456789ab"]["drawings"] == 3
    store.close()


def test_an_older_schema_is_upgraded_and_its_rows_kept(url):
    engine = create_engine(url)
    assert migrate(engine, target=1) == 0  # a database made by the first version
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO feedback (uid, created_at, session_id, label, answer, "
                "probabilities, model_version, drawing_png, digit_28x28) VALUES ('old', "
                ":now, 'old-session', '3', '3', '[]', 'cnn-old', :png, :digit)"
            ),
            {"now": "2026-01-01 00:00:00", "png": b"png", "digit": bytes(784)},
        )
        assert schema_version(connection) == 1
    engine.dispose()

    store = Store(url)  # opening it upgrades it
    with store.engine.connect() as connection:
        assert schema_version(connection) == SCHEMA_VERSION == 3
    store.add(a_click())
    old, new = store.rows()
    assert (old.uid, old.label, old.source, old.box) == ("old", "3", "app", None)
    assert new.box is not None
    store.close()


def test_a_newer_schema_is_refused_not_damaged(url):
    store = Store(url)
    store.add(a_click())
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE schema_version SET version = 99"))
    store.close()
    with pytest.raises(StoreError, match="newer than this code"):
        Store(url)


def test_a_store_that_is_down_says_so_quickly(tmp_path):
    started = time.perf_counter()
    with pytest.raises(StoreError, match="unavailable"):
        Store("postgresql+psycopg://test@127.0.0.1:9/none")  # nothing listens on port 9
    assert time.perf_counter() - started < 30
    blocked = tmp_path / "file"
    blocked.write_text("")
    with pytest.raises(StoreError):
        Store(f"sqlite:///{blocked}/feedback.sqlite3")  # a folder that cannot exist


# --- The command line ------------------------------------------------------------------------


def feedback(*args) -> subprocess.CompletedProcess:
    return run_module("model.feedback", *args)


def test_the_command_line_adds_counts_and_exports(tmp_path):
    url = f"sqlite:///{tmp_path / 'feedback.sqlite3'}"
    paths = []
    for digit in (3, 5):
        path = tmp_path / f"drawn-{digit}.png"
        path.write_bytes(encode_png(draw_digit(digit, "black_on_white")))
        paths.append(path)
    done = feedback("add", "--db", url, "--label", "3", "--session", "cli-test", *paths)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("stored as '3'") == 2
    done = feedback("add", "--db", url, "--label", "not-a-digit", paths[0])
    assert done.returncode == 0, done.stderr

    store = Store(url)
    rows = store.rows()
    assert [r.label for r in rows] == ["3", "3", NOT_DIGIT]
    assert rows[0].drawing_png == paths[0].read_bytes()  # the file as it was
    assert {r.source for r in rows} == {"cli"} and rows[0].session_id == "cli-test"
    assert rows[1].answer == "5"  # what the model read in the 5 labelled 3
    store.close()

    done = feedback("stats", "--db", url, "--json")
    figures = json.loads(done.stdout)
    assert figures["drawings"] == 3 and figures["sessions"] == 2
    assert figures["per_label"]["3"]["corrected"] == 1
    assert "3 drawings labelled in 2 sessions" in feedback("stats", "--db", url).stdout

    done = feedback("export", "--db", url, tmp_path / "out")
    assert done.returncode == 0, done.stderr
    exported = sorted(
        p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.png")
    )
    assert exported == ["3/000001.png", "3/000002.png", "not-a-digit/000003.png"]
    assert (tmp_path / "out/3/000001.png").read_bytes() == paths[0].read_bytes()


def test_the_command_line_refuses_bad_labels_and_reports_bad_files(tmp_path):
    url = f"sqlite:///{tmp_path / 'feedback.sqlite3'}"
    good = tmp_path / "good.png"
    good.write_bytes(encode_png(draw_digit(4, "black_on_white")))
    done = feedback("add", "--db", url, "--label", "1a", good)
    assert done.returncode == 2 and "0-9" in done.stderr
    blank = tmp_path / "blank.png"
    blank.write_bytes(encode_png(np.full((100, 100, 4), 255, np.uint8)))
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    done = feedback("add", "--db", url, "--label", "4", blank, broken, good)
    assert done.returncode == 1
    assert "blank" in done.stderr and "broken.png: error" in done.stderr
    assert Store(url).count() == 1  # the good one is stored


def test_the_command_line_stores_a_numbers_digits_one_by_one(tmp_path):
    """A number's label is stored digit by digit, each with its box, as the app stores a
    correction of one digit of a number; a picture with another count of digits stores
    nothing."""
    url = f"sqlite:///{tmp_path / 'feedback.sqlite3'}"
    number = tmp_path / "number.png"
    number.write_bytes(encode_png(draw_number("407")))
    done = feedback("add", "--db", url, "--label", "407", "--session", "s", number)
    assert done.returncode == 0, done.stderr
    assert "stored as '407'" in done.stdout

    rows = Store(url).rows()
    assert [r.label for r in rows] == ["4", "0", "7"]
    assert {r.drawing_png for r in rows} == {number.read_bytes()}
    boxes = [json.loads(r.box) for r in rows]
    lefts = [x for x, _, _, _ in boxes]
    assert lefts == sorted(lefts)  # left to right
    for x, y, w, h in boxes:
        assert 0 <= x < x + w <= 780 and 0 <= y < y + h <= 280
    assert all(r.digit_image().shape == (28, 28) for r in rows)

    one = tmp_path / "one.png"
    one.write_bytes(encode_png(draw_digit(4, "black_on_white")))
    done = feedback("add", "--db", url, "--label", "44", one)
    assert done.returncode == 1 and "the label has 2: nothing stored" in done.stderr
    assert Store(url).count() == 3


def test_a_locked_sqlite_database_is_tried_again():
    """SQLite may answer "database is locked" at once, without waiting: the transaction is
    run again; any other error, or a lock that lasts, is raised."""
    from sqlalchemy.exc import OperationalError

    from model.feedback import _retry_locked

    def locked():
        return OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))

    tries = []

    def flaky():
        tries.append(1)
        if len(tries) < 3:
            raise locked()
        return 42

    assert _retry_locked(flaky) == 42 and len(tries) == 3

    def always_locked():
        raise locked()

    with pytest.raises(OperationalError):
        _retry_locked(always_locked, attempts=2)

    other = OperationalError("SELECT", {}, Exception("disk I/O error"))
    tries.clear()

    def broken():
        tries.append(1)
        raise other

    with pytest.raises(OperationalError):
        _retry_locked(broken)
    assert len(tries) == 1

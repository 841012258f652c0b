"""The import's write path (:mod:`app.stats_bulk`): rows held in memory and rows staged in the
TEMP table must give the same table, the same change counts and the same duplicate report."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.stats_bulk import PointWriter
from app.storage import open_database

METRICS = ("listeners", "streams")


@pytest.fixture(scope="module")
def connection(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sqlite3.Connection]:
    path = tmp_path_factory.mktemp("bulk") / "hookline.sqlite3"
    open_database(path).close()  # the real schema, at the head revision
    raw = sqlite3.connect(str(path), isolation_level=None)
    raw.execute("PRAGMA foreign_keys = OFF")  # no stats_imports rows in these tests
    yield raw
    raw.close()


def run(
    connection: sqlite3.Connection,
    batches: list[list[tuple[object, ...]]],
    memory_rows: int,
    reimport: list[list[tuple[object, ...]]],
) -> tuple[object, ...]:
    """One import of ``batches`` then one of ``reimport`` through a writer that holds up to
    ``memory_rows`` rows; everything it did, read back, then rolled back."""
    connection.execute("BEGIN")
    try:
        outcome: list[object] = []
        for import_id, rows in ((1, batches), (2, reimport)):
            writer = PointWriter(
                connection.cursor(), "song", "daily", METRICS, facts=False, memory_rows=memory_rows
            )
            for batch in rows:
                writer.add(batch)
            outcome.append(writer.in_memory)
            outcome.append(writer.remove_duplicates(5))
            outcome.append(writer.upsert("csv", import_id))
            writer.close()
        outcome.append(
            connection.execute(
                "SELECT s.entity, s.metric, p.day, p.value, p.import_id FROM stats_points AS p "
                "JOIN stats_series AS s ON s.id = p.series_id ORDER BY 1, 2, 3"
            ).fetchall()
        )
        temp = connection.execute(
            "SELECT name FROM sqlite_temp_master WHERE type = 'table'"
        ).fetchall()
        assert temp == []  # close() left nothing behind
        return tuple(outcome)
    finally:
        connection.execute("ROLLBACK")


VALUE = st.one_of(st.none(), st.integers(0, 9).map(str), st.floats(0, 1e6, allow_nan=False))
ROW = st.tuples(
    st.sampled_from(["a", "b", "Ω 🎵", ""]),
    st.integers(-3, 30),  # days since 1970-01-01, before it too
    VALUE,
    VALUE,
)


def numbered(rows: list[tuple[object, ...]], cut: int) -> list[list[tuple[object, ...]]]:
    """``rows`` with increasing line numbers, in batches of ``cut``; rows without any value are
    left out (the reader rejects them before they reach a writer)."""
    lines = [
        (2 + i, *row) for i, row in enumerate(rows) if row[2] is not None or row[3] is not None
    ]
    return [lines[i : i + cut] for i in range(0, len(lines), cut)] if lines else []


@given(st.lists(ROW, max_size=60), st.lists(ROW, max_size=30), st.integers(1, 7))
@settings(max_examples=80, deadline=None)
def test_memory_and_temp_table_agree(
    connection: sqlite3.Connection,
    first: list[tuple[object, ...]],
    second: list[tuple[object, ...]],
    cut: int,
) -> None:
    batches, again = numbered(first, cut), numbered(second, cut)
    held = run(connection, batches, 10**6, again)
    staged = run(connection, batches, 0, again)
    spilled = run(connection, batches, cut, again)  # moves to the table part-way
    assert held[0] is True and staged[0] is False
    assert held[1:3] + held[4:] == staged[1:3] + staged[4:]
    assert spilled[1:3] + spilled[4:] == staged[1:3] + staged[4:]


def test_duplicates_keep_the_first_line_and_are_reported(connection: sqlite3.Connection) -> None:
    rows = [
        (2, "a", 10, "5", None),
        (3, "a", 11, "6", "1"),
        (4, "a", 10, "7", "2"),  # repeats line 2's day: dropped, two values
        (5, "b", 10, None, "3"),
        (6, "a", 10, "8", None),  # again: dropped, one value
    ]
    for memory_rows in (10, 0):
        held = run(connection, [rows], memory_rows, [])
        assert held[1] == (2, 3, [(4, 2), (6, 2)])
        assert held[2] == 4  # a/listeners 10 and 11, a/streams 11, b/streams 10
        assert held[-1] == [
            ("a", "listeners", 10, 5.0, 1),
            ("a", "listeners", 11, 6.0, 1),
            ("a", "streams", 11, 1.0, 1),
            ("b", "streams", 10, 3.0, 1),
        ]


def test_an_equal_value_is_left_alone_and_a_changed_one_replaced(
    connection: sqlite3.Connection,
) -> None:
    first = [[(2, "a", 1, "5", "6"), (3, "a", 2, "7", None)]]
    second = [[(2, "a", 1, "5", "9"), (3, "a", 2, 7.0, None)]]
    for memory_rows in (10, 0):
        outcome = run(connection, first, memory_rows, second)
        assert outcome[2] == 3 and outcome[5] == 1  # only a/streams day 1 changed
        assert outcome[-1] == [
            ("a", "listeners", 1, 5.0, 1),
            ("a", "listeners", 2, 7.0, 1),
            ("a", "streams", 1, 9.0, 2),
        ]


def test_odd_names_are_refused(connection: sqlite3.Connection, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        PointWriter(connection.cursor(), "song", "daily", ["streams; DROP"], facts=False)
    writer = PointWriter(connection.cursor(), "song", "daily", ["streams"], facts=False)
    with pytest.raises(ValueError):
        writer.upsert("csv'); DROP TABLE stats_points; --", None)
    with pytest.raises(ValueError):
        writer.upsert_facts(None)
    writer.close()

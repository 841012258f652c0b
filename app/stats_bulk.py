"""The write path of a statistics import: accepted rows go first into a TEMP table, then into
``stats_points`` with one set-based upsert in primary-key order. Qt-free.

Why: ``stats_points`` is ``WITHOUT ROWID``, one B-tree keyed by (kind, entity, resolution, day,
metric). Files list days first (every song of a day, then the next day), which is not key
order; upserting rows as they come splits pages all over the tree. The TEMP table takes rows in
file order, keyed by their line number (cheap appends, several rows per statement), and the
final ``INSERT ... SELECT ... ORDER BY`` lets SQLite's sorter (which spills to temporary files
beyond its memory budget) put them in key order, so a fresh table is written front to back.

Everything happens inside the caller's transaction on the caller's connection: a failure rolls
back the TEMP table along with the rest.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from itertools import chain

ROWS_PER_STATEMENT = 200
"""Rows bound per ``INSERT`` into the TEMP table (fewer statement steps than one per row)."""
TEMP_TABLE = "stats_import_values"
FACTS = ("isrc", "author", "release_date", "date_added")

_POINT_COLUMNS = "kind, entity, resolution, day, metric, value, source, import_id"
_PRIMARY_KEY = "kind, entity, resolution, day, metric"
_T = f"temp.{TEMP_TABLE}"


class PointWriter:
    """Collects one import's accepted rows in a TEMP table and writes them to ``stats_points``
    (and, with ``facts``, ``stats_entities``).

    Each row given to :meth:`add` is ``(line, entity, day, value..., [fact...])``: its line in
    the file (unique), the entity, the day as ISO text, one value (or None) per name of
    ``metrics``, then with ``facts`` the four of :data:`FACTS` (text or None)."""

    def __init__(self, cursor: sqlite3.Cursor, metrics: Sequence[str], facts: bool) -> None:
        if not metrics:
            raise ValueError("at least one metric is needed")
        for metric in metrics:
            if not metric.isidentifier():  # metric names are written into the SQL text
                raise ValueError(f"unexpected metric name {metric!r}")
        self._cursor = cursor
        self._metrics = tuple(metrics)
        self._facts = facts
        columns = ["line INTEGER PRIMARY KEY", "entity TEXT NOT NULL", "day TEXT NOT NULL"]
        columns += [f"v{i} REAL" for i in range(len(self._metrics))]
        if facts:
            columns += [f"{name} TEXT" for name in FACTS]
        cursor.execute(f"DROP TABLE IF EXISTS {_T}")
        cursor.execute(f"CREATE TEMP TABLE {TEMP_TABLE} ({', '.join(columns)})")
        one = "(" + ", ".join("?" * len(columns)) + ")"
        self._insert_one = f"INSERT INTO {_T} VALUES {one}"
        self._insert_many = f"INSERT INTO {_T} VALUES " + ", ".join([one] * ROWS_PER_STATEMENT)

    def add(self, rows: Sequence[tuple[object, ...]]) -> None:
        """Append ``rows`` to the TEMP table."""
        step = ROWS_PER_STATEMENT
        whole = len(rows) - len(rows) % step
        if whole:
            self._cursor.executemany(
                self._insert_many,
                (tuple(chain.from_iterable(rows[i : i + step])) for i in range(0, whole, step)),
            )
        if whole < len(rows):
            self._cursor.executemany(self._insert_one, rows[whole:])

    def remove_duplicates(self, keep: int) -> tuple[int, int, list[tuple[int, int]]]:
        """Delete every row whose (entity, day) an earlier line already has. Return how many
        rows that was, how many values they held, and for the first ``keep`` of them (by line)
        (line, earlier line). Builds a TEMP index: call it only when duplicates are possible."""
        cursor = self._cursor
        cursor.execute(f"CREATE INDEX temp.{TEMP_TABLE}_key ON {TEMP_TABLE} (entity, day)")
        # every line after the first of its (entity, day), with that first line
        later = (
            f"SELECT t.line AS line, g.first AS first FROM ("
            f"SELECT entity, day, min(line) AS first FROM {_T} GROUP BY entity, day "
            f"HAVING count(*) > 1) AS g JOIN {_T} AS t "
            f"ON t.entity = g.entity AND t.day = g.day AND t.line > g.first"
        )
        cursor.execute(f"CREATE TEMP TABLE {TEMP_TABLE}_dup AS {later}")
        non_null = " + ".join(f"(v{i} IS NOT NULL)" for i in range(len(self._metrics)))
        found, values = cursor.execute(
            f"SELECT count(*), coalesce(sum({non_null}), 0) FROM {_T} "
            f"WHERE line IN (SELECT line FROM {_T}_dup)"
        ).fetchone()
        first = [
            (int(line), int(at))
            for line, at in cursor.execute(
                f"SELECT line, first FROM {_T}_dup ORDER BY line LIMIT ?", (keep,)
            )
        ]
        cursor.execute(f"DELETE FROM {_T} WHERE line IN (SELECT line FROM {_T}_dup)")
        cursor.execute(f"DROP TABLE {_T}_dup")
        cursor.execute(f"DROP INDEX temp.{TEMP_TABLE}_key")
        return int(found), int(values), first

    def upsert(self, kind: str, resolution: str, source: str, import_id: int | None) -> int:
        """Write every collected value into ``stats_points`` in key order: a new key is added,
        a different value replaces the stored one (with this import's ``source`` and
        ``import_id``), an equal value is left as it is. Return how many values were added or
        replaced (SQLite's change count of the upsert)."""
        # one SELECT per metric; metric names sorted, as the key orders them
        parts = [
            f"SELECT entity, day, '{metric}' AS metric, v{i} AS value FROM {_T} "
            f"WHERE v{i} IS NOT NULL"
            for i, metric in sorted(enumerate(self._metrics), key=lambda p: p[1])
        ]
        query = (
            f"INSERT INTO main.stats_points ({_POINT_COLUMNS}) "
            f"SELECT ?, entity, ?, day, metric, value, ?, ? FROM ({' UNION ALL '.join(parts)}) "
            # "WHERE true": SQLite's documented way to let ON CONFLICT follow a SELECT
            "WHERE true ORDER BY entity, day, metric "
            f"ON CONFLICT ({_PRIMARY_KEY}) DO UPDATE SET "
            "value = excluded.value, source = excluded.source, import_id = excluded.import_id "
            "WHERE stats_points.value IS NOT excluded.value"
        )
        self._cursor.execute(query, (kind, resolution, source, import_id))
        return self._cursor.rowcount

    def upsert_facts(self, kind: str, import_id: int | None) -> None:
        """Store in ``stats_entities`` each entity's facts from its last row (by line); a fact
        the row leaves empty keeps the stored one. Only for a writer made with ``facts``."""
        if not self._facts:
            raise ValueError("this writer holds no facts")
        self._cursor.execute(
            "INSERT INTO main.stats_entities "
            "(kind, entity, isrc, author, release_date, date_added, import_id) "
            f"SELECT ?, entity, isrc, author, release_date, date_added, ? FROM {_T} "
            f"WHERE line IN (SELECT max(line) FROM {_T} GROUP BY entity) "
            "ORDER BY entity "
            "ON CONFLICT (kind, entity) DO UPDATE SET "
            "isrc = coalesce(excluded.isrc, isrc), author = coalesce(excluded.author, author), "
            "release_date = coalesce(excluded.release_date, release_date), "
            "date_added = coalesce(excluded.date_added, date_added), "
            "import_id = excluded.import_id",
            (kind, import_id),
        )

    def close(self) -> None:
        """Drop the TEMP table."""
        self._cursor.execute(f"DROP TABLE IF EXISTS {_T}")

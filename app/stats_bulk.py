"""The write path of a statistics import: accepted rows go into ``stats_points`` in primary-key
order, with one set of multi-row upserts. Qt-free.

Why: ``stats_points`` is ``WITHOUT ROWID``, one B-tree keyed by (series, day). Files list days
first (every song of a day, then the next day), which is not key order; upserting rows as they
come splits pages all over the tree. So rows are first collected, then written series by
series, each series in day order, so that a fresh table is written front to back.

Where they are collected depends on the import's size:

- up to :data:`MEMORY_ROWS` rows without facts, in numpy arrays (about 36 bytes a row for one
  metric), put in key order by one ``lexsort`` and bound straight into
  ``INSERT ... SELECT ... FROM (VALUES ...)`` statements of :data:`ROWS_PER_STATEMENT` rows;
- beyond that, in a TEMP table keyed by line number (cheap appends), and the final
  ``INSERT ... SELECT ... ORDER BY`` lets SQLite's sorter (which spills to temporary files
  beyond its memory budget) put them in key order. Memory then stays bounded by one batch.

Both give the same table, the same change counts and the same duplicate report. Everything
happens inside the caller's transaction on the caller's connection: a failure rolls back the
TEMP table along with the rest.
"""

from __future__ import annotations

import math
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain
from operator import itemgetter

import numpy as np

ROWS_PER_STATEMENT = 250
"""Rows bound per ``INSERT`` statement (fewer statement steps than one per row)."""
MEMORY_ROWS = 1_500_000
"""Imports of up to this many accepted rows are collected in memory (arrays of about 36 bytes a
row for one metric, and about as much again while they are written); larger ones go through
the TEMP table."""
TEMP_TABLE = "stats_import_values"
FACTS = ("isrc", "author", "release_date", "date_added")

_T = f"temp.{TEMP_TABLE}"
_SOURCE = re.compile(r"[a-z_]{1,32}\Z")
_ON_CONFLICT = (
    "ON CONFLICT (series_id, day) DO UPDATE SET "
    "value = excluded.value, source = excluded.source, import_id = excluded.import_id "
    "WHERE stats_points.value IS NOT excluded.value"
)

Row = tuple[object, ...]


class PointWriter:
    """Collects one import's accepted rows and writes them to ``stats_points`` (creating their
    ``stats_series``) and, with ``facts``, to ``stats_entities``.

    Each row given to :meth:`add` is ``(line, entity, day, value..., [fact...])``: its line in
    the file (unique, increasing from call to call), the entity, the day (whole days since
    1970-01-01), one value (a float, None, or the text of plain ASCII digits) per name of
    ``metrics``, then with ``facts`` the four of :data:`FACTS` (text or None). Rows without
    facts are kept in memory up to ``memory_rows`` (default :data:`MEMORY_ROWS`), as arrays of
    about 28 bytes a row plus 8 a value; beyond that, and for rows with facts, they go to a
    TEMP table (see the module's text)."""

    def __init__(
        self,
        cursor: sqlite3.Cursor,
        kind: str,
        resolution: str,
        metrics: Sequence[str],
        facts: bool,
        memory_rows: int | None = None,
    ) -> None:
        if not metrics:
            raise ValueError("at least one metric is needed")
        for metric in metrics:
            if not metric.isidentifier():  # metric names are written into the SQL text
                raise ValueError(f"unexpected metric name {metric!r}")
        self._cursor = cursor
        self._kind = kind
        self._resolution = resolution
        self._metrics = tuple(metrics)
        self._facts = facts
        self._memory_rows = MEMORY_ROWS if memory_rows is None else memory_rows
        self._width = 3 + len(self._metrics) + (len(FACTS) if facts else 0)
        self._held: _Held | None = _Held(len(self._metrics))
        if facts or self._memory_rows <= 0:
            self._spill()

    @property
    def in_memory(self) -> bool:
        """Whether the rows are held in Python (not in the TEMP table)."""
        return self._held is not None

    def add(self, rows: Sequence[Row]) -> None:
        """Collect ``rows``."""
        if self._held is None:
            self._stage(rows)
            return
        self._held.add(rows)
        if self._held.count > self._memory_rows:
            self._spill()

    # -- the TEMP table --------------------------------------------------------------------

    def _spill(self) -> None:
        """Move every row held in memory to a new TEMP table; later rows go there directly."""
        assert self._held is not None
        columns = ["line INTEGER PRIMARY KEY", "entity TEXT NOT NULL", "day INTEGER NOT NULL"]
        columns += [f"v{i} REAL" for i in range(len(self._metrics))]
        if self._facts:
            columns += [f"{name} TEXT" for name in FACTS]
        self._cursor.execute(f"DROP TABLE IF EXISTS {_T}")
        self._cursor.execute(f"CREATE TEMP TABLE {TEMP_TABLE} ({', '.join(columns)})")
        held, self._held = self._held, None
        for rows in held.rows():
            self._stage(rows)

    def _stage(self, rows: Sequence[Row]) -> None:
        """Append ``rows`` to the TEMP table."""
        one = "(" + ", ".join("?" * self._width) + ")"
        flat = list(chain.from_iterable(rows))
        _execute_flat(self._cursor, f"INSERT INTO {_T} VALUES ", one, "", flat, self._width)

    # -- duplicates --------------------------------------------------------------------------

    def remove_duplicates(self, keep: int) -> tuple[int, int, list[tuple[int, int]]]:
        """Drop every row whose (entity, day) an earlier line already has. Return how many
        rows that was, how many values they held, and for the first ``keep`` of them (by line)
        (line, earlier line). Costs a sort: call it only when duplicates are possible."""
        if self._held is not None:
            return self._held.remove_duplicates(keep)
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

    # -- writing -----------------------------------------------------------------------------

    def upsert(self, source: str, import_id: int | None) -> int:
        """Write every collected value into ``stats_points`` in key order: a new key is added,
        a different value replaces the stored one (with this import's ``source`` and
        ``import_id``), an equal value is left as it is. Return how many values were added or
        replaced (SQLite's change count of the upserts)."""
        if not _SOURCE.match(source):
            raise ValueError(f"unexpected source {source!r}")
        # both are written into the SQL text: a checked name and an integer
        constants = f"'{source}', {'NULL' if import_id is None else int(import_id)}"
        if self._held is None:
            return self._upsert_from_table(constants)
        held = self._held
        if held.count == 0:
            return 0
        ids = self._series_ids(held.names)
        code, day, values = held.take()
        series, days, numbers = [], [], []
        for i, metric in enumerate(self._metrics):
            of_code = np.array([ids[name, metric] for name in held.names], dtype=np.int64)
            column = values[:, i]
            present = ~np.isnan(column)
            if present.all():  # the common case: no copies of the days and values
                series.append(of_code[code])
                days.append(day)
                numbers.append(column)
            else:
                series.append(of_code[code[present]])
                days.append(day[present])
                numbers.append(column[present])
        del code, values
        if len(series) == 1:
            series_id, day, value = series[0], days[0], numbers[0]
        else:
            series_id = np.concatenate(series)
            day, value = np.concatenate(days), np.concatenate(numbers)
        del series, days, numbers
        order = np.lexsort((day, series_id))  # key order: series, then day
        head = (
            "INSERT INTO main.stats_points (series_id, day, value, source, import_id) "
            f"SELECT column1, column2, column3, {constants} FROM (VALUES "
        )
        tail = ") WHERE true " + _ON_CONFLICT  # "WHERE true": lets ON CONFLICT follow a SELECT
        changed = 0
        step = ROWS_PER_STATEMENT * 40  # Python objects for this many rows at a time
        for start in range(0, len(order), step):
            part = order[start : start + step]
            flat: list[object] = [None] * (3 * len(part))
            flat[0::3] = series_id[part].tolist()
            flat[1::3] = day[part].tolist()
            flat[2::3] = value[part].tolist()
            changed += _execute_flat(self._cursor, head, "(?, ?, ?)", tail, flat, 3)
        return changed

    def _series_ids(self, entities: Iterable[str]) -> dict[tuple[str, str], int]:
        """``stats_series`` ids of every (entity, metric) of this import, creating the missing
        series."""
        cursor = self._cursor
        cursor.executemany(
            "INSERT OR IGNORE INTO main.stats_series (kind, entity, resolution, metric) "
            "VALUES (?, ?, ?, ?)",
            (
                (self._kind, entity, self._resolution, metric)
                for entity in entities
                for metric in self._metrics
            ),
        )
        wanted = set(self._metrics)
        return {
            (str(entity), str(metric)): int(series_id)
            for series_id, entity, metric in cursor.execute(
                "SELECT id, entity, metric FROM main.stats_series "
                "WHERE kind = ? AND resolution = ?",
                (self._kind, self._resolution),
            )
            if metric in wanted
        }

    def _upsert_from_table(self, constants: str) -> int:
        cursor = self._cursor
        changed = 0
        for i, metric in enumerate(self._metrics):
            params = (self._kind, self._resolution, metric)
            cursor.execute(
                "INSERT OR IGNORE INTO main.stats_series (kind, entity, resolution, metric) "
                f"SELECT DISTINCT ?, entity, ?, ? FROM {_T} WHERE v{i} IS NOT NULL "
                "ORDER BY entity",
                params,
            )
            cursor.execute(
                "INSERT INTO main.stats_points (series_id, day, value, source, import_id) "
                f"SELECT s.id, t.day, t.v{i}, {constants} FROM {_T} AS t "
                "JOIN main.stats_series AS s ON s.kind = ? AND s.entity = t.entity "
                f"AND s.resolution = ? AND s.metric = ? WHERE t.v{i} IS NOT NULL "
                "ORDER BY s.id, t.day " + _ON_CONFLICT,
                params,
            )
            changed += cursor.rowcount
        return changed

    def upsert_facts(self, import_id: int | None) -> None:
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
            (self._kind, import_id),
        )

    def close(self) -> None:
        """Drop the TEMP table, and let go of the rows held in memory."""
        self._cursor.execute(f"DROP TABLE IF EXISTS {_T}")
        if self._held is not None:
            self._held = _Held(len(self._metrics))


class _Held:
    """Rows without facts held as arrays, one set per :meth:`add`: the entity as a code into
    :attr:`names`, the line and the day as int32, the values as float64 with NaN for None
    (stored values are finite, so NaN is free to mean "no value")."""

    def __init__(self, metrics: int) -> None:
        self.metrics = metrics
        self.names: list[str] = []
        self._code_of: dict[str, int] = {}
        self._parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self.count = 0

    def add(self, rows: Sequence[Row]) -> None:
        n = len(rows)
        if not n:
            return
        entities = list(map(itemgetter(1), rows))
        code_of = self._code_of
        for name in set(entities).difference(code_of):
            code_of[str(name)] = len(self.names)
            self.names.append(str(name))
        code = np.fromiter(map(code_of.__getitem__, entities), np.int32, n)
        line = np.fromiter(map(itemgetter(0), rows), np.int32, n)
        day = np.fromiter(map(itemgetter(2), rows), np.int32, n)
        values = np.empty((n, self.metrics), dtype=np.float64)
        for i in range(self.metrics):
            column = list(map(itemgetter(3 + i), rows))
            if None in column:
                column = [math.nan if v is None else v for v in column]
            values[:, i] = np.fromiter(map(float, column), np.float64, n)
        self._parts.append((code, line, day, values))
        self.count += n

    def take(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`arrays`, letting go of the held parts (nothing is held afterwards)."""
        arrays = self.arrays()
        self._parts = []
        self.count = 0
        return arrays

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every held row's entity code, day and values (rows in the order they came)."""
        if len(self._parts) == 1:
            code, _line, day, values = self._parts[0]
            return code, day, values
        if not self._parts:
            return (
                np.empty(0, np.int32),
                np.empty(0, np.int32),
                np.empty((0, self.metrics), np.float64),
            )
        return (
            np.concatenate([p[0] for p in self._parts]),
            np.concatenate([p[2] for p in self._parts]),
            np.concatenate([p[3] for p in self._parts]),
        )

    def rows(self) -> Iterator[list[Row]]:
        """The held rows as :meth:`PointWriter.add` takes them, one list per part."""
        for code, line, day, values in self._parts:
            numbers = np.where(np.isnan(values), None, values).tolist()  # type: ignore[call-overload]
            names = [self.names[c] for c in code.tolist()]
            yield [
                (ln, name, d, *vs)
                for ln, name, d, vs in zip(line.tolist(), names, day.tolist(), numbers, strict=True)
            ]

    def remove_duplicates(self, keep: int) -> tuple[int, int, list[tuple[int, int]]]:
        """:meth:`PointWriter.remove_duplicates` on the held rows."""
        if not self._parts:
            return 0, 0, []
        code, day, values = self.arrays()
        line = np.concatenate([p[1] for p in self._parts])
        order = np.lexsort((line, day, code))  # by entity, day, then line
        same = (code[order][1:] == code[order][:-1]) & (day[order][1:] == day[order][:-1])
        later = np.flatnonzero(same) + 1  # positions in `order` of a repeat of the row before
        if not len(later):
            return 0, 0, []
        # the first line of each run of equal keys: for every position, the run's start
        starts = np.flatnonzero(np.concatenate(([True], ~same)))
        run_start = starts[np.searchsorted(starts, np.arange(len(order)), side="right") - 1]
        dropped = order[later]
        first_lines = line[order[run_start[later]]]
        found = len(dropped)
        value_count = int(np.count_nonzero(~np.isnan(values[dropped])))
        by_line = np.argsort(line[dropped], kind="stable")[:keep]
        pairs = [
            (int(a), int(b))
            for a, b in zip(
                line[dropped][by_line].tolist(), first_lines[by_line].tolist(), strict=True
            )
        ]
        mask = np.ones(len(line), dtype=bool)
        mask[dropped] = False
        self._parts = [(code[mask], line[mask], day[mask], values[mask])]
        self.count = int(mask.sum())
        return found, value_count, pairs


def _execute_flat(
    cursor: sqlite3.Cursor, head: str, one: str, tail: str, flat: list[object], width: int
) -> int:
    """Run ``head`` + n copies of ``one`` (comma-separated) + ``tail`` over ``flat`` (``width``
    parameters a row): full statements of :data:`ROWS_PER_STATEMENT` rows, then one for the
    rest. Return the summed change count."""
    step = ROWS_PER_STATEMENT * width
    whole = len(flat) - len(flat) % step
    changed = 0
    if whole:
        sql = head + ", ".join([one] * ROWS_PER_STATEMENT) + tail
        cursor.executemany(sql, (flat[i : i + step] for i in range(0, whole, step)))
        changed += max(cursor.rowcount, 0)
    if whole < len(flat):
        rest = (len(flat) - whole) // width
        cursor.execute(head + ", ".join([one] * rest) + tail, flat[whole:])
        changed += max(cursor.rowcount, 0)
    return changed

"""Artist statistics in the database: importing CSV exports, and the queries behind
``hookline stats show`` and the Stats view.

An import is one write transaction: the file is read as a stream into a temporary table and its
values are upserted in one statement in key order (:mod:`app.stats_bulk`); if anything fails
part-way (the disk, the file vanishing) everything the import wrote is rolled back and what
earlier imports stored is untouched. A value is keyed by (kind, entity,
resolution, day, metric): importing the same rows again adds nothing, and a corrected value
replaces the stored one and is counted as updated. Rejected rows are returned in the
:class:`ImportReport` (the first :data:`~app.stats_import.MAX_REJECTIONS_KEPT` one by one, all
of them counted) and their count is stored with the import; the reasons are not stored.

Thread contract: any thread, one :class:`StatsStore` call at a time per thread (each call opens
its own session).
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
from sqlalchemy import select, text

from app.i18n import _
from app.stats_bulk import PointWriter
from app.stats_import import (
    MAX_FILE_BYTES,
    MAX_REJECTIONS_KEPT,
    ColumnMapping,
    CsvSource,
    FileRefused,
    Layout,
    MappingError,
    Rejection,
    RowReader,
    detect,
    epoch_day,
    from_epoch_day,
    open_csv,
    read_layout,
)
from app.storage import Database
from app.storage.models import StatsImportRow

SOURCE = "spotify_for_artists_csv"
_SERIES_POINTS = "stats_series AS s JOIN stats_points AS p ON p.series_id = s.id"
BATCH = 10_000
"""Accepted rows read from the file per batch (an import of over
:data:`app.stats_bulk.MEMORY_ROWS` rows holds one batch at a time in Python)."""
CACHE_KIB = 64 * 1024  # page cache of the importing connection; SQLite's default is 2 MiB

_UPSERT_ENTITY = (
    "INSERT INTO stats_entities (kind, entity, isrc, author, release_date, date_added, import_id) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (kind, entity) DO UPDATE SET "
    "isrc = coalesce(excluded.isrc, isrc), author = coalesce(excluded.author, author), "
    "release_date = coalesce(excluded.release_date, release_date), "
    "date_added = coalesce(excluded.date_added, date_added), import_id = excluded.import_id"
)

Status = Literal["imported", "unknown_layout", "refused"]


@dataclass
class ImportReport:
    """What one import did. ``status`` is ``imported``; ``unknown_layout`` (nothing written:
    ``layout`` holds the headers and sample rows to ask the user for a mapping); or ``refused``
    (nothing written; ``message`` says why)."""

    path: Path
    status: Status
    message: str = ""
    layout: Layout | None = None
    import_id: int | None = None
    kind: str | None = None
    resolution: str | None = None
    rows_read: int = 0
    rows_rejected: int = 0
    values_added: int = 0
    values_updated: int = 0
    values_unchanged: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    imported_before: datetime | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "file": str(self.path),
            "status": self.status,
            "message": self.message,
            "kind": self.kind,
            "resolution": self.resolution,
            "import_id": self.import_id,
            "rows_read": self.rows_read,
            "rows_rejected": self.rows_rejected,
            "values_added": self.values_added,
            "values_updated": self.values_updated,
            "values_unchanged": self.values_unchanged,
            "rejections": [r.to_json() for r in self.rejections],
            "imported_before": self.imported_before.isoformat() if self.imported_before else None,
            "layout": self.layout.to_json() if self.layout else None,
        }


@dataclass(frozen=True)
class MetricSummary:
    first_day: date
    last_day: date
    days: int
    total: float
    latest: float


@dataclass
class SeriesSummary:
    """One entity's stored values, metric by metric."""

    kind: str
    entity: str
    resolution: str
    metrics: dict[str, MetricSummary] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "entity": self.entity,
            "resolution": self.resolution,
            "metrics": {
                name: {
                    "first_day": m.first_day.isoformat(),
                    "last_day": m.last_day.isoformat(),
                    "days": m.days,
                    "total": m.total,
                    "latest": m.latest,
                }
                for name, m in self.metrics.items()
            },
        }


WINDOW_DAYS = 28
"""Length (days) of the two windows the song and playlist tables compare."""
MIN_WINDOW_DAYS = 7
"""A window with fewer days of values than this gives no change figure."""


@dataclass(frozen=True)
class EntityFigures:
    """One song's or playlist's row in the Stats room's tables.

    ``streams_total`` is the sum of the daily streams when daily values are stored, else the
    latest period export's streams (``total_from`` says which; ``None`` when neither exists).
    ``streams_recent`` and ``streams_previous`` sum the daily streams of the last
    :data:`WINDOW_DAYS` days up to ``window_end`` (the kind's latest day of daily streams) and of
    the same number of days before them; ``None`` when the window holds no value. ``change`` is
    the relative change of the daily average between the two windows (``0.25`` = +25 %); ``None``
    when either window has fewer than :data:`MIN_WINDOW_DAYS` days of values or the earlier
    average is zero. ``listeners`` and ``saves`` are the latest stored values, any resolution.
    """

    kind: str
    entity: str
    isrc: str | None = None
    author: str | None = None
    release_date: date | None = None
    date_added: date | None = None
    streams_total: float | None = None
    total_from: Literal["daily", "period"] | None = None
    streams_recent: float | None = None
    streams_previous: float | None = None
    recent_days: int = 0
    previous_days: int = 0
    change: float | None = None
    listeners: float | None = None
    saves: float | None = None
    window_end: date | None = None


@dataclass(frozen=True)
class ReleaseMarker:
    """What was released on one day, for the timeline's release markers: songs of the exports
    (``titles``, sorted) and albums or singles known only from Spotify's catalogue
    (``on_spotify``, sorted; see :mod:`app.stats_releases`)."""

    day: date
    titles: tuple[str, ...]
    on_spotify: tuple[str, ...] = ()

    @property
    def everything(self) -> tuple[str, ...]:
        return self.titles + self.on_spotify


@dataclass(frozen=True)
class WeekdayPattern:
    """How a daily series is spread over the week, Monday first (index 0) to Sunday (6).

    ``index[d]`` is the mean, over every day ``t`` falling on weekday ``d``, of the value on ``t``
    divided by the mean of the seven days centred on ``t`` (``t`` - 3 to ``t`` + 3), scaled so
    the seven indices average 1. Growth or decline spread over weeks therefore does not tilt it.
    ``vs_other_days[d]`` is the same figure against the average of the other six weekdays
    (``0.2`` = 20 % more than the other days; NaN when the other days hold nothing).
    ``samples[d]`` counts the days used for weekday ``d``; ``weeks`` is the smallest of them.
    """

    index: tuple[float, ...]
    vs_other_days: tuple[float, ...]
    samples: tuple[int, ...]

    @property
    def weeks(self) -> int:
        return min(self.samples)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class StatsStore:
    """Imports and queries artist statistics in ``database``."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def import_csv(
        self,
        path: Path,
        mapping: ColumnMapping | None = None,
        *,
        as_of: date | None = None,
        today: date | None = None,
        max_bytes: int = MAX_FILE_BYTES,
    ) -> ImportReport:
        """Import one export. Without ``mapping`` the columns are recognised from the headers;
        a file they do not describe comes back as ``unknown_layout``. ``as_of`` is the last day
        of the period for exports without a date column (default: ``today``, which defaults to
        the local date). Raises :class:`~app.storage.StorageError` when the database fails
        (nothing of this import is then kept)."""
        path = Path(path)
        today = today or date.today()
        csv.field_size_limit(1 << 20)
        try:
            layout = read_layout(path, max_bytes)
            if mapping is None:
                mapping = layout.mapping
                if mapping is None:
                    return ImportReport(
                        path,
                        "unknown_layout",
                        _("The columns were not recognised; a column mapping is needed."),
                        layout=layout,
                    )
            else:
                layout.mapping, layout.kind = mapping, mapping.kind
                layout.ignored = []
            return self._import(path, layout, mapping, as_of or today, today, max_bytes)
        except (FileRefused, MappingError) as exc:
            return ImportReport(path, "refused", str(exc))
        except OSError as exc:
            return ImportReport(
                path, "refused", _("The file cannot be read ({error}).").format(error=exc)
            )

    def _import(
        self,
        path: Path,
        layout: Layout,
        mapping: ColumnMapping,
        as_of: date,
        today: date,
        max_bytes: int,
    ) -> ImportReport:
        digest = file_sha256(path)
        resolution = "daily" if "date" in mapping.columns else "period"
        report = ImportReport(
            path, "imported", layout=layout, kind=mapping.kind, resolution=resolution
        )
        source = open_csv(path, max_bytes)
        try:
            reader = RowReader(source.headers, mapping, today)
            # Every value written names the import row inserted first in this transaction, so
            # SQLite's per-row foreign-key lookup (about a tenth of the import) is skipped.
            with self._db.session(check_foreign_keys=False) as session:
                report.imported_before = session.execute(
                    select(StatsImportRow.imported_at)
                    .where(StatsImportRow.sha256 == digest)
                    .order_by(StatsImportRow.id.desc())
                    .limit(1)
                ).scalar()
                record = StatsImportRow(
                    file_name=str(path),
                    sha256=digest,
                    imported_at=datetime.now(UTC),
                    kind=mapping.kind,
                    resolution=resolution,
                    rows_read=0,
                    rows_rejected=0,
                    values_added=0,
                    values_updated=0,
                    values_unchanged=0,
                )
                session.add(record)
                session.flush()
                report.import_id = record.id
                raw = session.connection().connection.dbapi_connection
                assert raw is not None
                cursor = raw.cursor()
                # The connection goes back to the pool afterwards: its page cache is enlarged
                # for this import only.
                cache_before = cursor.execute("PRAGMA cache_size").fetchone()[0]
                cursor.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
                try:
                    count_before = cursor.execute("SELECT COUNT(*) FROM stats_points").fetchone()[0]
                    try:
                        values, changed, entities = self._write_points(
                            cursor, source, reader, report, as_of
                        )
                    except OSError as exc:  # the CSV file, not the database: say so
                        raise FileRefused(
                            _(
                                "The file could not be read to the end ({error}); nothing of "
                                "it was imported."
                            ).format(error=exc)
                        ) from exc
                    report.values_added = (
                        cursor.execute("SELECT COUNT(*) FROM stats_points").fetchone()[0]
                        - count_before
                    )
                    report.values_updated = changed - report.values_added
                    report.values_unchanged = values - changed
                    if entities:
                        cursor.executemany(_UPSERT_ENTITY, entities)
                finally:
                    cursor.execute(f"PRAGMA cache_size = {int(cache_before)}")
                for name in (
                    "rows_read",
                    "rows_rejected",
                    "values_added",
                    "values_updated",
                    "values_unchanged",
                ):
                    setattr(record, name, getattr(report, name))
        finally:
            source.close()
        report.message = _("Imported.")
        return report

    def _write_points(
        self,
        cursor: object,
        source: CsvSource,
        reader: RowReader,
        report: ImportReport,
        as_of: date,
    ) -> tuple[int, int, list[tuple[object, ...]]]:
        """Read every record, collect the accepted rows, drop the rows that repeat a day (or a
        name), and upsert the rest into ``stats_points`` (see :mod:`app.stats_bulk`). Fills
        the report's row counts and rejections; returns how many values the accepted rows
        held, how many of them were added or changed in the table, and the songs' or
        playlists' rows for ``stats_entities`` still to write."""
        import sqlite3

        assert isinstance(cursor, sqlite3.Cursor)
        writer = PointWriter(
            cursor, reader.kind, str(report.resolution), reader.metrics, facts=reader.has_facts
        )
        for batch in reader.batches(source, epoch_day(as_of), BATCH):
            writer.add(batch)
        if reader.out_of_order:
            reader.add_duplicates(*writer.remove_duplicates(MAX_REJECTIONS_KEPT))
        changed = writer.upsert(SOURCE, report.import_id)
        entities: list[tuple[object, ...]] = []
        if reader.kind != "audience":
            if reader.has_facts:
                writer.upsert_facts(report.import_id)
            else:
                entities = [
                    (reader.kind, name, None, None, None, None, report.import_id)
                    for name in reader.spans
                ]
        writer.close()
        report.rows_read, report.rows_rejected = reader.rows_read, reader.rows_rejected
        report.rejections = reader.rejections
        return reader.values, changed, entities

    # -----------------------------------------------------------------------------------------
    # Queries

    def imports(self) -> list[dict[str, object]]:
        """Every import, newest first."""
        with self._db.read_session() as session:
            rows = session.execute(select(StatsImportRow).order_by(StatsImportRow.id.desc()))
            return [
                {
                    "id": r.id,
                    "file": r.file_name,
                    "sha256": r.sha256,
                    "imported_at": r.imported_at.isoformat(),
                    "kind": r.kind,
                    "resolution": r.resolution,
                    "rows_read": r.rows_read,
                    "rows_rejected": r.rows_rejected,
                    "values_added": r.values_added,
                    "values_updated": r.values_updated,
                    "values_unchanged": r.values_unchanged,
                }
                for r in rows.scalars()
            ]

    def series(
        self,
        kind: str,
        entity: str,
        metric: str,
        *,
        resolution: str = "daily",
        start: date | None = None,
        end: date | None = None,
    ) -> list[tuple[date, float]]:
        """(day, value) pairs of one series in day order, ``start`` and ``end`` included."""
        query = (
            f"SELECT p.day, p.value FROM {_SERIES_POINTS} WHERE s.kind = :kind "
            "AND s.entity = :entity AND s.resolution = :resolution AND s.metric = :metric "
            "AND p.day >= :start AND p.day <= :end ORDER BY p.day"
        )
        params = {
            "kind": kind,
            "entity": entity,
            "resolution": resolution,
            "metric": metric,
            "start": epoch_day(start or date.min),
            "end": epoch_day(end or date.max),
        }
        with self._db.read_session() as session:
            return [
                (from_epoch_day(day), float(value))
                for day, value in session.execute(text(query), params)
            ]

    def summary(self, kind: str | None = None) -> list[SeriesSummary]:
        """Per kind, entity and resolution: each metric's date range, day count, total and
        latest value. Ordered by kind, then entity."""
        where = (
            "WHERE series_id IN (SELECT id FROM stats_series WHERE kind = :kind)" if kind else ""
        )
        # One scan for the ranges; the latest value is then one primary-key lookup per series.
        query = (
            "SELECT s.kind, s.entity, s.resolution, s.metric, g.first, g.last, g.days, g.total, "
            "p.value FROM (SELECT series_id, MIN(day) AS first, MAX(day) AS last, "
            f"COUNT(*) AS days, SUM(value) AS total FROM stats_points {where} "
            "GROUP BY series_id) AS g JOIN stats_series AS s ON s.id = g.series_id "
            "JOIN stats_points AS p ON p.series_id = g.series_id AND p.day = g.last"
        )
        params = {"kind": kind} if kind else {}
        out: dict[tuple[str, str, str], SeriesSummary] = {}
        with self._db.read_session() as session:
            for k, entity, res, metric, first, final, days, total, latest in session.execute(
                text(query), params
            ):
                summary = out.setdefault((k, entity, res), SeriesSummary(k, entity, res))
                summary.metrics[metric] = MetricSummary(
                    from_epoch_day(first),
                    from_epoch_day(final),
                    int(days),
                    float(total),
                    float(latest),
                )
        order = {k: i for i, k in enumerate(("audience", "song", "playlist"))}
        return sorted(out.values(), key=lambda s: (order.get(s.kind, 9), s.entity, s.resolution))

    def date_range(self, kind: str | None = None) -> tuple[date, date] | None:
        """The first and last day stored (for ``kind``, or for all)."""
        where = (
            "WHERE series_id IN (SELECT id FROM stats_series WHERE kind = :kind)" if kind else ""
        )
        with self._db.read_session() as session:
            first, last = session.execute(
                text(f"SELECT MIN(day), MAX(day) FROM stats_points {where}"),
                {"kind": kind} if kind else {},
            ).one()
        if first is None:
            return None
        return from_epoch_day(first), from_epoch_day(last)

    def totals(self, kind: str | None = None, resolution: str = "daily") -> dict[str, float]:
        """The sum of every stored value per metric (meaningful for streams and saves; for
        listeners and followers use :meth:`summary`'s latest values)."""
        where = "WHERE s.resolution = :resolution" + (" AND s.kind = :kind" if kind else "")
        params: dict[str, str] = {"resolution": resolution}
        if kind:
            params["kind"] = kind
        with self._db.read_session() as session:
            return {
                str(metric): float(total)
                for metric, total in session.execute(
                    text(
                        f"SELECT s.metric, SUM(p.value) FROM {_SERIES_POINTS} {where} "
                        "GROUP BY s.metric"
                    ),
                    params,
                )
            }

    def series_array(
        self, kind: str, entity: str, metric: str, *, resolution: str = "daily"
    ) -> tuple[np.ndarray, np.ndarray]:
        """One series as two arrays in day order: the days (``datetime64[D]``) and the values
        (``float64``). The fast path for charts: no Python ``date`` per value."""
        query = (
            f"SELECT p.day, p.value FROM {_SERIES_POINTS} WHERE s.kind = ? AND s.entity = ? "
            "AND s.resolution = ? AND s.metric = ? ORDER BY p.day"
        )
        with self._db.read_session() as session:
            raw = session.connection().connection.dbapi_connection
            assert raw is not None
            rows = raw.execute(query, (kind, entity, resolution, metric)).fetchall()
        if not rows:
            return np.empty(0, dtype="datetime64[D]"), np.empty(0, dtype=np.float64)
        table = np.array(rows, dtype=np.float64)  # days since 1970-01-01, exact in a float
        return table[:, 0].astype(np.int64).astype("datetime64[D]"), table[:, 1].copy()

    def weekday_pattern(
        self, kind: str, entity: str, metric: str, *, resolution: str = "daily"
    ) -> WeekdayPattern | None:
        """:func:`weekday_pattern` of one stored series (``None``: too few full weeks)."""
        if resolution != "daily":
            return None
        days, values = self.series_array(kind, entity, metric, resolution=resolution)
        return weekday_pattern(days, values)

    def entity_figures(
        self,
        kind: str,
        window_days: int = WINDOW_DAYS,
        summaries: list[SeriesSummary] | None = None,
    ) -> list[EntityFigures]:
        """Every song (``kind="song"``) or playlist with its facts and stream figures (see
        :class:`EntityFigures`), ordered by name. ``summaries`` is :meth:`summary`'s answer when
        the caller has it already; without it this scans the kind's stored values (about a
        second for ten years of 200 songs): call it from a worker thread."""
        if summaries is None:
            summaries = self.summary(kind)
        rows: dict[str, dict[str, Any]] = {}

        def row(entity: str) -> dict[str, Any]:
            return rows.setdefault(entity, {"kind": kind, "entity": entity})

        end: date | None = None
        for s in summaries:
            if s.kind != kind:
                continue
            r = row(s.entity)
            streams = s.metrics.get("streams")
            if s.resolution == "daily" and streams is not None:
                r["streams_total"], r["total_from"] = streams.total, "daily"
                end = max(end or streams.last_day, streams.last_day)
            elif streams is not None and r.get("total_from") != "daily":
                r["streams_total"], r["total_from"] = streams.latest, "period"
            for metric in ("listeners", "saves"):
                m = s.metrics.get(metric)
                if m is None:
                    continue
                # the later day wins; on the same day a daily value beats a period total
                stamp = (m.last_day, s.resolution == "daily")
                if stamp > r.get(f"_{metric}_at", (date.min, False)):
                    r[metric], r[f"_{metric}_at"] = m.latest, stamp
        facts_query = (
            "SELECT entity, isrc, author, release_date, date_added FROM stats_entities "
            "WHERE kind = :kind"
        )
        # Driven by stats_entities, so each name is a primary-key range of 2 x window_days days.
        window_query = (
            "SELECT e.entity, "
            "SUM(CASE WHEN p.day > :recent_from THEN p.value END), "
            "COUNT(CASE WHEN p.day > :recent_from THEN 1 END), "
            "SUM(CASE WHEN p.day <= :recent_from THEN p.value END), "
            "COUNT(CASE WHEN p.day <= :recent_from THEN 1 END) "
            "FROM stats_entities AS e JOIN stats_series AS s ON s.kind = e.kind "
            "AND s.entity = e.entity AND s.resolution = 'daily' AND s.metric = 'streams' "
            "JOIN stats_points AS p ON p.series_id = s.id AND p.day > :previous_from "
            "AND p.day <= :end WHERE e.kind = :kind GROUP BY e.entity"
        )
        with self._db.read_session() as session:
            for entity, isrc, author, released, added in session.execute(
                text(facts_query), {"kind": kind}
            ):
                r = row(str(entity))
                r["isrc"], r["author"] = isrc, author
                r["release_date"] = date.fromisoformat(str(released)) if released else None
                r["date_added"] = date.fromisoformat(str(added)) if added else None
            if end is not None:
                params = {
                    "kind": kind,
                    "end": epoch_day(end),
                    "recent_from": epoch_day(end) - window_days,
                    "previous_from": epoch_day(end) - 2 * window_days,
                }
                for entity, recent, n_recent, previous, n_previous in session.execute(
                    text(window_query), params
                ):
                    r = row(str(entity))
                    r["streams_recent"] = float(recent) if n_recent else None
                    r["streams_previous"] = float(previous) if n_previous else None
                    r["recent_days"], r["previous_days"] = int(n_recent), int(n_previous)
                    r["change"] = _change(recent, n_recent, previous, n_previous)
        out = []
        for name in sorted(rows, key=str.casefold):
            r = {k: v for k, v in rows[name].items() if not k.startswith("_")}
            if r.get("total_from") == "daily":
                r["window_end"] = end
            out.append(EntityFigures(**r))
        return out

    def release_markers(
        self, start: date | None = None, end: date | None = None
    ) -> list[ReleaseMarker]:
        """Songs' release dates between ``start`` and ``end`` (included), one marker per day."""
        query = (
            "SELECT release_date, entity FROM stats_entities WHERE kind = 'song' "
            "AND release_date IS NOT NULL AND release_date >= :start AND release_date <= :end "
            "ORDER BY release_date"
        )
        params = {"start": (start or date.min).isoformat(), "end": (end or date.max).isoformat()}
        by_day: dict[str, list[str]] = {}
        with self._db.read_session() as session:
            for day, entity in session.execute(text(query), params):
                by_day.setdefault(str(day), []).append(str(entity))
        return [
            ReleaseMarker(date.fromisoformat(day), tuple(sorted(titles, key=str.casefold)))
            for day, titles in by_day.items()
        ]


def _change(
    recent: float | None, n_recent: int, previous: float | None, n_previous: int
) -> float | None:
    """The relative change of the daily average between two windows (see EntityFigures)."""
    if recent is None or previous is None or min(n_recent, n_previous) < MIN_WINDOW_DAYS:
        return None
    before = float(previous) / n_previous
    if not before > 0:
        return None
    change = (float(recent) / n_recent) / before - 1.0
    return change if np.isfinite(change) else None


MIN_WEEKS = 2
"""A weekday pattern needs at least this many usable days on every weekday."""
MAX_PATTERN_DAYS = 100 * 366
"""Only the latest this many days of a series enter a weekday pattern (bounds the memory)."""


def weekday_pattern(days: np.ndarray, values: np.ndarray) -> WeekdayPattern | None:
    """The day-of-week pattern (:class:`WeekdayPattern`) of a daily series: ``days`` as
    ``datetime64[D]`` (or anything numpy converts to it), one value each, any order, no day
    twice. Days missing from the series, and non-finite values, leave out every centred week
    that includes them. ``None`` when a weekday has fewer than :data:`MIN_WEEKS` usable days."""
    days = np.asarray(days, dtype="datetime64[D]")
    values = np.asarray(values, dtype=np.float64)
    if days.shape != values.shape or days.ndim != 1:
        raise ValueError("days and values must be one-dimensional and of the same length")
    if len(days) < 7 * MIN_WEEKS:
        return None
    ordinals = days.astype(np.int64)  # days since 1970-01-01, a Thursday
    last = int(ordinals.max())
    keep = ordinals > last - MAX_PATTERN_DAYS
    ordinals, values = ordinals[keep], values[keep]
    first = int(ordinals.min())
    grid = np.full(last - first + 1, np.nan)
    grid[ordinals - first] = values
    finite = np.isfinite(grid)
    with np.errstate(over="ignore", invalid="ignore"):
        sums = np.concatenate(([0.0], np.cumsum(np.where(finite, grid, 0.0))))
        counts = np.concatenate(([0], np.cumsum(finite)))
        centre = np.arange(3, len(grid) - 3)
        week_sum = sums[centre + 4] - sums[centre - 3]
        week_days = counts[centre + 4] - counts[centre - 3]
        ok = (week_days == 7) & np.isfinite(week_sum) & (week_sum > 0)
        ratio = grid[centre[ok]] / (week_sum[ok] / 7.0)
    weekday = (centre[ok] + first + 3) % 7  # 0 = Monday
    samples = np.bincount(weekday, minlength=7)
    if samples.min() < MIN_WEEKS:
        return None
    means = np.bincount(weekday, weights=ratio, minlength=7) / samples
    index = means / means.mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        others = (7.0 - index) / 6.0
        vs_other = np.where(others > 1e-12, index / others - 1.0, np.nan)
    return WeekdayPattern(
        tuple(float(v) for v in index),
        tuple(float(v) for v in vs_other),
        tuple(int(n) for n in samples),
    )


def import_files(
    database: Database, paths: list[Path], mapping: ColumnMapping | None = None, **options: object
) -> list[ImportReport]:
    """Import several files, one transaction each; a refused file does not stop the others."""
    store = StatsStore(database)
    return [store.import_csv(p, mapping, **options) for p in paths]  # type: ignore[arg-type]


__all__ = [
    "EntityFigures",
    "ImportReport",
    "ReleaseMarker",
    "SeriesSummary",
    "StatsStore",
    "WeekdayPattern",
    "detect",
    "import_files",
    "weekday_pattern",
]


class ForecastFailed(Exception):
    """No forecast for this series; the message says why."""


def forecast_points(points: list[tuple[date, float]], days: int) -> Any:
    """A forecast (:class:`models.forecast.Forecast`) of a stored daily series, for the GUI's
    worker thread and the command line; :class:`ForecastFailed` when the series cannot be
    forecast (too short, too sparse...)."""
    from models.forecast import ForecastError, forecast

    try:
        return forecast([d for d, _v in points], [v for _d, v in points], days)
    except ForecastError as exc:
        raise ForecastFailed(str(exc)) from exc

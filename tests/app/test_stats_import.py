"""Spotify for Artists CSV import: header recognition, encodings, number and date formats,
per-row rejections, de-duplicated re-imports, all-or-nothing transactions, the size cap."""

from __future__ import annotations

import io
import sqlite3
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.stats_bulk import PointWriter
from app.stats_import import (
    ColumnMapping,
    MappingError,
    detect,
    neutralise_cell,
    parse_number,
    read_layout,
    sniff_encoding,
    write_csv,
)
from app.stats_store import ImportReport, StatsStore
from app.storage import Database, migrate, open_database

pytestmark = pytest.mark.usefixtures("english", "writer_mode")


@pytest.fixture(params=["memory", "temp_table"])
def writer_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs with the rows held in memory (the default for files up to
    :data:`app.stats_bulk.MEMORY_ROWS` rows) and again through the TEMP table (larger files)."""
    import app.stats_bulk

    if request.param == "temp_table":
        monkeypatch.setattr(app.stats_bulk, "MEMORY_ROWS", 0)
    return str(request.param)


TODAY = date(2026, 6, 30)


def audience_csv(days: int, start: date = date(2025, 1, 1), scale: int = 1) -> str:
    """A timeline whose values are derived from the day index, so any mix-up shows."""
    lines = ["date,listeners,streams,followers"]
    for i in range(days):
        day = start + timedelta(days=i)
        lines.append(f"{day.isoformat()},{(100 + i) * scale},{(300 + 2 * i) * scale},{50 + i}")
    return "\n".join(lines) + "\n"


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.fixture
def stats(database: Database) -> StatsStore:
    return StatsStore(database)


def test_audience_timeline_is_recognised_and_stored(stats: StatsStore, tmp_path: Path) -> None:
    report = stats.import_csv(write(tmp_path, "a.csv", audience_csv(30)), today=TODAY)
    assert (report.status, report.kind, report.resolution) == ("imported", "audience", "daily")
    assert (report.rows_read, report.rows_rejected, report.values_added) == (30, 0, 90)
    streams = stats.series("audience", "", "streams")
    assert len(streams) == 30
    assert streams[0] == (date(2025, 1, 1), 300.0)
    assert streams[-1] == (date(2025, 1, 30), 358.0)
    assert stats.date_range() == (date(2025, 1, 1), date(2025, 1, 30))
    assert stats.totals("audience")["streams"] == sum(300 + 2 * i for i in range(30))


def test_reordered_renamed_and_localised_headers(stats: StatsStore, tmp_path: Path) -> None:
    text = "Follower;Wiedergaben ;HÖRER;Datum;Kommentar\n7;1.234,0;12;31.12.2025;x\n"
    report = stats.import_csv(write(tmp_path, "de.csv", text), today=TODAY)
    assert report.status == "imported", report.message
    assert report.kind == "audience"
    assert report.layout is not None and report.layout.ignored == ["Kommentar"]
    assert stats.series("audience", "", "streams") == [(date(2025, 12, 31), 1234.0)]
    assert stats.series("audience", "", "listeners") == [(date(2025, 12, 31), 12.0)]
    assert stats.series("audience", "", "followers") == [(date(2025, 12, 31), 7.0)]


def test_header_aliases_detect_every_kind() -> None:
    mapping, ignored = detect(["Song", "ISRC", "Listeners", "Streams", "Saves", "Release Date"])
    assert mapping is not None and mapping.kind == "song" and ignored == []
    mapping, _ = detect(["Title", "Author", "Listeners", "Streams", "Date Added"])
    assert mapping is not None and mapping.kind == "playlist"
    assert mapping.columns["playlist"] == 0
    mapping, _ = detect(["date", "song", "streams"])
    assert mapping is not None and (mapping.kind, mapping.columns["date"]) == ("song", 0)
    assert detect(["when", "how many"])[0] is None
    assert detect(["date", "notes"])[0] is None  # no numbers


def test_songs_over_a_period_use_the_as_of_day(stats: StatsStore, tmp_path: Path) -> None:
    text = (
        "song,isrc,listeners,streams,saves,release_date\n"
        "Night Drive,usrc17607839,1200,3400,150,2024-03-01\n"
        'Morning 🌅 Song,,80,"2,500",9,\n'
    )
    report = stats.import_csv(write(tmp_path, "songs.csv", text), as_of=date(2026, 5, 31))
    assert (report.kind, report.resolution, report.values_added) == ("song", "period", 6)
    assert stats.series("song", "Morning 🌅 Song", "streams", resolution="period") == [
        (date(2026, 5, 31), 2500.0)
    ]
    with sqlite3.connect(stats._db.path) as raw:
        row = raw.execute(
            "SELECT isrc, release_date FROM stats_entities WHERE entity = 'Night Drive'"
        ).fetchone()
    raw.close()
    assert row == ("USRC17607839", "2024-03-01")


def test_reimport_adds_nothing_and_counts_corrections(stats: StatsStore, tmp_path: Path) -> None:
    first = stats.import_csv(write(tmp_path, "a.csv", audience_csv(10)), today=TODAY)
    again = stats.import_csv(tmp_path / "a.csv", today=TODAY)
    assert (again.values_added, again.values_updated, again.values_unchanged) == (0, 0, 30)
    assert again.imported_before is not None
    corrected = audience_csv(10).replace("2025-01-03,102,", "2025-01-03,999,")
    fixed = stats.import_csv(write(tmp_path, "b.csv", corrected + "2025-01-11,1,2,3\n"))
    assert (fixed.values_added, fixed.values_updated, fixed.values_unchanged) == (3, 1, 29)
    listeners = dict(stats.series("audience", "", "listeners"))
    assert listeners[date(2025, 1, 3)] == 999.0
    assert len(listeners) == 11
    assert first.import_id != fixed.import_id
    assert [i["values_updated"] for i in stats.imports()] == [1, 0, 0]


def test_every_rejected_row_is_reported_with_its_line_and_reason(
    stats: StatsStore, tmp_path: Path
) -> None:
    text = (
        "date,listeners,streams\n"  # 1
        "2025-01-01,10,20\n"  # 2 ok
        ",10,20\n"  # 3 missing date
        "2025-02-30,1,2\n"  # 4 no such day
        "2025-01-02,=cmd|' /C calc'!A0,3\n"  # 5 formula, not a number
        "2025-01-01,11,21\n"  # 6 same day again
        "2025-01-03,-5,3\n"  # 7 negative
        "2025-01-04,,\n"  # 8 no values
        "2099-01-01,1,1\n"  # 9 future
        "\n"  # 10 blank: skipped, not a row
        "2025-01-05,1e400,1\n"  # 11 infinite
        "2025-01-06,12,22\n"  # 12 ok
    )
    report = stats.import_csv(write(tmp_path, "bad.csv", text), today=TODAY)
    got = [(r.line, r.reason) for r in report.rejections]
    assert got == [
        (3, "missing_date"),
        (4, "bad_date"),
        (5, "bad_number"),
        (6, "duplicate_day"),
        (7, "negative_number"),
        (8, "no_values"),
        (9, "future_date"),
        (11, "bad_number"),
    ]
    assert "line 2" in report.rejections[3].message
    assert (report.rows_read, report.rows_rejected, report.values_added) == (10, 8, 4)
    assert stats.series("audience", "", "listeners") == [
        (date(2025, 1, 1), 10.0),
        (date(2025, 1, 6), 12.0),
    ]


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("utf-16", b""), ("utf-16-le", b""), ("utf-8", b"\xef\xbb\xbf"), ("cp1252", b"")],
)
def test_encodings(stats: StatsStore, tmp_path: Path, encoding: str, prefix: bytes) -> None:
    text = "Datum\tHörer\tWiedergaben\r\n2025-03-01\t5\t7\r\n"
    path = write(tmp_path, "x.csv", prefix + text.encode(encoding))
    report = stats.import_csv(path, today=TODAY)
    assert report.status == "imported", report.message
    assert report.layout is not None and report.layout.headers[1] == "Hörer"
    assert stats.series("audience", "", "listeners") == [(date(2025, 3, 1), 5.0)]


def test_excel_sep_line_and_semicolons(stats: StatsStore, tmp_path: Path) -> None:
    text = "sep=;\nDate;Streams\n2025-03-01;1.234.567\n2025-03-02;12,5\n"
    report = stats.import_csv(write(tmp_path, "x.csv", text), today=TODAY)
    assert report.rows_rejected == 0
    values = [v for _d, v in stats.series("audience", "", "streams")]
    assert values == [1234567.0, 12.5]


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("1234", 1234.0),
        ("1.234,5", 1234.5),
        ("1,234.5", 1234.5),
        ("1 234", 1234.0),
        ("1\u00a0234\u202f567", 1234567.0),
        ("1'234", 1234.0),
        ("12,5", 12.5),
        ("0.5", 0.5),
        ("1,234", 1234.0),
        ("", None),
        ("١٢", 12.0),  # Arabic-Indic digits, as Python's int() reads them
    ],
)
def test_parse_number(cell: str, value: float | None) -> None:
    assert parse_number(cell) == value


@pytest.mark.parametrize("cell", ["abc", "1,23,4", "1.2.3,4,5", "=1+2", "nan", "inf", "5%"])
def test_parse_number_refuses(cell: str) -> None:
    with pytest.raises(ValueError):
        parse_number(cell)


@given(st.text(max_size=30))
@settings(max_examples=300, deadline=None)
def test_parse_number_never_crashes_otherwise(cell: str) -> None:
    try:
        value = parse_number(cell)
    except ValueError:
        return
    assert value is None or value == value  # never NaN


def test_unknown_layout_then_explicit_mapping(stats: StatsStore, tmp_path: Path) -> None:
    text = "Wann,Stück,Abspielzahl\n2025-01-01,Night Drive,40\n2025-01-02,Night Drive,41\n"
    path = write(tmp_path, "odd.csv", text)
    report = stats.import_csv(path, today=TODAY)
    assert report.status == "unknown_layout"
    assert report.layout is not None
    assert report.layout.headers == ["Wann", "Stück", "Abspielzahl"]
    assert report.layout.sample[0] == ["2025-01-01", "Night Drive", "40"]
    assert stats.summary() == []
    mapping = ColumnMapping.parse("kind=song,date=wann,song=1,streams=Abspielzahl")
    report = stats.import_csv(path, mapping, today=TODAY)
    assert report.status == "imported"
    assert stats.series("song", "Night Drive", "streams") == [
        (date(2025, 1, 1), 40.0),
        (date(2025, 1, 2), 41.0),
    ]
    same = ColumnMapping.parse('{"kind": "song", "date": 0, "song": "Stück", "streams": 2}')
    assert same.columns == {"date": 0, "song": "Stück", "streams": 2}


@pytest.mark.parametrize(
    "text",
    [
        "kind=band,date=0,streams=1",
        "kind=song,streams=1",
        "kind=audience,streams=1",
        "kind=song,song=0",
        "kind=song,song=0,streams=1,colour=2",
        "kind=song song=0",
        "{not json",
        "[1, 2]",
        '{"kind": "song", "song": 0, "streams": true}',
        "",
    ],
)
def test_bad_mappings_are_refused(text: str) -> None:
    with pytest.raises(MappingError):
        ColumnMapping.parse(text)


def test_mapping_to_a_missing_column_is_refused(stats: StatsStore, tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", audience_csv(2))
    mapping = ColumnMapping.parse("kind=audience,date=date,streams=Plays")
    report = stats.import_csv(path, mapping)
    assert report.status == "refused" and "Plays" in report.message
    mapping = ColumnMapping.parse("kind=audience,date=0,streams=9")
    assert stats.import_csv(path, mapping).status == "refused"
    assert stats.summary() == []


def test_files_over_the_cap_are_refused_before_reading(stats: StatsStore, tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with open(path, "wb") as f:  # sparse: 300 MB on paper, nothing on disk
        f.write(b"date,streams\n")
        f.truncate(300 * 1024 * 1024)
    report = stats.import_csv(path)
    assert report.status == "refused" and "larger than" in report.message
    small = write(tmp_path, "a.csv", audience_csv(50))
    assert stats.import_csv(small, max_bytes=100).status == "refused"
    assert stats.imports() == []


@pytest.mark.parametrize(
    "content",
    [b"", b"\x00\x01\x02\x03" * 100, b"\n\n\n", b"PK\x03\x04" + bytes(range(256)) * 4],
)
def test_empty_and_binary_files_are_refused(
    stats: StatsStore, tmp_path: Path, content: bytes
) -> None:
    report = stats.import_csv(write(tmp_path, "x.csv", content))
    assert report.status in {"refused", "unknown_layout"}
    assert stats.imports() == []


def test_missing_file_and_folder(stats: StatsStore, tmp_path: Path) -> None:
    assert stats.import_csv(tmp_path / "nope.csv").status == "refused"
    assert stats.import_csv(tmp_path).status == "refused"


class _FailingReader:
    """Wraps a csv reader; the ``fail_at``-th record raises OSError like an unplugged disk."""

    def __init__(self, reader: Any, fail_at: int) -> None:
        self._reader, self._fail_at, self.count = reader, fail_at, 0

    @property
    def line_num(self) -> int:
        return int(self._reader.line_num)

    def __iter__(self) -> _FailingReader:
        return self

    def __next__(self) -> list[str]:
        self.count += 1
        if self.count == self._fail_at:
            raise OSError("disk unplugged")
        return list(next(self._reader))


@pytest.mark.parametrize("stage", ["reading", "after_upsert"])
def test_a_failure_part_way_keeps_everything_imported_before(
    stats: StatsStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stage: str
) -> None:
    stats.import_csv(write(tmp_path, "a.csv", audience_csv(20)), today=TODAY)
    before = stats.series("audience", "", "streams")
    import app.stats_store as store_module

    monkeypatch.setattr(store_module, "BATCH", 5)  # several batches reach the TEMP table
    if stage == "reading":
        real_open = store_module.open_csv

        def opening(path: Path, max_bytes: int) -> Any:
            source = real_open(path, max_bytes)
            source.reader = _FailingReader(source.reader, 15)
            return source

        monkeypatch.setattr(store_module, "open_csv", opening)
    else:  # the new values are in stats_points already when it fails
        real_upsert = PointWriter.upsert

        def upsert_then_fail(self: PointWriter, *args: Any) -> int:
            real_upsert(self, *args)
            raise OSError("disk unplugged")

        monkeypatch.setattr(PointWriter, "upsert", upsert_then_fail)
    report = stats.import_csv(write(tmp_path, "b.csv", audience_csv(40, scale=3)), today=TODAY)
    assert report.status == "refused" and "disk unplugged" in report.message
    assert stats.series("audience", "", "streams") == before
    assert len(stats.imports()) == 1
    monkeypatch.undo()  # the connection is usable again and its TEMP table is gone
    again = stats.import_csv(tmp_path / "b.csv", today=TODAY)
    # days 21-40 are new (3 values each); days 1-20 get tripled listeners and streams, while
    # followers (not scaled) stay as they were
    assert (again.values_added, again.values_updated, again.values_unchanged) == (60, 40, 20)


def test_odd_names_are_kept_as_text(stats: StatsStore, tmp_path: Path) -> None:
    names = ['=HYPERLINK("http://x")', "مرحبا мир 世界", "a\x07b\u200bc", "+1 song", "🎸" * 10]
    body = "".join(f'"{n.replace(chr(34), chr(34) * 2)}",{i + 1}\n' for i, n in enumerate(names))
    report = stats.import_csv(write(tmp_path, "s.csv", "song,streams\n" + body), as_of=TODAY)
    assert report.rows_rejected == 0, [r.message for r in report.rejections]
    entities = [s.entity for s in stats.summary("song")]
    assert sorted(entities) == sorted(
        ['=HYPERLINK("http://x")', "مرحبا мир 世界", "abc", "+1 song", "🎸" * 10]
    )
    long_name = "x" * 600
    report = stats.import_csv(write(tmp_path, "l.csv", f"song,streams\n{long_name},1\n"))
    assert [r.reason for r in report.rejections] == ["entity_too_long"]


def test_neutralise_cell_and_csv_export() -> None:
    assert neutralise_cell("=cmd|' /C calc'!A0") == "'=cmd|' /C calc'!A0"
    for lead in "=+-@\t\r":
        assert neutralise_cell(lead + "x").startswith("'")
    assert neutralise_cell("Night Drive") == "Night Drive"
    assert neutralise_cell(-3) == "-3"
    assert neutralise_cell(2.5) == "2.5"
    out = io.StringIO()
    write_csv([["song", "streams"], ["=SUM(A1)", 5], ["@x", -1.5]], out)
    lines = out.getvalue().splitlines()
    assert lines == ["song,streams", "'=SUM(A1),5", "'@x,-1.5"]


def test_ambiguous_slash_dates(stats: StatsStore, tmp_path: Path) -> None:
    text = "date,streams\n03/04/2025,1\n25/04/2025,2\n05/06/2025,3\n"
    report = stats.import_csv(write(tmp_path, "s.csv", text), today=TODAY)
    assert [(r.line, r.reason) for r in report.rejections] == [(2, "ambiguous_date")]
    assert [d for d, _v in stats.series("audience", "", "streams")] == [
        date(2025, 4, 25),
        date(2025, 6, 5),
    ]


def test_sniff_encoding() -> None:
    assert sniff_encoding("date,streams".encode("utf-16-be")) == "utf-16-be"
    assert sniff_encoding(b"\xef\xbb\xbfdate") == "utf-8-sig"
    assert sniff_encoding("Hörer".encode("cp1252") + b",x" * 10) == "cp1252"
    assert sniff_encoding("Hörer,x".encode()) == "utf-8"


def test_layout_of_a_file_with_broken_quotes(tmp_path: Path) -> None:
    path = write(tmp_path, "q.csv", 'date,streams\n2025-01-01,"5\n2025-01-02,6\n')
    layout = read_layout(path)
    assert layout.kind == "audience"


def test_upgrade_from_0004_adds_the_stats_tables(db_path: Path) -> None:
    from sqlalchemy import create_engine

    db_path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(f"sqlite:///{db_path}")
    with engine.begin() as connection:
        migrate.upgrade(connection, "0004")
        connection.exec_driver_sql(
            "INSERT INTO analysed_tracks (path, size, mtime_ns, analysed_at, analysis_version) "
            "VALUES ('/m/a.wav', 1, 2, '2025-12-02 10:00:00.000000', 2)"
        )
    engine.dispose()
    db = open_database(db_path)
    try:
        assert db.revision() == migrate.head_revision()
        with db.read_session() as session:
            from sqlalchemy import text

            assert session.execute(text("SELECT COUNT(*) FROM analysed_tracks")).scalar() == 1
            assert session.execute(text("SELECT COUNT(*) FROM stats_points")).scalar() == 0
    finally:
        db.close()


# ---------------------------------------------------------------------------------------------
# The bulk path: shortcut and full checks agree, duplicates in any order, bounded memory


def test_rows_in_any_day_order_are_kept_and_repeats_found(
    stats: StatsStore, tmp_path: Path
) -> None:
    days = [date(2025, 1, 1) + timedelta(days=i) for i in range(30)]
    order = days[::-1]  # newest first, as some exports list them
    lines = ["date,song,streams"]
    lines += [f"{d.isoformat()},{s},{d.day * 10 + i}" for d in order for i, s in enumerate("AB")]
    lines += ["2024-12-31,A,5", "2025-01-15,B,7", "2025-02-10,A,1"]  # B's day 15 again
    report = stats.import_csv(write(tmp_path, "rev.csv", "\n".join(lines) + "\n"), today=TODAY)
    first_b_15 = 2 + 2 * order.index(date(2025, 1, 15)) + 1  # header is line 1
    assert [(r.line, r.reason, r.detail) for r in report.rejections] == [
        (len(lines) - 1, "duplicate_day", str(first_b_15))
    ]
    assert (report.rows_read, report.values_added) == (63, 62)
    stored = dict(stats.series("song", "B", "streams"))
    assert stored[date(2025, 1, 15)] == 15 * 10 + 1  # the first row of the day wins
    assert len(stats.series("song", "A", "streams")) == 32


@st.composite
def shuffled_timelines(draw: st.DrawFn) -> list[tuple[str, int, int]]:
    """Rows (song, day offset, streams) in any order, some (song, day) twice or more."""
    keys = st.tuples(st.sampled_from(["A", "B", "Ç 🎸"]), st.integers(0, 12))
    rows = draw(st.lists(st.tuples(keys, st.integers(0, 10**6)), min_size=1, max_size=60))
    return [(song, day, value) for (song, day), value in rows]


def test_duplicates_in_any_order_match_a_plain_reference(tmp_path: Path) -> None:
    database = open_database(tmp_path / "h.sqlite3")
    stats = StatsStore(database)
    counter = iter(range(10**6))
    start = date(2025, 3, 1)

    @given(shuffled_timelines())
    @settings(max_examples=40, deadline=None)
    def check(rows: list[tuple[str, int, int]]) -> None:
        prefix = f"{next(counter)}-"  # each example writes its own songs
        text = "date,song,streams\n" + "".join(
            f"{(start + timedelta(days=d)).isoformat()},{prefix}{s},{v}\n" for s, d, v in rows
        )
        path = write(tmp_path, "s.csv", text)
        report = stats.import_csv(path, today=TODAY)
        first: dict[tuple[str, int], int] = {}
        expected_rejections: list[tuple[int, str, str]] = []
        expected: dict[str, dict[date, float]] = {}
        for line, (song, day, value) in enumerate(rows, start=2):
            if (song, day) in first:
                expected_rejections.append((line, "duplicate_day", str(first[song, day])))
                continue
            first[song, day] = line
            expected.setdefault(song, {})[start + timedelta(days=day)] = float(value)
        got = [(r.line, r.reason, r.detail) for r in report.rejections]
        assert got == expected_rejections
        assert report.rows_rejected == len(expected_rejections)
        assert report.values_added == len(first)
        for song, series in expected.items():
            assert dict(stats.series("song", prefix + song, "streams")) == series

    try:
        check()
    finally:
        database.close()


def test_period_duplicates_keep_the_first_rows_facts(stats: StatsStore, tmp_path: Path) -> None:
    text = (
        "song,isrc,streams,release_date\n"
        "Night Drive,USRC1,10,2024-03-01\n"
        "Other,,5,\n"
        "Night Drive,USRC2,99,2020-01-01\n"
    )
    report = stats.import_csv(write(tmp_path, "p.csv", text), as_of=TODAY)
    assert [(r.line, r.reason, r.detail) for r in report.rejections] == [
        (4, "duplicate_entity", "2")
    ]
    assert stats.series("song", "Night Drive", "streams", resolution="period") == [(TODAY, 10.0)]
    with sqlite3.connect(stats._db.path) as raw:
        facts = raw.execute(
            "SELECT entity, isrc, release_date FROM stats_entities ORDER BY entity"
        ).fetchall()
    raw.close()
    assert facts == [("Night Drive", "USRC1", "2024-03-01"), ("Other", None, None)]


def test_kept_rejections_stay_in_line_order_past_the_limit(
    stats: StatsStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import app.stats_store as store_module

    monkeypatch.setattr(store_module, "MAX_REJECTIONS_KEPT", 3)
    import app.stats_import as import_module

    monkeypatch.setattr(import_module, "MAX_REJECTIONS_KEPT", 3)
    text = (
        "date,streams\n"
        "2025-01-02,1\n"  # 2
        "2025-01-01,1\n"  # 3
        "2025-01-02,2\n"  # 4 duplicate of 2 (found by the second step)
        "2025-01-03,x\n"  # 5 bad number
        "2025-01-01,3\n"  # 6 duplicate of 3
        "2025-01-04,y\n"  # 7 bad number
        "2025-01-05,z\n"  # 8 bad number
    )
    report = stats.import_csv(write(tmp_path, "r.csv", text), today=TODAY)
    assert [(r.line, r.reason) for r in report.rejections] == [
        (4, "duplicate_day"),
        (5, "bad_number"),
        (6, "duplicate_day"),
    ]
    assert (report.rows_read, report.rows_rejected, report.values_added) == (7, 5, 2)
    assert report.values_unchanged == 0
    assert stats.imports()[0]["rows_rejected"] == 5


def test_shortcut_and_full_checks_agree(stats: StatsStore, tmp_path: Path) -> None:
    # The first row of each name and date goes through every check, later ones may take the
    # shortcut; whichever way a cell comes, it must read the same.
    text = (
        "date,song,streams\n"
        "2025-01-01,A,0012\n"
        "2025-01-01,B,1.234\n"  # grouping, not a decimal
        "2025-01-02,A,12\n"
        "2025-01-02,B," + "9" * 400 + "\n"  # a float of this is infinite: not a number
        "2025-01-03,A,١٢\n"  # Arabic-Indic digits
        "2025-01-03,B,1234567890123456\n"  # 16 digits: the long way, still exact
        " 2025-01-04 , A ,5\n"  # spaces around: trimmed
    )
    report = stats.import_csv(write(tmp_path, "m.csv", text), today=TODAY)
    assert [(r.line, r.reason) for r in report.rejections] == [(5, "bad_number")]
    assert stats.series("song", "A", "streams") == [
        (date(2025, 1, 1), 12.0),
        (date(2025, 1, 2), 12.0),
        (date(2025, 1, 3), 12.0),
        (date(2025, 1, 4), 5.0),
    ]
    assert stats.series("song", "B", "streams") == [
        (date(2025, 1, 1), 1234.0),
        (date(2025, 1, 3), 1234567890123456.0),
    ]
    with pytest.raises(ValueError):
        parse_number("9" * 400)


def test_too_many_names_are_refused_whole(
    stats: StatsStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import app.stats_import as import_module

    monkeypatch.setattr(import_module, "MAX_ENTITIES", 5)
    body = "".join(f"2025-01-01,Song {i},{i}\n" for i in range(6))
    report = stats.import_csv(write(tmp_path, "n.csv", "date,song,streams\n" + body), today=TODAY)
    assert report.status == "refused" and "more than 5" in report.message
    assert stats.summary() == [] and stats.imports() == []
    ok = stats.import_csv(
        write(tmp_path, "o.csv", "date,song,streams\n" + body[: body.rfind("2025")])
    )
    assert ok.status == "imported" and ok.values_added == 5


@given(
    st.lists(
        st.tuples(
            # names: emoji, mixed scripts, control characters (NUL makes a file binary; lone
            # surrogates cannot be written as UTF-8, undecodable bytes are tested elsewhere)
            st.text(
                st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)),
                max_size=12,
            ),
            st.sampled_from(["2025-01-01", "2025-01-02", "01/02/2025", "", "x", "2099-01-01"]),
            st.one_of(
                st.text(
                    st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)),
                    max_size=8,
                ),
                st.integers(-5, 10**9).map(str),
            ),
        ),
        max_size=25,
    )
)
@settings(max_examples=60, deadline=None)
def test_any_cells_are_counted_never_crash(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str, str, str]]
) -> None:
    tmp = tmp_path_factory.mktemp("cells")
    out = io.StringIO()
    write_csv([["date", "song", "streams"], *[[d, s, v] for s, d, v in rows]], out)
    path = tmp / "c.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    database = open_database(tmp / "c.sqlite3")
    try:
        report = StatsStore(database).import_csv(path, today=TODAY)
        assert report.status == "imported", report.message
        assert report.rows_read - report.rows_rejected >= 0
        assert report.values_added == report.rows_read - report.rows_rejected
        assert len(report.rejections) == report.rows_rejected
    finally:
        database.close()


def _write_200k_rows(path: Path) -> int:
    start = date(2023, 1, 1)
    with open(path, "w", encoding="utf-8") as f:
        f.write("date,song,streams\n")
        for d in range(1000):
            day = (start + timedelta(days=d)).isoformat()
            f.writelines(f"{day},Song {s:03d},{(d * 7 + s * 13) % 5000}\n" for s in range(200))
    return path.stat().st_size


def _traced_import(stats: StatsStore, path: Path) -> tuple[ImportReport, int]:
    import tracemalloc

    tracemalloc.start()
    try:
        report = stats.import_csv(path, today=TODAY)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return report, peak


def test_a_file_over_the_memory_cap_is_streamed_not_held(
    stats: StatsStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """~5 MB, 200,000 rows, with the in-memory cap (:data:`app.stats_bulk.MEMORY_ROWS`) at
    1,000 rows. Held as Python objects at once (a tuple of line, name, day and value per row:
    about 170 bytes each) they would take some 34 MB, about 7 times the file; streamed through
    the TEMP table, Python holds the capped rows once, one batch of rows
    (:data:`app.stats_store.BATCH`), per song two numbers and a few caches. The bound, the
    file's size, fails the first and leaves room for the second; SQLite's own memory (page
    cache, sorter) is not counted by tracemalloc."""
    import app.stats_bulk

    monkeypatch.setattr(app.stats_bulk, "MEMORY_ROWS", 1_000)
    size = _write_200k_rows(tmp_path / "big.csv")
    assert size > 4_500_000
    report, peak = _traced_import(stats, tmp_path / "big.csv")
    assert report.status == "imported" and report.values_added == 200_000
    assert peak < size, f"peak {peak / 1e6:.1f} MB for a {size / 1e6:.1f} MB file"
    assert stats.series("song", "Song 007", "streams")[-1] == (
        date(2023, 1, 1) + timedelta(days=999),
        float((999 * 7 + 7 * 13) % 5000),
    )


def test_rows_under_the_memory_cap_are_held_compactly(
    stats: StatsStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same 200,000 rows under the default cap are held in memory as arrays: the Python
    allocation peak stays under 60 bytes a row (as tuples they would need about 170 held,
    plus the lists to write them), and the import gives the same table as the streamed one."""
    import app.stats_bulk

    monkeypatch.setattr(app.stats_bulk, "MEMORY_ROWS", 1_500_000)
    size = _write_200k_rows(tmp_path / "big.csv")
    report, peak = _traced_import(stats, tmp_path / "big.csv")
    assert report.status == "imported" and report.values_added == 200_000
    assert peak < 60 * 200_000, f"peak {peak / 1e6:.1f} MB for 200,000 rows ({size} bytes)"
    assert stats.series("song", "Song 007", "streams")[-1] == (
        date(2023, 1, 1) + timedelta(days=999),
        float((999 * 7 + 7 * 13) % 5000),
    )
    assert stats.totals("song")["streams"] == sum(
        (d * 7 + s * 13) % 5000 for d in range(1000) for s in range(200)
    )

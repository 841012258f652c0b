"""The Stats room's queries: the day-of-week pattern (known inputs, growth, gaps, bad values),
the per-song and per-playlist figures, release markers and the array form of a series, on a
real database filled through the importer."""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.stats_store import (
    MIN_WEEKS,
    StatsStore,
    WeekdayPattern,
    weekday_pattern,
)
from app.storage import Database

pytestmark = pytest.mark.usefixtures("english")

TODAY = date(2026, 6, 30)
FRIDAY = 4


def days_from(start: date, n: int) -> np.ndarray:
    return np.arange(np.datetime64(start.isoformat()), np.datetime64(start.isoformat()) + n)


def weekdays(days: np.ndarray) -> np.ndarray:
    return np.array([date.fromisoformat(str(d)).weekday() for d in days])


def expected_vs_others(profile: np.ndarray) -> np.ndarray:
    return np.array([profile[d] / np.delete(profile, d).mean() - 1.0 for d in range(7)])


# ---------------------------------------------------------------------------------------------
# Day of week


def test_twenty_percent_more_on_fridays_reads_as_twenty_percent() -> None:
    days = days_from(date(2024, 1, 1), 52 * 7)
    values = np.where(weekdays(days) == FRIDAY, 1200.0, 1000.0)
    pattern = weekday_pattern(days, values)
    assert pattern is not None
    assert pattern.vs_other_days[FRIDAY] == pytest.approx(0.20, abs=1e-9)
    for d in set(range(7)) - {FRIDAY}:
        # the other days against the rest of the week, Friday included: 1 / (6.2 / 6) - 1
        assert pattern.vs_other_days[d] == pytest.approx(6 / 6.2 - 1, abs=1e-9)
    assert pattern.index[FRIDAY] == pytest.approx(1.2 / (7.2 / 7), abs=1e-9)
    assert sum(pattern.index) == pytest.approx(7.0)
    # 364 days: every day but the first three and last three has a full centred week
    assert sum(pattern.samples) == 364 - 6 and pattern.weeks == 51


@pytest.mark.parametrize("growth", ["linear", "exponential", "decline"])
def test_growth_does_not_make_a_weekday_pattern(growth: str) -> None:
    days = days_from(date(2023, 3, 15), 300)
    t = np.arange(len(days), dtype=np.float64)
    values = {
        "linear": 100.0 + 25.0 * t,  # 100 to 7575: a calendar-week mean would tilt Mon/Sun
        "exponential": 100.0 * 1.01**t,
        "decline": 5000.0 * 0.99**t,
    }[growth]
    pattern = weekday_pattern(days, values)
    assert pattern is not None
    assert max(abs(v) for v in pattern.vs_other_days) < 1e-9


def test_the_friday_pattern_survives_strong_growth() -> None:
    days = days_from(date(2020, 2, 3), 3 * 365)
    t = np.arange(len(days), dtype=np.float64)
    values = (500.0 + 10.0 * t) * np.where(weekdays(days) == FRIDAY, 1.2, 1.0)
    pattern = weekday_pattern(days, values)
    assert pattern is not None and pattern.vs_other_days[FRIDAY] == pytest.approx(0.2, abs=0.002)


@settings(max_examples=60, deadline=None)
@given(
    profile=st.lists(st.floats(0.3, 3.0), min_size=7, max_size=7),
    weeks=st.integers(4, 80),
    offset=st.integers(0, 6),
    growth=st.floats(-0.002, 0.002),
    scale=st.floats(1.0, 1e7),
)
def test_a_known_weekly_profile_is_recovered(
    profile: list[float], weeks: int, offset: int, growth: float, scale: float
) -> None:
    days = days_from(date(2022, 1, 3) + timedelta(days=offset), weeks * 7)
    shape = np.array(profile)[weekdays(days)]
    values = scale * shape * (1.0 + growth) ** np.arange(len(days))
    pattern = weekday_pattern(days, values)
    assert pattern is not None
    # as ratios (1 + change): within 2 % of the profile's own ratio to the other days
    np.testing.assert_allclose(
        1.0 + np.array(pattern.vs_other_days),
        1.0 + expected_vs_others(np.array(profile)),
        rtol=0.02,
    )
    assert pattern.weeks >= weeks - 1


def test_missing_days_leave_out_their_weeks_only() -> None:
    days = days_from(date(2025, 1, 6), 20 * 7)
    values = np.where(weekdays(days) == FRIDAY, 120.0, 100.0)
    keep = np.ones(len(days), dtype=bool)
    keep[30:33] = False  # three days missing
    pattern = weekday_pattern(days[keep], values[keep])
    full = weekday_pattern(days, values)
    assert pattern is not None and full is not None
    assert pattern.vs_other_days[FRIDAY] == pytest.approx(0.2, abs=1e-9)
    # each missing day spoils the 7 centred weeks that contain it: 9 windows in all
    assert sum(full.samples) - sum(pattern.samples) == 9


def test_order_of_the_input_does_not_matter() -> None:
    days = days_from(date(2025, 3, 1), 70)
    values = np.arange(70, dtype=np.float64) % 7 + 1.0
    shuffled = np.random.default_rng(3).permutation(70)
    assert weekday_pattern(days[shuffled], values[shuffled]) == weekday_pattern(days, values)


@pytest.mark.parametrize(
    ("values", "n"),
    [
        (np.zeros(70), 70),  # nothing streamed: no week to compare with
        (np.full(13, 5.0), 13),  # under two weeks
        (np.full(70, np.nan), 70),
        (np.full(70, np.inf), 70),
    ],
)
def test_no_pattern_without_enough_usable_weeks(values: np.ndarray, n: int) -> None:
    assert weekday_pattern(days_from(date(2025, 1, 1), n), values) is None


def test_empty_and_mismatched_input() -> None:
    assert weekday_pattern(np.empty(0, dtype="datetime64[D]"), np.empty(0)) is None
    with pytest.raises(ValueError):
        weekday_pattern(days_from(date(2025, 1, 1), 20), np.ones(19))


def test_huge_and_odd_values_do_not_break_it() -> None:
    days = days_from(date(2025, 1, 6), 10 * 7)
    values = np.where(weekdays(days) == FRIDAY, 1.2e300, 1e300)
    values[5] = np.nan
    pattern = weekday_pattern(days, values)  # sums overflow: those weeks are left out
    assert pattern is None or all(math.isfinite(v) for v in pattern.index)
    values = np.where(weekdays(days) == 0, 0.0, 7.0)  # nothing on Mondays
    pattern = weekday_pattern(days, values)
    assert pattern is not None and pattern.vs_other_days[0] == pytest.approx(-1.0)


def test_everything_on_one_day_has_no_other_days_to_compare_with() -> None:
    days = days_from(date(2025, 1, 6), 8 * 7)
    pattern = weekday_pattern(days, np.where(weekdays(days) == 6, 50.0, 0.0))
    assert pattern is not None and pattern.index[6] == pytest.approx(7.0)
    assert math.isnan(pattern.vs_other_days[6]) and pattern.vs_other_days[0] == -1.0


def test_a_very_long_span_keeps_only_the_latest_century() -> None:
    days = np.array(["0001-01-01", *map(str, days_from(date(2025, 1, 6), 5 * 7))],
                    dtype="datetime64[D]")  # fmt: skip
    values = np.where(weekdays(days[1:]) == FRIDAY, 12.0, 10.0)
    pattern = weekday_pattern(days, np.concatenate(([1.0], values)))
    assert pattern is not None and pattern.vs_other_days[FRIDAY] == pytest.approx(0.2)
    assert MIN_WEEKS == 2 and isinstance(pattern, WeekdayPattern)


# ---------------------------------------------------------------------------------------------
# Songs, playlists, markers, series arrays on a real database


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


NIGHT = "Night Drive 🌙"
MIXED = "Ночь & نور"
END = date(2026, 6, 1)


def _fill(store: StatsStore, tmp_path: Path, days: int = 70) -> None:
    """Daily streams: Night Drive 🌙 10/day then 20/day for the last 28 days; Ночь & نور 5/day
    for the last 10 days only; Zephyr only in the songs export (a period total)."""
    lines = ["date,song,streams"]
    for i in range(days):
        day = END - timedelta(days=days - 1 - i)
        lines.append(f"{day},{NIGHT},{20 if i >= days - 28 else 10}")
        if i >= days - 10:
            lines.append(f"{day},{MIXED},5")
    timeline = _write(tmp_path / "songs-daily.csv", "\n".join(lines) + "\n")
    songs = _write(
        tmp_path / "songs.csv",
        "song,isrc,listeners,streams,saves,release_date\n"
        f"{NIGHT},QZES72600001,300,999,40,2026-04-24\n"
        f"{MIXED},,12,50,,2026-04-24\n"
        "zephyr,QZES72600003,7,77,3,2026-05-20\n",
    )
    playlists = _write(
        tmp_path / "playlists.csv",
        "playlist,author,listeners,streams,date_added\n"
        "Late Night Lo-Fi,Spotify,900,4000,2026-02-01\n"
        '=HYPERLINK("x"),\u202eevil,1,2,2026-03-01\n',
    )
    for path in (timeline, songs, playlists):
        report = store.import_csv(path, as_of=END, today=TODAY)
        assert report.status == "imported" and report.rows_rejected == 0, report.to_json()


def test_song_figures(database: Database, tmp_path: Path) -> None:
    store = StatsStore(database)
    _fill(store, tmp_path)
    songs = {s.entity: s for s in store.entity_figures("song")}
    assert list(songs) == [MIXED, NIGHT, "zephyr"] or sorted(songs, key=str.casefold) == list(songs)
    night = songs[NIGHT]
    assert night.isrc == "QZES72600001" and night.release_date == date(2026, 4, 24)
    assert night.total_from == "daily" and night.streams_total == 42 * 10 + 28 * 20
    assert night.window_end == END
    assert (night.streams_recent, night.recent_days) == (28 * 20, 28)
    assert (night.streams_previous, night.previous_days) == (28 * 10, 28)
    assert night.change == pytest.approx(1.0)
    # the songs export's listeners and saves (a period ending on END, no daily ones stored)
    assert (night.listeners, night.saves) == (300, 40)

    mixed = songs[MIXED]
    assert mixed.streams_total == 50 and mixed.total_from == "daily"
    assert (mixed.streams_recent, mixed.recent_days) == (50, 10)
    assert mixed.streams_previous is None and mixed.change is None
    assert mixed.isrc is None and mixed.saves is None and mixed.listeners == 12

    zephyr = songs["zephyr"]
    assert zephyr.total_from == "period" and zephyr.streams_total == 77
    assert zephyr.streams_recent is None and zephyr.window_end is None


def test_a_short_earlier_window_gives_no_change(database: Database, tmp_path: Path) -> None:
    store = StatsStore(database)
    _fill(store, tmp_path, days=28 + 6)  # 6 days before the last 28: too few to compare
    night = next(s for s in store.entity_figures("song") if s.entity == NIGHT)
    assert night.previous_days == 6 and night.streams_previous == 60
    assert night.change is None


def test_playlist_figures_keep_odd_names_as_data(database: Database, tmp_path: Path) -> None:
    store = StatsStore(database)
    _fill(store, tmp_path)
    playlists = {p.entity: p for p in store.entity_figures("playlist")}
    assert set(playlists) == {"Late Night Lo-Fi", '=HYPERLINK("x")'}
    lofi = playlists["Late Night Lo-Fi"]
    assert lofi.author == "Spotify" and lofi.date_added == date(2026, 2, 1)
    assert (lofi.streams_total, lofi.total_from, lofi.listeners) == (4000, "period", 900)
    assert lofi.change is None and lofi.window_end is None
    assert store.entity_figures("song", summaries=[]) != []  # facts alone still list the songs


def test_empty_database(database: Database) -> None:
    store = StatsStore(database)
    assert store.entity_figures("song") == [] and store.release_markers() == []
    days, values = store.series_array("audience", "", "streams")
    assert len(days) == 0 and len(values) == 0 and days.dtype == np.dtype("datetime64[D]")
    assert store.weekday_pattern("audience", "", "streams") is None


def test_release_markers_share_a_day(database: Database, tmp_path: Path) -> None:
    store = StatsStore(database)
    _fill(store, tmp_path)
    markers = store.release_markers()
    assert [(m.day, m.titles) for m in markers] == [
        (date(2026, 4, 24), (NIGHT, MIXED)),
        (date(2026, 5, 20), ("zephyr",)),
    ]
    assert store.release_markers(date(2026, 4, 25), date(2026, 5, 20))[0].titles == ("zephyr",)
    assert store.release_markers(date(2026, 4, 25), date(2026, 5, 19)) == []


def test_series_array_matches_series(database: Database, tmp_path: Path) -> None:
    store = StatsStore(database)
    _fill(store, tmp_path)
    days, values = store.series_array("song", NIGHT, "streams")
    pairs = store.series("song", NIGHT, "streams")
    assert [date.fromisoformat(str(d)) for d in days] == [d for d, _v in pairs]
    assert values.tolist() == [v for _d, v in pairs] and values.dtype == np.float64


def test_weekday_pattern_of_a_stored_series(database: Database, tmp_path: Path) -> None:
    start = date(2025, 1, 1)
    lines = ["date,listeners,streams"]
    for i in range(8 * 7):
        day = start + timedelta(days=i)
        lines.append(f"{day},{100 + i},{1200 if day.weekday() == FRIDAY else 1000}")
    store = StatsStore(database)
    store.import_csv(_write(tmp_path / "a.csv", "\n".join(lines) + "\n"), today=TODAY)
    pattern = store.weekday_pattern("audience", "", "streams")
    assert pattern is not None and pattern.vs_other_days[FRIDAY] == pytest.approx(0.2)
    assert pattern.weeks == 7
    assert store.weekday_pattern("audience", "", "streams", resolution="period") is None


def test_summary_latest_values(database: Database, tmp_path: Path) -> None:
    store = StatsStore(database)
    _fill(store, tmp_path)
    night = next(s for s in store.summary("song") if s.entity == NIGHT and s.resolution == "daily")
    streams = night.metrics["streams"]
    assert (streams.first_day, streams.last_day, streams.days) == (
        END - timedelta(days=69),
        END,
        70,
    )
    assert streams.latest == 20 and streams.total == 980

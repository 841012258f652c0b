"""The statistics summary shared with a team: built from what is imported, nulls for what is
not, songs ranked by their last 28 days."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from app.stats_share import stats_snapshot
from app.stats_store import StatsStore
from app.storage import Database
from server.protocol import MAX_STATS_SONGS, clean_stats_snapshot

pytestmark = pytest.mark.usefixtures("english")
TODAY = date(2026, 6, 30)


def test_nothing_imported_is_said(database: Database) -> None:
    with pytest.raises(LookupError):
        stats_snapshot(StatsStore(database), TODAY)


def test_the_snapshot_holds_the_last_28_days_and_the_top_songs(
    database: Database, tmp_path: Path
) -> None:
    stats = StatsStore(database)
    start = date(2026, 1, 1)
    audience = ["date,listeners,streams"]  # no followers column: followers stay null
    for i in range(60):
        audience.append(f"{(start + timedelta(days=i)).isoformat()},{100 + i},{10 * i}")
    (tmp_path / "audience.csv").write_text("\n".join(audience) + "\n", encoding="utf-8")
    songs = ["date,song,streams"]
    for i in range(60):
        day = (start + timedelta(days=i)).isoformat()
        for s in range(MAX_STATS_SONGS + 5):
            songs.append(f"{day},Song {s:02d},{s * 10 + (i if s == 3 else 0)}")
    (tmp_path / "songs.csv").write_text("\n".join(songs) + "\n", encoding="utf-8")
    for name in ("audience.csv", "songs.csv"):
        assert stats.import_csv(tmp_path / name, today=TODAY).status == "imported"

    snapshot = stats_snapshot(stats, TODAY)
    assert clean_stats_snapshot(snapshot) == snapshot
    assert (snapshot["as_of"], snapshot["first_day"], snapshot["last_day"]) == (
        "2026-06-30",
        "2026-01-01",
        "2026-03-01",
    )
    assert snapshot["audience"] == {
        "streams_28d": float(sum(10 * i for i in range(32, 60))),
        "listeners": 159.0,
        "followers": None,
    }
    songs_out = snapshot["songs"]
    assert isinstance(songs_out, list) and len(songs_out) == MAX_STATS_SONGS
    top = songs_out[0]
    assert top["name"] == f"Song {MAX_STATS_SONGS + 4:02d}"
    assert top["streams_28d"] == 28 * 10.0 * (MAX_STATS_SONGS + 4)
    assert top["streams_total"] == 60 * 10.0 * (MAX_STATS_SONGS + 4)
    assert top["change"] == 0.0
    names = [s["name"] for s in songs_out]
    # Song 03 climbs on its last 28 days (2,114 streams, between Song 07 and Song 08); the
    # quietest others are left out
    assert names.index("Song 03") == names.index("Song 08") + 1
    assert names[-1] == "Song 06" and "Song 05" not in names and "Song 02" not in names

"""Release days from Spotify's catalogue merged with the exports' (app/stats_releases.py): which
artists count, which dates place a line, and no release said twice."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from app.spotify.store import Item, Snapshot, SpotifyStore
from app.stats_releases import (
    artists_of_the_exports,
    merged_markers,
    spotify_releases,
    with_spotify_releases,
)
from app.stats_store import ReleaseMarker
from app.storage import Database

ME, COLLEAGUE = "4Z8W4fKeB5YxbusRsdQVPb", "0OdUWJ0sBjDrqHygGUXeCF"
EXPORTS = [
    ReleaseMarker(date(2025, 3, 7), ("Night Drive", "Ночь & نور")),
    ReleaseMarker(date(2025, 6, 20), ("Zephyr",)),
]
SONGS = ["Night Drive", "Ночь & نور", "Zephyr", "Glass Hearts"]


def _album(sid: str, name: str, artist: str, released: object) -> Item:
    details = {} if released is None else {"release_date": released}
    return Item("album", sid, name, parent_id=artist, details=details)


def _snapshot(*items: Item) -> Snapshot:
    return Snapshot(datetime(2026, 1, 1, tzinfo=UTC), "me", "Me", "development", "complete",
                    items=list(items))  # fmt: skip


def _catalogue() -> Snapshot:
    return _snapshot(
        Item("artist", ME, "Marta"),
        Item("artist", COLLEAGUE, "A colleague"),
        _album("a1", "Night Drive", ME, "2025-03-07"),  # the same single as the export's song
        _album("a2", "Afterglow (EP)", ME, "2025-11-14"),  # only Spotify knows this one
        _album("a3", "Early Demos", ME, "2019"),  # a year names no day
        _album("a4", "Broken", ME, "2024-02-30"),  # no such day
        _album("c1", "Their Album", COLLEAGUE, "2025-06-20"),
        Item("track", "t1", "night drive ", parent_id="a1"),  # case and space do not matter
        Item("track", "t2", "Zephyr", parent_id="a2"),
        Item("track", "t3", "Zephyr", parent_id="c1"),  # a colleague shares one title only
    )


def test_an_unnamed_artist_counts_when_two_of_its_titles_are_the_exports_songs() -> None:
    snapshot = _catalogue()
    assert artists_of_the_exports(snapshot, (), SONGS) == {ME}
    assert artists_of_the_exports(snapshot, (), ["Zephyr"]) == set()  # one shared title: no
    # artists named in the settings count whatever their titles, if the snapshot has them
    assert artists_of_the_exports(snapshot, (COLLEAGUE, "missing"), []) == {COLLEAGUE}


def test_only_releases_dated_to_the_day_place_a_line() -> None:
    releases = spotify_releases(_catalogue(), {ME})
    assert releases == {
        date(2025, 3, 7): ["Night Drive"],
        date(2025, 11, 14): ["Afterglow (EP)"],
    }
    assert spotify_releases(None, {ME}) == {}


def test_spotify_releases_join_the_exports_without_saying_anything_twice() -> None:
    merged = merged_markers(EXPORTS, _catalogue(), (), SONGS)
    assert merged == [
        ReleaseMarker(date(2025, 3, 7), ("Night Drive", "Ночь & نور")),  # not repeated
        ReleaseMarker(date(2025, 6, 20), ("Zephyr",)),  # the colleague's album is not ours
        ReleaseMarker(date(2025, 11, 14), (), ("Afterglow (EP)",)),
    ]
    assert merged[2].everything == ("Afterglow (EP)",)
    with_colleague = merged_markers(EXPORTS, _catalogue(), (ME, COLLEAGUE), SONGS)
    assert with_colleague[1] == ReleaseMarker(date(2025, 6, 20), ("Zephyr",), ("Their Album",))
    assert merged_markers(EXPORTS, None, (), SONGS) == EXPORTS


def _day_of(value: object) -> date | None:
    """An independent reading of a full ISO day (the oracle for the property below)."""
    if not isinstance(value, str) or len(value) != 10 or not value.isascii():
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        return None


@given(
    st.lists(
        st.tuples(
            st.sampled_from([ME, COLLEAGUE, "x", ""]),
            st.text(max_size=20),
            st.one_of(st.none(), st.integers(), st.text(max_size=12),
                      st.dates().map(date.isoformat)),
        ),
        max_size=30,
    )
)  # fmt: skip
def test_any_stored_catalogue_gives_markers_in_day_order(
    albums: list[tuple[str, str, object]],
) -> None:
    items = [Item("artist", ME, "Marta")]
    items += [_album(f"al{i}", name, artist, day) for i, (artist, name, day) in enumerate(albums)]
    merged = merged_markers(EXPORTS, _snapshot(*items), (ME,), SONGS)
    days = [m.day for m in merged]
    assert days == sorted(set(days))
    assert all(m.everything for m in merged)
    mine = {(_day_of(d), n) for a, n, d in albums if a == ME and _day_of(d) is not None}
    for marker in merged:
        songs = {" ".join(t.split()).casefold() for t in marker.titles}
        spotify = [" ".join(t.split()).casefold() for t in marker.on_spotify]
        assert len(spotify) == len(set(spotify)) and not songs & set(spotify)
        assert all((marker.day, t) in mine for t in marker.on_spotify)


def test_the_stored_snapshot_is_merged_and_a_broken_store_leaves_the_exports(
    database: Database,
) -> None:
    store = SpotifyStore(database)
    assert with_spotify_releases(EXPORTS, store, (), SONGS) == EXPORTS  # no snapshot yet
    store.add(_catalogue())
    merged = with_spotify_releases(EXPORTS, store, (), SONGS)
    assert merged[-1] == ReleaseMarker(date(2025, 11, 14), (), ("Afterglow (EP)",))
    with database.session() as session:  # a damaged database: the snapshot rows are unreadable
        session.execute(text("DROP TABLE spotify_items"))
    assert with_spotify_releases(EXPORTS, store, (), SONGS) == EXPORTS

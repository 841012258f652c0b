"""Release days for the Stats timeline from both sources: the songs' release dates in the Spotify
for Artists exports, and the albums and singles in the latest Spotify catalogue snapshot. Qt-free.

Which Spotify artists count: the exports belong to one artist, while a snapshot may hold every
artist the user follows. So the artists named in the ``spotify.artists`` setting count; when
none are named, an artist counts when at least :data:`MIN_SHARED_TITLES` of its track titles are
song titles in the exports (compared without case and surrounding space), so a followed
colleague's releases do not crowd the artist's own timeline.

A Spotify release is drawn only when its date names a day (``release_date_precision`` "day":
``YYYY-MM-DD``); a year or a month alone does not place a line. A release whose title is already
one of the exports' songs of that day is not repeated.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy.exc import SQLAlchemyError

from app.spotify.store import Snapshot, SpotifyStore
from app.stats_store import ReleaseMarker

log = logging.getLogger(__name__)

MIN_SHARED_TITLES = 2
"""Track titles an unnamed artist must share with the exports' songs to count as theirs."""
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")


def _key(title: str) -> str:
    return " ".join(title.split()).casefold()


def _day(value: object) -> date | None:
    if not isinstance(value, str) or not _DAY.match(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def artists_of_the_exports(
    snapshot: Snapshot, chosen: Sequence[str], song_titles: Iterable[str]
) -> set[str]:
    """The Spotify ids whose releases belong on the exports' timeline (see the module text)."""
    present = {item.spotify_id for item in snapshot.of_kind("artist")}
    if chosen:
        return {a for a in chosen if a in present}
    songs = {_key(t) for t in song_titles}
    album_artist = {item.spotify_id: item.parent_id for item in snapshot.of_kind("album")}
    shared: dict[str, set[str]] = {}
    for track in snapshot.of_kind("track"):
        artist = album_artist.get(track.parent_id or "")
        if artist is not None and _key(track.name) in songs:
            shared.setdefault(artist, set()).add(_key(track.name))
    return {a for a, titles in shared.items() if len(titles) >= MIN_SHARED_TITLES and a in present}


def spotify_releases(snapshot: Snapshot | None, artists: set[str]) -> dict[date, list[str]]:
    """Album and single titles of ``artists`` in ``snapshot`` by release day."""
    by_day: dict[date, list[str]] = {}
    if snapshot is None:
        return by_day
    for album in snapshot.of_kind("album"):
        day = _day(album.details.get("release_date"))
        if album.parent_id in artists and day is not None:
            titles = by_day.setdefault(day, [])
            if _key(album.name) not in {_key(t) for t in titles}:
                titles.append(album.name)
    return by_day


def merged_markers(
    exports: Sequence[ReleaseMarker],
    snapshot: Snapshot | None,
    chosen: Sequence[str],
    song_titles: Iterable[str],
) -> list[ReleaseMarker]:
    """The exports' markers with the chosen (or matching) artists' Spotify releases added, one
    marker per day, in day order."""
    if snapshot is None:
        return list(exports)
    releases = spotify_releases(snapshot, artists_of_the_exports(snapshot, chosen, song_titles))
    by_day = {m.day: m for m in exports}
    for day, titles in releases.items():
        known = by_day.get(day)
        songs = known.titles if known is not None else ()
        taken = {_key(t) for t in songs}
        extra = tuple(sorted((t for t in titles if _key(t) not in taken), key=str.casefold))
        if extra:
            by_day[day] = ReleaseMarker(day, songs, extra)
    return [by_day[day] for day in sorted(by_day)]


def with_spotify_releases(
    exports: Sequence[ReleaseMarker],
    store: SpotifyStore,
    chosen: Sequence[str],
    song_titles: Iterable[str],
) -> list[ReleaseMarker]:
    """:func:`merged_markers` with the latest snapshot in ``store``. When the snapshots cannot be
    read, the exports' markers stand alone (logged): the timeline still shows."""
    try:
        snapshot = store.latest()
    except SQLAlchemyError:
        log.exception("reading Spotify's releases failed")
        return list(exports)
    return merged_markers(exports, snapshot, chosen, song_titles)

"""One sync: read what the stats need from the Web API, then store it as one snapshot.

A snapshot is written only when every call it needs succeeded (or answered "not available for
this API access level", which is recorded, not failed), so a rate limit or an outage in the middle
leaves the last good snapshot as the newest: the charts keep showing it. Replies are read
defensively: an object without a usable id is skipped, numbers must be non-negative integers,
text is cut to the column sizes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.i18n import _
from app.spotify.api import (
    BadReply,
    NotAvailable,
    NotSignedIn,
    RateLimited,
    SpotifyError,
    SpotifyGateway,
    SpotifyUnavailable,
)
from app.spotify.store import Item, Snapshot, SpotifyStore

_ID = re.compile(r"^[A-Za-z0-9]{1,64}$")
MAX_ARTISTS = 20
MAX_ALBUMS = 50

Progress = Callable[[str, float], None]


@dataclass
class SyncReport:
    """``status``: ``complete``, ``rate_limited``, ``not_signed_in``, ``unavailable`` (outage,
    bad reply or cancelled). ``unavailable_data`` names what the access level withheld."""

    status: str
    message: str
    snapshot_id: int | None = None
    access_level: str = "unknown"
    counts: dict[str, int] = field(default_factory=dict)
    unavailable_data: list[str] = field(default_factory=list)
    retry_at: datetime | None = None
    calls: int = 0

    def to_json(self) -> dict[str, object]:
        return {
            "status": self.status,
            "message": self.message,
            "snapshot_id": self.snapshot_id,
            "access_level": self.access_level,
            "counts": self.counts,
            "unavailable_data": self.unavailable_data,
            "retry_at": self.retry_at.isoformat() if self.retry_at else None,
            "calls": self.calls,
        }


def _count(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def _text(value: object, limit: int = 1000) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _image(obj: dict[str, Any]) -> dict[str, Any] | None:
    images = obj.get("images")
    if not isinstance(images, list):
        return None
    best = None
    for image in images:
        if isinstance(image, dict) and isinstance(image.get("url"), str):
            width = _count(image.get("width")) or 0
            if best is None or width > best["width"]:
                best = {"url": image["url"][:2000], "width": width}
    return best


def _item(
    kind: str, obj: dict[str, Any], rank: int | None = None, parent: str | None = None
) -> Item | None:
    sid = obj.get("id")
    if not isinstance(sid, str) or not _ID.match(sid):
        return None
    followers = obj.get("followers")
    details: dict[str, Any] = {}
    image = _image(obj)
    if image:
        details["image"] = image
    for key in ("release_date", "album_type"):
        if isinstance(obj.get(key), str):
            details[key] = obj[key][:32]
    for key in ("total_tracks", "duration_ms", "track_number"):
        if _count(obj.get(key)) is not None:
            details[key] = obj[key]
    artists = obj.get("artists")
    if isinstance(artists, list):
        details["artists"] = [
            _text(a.get("name"), 200) for a in artists[:10] if isinstance(a, dict)
        ]
    album = obj.get("album")
    if isinstance(album, dict) and isinstance(album.get("id"), str) and _ID.match(album["id"]):
        parent = parent or album["id"]
        details["album"] = _text(album.get("name"), 500)
        cover = _image(album)
        if cover and "image" not in details:
            details["image"] = cover  # a track's picture is its album's cover
    return Item(
        kind=kind,
        spotify_id=sid,
        name=_text(obj.get("name")) or sid,
        rank=rank,
        followers=_count(followers.get("total")) if isinstance(followers, dict) else None,
        popularity=_count(obj.get("popularity")),
        parent_id=parent,
        details=details,
    )


def sync(
    gateway: SpotifyGateway,
    store: SpotifyStore,
    artist_ids: Sequence[str] = (),
    *,
    progress: Progress | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> SyncReport:
    """Fetch and store one snapshot. Artists: ``artist_ids`` when given, else the artists the
    user follows (at most :data:`MAX_ARTISTS`)."""

    def step(what: str, fraction: float) -> None:
        if progress is not None:
            progress(what, fraction)

    calls_before = gateway.calls
    unavailable: list[str] = []
    items: dict[tuple[str, str], Item] = {}

    def keep(item: Item | None) -> None:
        if item is not None:
            items.setdefault((item.kind, item.spotify_id), item)

    try:
        step(_("Reading your profile"), 0.0)
        me = gateway.me()
        account_id = _text(me.get("id"), 256)
        if not account_id:
            raise BadReply(_("Spotify sent a reply Hookline could not read."))
        step(_("Reading your top artists and tracks"), 0.05)
        for rank, obj in enumerate(gateway.top("artists"), 1):
            keep(_item("top_artist", obj, rank))
        for rank, obj in enumerate(gateway.top("tracks"), 1):
            keep(_item("top_track", obj, rank))
        ids = [a for a in dict.fromkeys(artist_ids) if _ID.match(a)]
        if not ids:
            step(_("Reading the artists you follow"), 0.1)
            ids = [
                str(a["id"])
                for a in gateway.followed_artists()
                if isinstance(a.get("id"), str) and _ID.match(a["id"])
            ]
        ids = ids[:MAX_ARTISTS]
        for n, artist_id in enumerate(ids):
            base = 0.15 + 0.85 * n / max(1, len(ids))
            share = 0.85 / max(1, len(ids))
            artist = gateway.artist(artist_id)
            keep(_item("artist", artist))
            step(_("Reading {name}").format(name=_text(artist.get("name"), 100)), base)
            try:
                for rank, obj in enumerate(gateway.artist_top_tracks(artist_id), 1):
                    keep(_item("artist_top_track", obj, rank, artist_id))
            except NotAvailable:
                if "artist_top_tracks" not in unavailable:
                    unavailable.append("artist_top_tracks")
            albums = gateway.artist_albums(artist_id)[:MAX_ALBUMS]
            for k, obj in enumerate(albums):
                album = _item("album", obj, None, artist_id)
                keep(album)
                if album is None:
                    continue
                step(
                    _("Reading {name}").format(name=album.name[:100]),
                    base + share * k / max(1, len(albums)),
                )
                for number, track in enumerate(gateway.album_tracks(album.spotify_id), 1):
                    keep(_item("track", track, number, album.spotify_id))
    except RateLimited as exc:
        store.set_state("last_error", str(exc))
        return SyncReport(
            "rate_limited", str(exc), retry_at=exc.until, calls=gateway.calls - calls_before
        )
    except NotSignedIn as exc:
        return SyncReport("not_signed_in", str(exc), calls=gateway.calls - calls_before)
    except (SpotifyUnavailable, BadReply, NotAvailable, SpotifyError) as exc:
        store.set_state("last_error", str(exc))
        return SyncReport("unavailable", str(exc), calls=gateway.calls - calls_before)

    artists = [i for i in items.values() if i.kind in ("artist", "top_artist")]
    if any(i.followers is not None or i.popularity is not None for i in artists):
        level = "extended"
    elif artists:
        level = "development"
        unavailable[:0] = ["followers", "popularity"]
    else:
        level = "unknown"
    snapshot = Snapshot(
        taken_at=now(),
        account_id=account_id,
        account_name=_text(me.get("display_name"), 500) or None,
        access_level=level,
        status="complete",
        items=list(items.values()),
    )
    snapshot_id = store.add(snapshot)
    store.set_state("last_error", None)
    counts: dict[str, int] = {}
    for item in snapshot.items:
        counts[item.kind] = counts.get(item.kind, 0) + 1
    return SyncReport(
        "complete",
        _("Spotify data saved."),
        snapshot_id=snapshot_id,
        access_level=level,
        counts=counts,
        unavailable_data=unavailable,
        calls=gateway.calls - calls_before,
    )

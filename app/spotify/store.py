"""Spotify snapshots in SQLite (tables of migration 0006), and the state kept between runs."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from app.storage import Database

ACCESS_LEVELS = ("development", "extended", "unknown")


def _aware(value: object) -> datetime:
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Item:
    """One object as a snapshot saw it. ``followers``/``popularity`` None: not in the reply."""

    kind: str
    spotify_id: str
    name: str
    rank: int | None = None
    followers: int | None = None
    popularity: int | None = None
    parent_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Snapshot:
    taken_at: datetime
    account_id: str
    account_name: str | None
    access_level: str
    status: str
    message: str | None = None
    items: list[Item] = field(default_factory=list)
    id: int | None = None

    def of_kind(self, kind: str) -> list[Item]:
        return sorted(
            (i for i in self.items if i.kind == kind),
            key=lambda i: (i.rank if i.rank is not None else 1 << 30, i.name.casefold()),
        )


class SpotifyStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    def add(self, snapshot: Snapshot) -> int:
        """Store ``snapshot`` and its items in one transaction; returns its id."""
        with self._db.session() as session:
            row = session.execute(
                text(
                    "INSERT INTO spotify_snapshots (taken_at, account_id, account_name, "
                    "access_level, status, message) VALUES (:taken_at, :account_id, "
                    ":account_name, :access_level, :status, :message) RETURNING id"
                ),
                {
                    "taken_at": snapshot.taken_at.astimezone(UTC).replace(tzinfo=None),
                    "account_id": snapshot.account_id[:256],
                    "account_name": (snapshot.account_name or "")[:500] or None,
                    "access_level": snapshot.access_level,
                    "status": snapshot.status,
                    "message": (snapshot.message or "")[:2000] or None,
                },
            ).one()
            snapshot_id = int(row[0])
            if snapshot.items:
                session.execute(
                    text(
                        "INSERT OR REPLACE INTO spotify_items (snapshot_id, kind, spotify_id, "
                        "name, rank, followers, popularity, parent_id, details) VALUES "
                        "(:snapshot_id, :kind, :spotify_id, :name, :rank, :followers, "
                        ":popularity, :parent_id, :details)"
                    ),
                    [
                        {
                            "snapshot_id": snapshot_id,
                            "kind": i.kind,
                            "spotify_id": i.spotify_id,
                            "name": i.name[:1000],
                            "rank": i.rank,
                            "followers": i.followers,
                            "popularity": i.popularity,
                            "parent_id": i.parent_id,
                            "details": json.dumps(i.details, ensure_ascii=False),
                        }
                        for i in snapshot.items
                    ],
                )
        snapshot.id = snapshot_id
        return snapshot_id

    def _snapshot(self, row: Any) -> Snapshot:
        return Snapshot(
            id=int(row[0]),
            taken_at=_aware(row[1]),
            account_id=str(row[2]),
            account_name=row[3],
            access_level=str(row[4]),
            status=str(row[5]),
            message=row[6],
        )

    _COLUMNS = "id, taken_at, account_id, account_name, access_level, status, message"

    def snapshots(self) -> list[Snapshot]:
        """Every snapshot, oldest first, without items."""
        with self._db.read_session() as session:
            rows = session.execute(
                text(f"SELECT {self._COLUMNS} FROM spotify_snapshots ORDER BY taken_at, id")
            )
            return [self._snapshot(r) for r in rows]

    def latest_info(self) -> Snapshot | None:
        """The newest complete snapshot without its items (one indexed row: cheap enough for
        the GUI thread's schedule checks)."""
        with self._db.read_session() as session:
            row = session.execute(
                text(
                    f"SELECT {self._COLUMNS} FROM spotify_snapshots WHERE status = 'complete' "
                    "ORDER BY taken_at DESC, id DESC LIMIT 1"
                )
            ).first()
        return None if row is None else self._snapshot(row)

    def latest(self) -> Snapshot | None:
        """The newest complete snapshot with its items."""
        snapshot = self.latest_info()
        if snapshot is None:
            return None
        with self._db.read_session() as session:
            items = session.execute(
                text(
                    "SELECT kind, spotify_id, name, rank, followers, popularity, parent_id, "
                    "details FROM spotify_items WHERE snapshot_id = :id"
                ),
                {"id": snapshot.id},
            )
            for kind, sid, name, rank, followers, popularity, parent, details in items:
                try:
                    extra = json.loads(details) if details else {}
                except ValueError:
                    extra = {}
                snapshot.items.append(
                    Item(
                        kind,
                        sid,
                        name,
                        rank,
                        followers,
                        popularity,
                        parent,
                        extra if isinstance(extra, dict) else {},
                    )
                )
        return snapshot

    def history(self, kind: str, spotify_id: str, metric: str) -> list[tuple[datetime, int]]:
        """(time, value) of ``metric`` (``followers`` or ``popularity``) over every complete
        snapshot that carried it, oldest first."""
        if metric not in ("followers", "popularity"):
            raise ValueError(metric)
        with self._db.read_session() as session:
            rows = session.execute(
                text(
                    f"SELECT s.taken_at, i.{metric} FROM spotify_items i JOIN spotify_snapshots s "
                    "ON s.id = i.snapshot_id WHERE i.kind = :kind AND i.spotify_id = :id "
                    f"AND s.status = 'complete' AND i.{metric} IS NOT NULL ORDER BY s.taken_at"
                ),
                {"kind": kind, "id": spotify_id},
            )
            return [(_aware(t), int(v)) for t, v in rows]

    def get_state(self, key: str) -> str | None:
        with self._db.read_session() as session:
            row = session.execute(
                text("SELECT value FROM spotify_state WHERE key = :key"), {"key": key}
            ).first()
        return None if row is None else str(row[0])

    def set_state(self, key: str, value: str | None) -> None:
        with self._db.session() as session:
            if value is None:
                session.execute(text("DELETE FROM spotify_state WHERE key = :key"), {"key": key})
            else:
                session.execute(
                    text(
                        "INSERT INTO spotify_state (key, value) VALUES (:key, :value) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
                    ),
                    {"key": key, "value": value[:2000]},
                )

    def delete_all(self) -> None:
        """Forget every snapshot and state value (the user's "delete my Spotify history")."""
        with self._db.session() as session:
            session.execute(text("DELETE FROM spotify_items"))
            session.execute(text("DELETE FROM spotify_snapshots"))
            session.execute(text("DELETE FROM spotify_state"))

"""Members' shared artist statistics: one checked snapshot per member and team
(:func:`server.protocol.clean_stats_snapshot`), the latest replacing the one before."""

from __future__ import annotations

import json
import time

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from server import db


def share(engine: Engine, team_id: str, user_id: str, snapshot: dict[str, object]) -> float:
    """Store ``snapshot`` (already checked) as the member's shared statistics; returns when."""
    now = time.time()
    data = json.dumps(snapshot, ensure_ascii=False, separators=(",", ":"))
    key = and_(db.team_stats.c.team_id == team_id, db.team_stats.c.user_id == user_id)
    for attempt in (0, 1):
        try:
            with db.write_transaction(engine) as c:
                changed = c.execute(
                    update(db.team_stats).where(key).values(shared_at=now, data=data)
                )
                if changed.rowcount == 0:
                    c.execute(
                        insert(db.team_stats).values(
                            team_id=team_id, user_id=user_id, shared_at=now, data=data
                        )
                    )
            break
        except IntegrityError:  # the same member's other share inserted first: update it
            if attempt:
                raise
    return now


def unshare(engine: Engine, team_id: str, user_id: str) -> None:
    with engine.begin() as c:
        c.execute(
            delete(db.team_stats).where(
                and_(db.team_stats.c.team_id == team_id, db.team_stats.c.user_id == user_id)
            )
        )


def team_stats(engine: Engine, team_id: str) -> list[dict[str, object]]:
    """The shared snapshots of the team's current members, newest first."""
    with engine.connect() as c:
        rows = c.execute(
            select(db.team_stats, db.users.c.name)
            .join(db.users, db.users.c.id == db.team_stats.c.user_id)
            .join(
                db.memberships,
                and_(
                    db.memberships.c.team_id == db.team_stats.c.team_id,
                    db.memberships.c.user_id == db.team_stats.c.user_id,
                ),
            )
            .where(db.team_stats.c.team_id == team_id)
            .order_by(db.team_stats.c.shared_at.desc())
        ).all()
    return [
        {
            "user_id": r.user_id,
            "name": r.name,
            "shared_at": r.shared_at,
            "snapshot": json.loads(r.data),
        }
        for r in rows
    ]

"""The append-only event table and the per-day team activity built from it.

Push events are written in the push's own transaction. Pull, blob and login events are many and
need no such guarantee, so they are kept in memory and written in batches (:meth:`Events.flush`);
a crash loses at most the last batch of them.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

from sqlalchemy import Engine, and_, case, func, insert, select

from server import db


class Events:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._pending: list[dict[str, object]] = []
        self._lock = threading.Lock()

    def record(
        self,
        kind: str,
        *,
        team_id: str | None = None,
        user_id: str | None = None,
        project_id: str | None = None,
        count: int = 0,
        size: int = 0,
    ) -> None:
        now = time.time()
        row = {
            "at": now,
            "day": int(now // 86400),
            "kind": kind,
            "team_id": team_id,
            "user_id": user_id,
            "project_id": project_id,
            "count": count,
            "bytes": size,
        }
        with self._lock:
            self._pending.append(row)

    def flush(self) -> int:
        with self._lock:
            rows, self._pending = self._pending, []
        if rows:
            with self.engine.begin() as c:
                c.execute(insert(db.events), rows)
        return len(rows)


def team_activity(engine: Engine, team_id: str, days: int, now: float | None = None) -> list[dict]:
    """One entry per UTC day, oldest first, for the last ``days`` days including today:
    ``{day: "YYYY-MM-DD", pushes, updates, bytes, active_members}``. ``bytes`` counts update and
    blob bytes in both directions; a member is active on a day with any event of the team."""
    today = int((time.time() if now is None else now) // 86400)
    first = today - days + 1
    e = db.events
    with engine.connect() as c:
        rows = c.execute(
            select(
                e.c.day,
                func.sum(case((e.c.kind == "push", 1), else_=0)).label("pushes"),
                func.sum(case((e.c.kind == "push", e.c.count), else_=0)).label("updates"),
                func.sum(e.c.bytes).label("bytes"),
                func.count(func.distinct(e.c.user_id)).label("members"),
            )
            .where(and_(e.c.team_id == team_id, e.c.day >= first, e.c.day <= today))
            .group_by(e.c.day)
        ).all()
    by_day = {int(r.day): r for r in rows}
    out = []
    for day in range(first, today + 1):
        r = by_day.get(day)
        out.append(
            {
                "day": (dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat(),
                "pushes": int(r.pushes) if r else 0,
                "updates": int(r.updates) if r else 0,
                "bytes": int(r.bytes) if r else 0,
                "active_members": int(r.members) if r else 0,
            }
        )
    return out


def project_history(engine: Engine, project_id: str, limit: int) -> tuple[str | None, list[dict]]:
    """(the project's team, its newest pushes, newest first): ``{at: ISO time (UTC), user_id,
    name, updates, bytes}`` per push. The team is None for an unknown project."""
    with engine.connect() as c:
        team_id = c.execute(
            select(db.projects.c.team_id).where(db.projects.c.id == project_id)
        ).scalar()
        if team_id is None:
            return None, []
        e = db.events
        rows = c.execute(
            select(e.c.at, e.c.user_id, db.users.c.name, e.c.count.label("n"), e.c.bytes)
            .select_from(e.outerjoin(db.users, db.users.c.id == e.c.user_id))
            .where(and_(e.c.team_id == team_id, e.c.project_id == project_id, e.c.kind == "push"))
            .order_by(e.c.id.desc())
            .limit(limit)
        ).all()
    return str(team_id), [
        {
            "at": dt.datetime.fromtimestamp(float(r.at), dt.UTC).isoformat(timespec="seconds"),
            "user_id": r.user_id,
            "name": r.name or "",
            "updates": int(r.n),
            "bytes": int(r.bytes),
        }
        for r in rows
    ]

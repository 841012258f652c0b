"""The update log of each project: push, pull and compaction (blocking; worker threads).

A push validates the batch against the project's current document, then writes it as consecutive
revisions in the same transaction that holds the project's lock (SQLite: ``BEGIN IMMEDIATE``, the
database write lock; PostgreSQL: ``SELECT ... FOR UPDATE`` on the project row), and returns only
after the commit. The current document of recently used projects stays in memory; before use it is
caught up from the database under that lock, since another process may have written.

Compaction replaces revisions ``<= R`` with one snapshot at revision ``R`` built from exactly those
revisions, in one transaction, so an edit is either in the snapshot or still in the log.
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass

from pycrdt import Doc
from sqlalchemy import Connection, Engine, and_, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from server import db
from server.config import ServerConfig
from server.errors import ApiError
from server.protocol import role_at_least
from server.ydoc import BadUpdate, apply_checked, full_state, new_doc

NOTIFY_CHANNEL = "hookline_updates"

# PostgreSQL writes a push in one statement, one round trip: the batch as one multi-row insert
# (revisions head+1 .. head+n in the batch's order), the project's new revision, the push event
# and the wake-up of the other server processes. Data-modifying CTEs run exactly once, and
# pg_notify is delivered at commit, like any NOTIFY.
_PG_PUSH = text(
    "WITH added AS ("
    " INSERT INTO updates (project_id, revision, data)"
    " SELECT :project_id, :head + t.n, t.data"
    " FROM unnest(CAST(:data AS bytea[])) WITH ORDINALITY AS t(data, n)"
    "), moved AS ("
    " UPDATE projects SET revision = :last WHERE id = :project_id"
    "), noted AS ("
    " INSERT INTO events (at, day, kind, team_id, user_id, project_id, count, bytes)"
    " VALUES (:at, :day, :kind, :team_id, :user_id, :project_id, :count, :bytes)"
    ") SELECT pg_notify(:channel, :project_id)"
)
PULL_ROWS = 1000  # rows read per pull query


@dataclass(frozen=True)
class PushResult:
    first_revision: int
    revision: int
    count: int
    team_id: str
    compaction_due: bool


@dataclass(frozen=True)
class PullResult:
    entries: list[tuple[int, bytes]]
    revision: int  # the project's newest revision
    compacted: int | None  # the snapshot's revision when the answer starts with it
    team_id: str


@dataclass
class _CachedDoc:
    doc: Doc
    revision: int


def update_range(c: Connection, project_id: str, after: int, upto: int) -> list[bytes]:
    """The project's updates with revisions in (``after``, ``upto``], in revision order."""
    rows = c.execute(
        select(db.updates.c.data)
        .where(
            and_(
                db.updates.c.project_id == project_id,
                db.updates.c.revision > after,
                db.updates.c.revision <= upto,
            )
        )
        .order_by(db.updates.c.revision)
    )
    return [bytes(row.data) for row in rows]


def build_doc(c: Connection, project_id: str, head: int, snapshot: int) -> Doc:
    """A project's document from the database: its snapshot (when ``snapshot`` > 0), then its
    revisions after it up to ``head``."""
    doc = new_doc()
    if snapshot > 0:
        data = c.execute(
            select(db.snapshots.c.data).where(db.snapshots.c.project_id == project_id)
        ).scalar_one()
        doc.apply_update(bytes(data))
    for data in update_range(c, project_id, snapshot, head):
        doc.apply_update(data)
    return doc


class UpdateLog:
    def __init__(self, engine: Engine, config: ServerConfig) -> None:
        self.engine = engine
        self.config = config
        self.postgres = engine.dialect.name == "postgresql"
        self._docs: collections.OrderedDict[str, _CachedDoc] = collections.OrderedDict()
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    # connections
    def _writer(self) -> Connection:
        connection = self.engine.connect()
        if not self.postgres:
            connection = connection.execution_options(sqlite_immediate=True)
        return connection

    def _reader(self) -> Connection:
        connection = self.engine.connect()
        if self.postgres:
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        return connection

    def _project_lock(self, project_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(project_id, threading.Lock())

    def _access(
        self, c: Connection, project_id: str, user_id: str, needed: str, lock: bool = False
    ) -> tuple[str, int, int]:
        """(team id, revision, snapshot revision) of a project the user may use."""
        membership = and_(
            db.memberships.c.team_id == db.projects.c.team_id,
            db.memberships.c.user_id == user_id,
        )
        query = (
            select(
                db.projects.c.team_id,
                db.projects.c.revision,
                db.projects.c.snapshot_revision,
                db.memberships.c.role,
            )
            .select_from(db.projects.outerjoin(db.memberships, membership))
            .where(db.projects.c.id == project_id)
        )
        if lock and self.postgres:
            query = query.with_for_update(of=db.projects)
        row = c.execute(query).first()
        if row is None or row.role is None:
            raise ApiError("not_found", "no such project")
        if not role_at_least(row.role, needed):
            raise ApiError("forbidden", f"this needs the {needed} role")
        return row.team_id, int(row.revision), int(row.snapshot_revision)

    # projects
    def create_project(self, team_id: str, project_id: str, name: str) -> None:
        try:
            with self.engine.begin() as c:
                c.execute(
                    insert(db.projects).values(
                        id=project_id,
                        team_id=team_id,
                        name=name,
                        revision=0,
                        snapshot_revision=0,
                        created_at=time.time(),
                    )
                )
        except IntegrityError:
            raise ApiError("conflict", "a project with this id exists") from None

    def projects_of(self, team_id: str) -> list[dict[str, object]]:
        with self.engine.connect() as c:
            rows = c.execute(
                select(db.projects.c.id, db.projects.c.name, db.projects.c.revision)
                .where(db.projects.c.team_id == team_id)
                .order_by(db.projects.c.created_at)
            ).all()
        return [{"project_id": r.id, "name": r.name, "revision": int(r.revision)} for r in rows]

    # the in-memory documents
    def _load_doc(self, c: Connection, project_id: str, head: int, snapshot: int) -> Doc:
        with self._guard:
            cached = self._docs.pop(project_id, None)
        if cached is not None and cached.revision == head:
            return cached.doc
        if cached is not None and snapshot <= cached.revision < head:
            rows = update_range(c, project_id, cached.revision, head)
            if len(rows) == head - cached.revision:
                for data in rows:
                    cached.doc.apply_update(data)
                return cached.doc
        return build_doc(c, project_id, head, snapshot)

    def _keep_doc(self, project_id: str, doc: Doc, revision: int) -> None:
        with self._guard:
            self._docs[project_id] = _CachedDoc(doc, revision)
            self._docs.move_to_end(project_id)
            while len(self._docs) > self.config.doc_cache_size:
                self._docs.popitem(last=False)

    # push and pull
    def push(self, project_id: str, user_id: str, batch: list[bytes]) -> PushResult:
        with self._project_lock(project_id), self._writer() as c:
            with c.begin():
                team_id, head, snapshot = self._access(c, project_id, user_id, "editor", True)
                doc = self._load_doc(c, project_id, head, snapshot)
                try:
                    apply_checked(doc, batch)
                except BadUpdate as error:
                    raise ApiError("bad_update", str(error)) from None
                last = head + len(batch)
                now = time.time()
                event = {
                    "at": now,
                    "day": int(now // 86400),
                    "kind": "push",
                    "team_id": team_id,
                    "user_id": user_id,
                    "project_id": project_id,
                    "count": len(batch),
                    "bytes": sum(len(u) for u in batch),
                }
                if self.postgres:
                    c.execute(
                        _PG_PUSH,
                        {**event, "head": head, "last": last, "data": [bytes(u) for u in batch],
                         "channel": NOTIFY_CHANNEL},
                    )  # fmt: skip
                else:
                    c.execute(
                        insert(db.updates),
                        [
                            {"project_id": project_id, "revision": head + i + 1, "data": data}
                            for i, data in enumerate(batch)
                        ],
                    )
                    c.execute(
                        update(db.projects)
                        .where(db.projects.c.id == project_id)
                        .values(revision=last)
                    )
                    c.execute(insert(db.events).values(**event))
            self._keep_doc(project_id, doc, last)
        due = last - snapshot > self.config.compact_after
        return PushResult(head + 1, last, len(batch), team_id, due)

    def pull(self, project_id: str, user_id: str, after: int, max_bytes: int) -> PullResult:
        with self._reader() as c, c.begin():
            team_id, head, snapshot = self._access(c, project_id, user_id, "viewer")
            entries: list[tuple[int, bytes]] = []
            compacted = None
            start = after
            if after < snapshot:
                data = c.execute(
                    select(db.snapshots.c.data).where(db.snapshots.c.project_id == project_id)
                ).scalar_one()
                entries.append((snapshot, bytes(data)))
                compacted, start = snapshot, snapshot
            total = sum(len(d) for _, d in entries)
            if start < head:
                rows = c.execute(
                    select(db.updates.c.revision, db.updates.c.data)
                    .where(db.updates.c.project_id == project_id, db.updates.c.revision > start)
                    .order_by(db.updates.c.revision)
                    .limit(PULL_ROWS)
                )
                for row in rows:
                    if entries and total + len(row.data) > max_bytes:
                        break
                    entries.append((int(row.revision), bytes(row.data)))
                    total += len(row.data)
        return PullResult(entries, head, compacted, team_id)

    # compaction
    def compact(self, project_id: str, *, keep_after: int | None = None) -> int | None:
        """Fold the revisions up to the newest one (or ``keep_after``) into the snapshot.

        Returns the snapshot's new revision, or None when there was nothing to do or another
        compaction got there first.
        """
        with self._reader() as c, c.begin():
            row = c.execute(
                select(db.projects.c.revision, db.projects.c.snapshot_revision).where(
                    db.projects.c.id == project_id
                )
            ).first()
            if row is None:
                return None
            snapshot = int(row.snapshot_revision)
            target = int(row.revision) if keep_after is None else min(keep_after, row.revision)
            if target <= snapshot:
                return None
            old = None
            if snapshot > 0:
                old = c.execute(
                    select(db.snapshots.c.data).where(db.snapshots.c.project_id == project_id)
                ).scalar_one()
            rows = update_range(c, project_id, snapshot, target)
        if len(rows) != target - snapshot:
            raise RuntimeError(f"project {project_id}: revisions missing below {target}")
        doc = new_doc()
        if old is not None:
            doc.apply_update(bytes(old))
        for data in rows:
            doc.apply_update(data)
        merged = full_state(doc)
        with self._writer() as c, c.begin():
            query = select(db.projects.c.snapshot_revision).where(db.projects.c.id == project_id)
            if self.postgres:
                query = query.with_for_update()
            if c.execute(query).scalar() != snapshot:
                return None
            c.execute(delete(db.snapshots).where(db.snapshots.c.project_id == project_id))
            c.execute(
                insert(db.snapshots).values(project_id=project_id, revision=target, data=merged)
            )
            c.execute(
                delete(db.updates).where(
                    and_(db.updates.c.project_id == project_id, db.updates.c.revision <= target)
                )
            )
            c.execute(
                update(db.projects)
                .where(db.projects.c.id == project_id)
                .values(snapshot_revision=target)
            )
        return target

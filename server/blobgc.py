"""Which blobs a team's projects still list, and the periodic sweep that lets go of the rest.

A blob belongs to a team from its upload (``team_blobs``); the project documents list the files
they use in their ``files`` part (Maps with a ``sha256``). :func:`sweep` reads every project of
every team, releases each team's blobs that none of its projects lists any more (only those
recorded longer ago than the grace period, so an upload whose listing is still on its way is
kept), then :func:`server.blobs.collect_garbage` deletes blobs no team holds.

A file taken off a project and listed again later after a sweep is uploaded again by the
desktop (it asks the server before it skips an upload).
"""

from __future__ import annotations

import logging
import time

from pycrdt import Array, Doc
from sqlalchemy import and_, delete, select
from sqlalchemy.engine import Engine

from server import db
from server import protocol as p
from server.blobs import BlobBackend, collect_garbage
from server.updatelog import build_doc

log = logging.getLogger(__name__)

MAX_LISTED = 100_000
"""Files read from one project's list (a hostile document may hold more)."""


def listed_files(doc: Doc) -> set[str]:
    """SHA-256 names the document's ``files`` part lists (anything not well formed is left
    out)."""
    found: set[str] = set()
    for item in doc.get("files", type=Array).to_py() or []:
        if len(found) >= MAX_LISTED:
            break
        if isinstance(item, dict):
            sha256 = item.get("sha256")
            if isinstance(sha256, str) and p.is_sha256(sha256):
                found.add(sha256)
    return found


def team_listed_files(engine: Engine, team_id: str) -> set[str]:
    """Every file any project of the team lists. A project whose document cannot be read
    counts as listing every blob of the team (nothing is released because of a fault)."""
    found: set[str] = set()
    with engine.connect() as c:
        projects = c.execute(
            select(db.projects.c.id, db.projects.c.revision, db.projects.c.snapshot_revision).where(
                db.projects.c.team_id == team_id
            )
        ).all()
        for project in projects:
            try:
                doc = build_doc(
                    c, project.id, int(project.revision), int(project.snapshot_revision)
                )
                found |= listed_files(doc)
            except Exception:  # accepted updates always apply; say so if one does not
                log.exception("project %s could not be read for the blob sweep", project.id)
                held = c.execute(
                    select(db.team_blobs.c.sha256).where(db.team_blobs.c.team_id == team_id)
                ).scalars()
                return found | set(held)
    return found


def sweep(engine: Engine, store: BlobBackend, *, grace_s: float = 3600.0) -> tuple[int, list[str]]:
    """Release every team's blobs its projects no longer list (recorded before the grace
    period), then delete blobs no team holds. Returns (team links released, blobs deleted)."""
    cutoff = time.time() - grace_s
    released = 0
    with engine.connect() as c:
        teams = list(c.execute(select(db.teams.c.id)).scalars())
    for team_id in teams:
        listed = team_listed_files(engine, team_id)
        with db.write_transaction(engine) as c:
            old = c.execute(
                select(db.team_blobs.c.sha256).where(
                    and_(db.team_blobs.c.team_id == team_id, db.team_blobs.c.created_at < cutoff)
                )
            ).scalars()
            unused = [sha for sha in old if sha not in listed]
            for sha256 in unused:
                c.execute(
                    delete(db.team_blobs).where(
                        and_(db.team_blobs.c.team_id == team_id, db.team_blobs.c.sha256 == sha256)
                    )
                )
            released += len(unused)
    removed = collect_garbage(engine, store, grace_s=grace_s)
    if released or removed:
        log.info("blob sweep: %d team links released, %d blobs deleted", released, len(removed))
    return released, removed

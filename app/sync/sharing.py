"""Turning a local project into a team project, and joining a team project.

Sharing keeps the local id (on the wire as 32 hex digits, :func:`~app.sync.store.wire_id`) and
pushes the project's whole state as the team project's first revision. Joining pulls everything
(the server's compacted snapshot and what came after it), checks it like any received change and
saves it as a new local project with the same id. Both record the link that
:class:`~app.sync.engine.SyncEngine` needs.

Thread contract: :meth:`ShareSnapshot.of` runs on the project's owner thread; :func:`share_project`
and :func:`join_project` make network requests and may run on any thread (not the GUI thread).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pycrdt

from app.i18n import _
from app.projects import Project, ProjectError, ProjectStore
from app.projects.document import is_fatal
from app.sync.client import SyncClient
from app.sync.errors import BadReply, Conflict
from app.sync.store import SyncLink, SyncStore, local_id, wire_id

log = logging.getLogger(__name__)

MAX_PULLS = 10_000  # a server that never finishes a pull is broken, not big


@dataclass(frozen=True)
class ShareSnapshot:
    """What sharing needs from an open project, taken on its owner thread."""

    project_id: str
    name: str
    state: bytes
    state_vector: bytes
    rows_seen: int

    @classmethod
    def of(cls, project: Project, store: SyncStore) -> ShareSnapshot:
        project.save()
        return cls(
            project.id,
            project.name,
            project.state_update(),
            project.state_vector(),
            store.newest_update_row(project.id),
        )


def share_project(
    client: SyncClient, store: SyncStore, snapshot: ShareSnapshot, team_id: str
) -> SyncLink:
    """Create the team project in ``team_id`` and push the project's state. Safe to repeat
    after a failure (the project may exist on the server already)."""
    wire = wire_id(snapshot.project_id)
    try:
        client.create_project(team_id, wire, snapshot.name or _("Untitled song"))
    except Conflict:
        log.info("team project %s exists already; pushing the state again", wire)
    result = client.push(wire, [snapshot.state])
    # When this push made revision 1 nothing else is on the server: no need to pull it back.
    last = result.revision if result.first_revision == 1 else 0
    store.link(
        snapshot.project_id,
        client.server_url,
        team_id,
        last_revision=last,
        rows_seen=snapshot.rows_seen,
        state_vector=snapshot.state_vector,
    )
    link = store.get_link(snapshot.project_id)
    assert link is not None
    return link


def pull_everything(client: SyncClient, wire: str) -> tuple[bytes, int]:
    """The team project's whole state as one update, and the newest revision it holds."""
    after, updates = 0, []
    for _attempt in range(MAX_PULLS):
        result = client.pull(wire, after, 0.0)
        updates += [data for _rev, data in result.entries]
        after = result.last or after
        if result.complete:
            break
    else:
        raise BadReply(_("The team server never finished sending the project."), code="bad_reply")
    if not updates:
        return b"\x00\x00", after
    try:
        merged = pycrdt.merge_updates(*updates) if len(updates) > 1 else updates[0]
    except BaseException as exc:
        if is_fatal(exc):
            raise
        raise BadReply(
            _("The team server sent a damaged project; nothing was saved."),
            code="bad_update",
        ) from exc
    return merged, after


def join_project(
    client: SyncClient, projects: ProjectStore, store: SyncStore, team_id: str, wire: str
) -> str:
    """Make a local copy of team project ``wire``; return its local id. Raises ProjectError for
    a damaged project (nothing is saved then) and SyncError for request failures."""
    project_id = local_id(wire)
    existing = store.get_link(project_id)
    if existing is not None:
        return project_id
    state, revision = pull_everything(client, wire)
    try:
        project = projects.create_from_update(project_id, state)
    except ProjectError:
        try:
            projects.info(project_id)
        except ProjectError:
            raise  # the state itself was refused
        # A copy exists (an earlier join stopped before the link was written): link it and let
        # the engine send its whole state once.
        store.link(project_id, client.server_url, team_id)
        return project_id
    try:
        rows_seen = store.newest_update_row(project_id)
        vector = project.state_vector()
    finally:
        project.close()
    store.link(
        project_id,
        client.server_url,
        team_id,
        last_revision=revision,
        rows_seen=rows_seen,
        state_vector=vector,
    )
    return project_id

"""The newest revisions of each project, kept in memory for the long-polls they wake.

A push that commits wakes every long-poll of its project at once; each woken pull would read the
database again. With 50 clients waiting that is 50 reads (and thread hand-overs) for the same few
rows. :class:`RecentRevisions` keeps what this process committed, and a woken pull answers from it
when it holds every revision after the client's ``after`` without a gap; otherwise the pull reads
the database as before. Pushes made by other server processes are never here, so their pulls go
to the database (correct, only slower).

Revisions are stored under their numbers, so pushes whose answers come back out of order still
leave a contiguous run. Bounded per project by count and bytes; a single large update is not
kept. Only this process's event loop thread uses it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

MAX_REVISIONS = 512  # per project
MAX_BYTES = 4 * 1024 * 1024  # per project
MAX_UPDATE = 256 * 1024  # larger updates are read from the database
MAX_PROJECTS = 256


class RecentRevisions:
    def __init__(self) -> None:
        self._projects: OrderedDict[str, dict[int, bytes]] = OrderedDict()
        self._sizes: dict[str, int] = {}

    def add(self, project_id: str, first_revision: int, batch: Sequence[bytes]) -> None:
        """Keep ``batch``, committed as revisions ``first_revision``, ``first_revision + 1``…"""
        revisions = self._projects.get(project_id)
        if revisions is None:
            revisions = self._projects[project_id] = {}
            self._sizes[project_id] = 0
            while len(self._projects) > MAX_PROJECTS:
                old, _ = self._projects.popitem(last=False)
                self._sizes.pop(old, None)
        self._projects.move_to_end(project_id)
        for offset, data in enumerate(batch):
            if len(data) > MAX_UPDATE:
                continue  # leaves a gap: pulls across it read the database
            revisions[first_revision + offset] = bytes(data)
            self._sizes[project_id] += len(data)
        while revisions and (len(revisions) > MAX_REVISIONS or self._sizes[project_id] > MAX_BYTES):
            oldest = min(revisions)
            self._sizes[project_id] -= len(revisions.pop(oldest))

    def after(self, project_id: str, after: int, max_bytes: int) -> list[tuple[int, bytes]]:
        """Revisions ``after + 1``, ``after + 2``… up to the first one not kept (or the byte
        limit); empty when ``after + 1`` is not kept."""
        revisions = self._projects.get(project_id)
        entries: list[tuple[int, bytes]] = []
        if not revisions:
            return entries
        total, revision = 0, after + 1
        while revision in revisions:
            data = revisions[revision]
            if entries and total + len(data) > max_bytes:
                break
            entries.append((revision, data))
            total += len(data)
            revision += 1
        return entries

    def forget(self, project_id: str) -> None:
        self._projects.pop(project_id, None)
        self._sizes.pop(project_id, None)

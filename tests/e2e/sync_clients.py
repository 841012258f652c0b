"""Test helpers for team sync: a desktop "machine" with its own database, owner thread, client and
engine. Not a test module (no ``test_`` prefix); imported by the sync tests and the benchmark."""

from __future__ import annotations

import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from random import Random
from typing import Any, TypeVar

import pycrdt

from app.projects import Project, ProjectStore
from app.projects.document import read_parts
from app.projects.files import FileStore, file_entries
from app.storage import Database, open_database
from app.sync import SyncClient, SyncEngine, SyncStore
from app.sync.files import FileSync
from app.sync.sharing import pull_everything

T = TypeVar("T")


class Owner:
    """A thread that owns projects: the stand-in for the GUI thread."""

    def __init__(self, name: str) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    def call(self, fn: Callable[[], object]) -> None:
        """``call_in_owner`` for the engine: queue ``fn``, do not wait."""
        self._pool.submit(fn)

    def run(self, fn: Callable[[], T], timeout: float = 60.0) -> T:
        return self._pool.submit(fn).result(timeout)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)


class Machine:
    """One desktop: database, project store, owner thread, sync client and engine.

    With ``files=True`` also a :class:`FileStore` (``<root>/<name>/files``) and a
    :class:`FileSync` (retrying after 0.1 s, at most 1 s apart) that, as in
    :class:`app.sync.session.TeamSession`, is asked for the open project's listed files whenever
    the project changes from the team, is opened, or :meth:`files_changed` is called after a
    change here; :meth:`go_offline` and :meth:`go_online` switch both engine and file sync."""

    def __init__(
        self, root: Path, name: str, server_url: str, *, files: bool = False, **engine_options: Any
    ) -> None:
        self.name = name
        self.db_path = root / name / "hookline.sqlite3"
        self.database: Database = open_database(self.db_path)
        self.projects = ProjectStore(self.database)
        self.sync_store = SyncStore(self.database)
        self.owner = Owner(name)
        self.client = SyncClient(server_url)
        self.engine = SyncEngine(self.client, self.database, self.owner.call, **engine_options)
        self.project: Project | None = None
        self.files: FileStore | None = None
        self.file_sync: FileSync | None = None
        if files:
            self.files = FileStore(root / name / "files", self.database)
            self.file_sync = FileSync(
                self.client, self.files, first_retry_s=0.1, max_retry_s=1.0, rng=Random(name)
            )
            self.engine.add_remote_listener(lambda _project_id, _revision: self.files_changed())
            self.file_sync.start()

    def open(self, project_id: str) -> Project:
        def open_and_attach() -> Project:
            project = self.projects.open(project_id)
            self.engine.attach(project)
            return project

        self.project = self.owner.run(open_and_attach)
        self.owner.run(self.files_changed)
        return self.project

    def files_changed(self) -> None:
        """Hand the open project's file list to the file sync (owner thread)."""
        project, file_sync = self.project, self.file_sync
        if project is None or project.closed or file_sync is None:
            return
        link = self.sync_store.get_link(project.id)
        if link is not None:
            file_sync.want(link.team_id, file_entries(project))

    def go_offline(self) -> None:
        self.engine.go_offline()
        if self.file_sync is not None:
            self.file_sync.go_offline()

    def go_online(self) -> None:
        self.engine.go_online()
        if self.file_sync is not None:
            self.file_sync.go_online()

    def content(self) -> dict[str, Any]:
        assert self.project is not None
        project = self.project
        return self.owner.run(project.content)

    def close(self) -> None:
        project = self.project

        def detach_and_close() -> None:
            if project is not None and not project.closed:
                self.engine.detach(project)
                project.close()

        try:
            self.owner.run(detach_and_close)
        finally:
            self.engine.stop()
            if self.file_sync is not None:
                self.file_sync.stop()
            self.owner.close()
            self.database.close()


def closed_port() -> int:
    """A loopback port nothing listens on (for "the server is unreachable")."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


PASSWORD = "correct horse 🐎 battery"


def make_team(server_url: str, count: int, *, prefix: str = "member") -> tuple[str, list[str]]:
    """Register ``count`` users (the first owns a new team, the others join it as editors by
    invitation); return the team id and their e-mails (password :data:`PASSWORD`)."""
    owner = SyncClient(server_url)
    emails = [f"{prefix}{i}@example.org" for i in range(count)]
    for i, email in enumerate(emails):
        owner.register(email, PASSWORD, f"Mitglied {i} 🎤")
    owner.login(emails[0], PASSWORD)
    team_id = owner.create_team("Die Band 🎸")
    for email in emails[1:]:
        token = owner.invite(team_id, "editor", 3600)
        member = SyncClient(server_url)
        member.login(email, PASSWORD)
        member.accept_invitation(token)
    return team_id, emails


def restart_on_same_port(server: Any) -> None:
    """SIGKILL the test server and start it again on the same port, so clients keep their URL
    (a real server keeps its address across a crash; SyncServer.restart picks a new port)."""
    server.kill()
    relaunch_on_same_port(server)


def relaunch_on_same_port(server: Any, timeout: float = 20.0) -> None:
    """Start a killed or stopped test server again on its port; wait until it answers."""
    if not server._launch(timeout):
        raise RuntimeError("the sync server did not come back on its port")


def server_content(client: SyncClient, wire: str) -> dict[str, Any]:
    """The team project as the server holds it: every revision (or the compacted snapshot and
    what follows) pulled through ``client`` and applied to an empty document."""
    state, _revision = pull_everything(client, wire)
    doc: pycrdt.Doc[Any] = pycrdt.Doc()
    doc.apply_update(state)
    return read_parts(doc)

"""The Team room's service: one account on one team server, and the engine that keeps the
open project in step with it.

:class:`TeamSession` is Qt-free. Every method that talks to the server blocks (call it from a
worker thread); :meth:`attach` and :meth:`detach` take the project on its owner thread. The
engine starts at sign-in (or when a saved sign-in is resumed) and stops at sign-out; the GUI
passes ``call_in_owner`` so that changes from the team reach the project on the GUI thread;
it must queue the call (run it later on the owner thread), never run it inside the caller.
With a :class:`~app.projects.files.FileStore`, the files an attached project lists follow it
(:class:`~app.sync.files.FileSync`): checked whenever the project changes here or from the team.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from app.projects import Project, ProjectStore
from app.projects.files import FileStore, file_entries
from app.storage import Database
from app.sync.client import RemoteProject, SyncClient, Team, normalise_url
from app.sync.engine import CallInOwner, SyncEngine, SyncStatus
from app.sync.files import FileStatus, FileSync
from app.sync.sharing import ShareSnapshot, join_project, share_project
from app.sync.store import SyncLink, SyncStore, wire_id

INVITATION_TTL_S = 7 * 24 * 3600.0


class TeamSession:
    def __init__(
        self,
        database: Database,
        projects: ProjectStore,
        server_url: str,
        call_in_owner: CallInOwner,
        files: FileStore | None = None,
        **engine_options: float,
    ) -> None:
        """``engine_options`` go to :class:`~app.sync.engine.SyncEngine` (tests shorten its
        batch interval and long-poll)."""
        self.database = database
        self.projects = projects
        self.server_url = normalise_url(server_url)
        self.store = SyncStore(database)
        self._call_in_owner = call_in_owner
        self._lock = threading.Lock()
        self.client = SyncClient(self.server_url)
        self.engine: SyncEngine | None = None
        self.files = files
        self.file_sync: FileSync | None = None
        self._file_listeners: list[Callable[[str, FileStatus], None]] = []
        # attached projects (owner thread): the project, its listener's remover, its team
        self._projects: dict[str, tuple[Project, Callable[[], None], str]] = {}
        self.email: str | None = None
        self._offline = False
        self._engine_options = engine_options
        self._status_listeners: list[Callable[[SyncStatus], None]] = []
        self._remote_listeners: list[Callable[[str, int], None]] = []

    # -- the account ---------------------------------------------------------------------------
    @property
    def signed_in(self) -> bool:
        return self.client.signed_in

    def resume(self) -> bool:
        """Sign in again with the refresh token kept for this server's saved account."""
        saved = self.store.account(self.server_url)
        if saved is None or not self.client.resume(saved.email):
            return False
        self.email = saved.email
        self._start_engine()
        return True

    def register(self, email: str, password: str, name: str) -> None:
        self.client.register(email, password, name)
        self.login(email, password)

    def login(self, email: str, password: str) -> None:
        user_id = self.client.login(email, password)
        self.email = email
        self.store.remember_account(self.server_url, user_id, email, None)
        self._start_engine()

    def logout(self) -> None:
        """Stop syncing, revoke the sign-in and forget it. Local projects and their unsent
        changes stay (they go out after the next sign-in)."""
        self._stop_engine()
        self.client.logout()
        self.store.forget_account(self.server_url)
        self.email = None

    def close(self) -> None:
        self._stop_engine()
        self.client.close()

    def _stop_engine(self) -> None:
        with self._lock:
            engine, self.engine = self.engine, None
            file_sync, self.file_sync = self.file_sync, None
        if engine is not None:
            engine.stop()
        if file_sync is not None:
            file_sync.stop()

    def add_status_listener(self, listener: Callable[[SyncStatus], None]) -> None:
        """``listener`` hears every engine status change (on the engine's threads)."""
        self._status_listeners.append(listener)
        if self.engine is not None:
            self.engine.add_status_listener(listener)

    def status(self) -> SyncStatus | None:
        return self.engine.status() if self.engine is not None else None

    def _start_engine(self) -> None:
        with self._lock:
            if self.engine is not None:
                return
            engine = SyncEngine(
                self.client,
                self.database,
                self._call_in_owner,
                **self._engine_options,  # type: ignore[arg-type]  # floats: see __init__
            )
            for listener in self._status_listeners:
                engine.add_status_listener(listener)
            for remote in self._remote_listeners:
                engine.add_remote_listener(remote)
            engine.add_remote_listener(self._project_changed)
            self.engine = engine
            file_sync = None
            if self.files is not None:
                file_sync = FileSync(self.client, self.files)
                for heard in self._file_listeners:
                    file_sync.add_listener(heard)
                self.file_sync = file_sync
        engine.start()  # online unless told otherwise below
        if file_sync is not None:
            file_sync.start()
        if self._offline:
            self.set_offline(True)

    # -- teams and projects (blocking) ---------------------------------------------------------
    def teams(self) -> list[Team]:
        return self.client.teams()

    def create_team(self, name: str) -> str:
        return self.client.create_team(name)

    def invite(self, team_id: str, role: str) -> str:
        return self.client.invite(team_id, role, INVITATION_TTL_S)

    def accept(self, token: str) -> Team:
        return self.client.accept_invitation(token.strip())

    def remote_projects(self, team_id: str) -> list[RemoteProject]:
        return self.client.projects(team_id)

    def activity(self, team_id: str, days: int = 30) -> list[dict[str, object]]:
        return self.client.activity(team_id, days)

    def share_stats(self, team_id: str, snapshot: dict[str, object]) -> None:
        """Share a statistics snapshot (:mod:`app.stats_share`) with the team."""
        self.client.share_stats(team_id, snapshot)

    def unshare_stats(self, team_id: str) -> None:
        self.client.unshare_stats(team_id)

    def team_stats(self, team_id: str) -> list[dict[str, object]]:
        return self.client.team_stats(team_id)

    def history(self, project_id: str, limit: int = 30) -> list[dict[str, object]]:
        """Who changed the shared project ``project_id`` (a local id) and when, newest first."""
        return self.client.history(wire_id(project_id), limit)

    def add_file_listener(self, listener: Callable[[str, FileStatus], None]) -> None:
        """``listener(sha256, status)`` at every change of a file transfer (worker thread)."""
        self._file_listeners.append(listener)
        if self.file_sync is not None:
            self.file_sync.add_listener(listener)

    def file_status(self, sha256: str) -> FileStatus | None:
        return self.file_sync.status(sha256) if self.file_sync is not None else None

    def add_remote_listener(self, listener: Callable[[str, int], None]) -> None:
        """``listener(project_id, revision)`` after changes from the team were applied (on the
        project's owner thread)."""
        self._remote_listeners.append(listener)
        if self.engine is not None:
            self.engine.add_remote_listener(listener)

    def share(self, snapshot: ShareSnapshot, team_id: str) -> SyncLink:
        return share_project(self.client, self.store, snapshot, team_id)

    def join(self, team_id: str, remote_id: str) -> str:
        """Copy team project ``remote_id`` into a local project; returns its local id."""
        return join_project(self.client, self.projects, self.store, team_id, remote_id)

    # -- the open project (owner thread) -------------------------------------------------------
    def link(self, project: Project) -> SyncLink | None:
        link = self.store.get_link(project.id)
        return link if link is not None and link.server_url == self.server_url else None

    def snapshot(self, project: Project) -> ShareSnapshot:
        return ShareSnapshot.of(project, self.store)

    def attach(self, project: Project) -> bool:
        """Start syncing ``project`` when it is shared on this server and a sign-in exists."""
        link = self.link(project)
        if self.engine is None or link is None:
            return False
        self.engine.attach(project)
        if project.id not in self._projects:
            # The listener runs inside the edit's transaction, where the document cannot be
            # read: look at the file list right after it, on the owner thread.
            def later(_update: bytes) -> None:
                self._call_in_owner(lambda: self._project_changed(project.id))

            remove = project.add_local_listener(later)
            self._projects[project.id] = (project, remove, link.team_id)
        self._project_changed(project.id)
        return True

    def detach(self, project: Project) -> None:
        attached = self._projects.pop(project.id, None)
        if attached is not None:
            attached[1]()
        if self.engine is not None:
            self.engine.detach(project)

    def set_offline(self, offline: bool) -> None:
        """Work offline (every change and file waits) or online again."""
        with self._lock:
            self._offline = offline
            engine, file_sync = self.engine, self.file_sync
        if engine is not None:
            engine.go_offline() if offline else engine.go_online()
        if file_sync is not None:
            file_sync.go_offline() if offline else file_sync.go_online()

    def files_changed(self, project: Project) -> None:
        """Look at ``project``'s file list again (owner thread)."""
        self._project_changed(project.id)

    def _project_changed(self, project_id: str, _revision: int = 0) -> None:
        """On the owner thread, after a change here or from the team: let the files the project
        lists follow it."""
        attached = self._projects.get(project_id)
        file_sync = self.file_sync
        if attached is None or file_sync is None or attached[0].closed:
            return
        file_sync.want(attached[2], file_entries(attached[0]))

    @staticmethod
    def wire_id(project: Project) -> str:
        return wire_id(project.id)

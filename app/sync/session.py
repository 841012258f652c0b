"""The Team room's service: one account on one team server, and the engine that keeps the
open project in step with it.

:class:`TeamSession` is Qt-free. Every method that talks to the server blocks (call it from a
worker thread); :meth:`attach` and :meth:`detach` take the project on its owner thread. The
engine starts at sign-in (or when a saved sign-in is resumed) and stops at sign-out; the GUI
passes ``call_in_owner`` so that changes from the team reach the project on the GUI thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from app.projects import Project, ProjectStore
from app.storage import Database
from app.sync.client import RemoteProject, SyncClient, Team, normalise_url
from app.sync.engine import CallInOwner, SyncEngine, SyncStatus
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
    ) -> None:
        self.database = database
        self.projects = projects
        self.server_url = normalise_url(server_url)
        self.store = SyncStore(database)
        self._call_in_owner = call_in_owner
        self._lock = threading.Lock()
        self.client = SyncClient(self.server_url)
        self.engine: SyncEngine | None = None
        self.email: str | None = None
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
        with self._lock:
            engine, self.engine = self.engine, None
        if engine is not None:
            engine.stop()
        self.client.logout()
        self.store.forget_account(self.server_url)
        self.email = None

    def close(self) -> None:
        with self._lock:
            engine, self.engine = self.engine, None
        if engine is not None:
            engine.stop()
        self.client.close()

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
            engine = SyncEngine(self.client, self.database, self._call_in_owner)
            for listener in self._status_listeners:
                engine.add_status_listener(listener)
            for remote in self._remote_listeners:
                engine.add_remote_listener(remote)
            self.engine = engine
        engine.start()

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

    def history(self, project_id: str, limit: int = 30) -> list[dict[str, object]]:
        """Who changed the shared project ``project_id`` (a local id) and when, newest first."""
        return self.client.history(wire_id(project_id), limit)

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
        if self.engine is None or self.link(project) is None:
            return False
        self.engine.attach(project)
        return True

    def detach(self, project: Project) -> None:
        if self.engine is not None:
            self.engine.detach(project)

    @staticmethod
    def wire_id(project: Project) -> str:
        return wire_id(project.id)

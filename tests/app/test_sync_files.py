"""Files listed in a shared project follow it between members, through the real server (uvicorn
on 127.0.0.1): uploaded once, downloaded and hash-checked, "not uploaded yet" until the member
who has the file comes online, refused for viewers, and a damaged copy on the server never kept."""

from __future__ import annotations

import filecmp
import os
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.projects import Project, ProjectStore
from app.projects.files import FileStore, add_file, file_entries
from app.storage import Database, open_database
from app.sync.client import SyncClient
from app.sync.files import FileState
from app.sync.session import TeamSession
from app.sync.sharing import ShareSnapshot
from app.sync.store import wire_id
from tests.e2e.sync_clients import PASSWORD, Owner, make_team
from tests.support.sync_server import SyncServer
from tests.support.waiting import wait_for

pytestmark = pytest.mark.usefixtures("english", "memory_keyring")


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    import app.sync.files

    monkeypatch.setattr(app.sync.files, "FIRST_RETRY_S", 0.2)
    monkeypatch.setattr(app.sync.files, "MAX_RETRY_S", 1.0)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SyncServer]:
    with SyncServer(tmp_path / "server") as running:
        yield running


class Desk:
    """One member's desktop: database, file store, owner thread and team session."""

    def __init__(self, root: Path, name: str, server_url: str) -> None:
        self.database: Database = open_database(root / name / "hookline.sqlite3")
        self.projects = ProjectStore(self.database)
        self.files = FileStore(root / name / "files", self.database)
        self.owner = Owner(name)
        self.session = TeamSession(
            self.database,
            self.projects,
            server_url,
            self.owner.call,
            self.files,
            batch_interval_s=0.05,
            long_poll_s=2.0,
        )
        self.project: Project | None = None

    def open(self, project_id: str) -> None:
        def open_and_attach() -> Project:
            project = self.projects.open(project_id)
            assert self.session.attach(project)
            return project

        self.project = self.owner.run(open_and_attach)

    def add(self, path: Path) -> str:
        sha, size, media_type = self.files.add_path(path)
        project = self.project
        assert project is not None
        self.owner.run(lambda: add_file(project, sha, path.name, size, media_type))
        return sha

    def listed(self) -> list[str]:
        project = self.project
        assert project is not None
        return [e.sha256 for e in self.owner.run(lambda: file_entries(project))]

    def state(self, sha: str) -> FileState | None:
        status = self.session.file_status(sha)
        return status.state if status is not None else None

    def close(self) -> None:
        project = self.project

        def detach_and_close() -> None:
            if project is not None and not project.closed:
                self.session.detach(project)
                project.close()

        try:
            self.owner.run(detach_and_close)
        finally:
            self.session.close()
            self.owner.close()
            self.database.close()


def _band(tmp_path: Path, server: SyncServer, role: str = "editor") -> tuple[Desk, Desk, str]:
    """Alice owns a team and shares a project; Bob joins the team as ``role`` and opens the
    project; both sessions run."""
    team_id, emails = make_team(server.url, 1)
    alice, bob = Desk(tmp_path, "alice", server.url), Desk(tmp_path, "bob", server.url)
    alice.session.login(emails[0], PASSWORD)
    bob.session.register("bob@example.org", PASSWORD, "Bob 🥁")
    bob.session.accept(alice.session.invite(team_id, role))

    def create() -> ShareSnapshot:
        project = alice.projects.create("Stems 🎚️")
        snapshot = alice.session.snapshot(project)
        project.close()
        return snapshot

    snapshot = alice.owner.run(create)
    alice.session.share(snapshot, team_id)
    project_id = bob.session.join(team_id, wire_id(snapshot.project_id))
    alice.open(project_id)
    bob.open(project_id)
    return alice, bob, team_id


def _retry_at(desk: Desk, sha: str) -> float | None:
    status = desk.session.file_status(sha)
    return status.retry_at if status is not None else None


def _stem(tmp_path: Path, name: str, size: int) -> Path:
    path = tmp_path / name
    path.write_bytes(os.urandom(size))
    return path


def test_a_file_added_by_one_member_arrives_checked_at_the_other(
    tmp_path: Path, server: SyncServer
) -> None:
    alice, bob, team_id = _band(tmp_path, server)
    try:
        stem = _stem(tmp_path, "bass take 3.wav", 1_500_000)
        sha = alice.add(stem)
        wait_for(lambda: bob.files.has(sha), what="Bob's copy")
        assert bob.files.read(sha) == stem.read_bytes()
        assert bob.listed() == [sha]
        wait_for(lambda: bob.state(sha) is FileState.HERE and alice.state(sha) is FileState.HERE)
        assert alice.session.client.has_blob(team_id, sha)
        stored = [p for p in (tmp_path / "server").rglob("*") if p.is_file() and p.name == sha]
        assert len(stored) == 1 and stored[0].read_bytes() == stem.read_bytes()
    finally:
        alice.close()
        bob.close()


def test_a_file_nobody_uploaded_waits_until_its_owner_is_online(
    tmp_path: Path, server: SyncServer
) -> None:
    """Alice's document change goes out but her file transfers are held (as when her upload
    has not started yet): Bob sees "not uploaded yet" and keeps asking; once Alice's file goes
    out, it arrives."""
    alice, bob, _team_id = _band(tmp_path, server)
    try:
        alice_files = alice.session.file_sync
        assert alice_files is not None
        alice_files.go_offline()
        sha = alice.add(_stem(tmp_path, "pad.aiff", 50_000))
        wait_for(lambda: bob.listed() == [sha], what="the listing at Bob's")
        wait_for(lambda: bob.state(sha) is FileState.NOT_UPLOADED, what="not uploaded yet")
        assert _retry_at(bob, sha) is not None
        assert not bob.files.has(sha)
        assert alice.state(sha) is FileState.QUEUED
        alice_files.go_online()
        wait_for(lambda: bob.files.has(sha), timeout=30, what="Bob's copy after Alice's upload")
        wait_for(lambda: bob.state(sha) is FileState.HERE)
    finally:
        alice.close()
        bob.close()


def test_working_offline_holds_changes_and_files_until_online(
    tmp_path: Path, server: SyncServer
) -> None:
    alice, bob, _team_id = _band(tmp_path, server)
    try:
        alice.session.set_offline(True)
        sha = alice.add(_stem(tmp_path, "vox.wav", 30_000))
        time.sleep(1.0)
        assert bob.listed() == [] and alice.session.client.has_blob(_team_id, sha) is False
        alice.session.set_offline(False)
        wait_for(lambda: bob.files.has(sha), timeout=30, what="Bob's copy once Alice is online")
    finally:
        alice.close()
        bob.close()


def test_a_viewer_cannot_upload_and_is_told_why(tmp_path: Path, server: SyncServer) -> None:
    alice, bob, team_id = _band(tmp_path, server, role="viewer")
    try:
        # A viewer's document edits are refused by the server; the file itself is refused too.
        sha = bob.add(_stem(tmp_path, "viewer idea.wav", 10_000))
        wait_for(lambda: bob.state(sha) is FileState.FAILED, what="the refusal")
        status = bob.session.file_status(sha)
        assert status is not None and status.message and status.retry_at is None
        assert not alice.session.client.has_blob(team_id, sha)
    finally:
        alice.close()
        bob.close()


def test_a_damaged_copy_on_the_server_is_never_kept(tmp_path: Path, server: SyncServer) -> None:
    alice, bob, _team_id = _band(tmp_path, server)
    try:
        bob.session.set_offline(True)  # Bob fetches only after the server's copy is damaged
        stem = _stem(tmp_path, "kick.wav", 20_000)
        sha = alice.add(stem)
        wait_for(lambda: alice.state(sha) is FileState.HERE, what="the upload")
        [stored] = [p for p in (tmp_path / "server").rglob("*") if p.is_file() and p.name == sha]
        damaged = bytearray(stored.read_bytes())
        damaged[1000] ^= 0xFF
        stored.write_bytes(bytes(damaged))
        bob.session.set_offline(False)
        wait_for(lambda: _retry_at(bob, sha) is not None, what="a refused download")
        assert not bob.files.has(sha)
        assert bob.state(sha) is FileState.QUEUED
    finally:
        alice.close()
        bob.close()


def test_a_big_file_goes_up_and_down_without_being_held_in_memory(
    tmp_path: Path, server: SyncServer
) -> None:
    """48 MB through the real server, from one member's file store into another's: Python
    allocations on this side peak under 2 MB, a few read chunks whatever the file's size (the
    old whole-file path held the file at least once: 48 MB and more), and the copy that
    arrives is the same file."""
    team_id, [email] = make_team(server.url, 1, prefix="big")
    client = SyncClient(server.url)
    client.login(email, PASSWORD)
    sent = FileStore(tmp_path / "sent", open_database(tmp_path / "sent.sqlite3"))
    got = FileStore(tmp_path / "got", open_database(tmp_path / "got.sqlite3"))
    sha, size, _type = sent.add_path(_stem(tmp_path, "drums.wav", 48_000_000))
    tracemalloc.start()
    try:
        with sent.opened(sha) as stream:
            assert client.put_blob(team_id, stream) == sha
        _now, up_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        with got.receiving(sha, "audio/x-wav") as sink:
            assert client.download_blob(team_id, sha, sink) == size
        _now, down_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert up_peak < 2_000_000 and down_peak < 2_000_000, (up_peak, down_peak)
    assert filecmp.cmp(sent.path(sha), got.path(sha), shallow=False)

"""The sync engine and client against the real server (uvicorn on 127.0.0.1): sharing and
joining, no echo, token rotation through the keyring, a crash mid-push, the server SIGKILLed,
viewers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pycrdt
import pytest

from app.projects import ProjectStore
from app.storage import open_database
from app.sync import Connection, ShareSnapshot, SyncClient, join_project, share_project
from app.sync.errors import NotSignedIn
from app.sync.store import SyncStore, wire_id
from app.sync.tokens import SERVICE, KeyringCredentials
from tests.e2e.sync_clients import PASSWORD, Machine, make_team, restart_on_same_port
from tests.support.secret_service import InMemoryTestKeyring
from tests.support.sync_server import SyncServer
from tests.support.waiting import wait_for

pytestmark = pytest.mark.usefixtures("english", "memory_keyring")
REPO_ROOT = Path(__file__).resolve().parents[2]
FAST = {"batch_interval_s": 0.05, "long_poll_s": 5.0, "backoff_first_s": 0.1, "backoff_cap_s": 1.0}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SyncServer]:
    with SyncServer(tmp_path / "server") as running:
        yield running


def _pair(tmp_path: Path, server: SyncServer, **options: float) -> tuple[Machine, Machine, str]:
    """Alice shares a project, Bob joins it; both engines run."""
    team_id, emails = make_team(server.url, 2)
    alice = Machine(tmp_path, "alice", server.url, **{**FAST, **options})
    bob = Machine(tmp_path, "bob", server.url, **{**FAST, **options})
    alice.client.login(emails[0], PASSWORD)
    bob.client.login(emails[1], PASSWORD)

    def create() -> ShareSnapshot:
        project = alice.projects.create("Zusammen 🎶")
        with project.edit():
            project.lyrics += "Erste Zeile, 第一行 "
        snapshot = ShareSnapshot.of(project, alice.sync_store)
        project.close()
        return snapshot

    snapshot = alice.owner.run(create)
    share_project(alice.client, alice.sync_store, snapshot, team_id)
    project_id = join_project(
        bob.client, bob.projects, bob.sync_store, team_id, wire_id(snapshot.project_id)
    )
    assert project_id == snapshot.project_id
    alice.open(project_id)
    bob.open(project_id)
    alice.engine.start()
    bob.engine.start()
    return alice, bob, project_id


def _revision(client: SyncClient, project_id: str) -> int:
    return client.pull(wire_id(project_id), 0).revision


def test_share_join_and_edit_both_ways_without_echo(tmp_path: Path, server: SyncServer) -> None:
    alice, bob, project_id = _pair(tmp_path, server)
    try:
        assert bob.content()["lyrics"] == "Erste Zeile, 第一行 "
        before = _revision(alice.client, project_id)

        def alice_edits() -> None:
            assert alice.project is not None
            with alice.project.edit():
                alice.project.chords.append(pycrdt.Map({"beat": 0.0, "symbol": "Am7"}))

        alice.owner.run(alice_edits)
        wait_for(lambda: bob.content()["chords"] == [{"beat": 0.0, "symbol": "Am7"}])
        time.sleep(0.3)  # an echo would be pushed within a batch interval
        assert _revision(alice.client, project_id) == before + 1
        assert bob.sync_store.outbox_size() == 0

        def bob_edits() -> None:
            assert bob.project is not None
            bob.project.meta["tempo"] = 92.0

        bob.owner.run(bob_edits)
        wait_for(lambda: alice.content()["meta"].get("tempo") == 92.0)
        wait_for(lambda: alice.engine.status().revisions.get(project_id, 0) == before + 2)
        link = alice.sync_store.get_link(project_id)
        assert link is not None and link.last_revision == before + 2
        assert alice.engine.status().connection is Connection.ONLINE
    finally:
        alice.close()
        bob.close()


def test_outbox_is_kept_across_a_sigkill_in_the_middle_of_a_push(
    tmp_path: Path, server: SyncServer
) -> None:
    """A child process edits while the server is frozen (its push hangs), and is SIGKILLed.
    The edit is in the child's outbox on disk; an engine started later sends it."""
    alice, bob, project_id = _pair(tmp_path, server)
    alice.close()  # the child takes over Alice's database
    child_code = textwrap.dedent(
        f"""
        import sys, time, keyring
        sys.path.insert(0, {str(REPO_ROOT)!r})
        from tests.support.secret_service import InMemoryTestKeyring
        keyring.set_keyring(InMemoryTestKeyring())
        from tests.e2e.sync_clients import Machine, PASSWORD
        m = Machine(__import__("pathlib").Path({str(tmp_path)!r}), "alice", {server.url!r})
        m.client.login("member0@example.org", PASSWORD)
        print("logged-in", flush=True)
        sys.stdin.readline()  # the server is frozen now
        p = m.open({project_id!r})
        m.engine.start()
        def edit():
            with p.edit():
                p.lyrics += "nach dem Absturz 💥"
        m.owner.run(edit)
        print("edited", flush=True)
        time.sleep(60)
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", child_code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )
    assert server.process is not None
    try:
        assert child.stdout is not None and child.stdin is not None
        assert child.stdout.readline().strip() == "logged-in"
        os.kill(server.process.pid, signal.SIGSTOP)
        child.stdin.write("go\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "edited"
        time.sleep(0.3)  # the push is under way, to a server that does not answer
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
        if child.poll() is None:
            child.kill()
    database = open_database(tmp_path / "alice" / "hookline.sqlite3")
    try:
        queued = SyncStore(database).outbox(project_id)
        assert bob.project is not None
        check = pycrdt.Doc()
        check.apply_update(bob.owner.run(bob.project.state_update))  # what the server had
        for update in queued:
            check.apply_update(update)
        assert "nach dem Absturz 💥" in str(check.get("lyrics", type=pycrdt.Text))
        saved = ProjectStore(database).open(project_id)
        assert "nach dem Absturz 💥" in saved.content()["lyrics"]
        saved.close()
    finally:
        database.close()
    again = Machine(tmp_path, "alice", server.url, **FAST)
    try:
        again.client.login("member0@example.org", PASSWORD)
        again.open(project_id)
        again.engine.start()
        wait_for(lambda: "nach dem Absturz 💥" in bob.content()["lyrics"])
        wait_for(lambda: again.sync_store.outbox_size() == 0)
        assert bob.content()["lyrics"].count("nach dem Absturz 💥") == 1
    finally:
        again.close()
        bob.close()


def test_engine_rides_out_a_sigkilled_server(tmp_path: Path, server: SyncServer) -> None:
    alice, bob, _project_id = _pair(tmp_path, server)
    try:
        server.kill()

        def edit(text: str) -> Callable[[], None]:
            def run() -> None:
                assert alice.project is not None
                with alice.project.edit():
                    alice.project.notes += text

            return run

        alice.owner.run(edit("während der Server tot ist ☠ "))
        wait_for(lambda: alice.engine.status().connection is Connection.RETRYING)
        assert alice.engine.status().outbox_size >= 1
        restart_on_same_port(server)
        alice.owner.run(edit("danach ✓"))
        wait_for(lambda: bob.content()["notes"] == "während der Server tot ist ☠ danach ✓")
        wait_for(lambda: alice.engine.status().connection is Connection.ONLINE)
        assert alice.engine.status().outbox_size == 0
    finally:
        alice.close()
        bob.close()


def test_refresh_tokens_rotate_through_the_keyring(
    tmp_path: Path, memory_keyring: InMemoryTestKeyring
) -> None:
    with SyncServer(tmp_path / "server", access_ttl_s=2) as server:
        alice, bob, _project_id = _pair(tmp_path, server)
        try:
            entry = KeyringCredentials(server.url, "member0@example.org")
            first = entry.load()
            assert first is not None
            seen_tokens = {first.refresh_token}
            for round_ in range(3):
                time.sleep(2.1)  # the access token has expired

                def edit(r: int = round_) -> None:
                    assert alice.project is not None
                    alice.project.meta["round"] = r

                alice.owner.run(edit)
                wait_for(lambda r=round_: bob.content()["meta"].get("round") == r)
                current = entry.load()
                assert current is not None
                seen_tokens.add(current.refresh_token)
            assert len(seen_tokens) >= 3  # rotated (and re-stored) on the refreshes
            # The first refresh token was used up: the server refuses it now.
            stale = SyncClient(server.url)
            memory_keyring.entries[(SERVICE, entry.username)] = json.dumps(
                {"refresh_token": first.refresh_token, "user_id": first.user_id}
            )
            assert stale.resume("member0@example.org")
            with pytest.raises(NotSignedIn):
                stale.me()
            # No token ever reaches the database files.
            for machine in (alice, bob):
                raw = machine.db_path.read_bytes()
                wal = machine.db_path.with_name(machine.db_path.name + "-wal")
                raw += wal.read_bytes() if wal.exists() else b""
                for token in seen_tokens:
                    assert token.encode() not in raw
        finally:
            alice.close()
            bob.close()


def test_a_viewer_cannot_push_and_keeps_the_outbox(tmp_path: Path, server: SyncServer) -> None:
    team_id, emails = make_team(server.url, 1, prefix="owner")
    owner = SyncClient(server.url)
    owner.login(emails[0], PASSWORD)
    owner.register("viewer@example.org", PASSWORD, "Viewer")
    token = owner.invite(team_id, "viewer", 600)
    viewer = Machine(tmp_path, "viewer", server.url, **FAST)
    try:
        viewer.client.login("viewer@example.org", PASSWORD)
        viewer.client.accept_invitation(token)
        project = ProjectStore(open_database(tmp_path / "o.sqlite3")).create("Nur lesen")
        snapshot = ShareSnapshot.of(project, SyncStore(open_database(tmp_path / "o.sqlite3")))
        owner.create_project(team_id, wire_id(project.id), "Nur lesen")
        owner.push(wire_id(project.id), [snapshot.state])
        project_id = join_project(
            viewer.client, viewer.projects, viewer.sync_store, team_id, wire_id(project.id)
        )
        viewer.open(project_id)
        viewer.engine.start()

        def edit() -> None:
            assert viewer.project is not None
            viewer.project.lyrics += "darf nicht"

        viewer.owner.run(edit)
        wait_for(lambda: viewer.engine.status().last_error_code == "forbidden")
        assert viewer.engine.status().outbox_size == 1
        assert "role" in (viewer.engine.status().last_error or "")
        assert viewer.content()["meta"]["name"] == "Nur lesen"
    finally:
        viewer.close()

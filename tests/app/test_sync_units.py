"""Team sync without a server: back-off, the outbox on disk, the local-update hook, the keyring
entry, the client's input checks, and the engine while the server cannot be reached."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import keyring
import pycrdt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from keyring.backends.fail import Keyring as FailKeyring

from app.projects import ProjectStore
from app.storage import Database, open_database
from app.sync import Connection, SyncClient, SyncEngine, SyncStore
from app.sync.backoff import Backoff
from app.sync.client import normalise_url
from app.sync.errors import KeyringUnavailable, ServerUnreachable, for_code
from app.sync.store import local_id, wire_id
from app.sync.tokens import SERVICE, KeyringCredentials, StoredSignIn
from tests.e2e.sync_clients import Owner, closed_port
from tests.support.secret_service import InMemoryTestKeyring

pytestmark = pytest.mark.usefixtures("english")

TEXTS = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=200
)


# -- back-off ----------------------------------------------------------------------------------
def test_backoff_grows_to_the_cap_with_jitter_and_resets() -> None:
    backoff = Backoff(0.5, 8.0, rng=random.Random(7))
    waits = [backoff.next_wait() for _ in range(10)]
    steps = [min(8.0, 0.5 * 2**n) for n in range(10)]
    for wait, step in zip(waits, steps, strict=True):
        assert step / 2 <= wait <= step
    assert max(waits) <= 8.0 and waits[-1] >= 4.0
    assert len({round(w, 9) for w in waits[-4:]}) == 4  # jitter: capped waits still differ
    backoff.reset()
    assert backoff.next_wait() <= 0.5


def test_backoff_jitter_spreads_clients_that_failed_together() -> None:
    firsts = [Backoff(1.0, 30.0, rng=random.Random(seed)).next_wait() for seed in range(50)]
    assert max(firsts) - min(firsts) > 0.3


def test_backoff_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        Backoff(0.0, 1.0)
    with pytest.raises(ValueError):
        Backoff(2.0, 1.0)


# -- ids and URLs ------------------------------------------------------------------------------
def test_wire_ids_round_trip() -> None:
    project_id = "0b0e4c0e-9a57-4a3e-8d3e-6f4f3b2f9c11"
    assert wire_id(project_id) == "0b0e4c0e9a574a3e8d3e6f4f3b2f9c11"
    assert local_id(wire_id(project_id)) == project_id


@pytest.mark.parametrize(
    "url",
    ["", "ftp://x", "http://", "http://u:p@host", "http://host/?a=1", "file:///etc", "🎵"],
)
def test_bad_server_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError):
        normalise_url(url)


def test_server_url_is_normalised() -> None:
    assert normalise_url(" https://sync.example.org:8443/base/ ") == (
        "https://sync.example.org:8443/base"
    )


@pytest.mark.parametrize("project_id", ["", "../../teams", "A" * 32, "0" * 31, "0" * 32 + "/x"])
def test_client_refuses_bad_project_ids_before_sending(project_id: str) -> None:
    client = SyncClient(f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(ValueError):
        client.push(project_id, [b"x"])
    with pytest.raises(ValueError):
        client.pull(project_id, 0)


@pytest.mark.parametrize("team_id", ["..", ".", ""])
def test_path_segments_cannot_climb(team_id: str) -> None:
    client = SyncClient(f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(ValueError):
        client.projects(team_id)


def test_unreachable_server_is_a_retryable_error_with_a_message() -> None:
    client = SyncClient(f"http://127.0.0.1:{closed_port()}", timeout=(0.5, 0.5))
    with pytest.raises(ServerUnreachable) as caught:
        client.register("a@example.org", "pw", "A")
    assert caught.value.retryable
    assert "cannot be reached" in str(caught.value)


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [
        ("unauthenticated", 401, "NotSignedIn"),
        ("forbidden", 403, "Forbidden"),
        ("not_found", 404, "NotFound"),
        ("too_large", 413, "TooLarge"),
        ("bad_update", 400, "UpdateRefused"),
        ("rate_limited", 429, "RateLimited"),
        ("", 503, "ServerUnavailable"),
        ("", 418, "BadReply"),
        ("", 401, "NotSignedIn"),
    ],
)
def test_error_codes_map_to_exceptions_with_messages(code: str, status: int, kind: str) -> None:
    error = for_code(code, status, "server detail", 3.0)
    assert type(error).__name__ == kind
    assert str(error) and "server detail" not in str(error)
    assert error.detail == "server detail"


# -- the outbox on disk ------------------------------------------------------------------------
def _shared_project(database: Database, server_url: str) -> str:
    project = ProjectStore(database).create("Shared 🎵 song")
    project.close()
    SyncStore(database).link(project.id, server_url, "t" * 32)
    return project.id


def test_outbox_survives_closing_the_database_and_keeps_order(db_path: Path) -> None:
    database = open_database(db_path)
    project_id = _shared_project(database, "http://x")
    store = SyncStore(database)
    payloads = [bytes([i]) * (i + 1) for i in range(20)]
    for data in payloads:
        store.add_to_outbox(project_id, data)
    database.close()  # no clean shutdown of anything else

    reopened = open_database(db_path)
    try:
        store = SyncStore(reopened)
        assert store.outbox(project_id) == payloads
        batch = store.outbox_batch(project_id, max_rows=5, max_bytes=10**6)
        assert [d for _i, d in batch] == payloads[:5]
        tight = store.outbox_batch(project_id, max_rows=100, max_bytes=3)
        assert [d for _i, d in tight] == payloads[:2]  # 1 + 2 bytes
        huge_first = store.outbox_batch(project_id, max_rows=100, max_bytes=0)
        assert len(huge_first) == 1  # at least one row, whatever its size
        store.remove_from_outbox([i for i, _d in batch])
        assert store.outbox(project_id) == payloads[5:]
        assert store.outbox_size() == 15
    finally:
        reopened.close()


def test_unlinking_drops_the_outbox_and_purging_drops_the_link(database: Database) -> None:
    project_id = _shared_project(database, "http://x")
    store = SyncStore(database)
    store.add_to_outbox(project_id, b"abc")
    store.unlink(project_id)
    assert store.outbox_size() == 0 and store.get_link(project_id) is None

    store.link(project_id, "http://x", "t")
    store.add_to_outbox(project_id, b"abc")
    projects = ProjectStore(database)
    projects.delete(project_id)
    projects.purge(project_id)
    assert store.get_link(project_id) is None and store.outbox_size() == 0


def test_last_revision_never_goes_back_by_accident(database: Database) -> None:
    project_id = _shared_project(database, "http://x")
    store = SyncStore(database)
    store.set_last_revision(project_id, 7)
    store.set_last_revision(project_id, 3)
    link = store.get_link(project_id)
    assert link is not None and link.last_revision == 7
    store.reset_last_revision(project_id, 3)
    link = store.get_link(project_id)
    assert link is not None and link.last_revision == 3


# -- the project's local-update hook -----------------------------------------------------------
def test_local_listener_sees_local_changes_only(store: ProjectStore) -> None:
    project = store.create("Hook")
    other = store.create("Elsewhere")
    seen: list[bytes] = []
    remove = project.add_local_listener(seen.append)
    with project.edit():
        project.lyrics += "Ünïcödé 🎵 歌词 "
        project.meta["tempo"] = 98.0
    assert len(seen) == 1  # one transaction, one update, before edit() returned
    with other.edit():
        other.notes += "from a collaborator"
    assert project.apply_update(other.state_update()) is True
    assert len(seen) == 1  # a received change is never handed on (no echo)
    project.notes.insert(0, "outside edit() ")
    assert len(seen) == 2
    remove()
    with project.edit():
        project.lyrics += "after removal"
    assert len(seen) == 2
    rebuilt = pycrdt.Doc()
    for update in seen:
        rebuilt.apply_update(update)
    assert "Ünïcödé 🎵 歌词" in str(rebuilt.get("lyrics", type=pycrdt.Text))


def test_a_failing_listener_does_not_break_the_edit(store: ProjectStore) -> None:
    project = store.create("Hook")

    def broken(_update: bytes) -> None:
        raise RuntimeError("listener bug")

    project.add_local_listener(broken)
    with project.edit():
        project.lyrics += "kept"
    project.close()
    assert store.open(project.id).content()["lyrics"] == "kept"


# -- the engine while the server is unreachable ------------------------------------------------
def test_offline_edits_reach_the_outbox_before_edit_returns(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    database = open_database(tmp_path / "db.sqlite3")
    project_id = _shared_project(database, url)
    owner = Owner("owner")
    engine = SyncEngine(
        SyncClient(url, timeout=(0.2, 0.2)),
        database,
        owner.call,
        backoff_first_s=0.05,
        backoff_cap_s=0.2,
        rng=random.Random(1),
    )
    projects = ProjectStore(database)
    sync = SyncStore(database)
    try:
        project = owner.run(lambda: projects.open(project_id))
        owner.run(lambda: engine.attach(project))
        assert sync.outbox_size(project_id) == 1  # linked without a record: the whole state
        engine.start()

        def edit(text: str) -> int:
            with project.edit():
                project.lyrics += text
            return sync.outbox_size(project_id)  # read before anything else can run

        sizes = [owner.run(lambda t=t: edit(t)) for t in ["один ", "二 ", "🎵 ", "\u200f‏עברית "]]
        assert sizes == [2, 3, 4, 5]
        deadline = time.monotonic() + 5
        while engine.status().connection is not Connection.RETRYING:
            assert time.monotonic() < deadline, engine.status()
            time.sleep(0.02)
        status = engine.status()
        assert status.outbox_size == 5
        assert status.last_error and "cannot be reached" in status.last_error
        assert status.retry_at is not None
        engine.go_offline()
        assert engine.status().connection is Connection.OFFLINE
        owner.run(lambda: edit("offline "))
        assert engine.status().outbox_size == 6
    finally:
        owner.run(lambda: engine.detach(project))
        engine.stop()
        owner.run(project.close)
        owner.close()
        database.close()
    reopened = open_database(tmp_path / "db.sqlite3")
    try:
        rebuilt = pycrdt.Doc()
        for update in SyncStore(reopened).outbox(project_id):
            rebuilt.apply_update(update)
        assert str(rebuilt.get("lyrics", type=pycrdt.Text)) == "один 二 🎵 \u200f‏עברית offline "
    finally:
        reopened.close()


def test_edits_made_without_the_engine_are_queued_at_attach(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    database = open_database(tmp_path / "db.sqlite3")
    try:
        project_id = _shared_project(database, url)
        projects = ProjectStore(database)
        sync = SyncStore(database)
        project = projects.open(project_id)
        engine = SyncEngine(SyncClient(url), database, lambda fn: fn())
        engine.attach(project)  # rows newer than "seen" (0): the whole state is queued
        assert sync.outbox_size(project_id) == 1
        engine.detach(project)  # clean: records what was seen
        engine.attach(project)
        assert sync.outbox_size(project_id) == 1  # nothing new
        engine.detach(project)
        with project.edit():  # no engine listening: like the command line
            project.markers.append(pycrdt.Map({"beat": 4.0, "label": "Intro ✨"}))
        engine.attach(project)
        queued = sync.outbox(project_id)
        assert len(queued) == 2
        check = pycrdt.Doc()
        for update in queued:
            check.apply_update(update)
        assert check.get("markers", type=pycrdt.Array).to_py() == [
            {"beat": 4.0, "label": "Intro ✨"}
        ]
        engine.detach(project)
        project.close()
    finally:
        database.close()


def test_attach_refuses_a_project_that_is_not_shared_there(database: Database) -> None:
    project = ProjectStore(database).create("Local only")
    engine = SyncEngine(SyncClient("http://127.0.0.1:9"), database, lambda fn: fn())
    with pytest.raises(ValueError):
        engine.attach(project)
    SyncStore(database).link(project.id, "http://other.example", "t")
    with pytest.raises(ValueError):
        engine.attach(project)


# -- the keyring entry -------------------------------------------------------------------------
def test_sign_in_lives_in_one_keyring_entry_per_server_and_account(
    memory_keyring: InMemoryTestKeyring,
) -> None:
    a = KeyringCredentials("https://one.example", "ana@example.org")
    b = KeyringCredentials("https://two.example", "ana@example.org")
    a.store(StoredSignIn("refresh-A", "u1"))
    b.store(StoredSignIn("refresh-B", "u1"))
    assert a.load() == StoredSignIn("refresh-A", "u1")
    assert b.load() == StoredSignIn("refresh-B", "u1")
    assert {key[0] for key in memory_keyring.entries} == {SERVICE}
    assert "refresh-A" not in repr(a.load())
    assert a.erase() is True and a.erase() is False
    assert a.load() is None and b.load() is not None


@given(raw=TEXTS)
def test_unreadable_keyring_entries_are_ignored(raw: str) -> None:
    previous = keyring.get_keyring()
    backend = InMemoryTestKeyring()
    keyring.set_keyring(backend)
    try:
        credentials = KeyringCredentials("https://x.example", "me")
        backend.entries[(SERVICE, credentials.username)] = raw
        loaded = credentials.load()
        if loaded is not None:  # only a real entry object is accepted
            value = json.loads(raw)
            assert value["refresh_token"] == loaded.refresh_token
    finally:
        keyring.set_keyring(previous)


def test_a_keyring_that_cannot_keep_secrets_is_refused() -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(FailKeyring())
    try:
        with pytest.raises(KeyringUnavailable) as caught:
            KeyringCredentials("https://x.example", "me").store(StoredSignIn("t", "u"))
        assert "keyring" in str(caught.value)
    finally:
        keyring.set_keyring(previous)

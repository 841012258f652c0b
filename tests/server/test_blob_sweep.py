"""Blobs no project lists any more are let go: the listing read from the documents themselves,
the sweep run by the real server on its schedule, hostile listings ignored."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pycrdt
import pytest

from app.projects.files import add_file, remove_file
from app.sync import ShareSnapshot, share_project
from server.blobgc import listed_files
from tests.e2e.sync_clients import PASSWORD, Machine, make_team
from tests.support.sync_server import SyncServer
from tests.support.waiting import wait_for

pytestmark = pytest.mark.usefixtures("memory_keyring")


def test_listed_files_reads_only_well_formed_entries() -> None:
    good = hashlib.sha256(b"x").hexdigest()
    doc: pycrdt.Doc = pycrdt.Doc()
    files = doc.get("files", type=pycrdt.Array)
    files.extend(
        [
            pycrdt.Map({"sha256": good, "name": "ok.wav"}),
            pycrdt.Map({"sha256": good.upper()}),
            pycrdt.Map({"sha256": "../" + good[3:]}),
            pycrdt.Map({"sha256": 7}),
            "just text",
            42,
        ]
    )
    assert listed_files(doc) == {good}
    assert listed_files(pycrdt.Doc()) == set()


def test_the_server_lets_go_of_files_no_project_lists(tmp_path: Path) -> None:
    with SyncServer(tmp_path / "server", blob_sweep_s=0.5, blob_grace_s=0.0) as server:
        team_id, emails = make_team(server.url, 1)
        alice = Machine(tmp_path, "alice", server.url, batch_interval_s=0.05, long_poll_s=2.0)
        try:
            alice.client.login(emails[0], PASSWORD)
            kept, dropped, later = (os.urandom(20_000) for _ in range(3))
            shas = [hashlib.sha256(data).hexdigest() for data in (kept, dropped, later)]

            def create() -> ShareSnapshot:
                project = alice.projects.create("Sweep 🧹")
                snapshot = ShareSnapshot.of(project, alice.sync_store)
                project.close()
                return snapshot

            snapshot = alice.owner.run(create)
            share_project(alice.client, alice.sync_store, snapshot, team_id)
            project = alice.open(snapshot.project_id)
            alice.engine.start()
            # Listed first, uploaded after: with no grace period a sweep between an upload and
            # its listing would (rightly) let the upload go.
            alice.owner.run(lambda: add_file(project, shas[0], "kept.wav", 20_000, "audio/wav"))
            alice.owner.run(lambda: add_file(project, shas[2], "later.wav", 20_000, "audio/wav"))
            wait_for(lambda: alice.sync_store.outbox_size() == 0, what="the listing pushed")
            for sha, data in zip(shas, (kept, dropped, later), strict=True):
                assert alice.client.put_blob(team_id, data) == sha

            # the unlisted upload goes; the listed ones stay
            wait_for(lambda: not alice.client.has_blob(team_id, shas[1]), what="the sweep")
            assert alice.client.has_blob(team_id, shas[0])
            assert alice.client.has_blob(team_id, shas[2])
            assert alice.client.get_blob(team_id, shas[0]) == kept
            stored = {p.name for p in (tmp_path / "server").rglob("*") if p.is_file()}
            assert shas[1] not in stored and shas[0] in stored

            # taken off the project: gone at the next sweep
            assert alice.owner.run(lambda: remove_file(project, shas[2])) == 1
            wait_for(lambda: alice.sync_store.outbox_size() == 0, what="the removal pushed")
            wait_for(lambda: not alice.client.has_blob(team_id, shas[2]), what="the next sweep")
            assert alice.client.has_blob(team_id, shas[0])
        finally:
            alice.close()

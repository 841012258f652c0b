"""Blobs: content addressing, path tricks, hash checks, size limits and garbage collection."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from server.blobs import BlobStore, collect_garbage, record_blob, release_blob, team_has_blob
from server.db import create_schema, make_engine
from server.errors import ApiError
from tests.server.client import Api, error_code
from tests.support.sync_server import SyncServer


@pytest.fixture
def team(api: Api) -> tuple:
    user = api.user()
    return user, api.team(user)


def test_round_trip_is_byte_exact_and_idempotent(api: Api, team: tuple) -> None:
    user, team_id = team
    data = os.urandom(3 * 1024 * 1024 + 17)
    sha = hashlib.sha256(data).hexdigest()
    for _ in range(2):
        r = api.request("PUT", f"/teams/{team_id}/blobs/{sha}", user, content=data)
        assert r.status_code == 201 and r.json() == {"sha256": sha, "size": len(data)}
    got = api.request("GET", f"/teams/{team_id}/blobs/{sha}", user)
    assert got.status_code == 200 and hashlib.sha256(got.content).hexdigest() == sha


@pytest.mark.parametrize(
    "name,status",
    [
        ("..%2Fx", 400),
        ("..%2F..%2F..%2Fetc%2Fpasswd", 400),
        ("%2E%2E", 400),
        ("A" * 64, 400),
        ("a" * 63, 400),
        ("a" * 65, 400),
        ("g" * 64, 400),
        ("a" * 63 + "%00", 400),
    ],
)
def test_blob_names_other_than_lowercase_sha256_are_refused(
    api: Api, team: tuple, name: str, status: int
) -> None:
    user, team_id = team
    put = api.request("PUT", f"/teams/{team_id}/blobs/{name}", user, content=b"x")
    get = api.request("GET", f"/teams/{team_id}/blobs/{name}", user)
    assert put.status_code in (status, 404) and get.status_code in (status, 404)


def test_uppercase_hex_of_real_bytes_is_refused(api: Api, team: tuple) -> None:
    user, team_id = team
    sha = hashlib.sha256(b"abc").hexdigest().upper()
    r = api.request("PUT", f"/teams/{team_id}/blobs/{sha}", user, content=b"abc")
    assert r.status_code == 400 and error_code(r) == "bad_request"


def test_wrong_hash_stores_nothing(api: Api, team: tuple, shared_server: SyncServer) -> None:
    user, team_id = team
    sha = hashlib.sha256(b"the real bytes").hexdigest()
    r = api.request("PUT", f"/teams/{team_id}/blobs/{sha}", user, content=b"other bytes")
    assert r.status_code == 422 and error_code(r) == "bad_hash"
    assert api.request("GET", f"/teams/{team_id}/blobs/{sha}", user).status_code == 404
    blob_dir = shared_server.blobs
    assert not (blob_dir / sha[:2] / sha[2:4] / sha).exists()
    assert list((blob_dir / "tmp").iterdir()) == []


def test_blob_size_limit(tmp_path: Path) -> None:
    with SyncServer(tmp_path, max_blob_bytes=1000) as server, Api(server.url) as api:
        user = api.user()
        team_id = api.team(user)
        data = b"x" * 1001
        sha = hashlib.sha256(data).hexdigest()
        r = api.request("PUT", f"/teams/{team_id}/blobs/{sha}", user, content=data)
        assert r.status_code == 413

        def stream():
            yield data[:600]
            yield data[600:]

        r = api.request("PUT", f"/teams/{team_id}/blobs/{sha}", user, content=stream())
        assert r.status_code == 413
        assert list((server.blobs / "tmp").iterdir()) == []


def test_garbage_collection_keeps_referenced_blobs(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    create_schema(engine)
    store = BlobStore(tmp_path / "blobs")
    with engine.begin() as c:
        from server import db

        c.execute(db.teams.insert().values(id="a" * 32, name="A", created_at=0))
        c.execute(db.teams.insert().values(id="b" * 32, name="B", created_at=0))
    saved = {}
    for data in (b"kept", b"shared", b"released", b"fresh"):
        sha = hashlib.sha256(data).hexdigest()
        writer = store.writer(sha, 100)
        writer.write(data)
        writer.finish()
        saved[data] = sha
    record_blob(engine, "a" * 32, saved[b"kept"], 4)
    record_blob(engine, "a" * 32, saved[b"shared"], 6)
    record_blob(engine, "b" * 32, saved[b"shared"], 6)
    record_blob(engine, "a" * 32, saved[b"released"], 8)
    release_blob(engine, "a" * 32, saved[b"released"])
    release_blob(engine, "a" * 32, saved[b"shared"])
    stray = store.tmp / "upload-abandoned"
    stray.write_bytes(b"half")
    old = time.time() - 7200
    for path in [*store.root.rglob("*")]:
        if path.is_file() and saved[b"fresh"] not in path.name:
            os.utime(path, (old, old))
    with engine.begin() as c:
        c.execute(db.blobs.update().values(created_at=old))

    removed = collect_garbage(engine, store, grace_s=3600)

    assert set(removed) == {saved[b"released"]}
    assert not store.path(saved[b"released"]).exists() and not stray.exists()
    for data in (b"kept", b"shared", b"fresh"):
        assert store.path(saved[data]).read_bytes() == data
    assert team_has_blob(engine, "b" * 32, saved[b"shared"])
    assert not team_has_blob(engine, "a" * 32, saved[b"shared"])
    # The unrecorded fresh upload is inside the grace period; later it goes too.
    assert collect_garbage(engine, store, grace_s=0) == [saved[b"fresh"]]
    with pytest.raises(ApiError):
        store.path("../" + "a" * 61)

"""Blobs in an S3-compatible store: a real ``moto_server`` on 127.0.0.1 and the real sync server
started with ``--blobs s3://...``. Presigned transfers, hash and size checks, path tricks,
authorisation, garbage collection in the bucket, and a store that dies mid-upload."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import requests
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from app.sync import SyncClient
from app.sync.errors import BadReply, BlobDamaged, ServerUnavailable, ServerUnreachable
from server import db
from server.blobs import (
    collect_garbage,
    open_object_store,
    parse_s3_url,
    record_blob,
    release_blob,
    s3_settings,
    team_has_blob,
)
from server.cli import serve
from server.config import ServerConfig
from server.db import create_schema, make_engine
from server.protocol import BLOB_URL_CONTENT_TYPE
from tests.app.test_sync_hostile import HostileServer, Reply
from tests.server.client import Api, User, error_code
from tests.support.s3_server import SECRET_ACCESS_KEY, MotoServer
from tests.support.secret_service import InMemoryTestKeyring
from tests.support.sync_server import SyncServer

LIMIT = 12 * 1024 * 1024  # max_blob_bytes of the servers here
BUCKET = "hookline-stems"
PREFIX = "studio/blobs"
KEY = re.compile(rf"^{PREFIX}/(blobs/[0-9a-f]{{64}}|incoming/[0-9a-f]{{64}}\.[0-9a-f]{{32}})$")


# -- fixtures -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    with MotoServer(tmp_path_factory.mktemp("moto") / "moto.log") as server:
        server.create_bucket(BUCKET)
        yield server


@pytest.fixture(scope="module")
def s3_server(moto: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SyncServer]:
    root = tmp_path_factory.mktemp("s3-sync-server")
    url = f"s3://{BUCKET}/{PREFIX}"
    with SyncServer(root, blobs_url=url, env=moto.env, max_blob_bytes=LIMIT) as server:
        yield server
    assert SECRET_ACCESS_KEY not in server.log_text()


@pytest.fixture
def s3_api(s3_server: SyncServer) -> Iterator[Api]:
    with Api(s3_server.url) as client:
        yield client


def keys(moto: MotoServer, folder: str = "") -> list[str]:
    return [k for k in moto.keys(BUCKET) if k.startswith(f"{PREFIX}/{folder}")]


def signed_in(server_url: str, user: User) -> SyncClient:
    client = SyncClient(server_url)
    client.login(user.email, user.password)
    return client


def offer(api: Api, user: User, team_id: str, sha: str, size: object) -> httpx.Response:
    return api.request("POST", f"/teams/{team_id}/blobs/{sha}/upload", user, json={"size": size})


def commit(api: Api, user: User, team_id: str, sha: str, upload_id: object) -> httpx.Response:
    body = {"upload_id": upload_id}
    return api.request("POST", f"/teams/{team_id}/blobs/{sha}/commit", user, json=body)


# -- the desktop client -------------------------------------------------------------------------
def test_desktop_client_round_trip_goes_through_presigned_urls(
    s3_server: SyncServer,
    s3_api: Api,
    moto: MotoServer,
    memory_keyring: InMemoryTestKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = s3_api.user()
    team_id = s3_api.team(user)
    client = signed_in(s3_server.url, user)
    calls: list[tuple[str, int | None, bool]] = []
    original = requests.Session.request

    def spy(self: requests.Session, method: str, url: str, *args: object, **kw: object) -> object:
        headers = kw.get("headers") or {}
        assert isinstance(headers, dict)
        calls.append((method, urlsplit(url).port, "Authorization" in headers))
        return original(self, method, url, *args, **kw)

    monkeypatch.setattr(requests.Session, "request", spy)
    data = os.urandom(9 * 1024 * 1024 + 3)
    sha = client.put_blob(team_id, data)
    assert sha == hashlib.sha256(data).hexdigest()
    assert client.get_blob(team_id, sha) == data
    # The bytes went straight to the store, without the bearer token; the server only negotiated.
    assert [(m, auth) for m, port, auth in calls if port == moto.port] == [
        ("PUT", False),
        ("GET", False),
    ]
    assert all(auth for _m, port, auth in calls if port != moto.port)
    assert f"{PREFIX}/blobs/{sha}" in keys(moto, "blobs/")
    assert keys(moto, "incoming/") == []
    client.close()


def test_presigned_transfers_stream_a_file_without_holding_it(
    s3_server: SyncServer,
    s3_api: Api,
    moto: MotoServer,
    memory_keyring: InMemoryTestKeyring,
    tmp_path: Path,
) -> None:
    """Up from a file and down into one through presigned URLs: this side's Python allocations
    peak under 2 MB for an 11 MB file (a few chunks, whatever the size)."""
    user = s3_api.user()
    team_id = s3_api.team(user)
    client = signed_in(s3_server.url, user)
    source = tmp_path / "stem.wav"
    source.write_bytes(os.urandom(11 * 1024 * 1024))
    target = tmp_path / "copy.wav"
    tracemalloc.start()
    try:
        with open(source, "rb") as stream:
            sha = client.put_blob(team_id, stream)
        _now, up_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        with open(target, "wb") as out:
            size = client.download_blob(team_id, sha, out)
        _now, down_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert up_peak < 2_000_000 and down_peak < 2_000_000, (up_peak, down_peak)
    assert f"{PREFIX}/blobs/{sha}" in keys(moto, "blobs/")
    assert size == source.stat().st_size and target.read_bytes() == source.read_bytes()
    client.close()


@pytest.mark.parametrize("store", ["s3", "local disk"])
def test_an_upload_whose_claimed_hash_is_false_is_refused_and_not_kept(
    s3_server: SyncServer,
    shared_server: SyncServer,
    s3_api: Api,
    memory_keyring: InMemoryTestKeyring,
    store: str,
) -> None:
    """``put_blob(..., sha256=...)`` skips hashing on this side (the file store checked the
    copy); a copy that changed anyway is refused by the server and never recorded."""
    server = s3_server if store == "s3" else shared_server
    with Api(server.url) as api:
        user = api.user()
        team_id = api.team(user)
    client = signed_in(server.url, user)
    claimed = hashlib.sha256(b"the take we meant").hexdigest()
    with pytest.raises(BlobDamaged):
        client.put_blob(team_id, io.BytesIO(b"the take on disk"), sha256=claimed)
    assert not client.has_blob(team_id, claimed)
    real = io.BytesIO(b"xx" + b"the take we meant")
    real.seek(2)  # read from where the stream stands
    assert client.put_blob(team_id, real, sha256=claimed) == claimed
    assert client.get_blob(team_id, claimed) == b"the take we meant"
    client.close()


def test_client_refuses_bytes_from_the_store_that_do_not_match(
    s3_server: SyncServer, s3_api: Api, moto: MotoServer, memory_keyring: InMemoryTestKeyring
) -> None:
    user = s3_api.user()
    team_id = s3_api.team(user)
    client = signed_in(s3_server.url, user)
    sha = client.put_blob(team_id, b"the real stem \xf0\x9f\x8e\xb8")
    # Something damages the object behind the server's back.
    moto.put_object(BUCKET, f"{PREFIX}/blobs/{sha}", b"bit rot")
    with pytest.raises(BlobDamaged):
        client.get_blob(team_id, sha)
    client.close()


def test_desktop_client_against_local_disk_store_uploads_directly(
    shared_server: SyncServer, memory_keyring: InMemoryTestKeyring
) -> None:
    with Api(shared_server.url) as api:
        user = api.user()
        team_id = api.team(user)
        r = offer(api, user, team_id, "a" * 64, 10)
        assert r.status_code == 200 and r.json() == {"direct": True}
    client = signed_in(shared_server.url, user)
    data = os.urandom(100_000)
    sha = client.put_blob(team_id, data)
    assert client.get_blob(team_id, sha) == data
    assert (shared_server.blobs / sha[:2] / sha[2:4] / sha).read_bytes() == data
    client.close()


@pytest.mark.parametrize(
    "offer_body",
    [
        {"url": "file:///etc/passwd", "method": "GET", "size": 5, "expires_in": 300},
        {"url": "javascript:alert(1)", "method": "GET", "size": 5, "expires_in": 300},
        {"url": "http://user:pw@127.0.0.1:9/x", "method": "GET", "size": 5, "expires_in": 300},
        {"url": "http://127.0.0.1:9/x", "method": "PUT", "size": 5, "expires_in": 300},
        {"url": "http://127.0.0.1:9/x", "method": "GET", "size": -1, "expires_in": 300},
        {"url": "http://127.0.0.1:9/x", "method": "GET", "size": 2**40, "expires_in": 300},
        {"url": ["http://127.0.0.1:9/x"], "method": "GET", "size": 5},
        {"method": "GET", "size": 5},
    ],
)
def test_client_refuses_unusable_download_offers_without_following_them(
    offer_body: dict[str, object],
) -> None:
    server = HostileServer()
    try:
        server.reply = Reply(
            json.dumps(offer_body).encode(), headers={"Content-Type": BLOB_URL_CONTENT_TYPE}
        )
        with pytest.raises(BadReply):
            SyncClient(server.url).get_blob("t" * 32, "a" * 64)
        assert len(server.requests) == 1  # nothing was fetched from the offered URL
    finally:
        server.close()


def test_client_refuses_an_offered_download_longer_than_announced() -> None:
    server = HostileServer()
    try:
        body = {"method": "GET", "size": 10, "expires_in": 300}
        body["url"] = f"{server.url}/store/object"
        server.reply = Reply(
            json.dumps(body).encode(), headers={"Content-Type": BLOB_URL_CONTENT_TYPE}
        )
        with pytest.raises(BadReply):  # the "store" answers with the (longer) offer again
            SyncClient(server.url).get_blob("t" * 32, "a" * 64)
        assert server.requests[-1] == "GET /store/object"
    finally:
        server.close()


@pytest.mark.parametrize(
    "offer_body",
    [
        {"direct": False, "method": "GET", "url": "http://127.0.0.1:9/x", "upload_id": "a" * 32},
        {"direct": False, "method": "PUT", "url": "ftp://127.0.0.1/x", "upload_id": "a" * 32},
        {"direct": False, "method": "PUT", "url": "http://127.0.0.1:9/x"},
        {"direct": "yes"},
        {},
    ],
)
def test_client_refuses_unusable_upload_offers(offer_body: dict[str, object]) -> None:
    server = HostileServer()
    try:
        server.reply = Reply(json.dumps(offer_body).encode())
        with pytest.raises(BadReply):
            SyncClient(server.url).put_blob("t" * 32, b"a stem")
        assert [r.split()[0] for r in server.requests] == ["POST"]
    finally:
        server.close()


# -- the server's own routes --------------------------------------------------------------------
def test_direct_upload_and_streamed_download_for_clients_that_do_not_negotiate(
    s3_api: Api, moto: MotoServer
) -> None:
    user = s3_api.user()
    team_id = s3_api.team(user)
    data = os.urandom(9 * 1024 * 1024 + 11)  # two parts of the server's multipart upload
    sha = hashlib.sha256(data).hexdigest()
    for _ in range(2):
        r = s3_api.request("PUT", f"/teams/{team_id}/blobs/{sha}", user, content=data)
        assert r.status_code == 201 and r.json() == {"sha256": sha, "size": len(data)}
    got = s3_api.request("GET", f"/teams/{team_id}/blobs/{sha}", user)
    assert got.status_code == 200 and got.content == data
    assert got.headers["content-type"] == "application/octet-stream"

    asked = s3_api.request(
        "GET", f"/teams/{team_id}/blobs/{sha}", user, headers={"Accept": BLOB_URL_CONTENT_TYPE}
    )
    assert asked.status_code == 200 and asked.headers["content-type"] == BLOB_URL_CONTENT_TYPE
    body = asked.json()
    assert body["method"] == "GET" and body["size"] == len(data) and body["expires_in"] == 300
    url = urlsplit(body["url"])
    assert url.port == moto.port and url.path == f"/{BUCKET}/{PREFIX}/blobs/{sha}"
    assert parse_qs(url.query)["X-Amz-Expires"] == ["300"]
    assert httpx.get(body["url"]).content == data


def test_wrong_hash_through_the_server_records_nothing_and_keeps_the_good_copy(
    s3_api: Api, moto: MotoServer
) -> None:
    user = s3_api.user()
    team_id = s3_api.team(user)
    sha = hashlib.sha256(b"the real bytes").hexdigest()
    r = s3_api.request("PUT", f"/teams/{team_id}/blobs/{sha}", user, content=b"other bytes")
    assert r.status_code == 422 and error_code(r) == "bad_hash"
    assert s3_api.request("GET", f"/teams/{team_id}/blobs/{sha}", user).status_code == 404
    assert f"{PREFIX}/blobs/{sha}" not in keys(moto)

    good = os.urandom(6 * 1024 * 1024)
    good_sha = hashlib.sha256(good).hexdigest()
    assert s3_api.request(
        "PUT", f"/teams/{team_id}/blobs/{good_sha}", user, content=good
    ).is_success
    # A second upload under the same name with other bytes (bigger than one part) changes nothing.
    bad = os.urandom(9 * 1024 * 1024)
    r = s3_api.request("PUT", f"/teams/{team_id}/blobs/{good_sha}", user, content=bad)
    assert r.status_code == 422 and error_code(r) == "bad_hash"
    assert s3_api.request("GET", f"/teams/{team_id}/blobs/{good_sha}", user).content == good


def test_wrong_hash_through_a_presigned_upload_records_nothing(
    s3_api: Api, moto: MotoServer
) -> None:
    user = s3_api.user()
    team_id = s3_api.team(user)
    data = "Strophe 1 — ♪ ünïcödé 🎤\x00\x07".encode() * 1000
    sha = hashlib.sha256(data).hexdigest()
    r = offer(s3_api, user, team_id, sha, len(data))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["direct"] is False and body["method"] == "PUT"
    assert urlsplit(body["url"]).port == moto.port
    httpx.put(body["url"], content=data[:-1] + b"!").raise_for_status()
    # Committing under another blob's name finds no such upload; the upload is untouched.
    other = hashlib.sha256(b"other").hexdigest()
    r = commit(s3_api, user, team_id, other, body["upload_id"])
    assert r.status_code == 404 and error_code(r) == "not_found"
    r = commit(s3_api, user, team_id, sha, body["upload_id"])
    assert r.status_code == 422 and error_code(r) == "bad_hash"
    assert s3_api.request("GET", f"/teams/{team_id}/blobs/{sha}", user).status_code == 404
    assert not any(body["upload_id"] in k or sha in k for k in keys(moto))
    # Used up: a second commit finds nothing (the URL may still write, but nothing is read).
    assert commit(s3_api, user, team_id, sha, body["upload_id"]).status_code == 404

    # The same steps with the right bytes land.
    r = offer(s3_api, user, team_id, sha, len(data))
    httpx.put(r.json()["url"], content=data).raise_for_status()
    r = commit(s3_api, user, team_id, sha, r.json()["upload_id"])
    assert r.status_code == 201 and r.json() == {"sha256": sha, "size": len(data)}
    assert s3_api.request("GET", f"/teams/{team_id}/blobs/{sha}", user).content == data


def test_oversize_blobs_are_refused_on_every_path(s3_api: Api, moto: MotoServer) -> None:
    user = s3_api.user()
    team_id = s3_api.team(user)
    data = os.urandom(LIMIT + 1)
    sha = hashlib.sha256(data).hexdigest()
    r = s3_api.request("PUT", f"/teams/{team_id}/blobs/{sha}", user, content=data)
    assert r.status_code == 413

    def stream() -> Iterator[bytes]:  # no Content-Length: the server counts
        for start in range(0, len(data), 1 << 20):
            yield data[start : start + (1 << 20)]

    r = s3_api.request("PUT", f"/teams/{team_id}/blobs/{sha}", user, content=stream())
    assert r.status_code == 413 and error_code(r) == "too_large"
    r = offer(s3_api, user, team_id, sha, LIMIT + 1)
    assert r.status_code == 413 and "url" not in r.text
    for size in (-1, 1.5, True, "10", None, 2**80):
        r = offer(s3_api, user, team_id, sha, size)
        assert r.status_code in (400, 413), size
    # A client that declares a small size and sends more is caught when it commits.
    r = offer(s3_api, user, team_id, sha, 10)
    upload_id = r.json()["upload_id"]
    httpx.put(r.json()["url"], content=data).raise_for_status()
    r = commit(s3_api, user, team_id, sha, upload_id)
    assert r.status_code == 413 and error_code(r) == "too_large"
    assert s3_api.request("GET", f"/teams/{team_id}/blobs/{sha}", user).status_code == 404
    assert not any(sha in k for k in keys(moto))


@pytest.mark.parametrize(
    "name",
    [
        "..%2Fx",
        "..%2F..%2F..%2Fetc%2Fpasswd",
        "%2E%2E",
        "A" * 64,
        "a" * 63,
        "a" * 65,
        "g" * 64,
        "a" * 63 + "%00",
        "a" * 63 + "%0A",
        "%F0%9F%8E%B8" + "a" * 60,
        "blobs%2F" + "a" * 64,
    ],
)
def test_blob_names_other_than_lowercase_sha256_never_reach_the_bucket(
    s3_api: Api, moto: MotoServer, name: str
) -> None:
    user = s3_api.user()
    team_id = s3_api.team(user)
    base = f"/teams/{team_id}/blobs/{name}"
    answers = [
        s3_api.request("PUT", base, user, content=b"x"),
        s3_api.request("GET", base, user),
        s3_api.request("GET", base, user, headers={"Accept": BLOB_URL_CONTENT_TYPE}),
        s3_api.request("POST", base + "/upload", user, json={"size": 1}),
        s3_api.request("POST", base + "/commit", user, json={"upload_id": "a" * 32}),
    ]
    assert all(a.status_code in (400, 404, 405) for a in answers), [a.text for a in answers]
    assert all("url" not in a.text for a in answers)
    assert all(KEY.match(k) for k in keys(moto)), keys(moto)


@pytest.fixture(scope="module")
def s3_team(s3_server: SyncServer) -> Iterator[tuple[Api, User, str]]:
    with Api(s3_server.url) as api:
        user = api.user()
        yield api, user, api.team(user)


@settings(max_examples=25, deadline=None)
@given(
    upload_id=st.one_of(
        st.text(max_size=80),
        st.text(alphabet="0123456789abcdef./", min_size=30, max_size=40),
        st.integers(),
        st.none(),
        st.lists(st.text(max_size=3), max_size=2),
    )
)
def test_upload_ids_other_than_32_hex_digits_are_refused(
    s3_team: tuple[Api, User, str], upload_id: object
) -> None:
    api, user, team_id = s3_team
    r = commit(api, user, team_id, "b" * 64, upload_id)
    valid = isinstance(upload_id, str) and re.fullmatch(r"[0-9a-f]{32}", upload_id)
    assert r.status_code == (404 if valid else 400), r.text


# -- who may do what ----------------------------------------------------------------------------
def test_no_blob_access_across_teams(s3_api: Api, moto: MotoServer) -> None:
    owner, outsider = s3_api.user("Ann"), s3_api.user("Eve")
    team_a, team_b = s3_api.team(owner), s3_api.team(outsider)
    data = os.urandom(50_000)
    sha = hashlib.sha256(data).hexdigest()
    assert s3_api.request("PUT", f"/teams/{team_a}/blobs/{sha}", owner, content=data).is_success
    url_accept = {"Accept": BLOB_URL_CONTENT_TYPE}
    for team_id in (team_a, team_b):
        for headers in ({}, url_accept):
            r = s3_api.request("GET", f"/teams/{team_id}/blobs/{sha}", outsider, headers=headers)
            assert r.status_code == 404 and "url" not in r.text
    r = offer(s3_api, outsider, team_a, sha, len(data))
    assert r.status_code == 404 and "url" not in r.text
    # Knowing the hash is not enough to claim the blob for one's own team: the bytes must come.
    r = offer(s3_api, outsider, team_b, sha, len(data))
    assert commit(s3_api, outsider, team_b, sha, r.json()["upload_id"]).status_code == 404
    r = s3_api.request("GET", f"/teams/{team_b}/blobs/{sha}", outsider)
    assert r.status_code == 404
    assert s3_api.request("GET", f"/teams/{team_a}/blobs/{sha}", owner).content == data
    assert s3_api.request("GET", f"/teams/{team_a}/blobs/{sha}", None).status_code == 401


def test_viewers_read_but_cannot_upload(s3_api: Api, moto: MotoServer) -> None:
    owner, viewer = s3_api.user("Ann"), s3_api.user("Vic")
    team_id = s3_api.team(owner)
    s3_api.join(owner, team_id, viewer, "viewer")
    data = b"chorus idea"
    sha = hashlib.sha256(data).hexdigest()
    assert s3_api.request("PUT", f"/teams/{team_id}/blobs/{sha}", owner, content=data).is_success
    new = b"a viewer's stem"
    new_sha = hashlib.sha256(new).hexdigest()
    r = s3_api.request("PUT", f"/teams/{team_id}/blobs/{new_sha}", viewer, content=new)
    assert r.status_code == 403 and error_code(r) == "forbidden"
    r = offer(s3_api, viewer, team_id, new_sha, len(new))
    assert r.status_code == 403 and "url" not in r.text
    r = commit(s3_api, viewer, team_id, new_sha, "c" * 32)
    assert r.status_code == 403
    assert not any(new_sha in k for k in keys(moto))
    r = s3_api.request(
        "GET", f"/teams/{team_id}/blobs/{sha}", viewer, headers={"Accept": BLOB_URL_CONTENT_TYPE}
    )
    assert r.status_code == 200 and httpx.get(r.json()["url"]).content == data


# -- garbage collection -------------------------------------------------------------------------
def test_garbage_collection_in_the_bucket(tmp_path: Path, moto: MotoServer) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    create_schema(engine)
    prefix = "gc-test"
    store = open_object_store(f"s3://{BUCKET}/{prefix}", moto.env)
    with engine.begin() as c:
        c.execute(db.teams.insert().values(id="a" * 32, name="A", created_at=0))
        c.execute(db.teams.insert().values(id="b" * 32, name="B", created_at=0))
    saved = {}
    for data in (b"kept", b"shared", b"released", b"unrecorded"):
        sha = hashlib.sha256(data).hexdigest()
        writer = store.writer(sha, 100)
        writer.write(data)
        assert writer.finish() == len(data)
        saved[data] = sha
    record_blob(engine, "a" * 32, saved[b"kept"], 4)
    record_blob(engine, "a" * 32, saved[b"shared"], 6)
    record_blob(engine, "b" * 32, saved[b"shared"], 6)
    record_blob(engine, "a" * 32, saved[b"released"], 8)
    release_blob(engine, "a" * 32, saved[b"released"])
    release_blob(engine, "a" * 32, saved[b"shared"])
    with engine.begin() as c:
        c.execute(db.blobs.update().values(created_at=time.time() - 7200))
    abandoned = store.offer_upload(saved[b"kept"], 60)
    httpx.put(abandoned.url, content=b"half an upload").raise_for_status()
    # Keys that are not the store's own stay, inside the prefix or beside it.
    for foreign in (f"{prefix}/notes.txt", f"{prefix}/blobs/README", "other-app/x"):
        moto.put_object(BUCKET, foreign, b"keep me")

    def stored() -> set[str]:
        return {k for k in moto.keys(BUCKET) if k.startswith(prefix) or k.startswith("other")}

    removed = collect_garbage(engine, store, grace_s=3600)
    assert removed == [saved[b"released"]]
    assert f"{prefix}/blobs/{saved[b'released']}" not in stored()
    for data in (b"kept", b"shared", b"unrecorded"):
        assert f"{prefix}/blobs/{saved[data]}" in stored()
    assert f"{prefix}/incoming/{saved[b'kept']}.{abandoned.upload_id}" in stored()
    assert team_has_blob(engine, "b" * 32, saved[b"shared"])
    assert not team_has_blob(engine, "a" * 32, saved[b"shared"])

    time.sleep(0.01)
    # Past the grace period the unrecorded object and the abandoned upload go too.
    assert collect_garbage(engine, store, grace_s=0) == [saved[b"unrecorded"]]
    assert stored() == {
        f"{prefix}/blobs/{saved[b'kept']}",
        f"{prefix}/blobs/{saved[b'shared']}",
        f"{prefix}/notes.txt",
        f"{prefix}/blobs/README",
        "other-app/x",
    }
    assert b"".join(store.read(saved[b"kept"])) == b"kept"


# -- a store that fails -------------------------------------------------------------------------
def test_store_stopped_mid_upload_gives_a_clean_error_and_records_nothing(
    tmp_path: Path, memory_keyring: InMemoryTestKeyring
) -> None:
    moto = MotoServer(tmp_path / "moto.log").start()
    try:
        moto.create_bucket(BUCKET)
        with (
            SyncServer(tmp_path / "server", blobs_url=f"s3://{BUCKET}", env=moto.env) as server,
            Api(server.url) as api,
        ):
            user = api.user()
            team_id = api.team(user)
            kept = b"uploaded before the store went away"
            kept_sha = hashlib.sha256(kept).hexdigest()
            r = api.request("PUT", f"/teams/{team_id}/blobs/{kept_sha}", user, content=kept)
            assert r.status_code == 201
            data = os.urandom(20 * 1024 * 1024)
            sha = hashlib.sha256(data).hexdigest()

            def body() -> Iterator[bytes]:
                yield data[: 10 << 20]
                time.sleep(0.2)  # the server has started the multipart upload by now
                moto.stop()
                yield data[10 << 20 :]

            r = api.request("PUT", f"/teams/{team_id}/blobs/{sha}", user, content=body())
            assert r.status_code == 503 and error_code(r) == "unavailable"
            assert r.headers["retry-after"].isdigit()
            assert api.request("GET", f"/teams/{team_id}/blobs/{sha}", user).status_code == 404
            r = commit(api, user, team_id, sha, "d" * 32)
            assert r.status_code == 503 and error_code(r) == "unavailable"

            client = signed_in(server.url, user)
            with pytest.raises(ServerUnavailable) as unavailable:
                client.get_blob(team_id, kept_sha)
            assert unavailable.value.retryable
            other = b"a take recorded while the store is down"
            with pytest.raises(ServerUnreachable) as unreachable:
                client.put_blob(team_id, other)  # signing needs no store; the upload fails
            assert unreachable.value.retryable
            other_sha = hashlib.sha256(other).hexdigest()
            r = api.request("GET", f"/teams/{team_id}/blobs/{other_sha}", user)
            assert r.status_code == 404
            client.close()
        log = server.log_text()
        assert "Traceback" not in log and "Exception in ASGI" not in log
        assert "blob store: upload failed" in log
        assert SECRET_ACCESS_KEY not in log
    finally:
        moto.stop()


def test_presigning_can_be_switched_off(
    tmp_path: Path, moto: MotoServer, memory_keyring: InMemoryTestKeyring
) -> None:
    url = f"s3://{BUCKET}/no-presign"
    with (
        SyncServer(tmp_path, blobs_url=url, env=moto.env, presign_blobs=False) as server,
        Api(server.url) as api,
    ):
        user = api.user()
        team_id = api.team(user)
        assert offer(api, user, team_id, "e" * 64, 3).json() == {"direct": True}
        client = signed_in(server.url, user)
        data = os.urandom(70_000)
        sha = client.put_blob(team_id, data)
        assert client.get_blob(team_id, sha) == data
        assert f"no-presign/blobs/{sha}" in moto.keys(BUCKET)
        client.close()


# -- configuration ------------------------------------------------------------------------------
def test_s3_locations_are_parsed_strictly() -> None:
    assert parse_s3_url("s3://stems") == ("stems", "")
    assert parse_s3_url("s3://my.stems-1/team/a_b/") == ("my.stems-1", "team/a_b")
    assert parse_s3_url("S3://stems//x") == ("stems", "x")
    for bad in (
        "s3://AKIAEXAMPLE:hunter2secret@stems/x",
        "s3://stems:9000/x",
        "s3://stems/x?token=hunter2secret",
        "s3://stems/x#hunter2secret",
        "s3://Stems/x",
        "s3://st/x",
        "s3:///x",
        "s3://stems/../x",
        "s3://stems/a/./b",
        "s3://stems/🎸",
        "s3://stems/a b",
        "s3://stems/a\x00b",
        "s3://stems/a\nb",
        "s3://" + "a" * 64,
        "gs://stems/x",
    ):
        with pytest.raises(ValueError) as refused:
            parse_s3_url(bad)
        assert "hunter2" not in str(refused.value)


@given(st.text(max_size=60))
def test_any_prefix_is_either_plain_segments_or_refused(prefix: str) -> None:
    try:
        bucket, parsed = parse_s3_url("s3://stems-7q/" + prefix)
    except ValueError as error:
        assert "stems-7q" not in str(error)  # the location is never repeated
        return
    assert bucket == "stems-7q"
    for segment in parsed.split("/") if parsed else []:
        assert re.fullmatch(r"[A-Za-z0-9._-]+", segment) and segment not in (".", "..")


def test_s3_settings_come_from_the_standard_variables() -> None:
    config, client = s3_settings(
        {
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
            "AWS_DEFAULT_REGION": "eu-west-3",
            "AWS_ACCESS_KEY_ID": "id",
            "AWS_SECRET_ACCESS_KEY": "secret",
            "AWS_ALLOW_HTTP": "TRUE",
        }
    )
    assert config == {
        "endpoint": "http://127.0.0.1:9",
        "region": "eu-west-3",
        "access_key_id": "id",
        "secret_access_key": "secret",
    }
    assert client["allow_http"] is True
    config, client = s3_settings({"AWS_REGION": "us-east-2", "AWS_DEFAULT_REGION": "eu-west-3"})
    assert config == {"region": "us-east-2"} and client["allow_http"] is False


def test_serve_refuses_credentials_in_the_blobs_url_without_repeating_them() -> None:
    runner = CliRunner()
    result = runner.invoke(serve, ["--blobs", "s3://AKIAEXAMPLE:hunter2secret@stems/x"])
    assert result.exit_code == 2
    assert "hunter2" not in result.output and "AWS_SECRET_ACCESS_KEY" in result.output
    help_text = runner.invoke(serve, ["--help"]).output
    assert "s3://BUCKET/PREFIX" in help_text and "AWS_ENDPOINT_URL" in help_text


def test_an_object_store_location_is_never_made_a_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = ServerConfig(blobs_path="s3://stems/x")
    assert config.blobs_in_object_store
    with pytest.raises(ValueError):
        config.resolved_blobs_path()
    assert list(tmp_path.iterdir()) == []

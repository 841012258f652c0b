"""A hostile or broken team server: truncated frames, garbage updates, lies in headers, answers too
long, wrong JSON. The client refuses each with a clear error and the local project is untouched.

The "server" here is a few lines of ``http.server`` that answer whatever a test sets, since the
real server never sends such things."""

from __future__ import annotations

import json
import random
import struct
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pycrdt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.projects import ProjectStore
from app.storage import open_database
from app.sync import SyncClient, SyncEngine, SyncStore
from app.sync.errors import BadReply, ServerUnreachable
from server import protocol
from tests.e2e.sync_clients import Owner

pytestmark = pytest.mark.usefixtures("english")
WIRE = "0" * 31 + "1"


class Reply:
    def __init__(
        self,
        body: bytes,
        status: int = 200,
        headers: dict[str, str] | None = None,
        length: int | None = None,
    ) -> None:
        self.body, self.status, self.headers, self.length = body, status, headers or {}, length


class HostileServer:
    def __init__(self) -> None:
        self.reply = Reply(b"")
        self.requests: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                outer.requests.append(f"{self.command} {self.path}")
                reply = outer.reply
                self.send_response(reply.status)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                declared = len(reply.body) if reply.length is None else reply.length
                self.send_header("Content-Length", str(declared))
                self.end_headers()
                try:
                    self.wfile.write(reply.body)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client stopped reading: it may
                    return
                if reply.length is not None:
                    self.close_connection = True

            do_GET = do_POST = do_PUT = _answer  # noqa: N815 (http.server's names)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    server = HostileServer()
    yield server
    server.close()


def _pull_reply(entries: list[tuple[int, bytes]], revision: int, **extra: str) -> Reply:
    headers = {protocol.REVISION_HEADER: str(revision), **extra}
    return Reply(protocol.encode_pull(entries), headers=headers)


def _real_update(text: str) -> bytes:
    doc: pycrdt.Doc[Any] = pycrdt.Doc()
    doc.get("notes", type=pycrdt.Text).insert(0, text)
    return doc.get_update()


# -- the client alone --------------------------------------------------------------------------
CASES = {
    "not a frame": _pull_reply([], 0),
    "truncated frame": Reply(
        protocol.encode_pull([(1, b"abcdef")])[:-3], headers={protocol.REVISION_HEADER: "1"}
    ),
    "count lies": Reply(b"HLR1" + struct.pack(">I", 5), headers={protocol.REVISION_HEADER: "5"}),
    "revisions out of order": _pull_reply([(2, b"a"), (1, b"b")], 2),
    "revision at or before after": _pull_reply([(3, b"a")], 3),
    "beyond the newest revision": _pull_reply([(4, b"a"), (9, b"b")], 5),
    "no revision header": Reply(protocol.encode_pull([])),
    "revision header not a number": _pull_reply([], 1)
    if False
    else Reply(protocol.encode_pull([]), headers={protocol.REVISION_HEADER: "-1; drop table"}),
    "compacted header without snapshot": _pull_reply(
        [(5, b"a")], 5, **{protocol.COMPACTED_HEADER: "4"}
    ),
    "body shorter than declared": Reply(
        protocol.encode_pull([(4, b"abc")]), headers={protocol.REVISION_HEADER: "4"}, length=500
    ),
    "declared far too long": Reply(b"", headers={protocol.REVISION_HEADER: "4"}, length=1 << 40),
}
CASES["not a frame"] = Reply(b"<html>proxy error</html>", headers={protocol.REVISION_HEADER: "1"})


@pytest.mark.parametrize("case", sorted(CASES))
def test_client_refuses_broken_pull_answers(hostile: HostileServer, case: str) -> None:
    hostile.reply = CASES[case]
    client = SyncClient(hostile.url, timeout=(1.0, 2.0))
    with pytest.raises((BadReply, ServerUnreachable)) as caught:
        client.pull(WIRE, after=3)
    assert caught.value.retryable
    assert str(caught.value)  # a message for the user


@pytest.fixture(scope="module")
def shared_hostile() -> Iterator[HostileServer]:
    server = HostileServer()
    yield server
    server.close()


@given(
    garbage=st.one_of(
        st.binary(min_size=0, max_size=300),
        st.binary(max_size=200).map(lambda tail: b"HLR1" + tail),
        st.lists(st.tuples(st.integers(1, 12), st.binary(max_size=20)), max_size=4).map(
            lambda entries: protocol.encode_pull(entries)[:-1]
        ),
    )
)
@settings(max_examples=80, deadline=None)
def test_random_pull_bodies_never_get_through_unchecked(
    shared_hostile: HostileServer, garbage: bytes
) -> None:
    shared_hostile.reply = Reply(garbage, headers={protocol.REVISION_HEADER: "9"})
    client = SyncClient(shared_hostile.url, timeout=(1.0, 2.0))
    try:
        result = client.pull(WIRE, after=0)
    except BadReply:
        return
    # Only a well-formed frame is accepted: it must re-encode to the same bytes.
    assert protocol.encode_pull(result.entries) == garbage
    assert all(0 < revision <= 9 for revision, _data in result.entries)


@pytest.mark.parametrize(
    ("body", "call"),
    [
        (b"[]", "teams"),
        (b'{"teams": [{"team_id": 5, "name": "x", "role": "owner"}]}', "teams"),
        (b'{"teams": [{"team_id": "t", "name": "x", "role": "king"}]}', "teams"),
        (b'{"first_revision": 1, "revision": 7, "count": 1}', "push"),
        (b'{"first_revision": true, "revision": 1, "count": 1}', "push"),
        (b"\xff\xfe not json", "push"),
        (b'{"user_id": "u", "email": "e"}', "me"),
    ],
)
def test_client_refuses_json_of_the_wrong_shape(
    hostile: HostileServer, body: bytes, call: str
) -> None:
    hostile.reply = Reply(body, headers={"Content-Type": "application/json"})
    client = SyncClient(hostile.url, timeout=(1.0, 2.0))
    with pytest.raises(BadReply):
        if call == "teams":
            client.teams()
        elif call == "push":
            client.push(WIRE, [b"x"])
        else:
            client.me()


def test_a_downloaded_file_with_the_wrong_hash_is_refused(hostile: HostileServer) -> None:
    hostile.reply = Reply(b"not the stem you asked for")
    client = SyncClient(hostile.url)
    with pytest.raises(Exception) as caught:
        client.get_blob("t" * 32, "a" * 64)
    assert type(caught.value).__name__ == "BlobDamaged"


def test_error_answers_with_garbage_bodies_still_give_messages(hostile: HostileServer) -> None:
    hostile.reply = Reply(b"\x00\x01 garbage", status=502)
    client = SyncClient(hostile.url)
    with pytest.raises(Exception) as caught:
        client.teams()
    assert type(caught.value).__name__ == "ServerUnavailable" and "502" in str(caught.value)
    hostile.reply = Reply(json.dumps({"error": {"code": "made_up", "message": "x"}}).encode(), 400)
    with pytest.raises(BadReply):
        client.teams()


# -- the engine: the project stays untouched ---------------------------------------------------
def _cut_update() -> bytes:
    """A real update cut in the middle of a string."""
    update = _real_update("ein langer Satz, der mitten drin endet " * 4)
    return update[: len(update) // 2]


@pytest.mark.parametrize(
    "bad",
    [b"\xde\xad\xbe\xef" * 8, b"\x01", _cut_update()],
    ids=["garbage", "one byte", "cut short"],
)
def test_engine_refuses_damaged_updates_and_keeps_the_good_ones(
    tmp_path: Path, hostile: HostileServer, bad: bytes
) -> None:
    database = open_database(tmp_path / "db.sqlite3")
    projects = ProjectStore(database)
    project = projects.create("Unberührt 🛡")
    with project.edit():
        project.lyrics += "lokaler Text, 本地"
    project.close()
    sync = SyncStore(database)
    rows_seen = sync.newest_update_row(project.id)
    owner = Owner("owner")
    project = owner.run(lambda: projects.open(project.id))
    sync.link(
        project.id,
        hostile.url,
        "t" * 32,
        last_revision=0,
        rows_seen=rows_seen,
        state_vector=owner.run(project.state_vector),
    )
    before = owner.run(project.content)
    good = _real_update("von der Band")
    hostile.reply = _pull_reply([(1, good), (2, bad), (3, _real_update("nie"))], 3)
    engine = SyncEngine(
        SyncClient(hostile.url, timeout=(1.0, 2.0)),
        database,
        owner.call,
        long_poll_s=0.0,
        backoff_first_s=0.05,
        backoff_cap_s=0.1,
        rng=random.Random(3),
    )
    try:
        owner.run(lambda: engine.attach(project))
        engine.start()
        deadline = time.monotonic() + 10
        while engine.status().last_error is None:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        status = engine.status()
        assert "revision 2" in (status.last_error or "") and "unchanged" in (
            status.last_error or ""
        )
        after = owner.run(project.content)
        assert after["notes"] == "von der Band"  # revision 1 was fine and is kept
        assert after["lyrics"] == before["lyrics"] and after["meta"] == before["meta"]
        link = sync.get_link(project.id)
        assert link is not None and link.last_revision == 1  # not past the refused one
        # The damaged revision is never taken, however often it is offered.
        time.sleep(0.3)
        assert sync.get_link(project.id).last_revision == 1  # type: ignore[union-attr]
    finally:
        owner.run(lambda: engine.detach(project))
        engine.stop()
        owner.run(project.close)
        owner.close()
    reopened = projects.open(project.id)
    try:
        assert reopened.content()["lyrics"] == before["lyrics"]
        assert reopened.warnings == []
    finally:
        reopened.close()
        database.close()

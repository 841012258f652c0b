"""The update log through a real server: ordering, long-poll, compaction and hostile input."""

from __future__ import annotations

import concurrent.futures
import socket
import struct
import threading
import time
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.protocol import COMPACTED_HEADER, REVISION_HEADER, encode_push
from tests.server.client import Api, User, Writer, error_code, replay
from tests.support.sync_server import SyncServer


@pytest.fixture
def song(api: Api) -> tuple[User, str, str]:
    user = api.user()
    team = api.team(user)
    return user, team, api.project(user, team)


def test_concurrent_pushes_get_gapless_ordered_revisions(api: Api, song: tuple) -> None:
    user, _, project = song
    writers = [Writer() for _ in range(6)]

    def push_many(writer: Writer) -> list[tuple[int, int]]:
        got = []
        with Api(api.url) as own:
            for i in range(8):
                batch = [writer.type(f"w{id(writer) % 97}-{i} "), writer.type(".")]
                r = own.push(user, project, batch)
                assert r.status_code == 200, r.text
                got.append((r.json()["first_revision"], r.json()["revision"]))
        return got

    with concurrent.futures.ThreadPoolExecutor(len(writers)) as pool:
        ranges = [rng for result in pool.map(push_many, writers) for rng in result]
    revisions = sorted(rev for first, last in ranges for rev in range(first, last + 1))
    assert revisions == list(range(1, 6 * 8 * 2 + 1)), "every revision handed out exactly once"
    entries = api.pull_all(user, project)
    assert [rev for rev, _ in entries] == revisions
    merged = replay(entries)
    for writer in writers:
        assert str(writer.text) in merged, "each writer's text arrives whole"


def test_a_long_poll_wakes_within_milliseconds(api: Api, song: tuple) -> None:
    user, _, project = song
    writer = Writer()
    api.push(user, project, [writer.type("first")])
    woke: dict[str, float] = {}

    def wait() -> None:
        with Api(api.url) as other:
            _r, entries = other.pull(user, project, after=1, wait=10)
            woke["at"] = time.perf_counter()
            woke["revisions"] = [rev for rev, _ in entries]  # type: ignore[assignment]

    thread = threading.Thread(target=wait)
    thread.start()
    time.sleep(0.5)  # the pull is waiting now
    pushed = time.perf_counter()
    assert api.push(user, project, [writer.type(" second")]).status_code == 200
    thread.join(5)
    assert woke["revisions"] == [2]
    assert woke["at"] - pushed < 0.2, f"woke after {woke['at'] - pushed:.3f} s"


def test_a_long_poll_with_nothing_new_answers_empty_after_its_wait(api: Api, song: tuple) -> None:
    user, _, project = song
    started = time.perf_counter()
    r, entries = api.pull(user, project, after=0, wait=0.6)
    elapsed = time.perf_counter() - started
    assert r.status_code == 200 and entries == [] and r.headers[REVISION_HEADER] == "0"
    assert 0.55 <= elapsed < 3


@pytest.mark.parametrize("query", ["after=-1", "after=x", "after=1.5", "wait=-1", "wait=nan"])
def test_bad_pull_parameters(api: Api, song: tuple, query: str) -> None:
    user, _, project = song
    r = api.request("GET", f"/projects/{project}/updates?{query}", user)
    assert r.status_code == 400 and error_code(r) == "bad_request"


def test_pull_after_compaction_gets_the_snapshot_then_the_rest(tmp_path: Path) -> None:
    with SyncServer(tmp_path, compact_after=20) as server, Api(server.url) as api:
        user = api.user()
        project = api.project(user, api.team(user))
        writer = Writer()
        for i in range(30):
            assert api.push(user, project, [writer.type(f"{i},")]).status_code == 200
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            r, entries = api.pull(user, project, after=3)
            if COMPACTED_HEADER in r.headers:
                break
            time.sleep(0.05)
        snapshot = int(r.headers[COMPACTED_HEADER])
        assert snapshot >= 21 and entries[0][0] == snapshot
        assert [rev for rev, _ in entries[1:]] == list(range(snapshot + 1, 31))
        assert replay(entries) == str(writer.text)
        # A client already past the snapshot gets only the log after its revision.
        r, tail = api.pull(user, project, after=29)
        assert COMPACTED_HEADER not in r.headers and [rev for rev, _ in tail] == [30]
        # Pushing goes on from the compacted state.
        assert api.push(user, project, [writer.type("end")]).json()["revision"] == 31
        server.restart()  # the snapshot is in the database, not only in memory
        with Api(server.url) as again:
            assert replay(again.pull_all(user, project)) == str(writer.text)


def test_an_update_replayed_into_another_project_is_refused(api: Api, song: tuple) -> None:
    user, team, project = song
    other = api.project(user, team, "Other song")
    writer = Writer()
    first, second = writer.type("verse one"), writer.type(" verse two")
    assert api.push(user, project, [first, second]).status_code == 200
    r = api.push(user, other, [second])  # depends on `first`, which `other` never had
    assert r.status_code == 422 and error_code(r) == "bad_update"
    del writer.text[0:6]
    deletion = writer.updates[-1]
    r = api.push(user, other, [deletion])  # deletes text `other` does not hold
    assert r.status_code == 422
    assert api.pull(user, other)[1] == []
    # The project it came from accepts both (the deletion applies there).
    assert api.push(user, project, [deletion]).status_code == 200
    assert replay(api.pull_all(user, project)) == "one verse two" == str(writer.text)


def test_a_refused_batch_stores_nothing_and_the_next_good_one_works(api: Api, song: tuple) -> None:
    user, _, project = song
    writer = Writer()
    good = writer.type("keep")
    orphan = Writer()
    orphan.type("a")
    lone = orphan.type("b")
    assert api.push(user, project, [good, lone]).status_code == 422
    assert api.pull(user, project)[1] == []
    assert api.push(user, project, [good]).json() == {
        "first_revision": 1,
        "revision": 1,
        "count": 1,
    }


def _frame(count: int, sizes: list[int], payload: bytes) -> bytes:
    parts = [b"HLU1", struct.pack(">I", count)]
    for size in sizes:
        parts.append(struct.pack(">I", size) + payload[:size])
    return b"".join(parts)


@pytest.mark.parametrize(
    "body,code",
    [
        (b"", "bad_request"),
        (b"HLU1", "bad_request"),
        (b"HLU2" + struct.pack(">I", 1), "bad_request"),
        (_frame(0, [], b""), "bad_request"),
        (_frame(2, [3], b"abc"), "bad_request"),  # truncated
        (_frame(1, [10], b"abc"), "bad_request"),  # shorter than announced
        (_frame(1, [3], b"abc") + b"x", "bad_request"),  # trailing bytes
        (_frame(1, [0], b""), "bad_request"),
        (_frame(1001, [], b""), "too_large"),
        (_frame(1, [5 * 1024 * 1024], b""), "too_large"),
        (_frame(1, [3], b"abc"), "bad_update"),
    ],
)
def test_hostile_frames_are_refused(api: Api, song: tuple, body: bytes, code: str) -> None:
    user, _, project = song
    r = api.request("POST", f"/projects/{project}/updates", user, content=body)
    assert error_code(r) == code, r.text
    assert api.pull(user, project)[1] == []


def test_an_oversized_push_is_refused_by_its_length(api: Api, song: tuple) -> None:
    user, _, project = song
    body = encode_push([b"\x00" * (4 * 1024 * 1024)] * 3)
    r = api.request("POST", f"/projects/{project}/updates", user, content=body)
    assert r.status_code == 413 and error_code(r) == "too_large"

    def chunks():  # no Content-Length: the server counts while reading
        for _ in range(10):
            yield b"\x00" * (1024 * 1024)

    r = api.request("POST", f"/projects/{project}/updates", user, content=chunks())
    assert r.status_code == 413


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    updates=st.lists(
        st.one_of(
            st.binary(min_size=1, max_size=200),
            st.binary(min_size=1, max_size=40).map(lambda b: b"\x01\x01" + b),
            st.binary(min_size=1, max_size=40).map(lambda b: b"\x00\x01" + b),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_random_bytes_as_updates_never_break_the_log(api: Api, song: tuple, updates: list) -> None:
    user, _, project = song
    r = api.push(user, project, updates)
    assert r.status_code in (200, 422), r.text
    # Whatever was accepted replays cleanly, and the log stays gapless.
    entries = api.pull_all(user, project)
    assert [rev for rev, _ in entries] == list(range(1, len(entries) + 1))
    replay(entries)
    good = Writer()
    assert api.push(user, project, [good.type("still fine")]).status_code == 200


def test_a_slow_loris_does_not_block_other_requests(api: Api, song: tuple, shared_server) -> None:
    user, _, project = song
    port = int(shared_server.url.rsplit(":", 1)[1])
    lorises = []
    for _ in range(20):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(f"GET /v1/projects/{project}/updates?wait=30 HTTP/1.1\r\nHost: x\r\n".encode())
        lorises.append(sock)  # headers never finished
    body_loris = socket.create_connection(("127.0.0.1", port))
    body_loris.sendall(
        f"POST /v1/projects/{project}/updates HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {user.access_token}\r\nContent-Length: 100000\r\n\r\nHLU1".encode()
    )
    waiting = [
        threading.Thread(
            target=lambda: httpx.get(
                f"{shared_server.url}/v1/projects/{project}/updates?wait=3",
                headers=user.headers,
                timeout=10,
            )
        )
        for _ in range(30)
    ]
    for thread in waiting:
        thread.start()
    try:
        started = time.perf_counter()
        assert api.push(user, project, [Writer().type("through")]).status_code == 200
        assert api.request("GET", "/me", user).status_code == 200
        assert time.perf_counter() - started < 1.0
    finally:
        for sock in [*lorises, body_loris]:
            sock.close()
        for thread in waiting:
            thread.join(10)


def test_unknown_projects_and_odd_ids(api: Api, song: tuple) -> None:
    user, _, _ = song
    for project in ["0" * 32, "..%2F..%2Fetc", "A" * 32, "%00"]:
        r = api.request("GET", f"/projects/{project}/updates", user)
        assert r.status_code == 404, project
        r = api.request("POST", f"/projects/{project}/updates", user, content=encode_push([b"x"]))
        assert r.status_code == 404, project


def test_history_says_who_pushed_and_hides_from_outsiders(api: Api, song: tuple) -> None:
    owner, team, project = song
    editor = api.user("Bea 🎸")
    api.join(owner, team, editor, "editor")
    writer = Writer()
    assert api.push(owner, project, [writer.type("one ")]).status_code == 200
    assert api.push(editor, project, [writer.type("two "), writer.type("three")]).status_code == 200
    answer = api.request("GET", f"/projects/{project}/history", editor, params={"limit": 10})
    assert answer.status_code == 200, answer.text
    changes = answer.json()["changes"]
    assert [(c["name"], c["updates"]) for c in changes[:2]] == [("Bea 🎸", 2), ("Ann", 1)]
    assert changes[0]["at"].endswith("+00:00") and changes[0]["bytes"] > 0
    outsider = api.user("Eve")
    hidden = api.request("GET", f"/projects/{project}/history", outsider)
    assert hidden.status_code == 404 and error_code(hidden) == "not_found"
    missing = api.request("GET", "/projects/" + "0" * 32 + "/history", owner)
    assert error_code(missing) == "not_found"
    bad = api.request("GET", f"/projects/{project}/history", owner, params={"limit": "x"})
    assert error_code(bad) == "bad_request"

"""The update log on PostgreSQL with two server processes on one database."""

from __future__ import annotations

import concurrent.futures
import threading
import time
from pathlib import Path

from sqlalchemy import select

from server import db
from server.db import make_engine
from server.protocol import COMPACTED_HEADER
from tests.server.client import Api, Writer, replay
from tests.support.sync_server import SyncServer


def test_two_processes_share_one_gapless_log_and_wake_each_other(
    tmp_path: Path, postgres_url: str
) -> None:
    with (
        SyncServer(tmp_path / "one", postgres_url, compact_after=60) as one,
        SyncServer(tmp_path / "two", postgres_url, compact_after=60, poll_interval_s=30) as two,
        Api(one.url) as api_one,
        Api(two.url) as api_two,
    ):
        user = api_one.user()
        project = api_one.project(user, api_one.team(user))

        # A long-poll on process two wakes from a push to process one (LISTEN/NOTIFY: the poll
        # fallback is set to 30 s here, so only the notification can wake it in time).
        woke: dict[str, object] = {}

        def wait() -> None:
            with Api(two.url) as other:
                _r, entries = other.pull(user, project, after=0, wait=10)
                woke["at"] = time.perf_counter()
                woke["revisions"] = [rev for rev, _ in entries]

        thread = threading.Thread(target=wait)
        thread.start()
        time.sleep(0.5)
        writer = Writer()
        pushed = time.perf_counter()
        assert api_one.push(user, project, [writer.type("hello")]).status_code == 200
        thread.join(5)
        assert woke["revisions"] == [1]
        assert float(woke["at"]) - pushed < 0.25, f"{float(woke['at']) - pushed:.3f} s"

        # Concurrent pushes through both processes: every revision handed out once, in order.
        def push_many(url: str) -> list[int]:
            w = Writer()
            got = []
            with Api(url) as own:
                for i in range(15):
                    r = own.push(user, project, [w.type(f"[{url[-5:]}:{i}]"), w.type(".")])
                    assert r.status_code == 200, r.text
                    got += range(r.json()["first_revision"], r.json()["revision"] + 1)
            return got

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            results = list(pool.map(push_many, [one.url, two.url, one.url, two.url]))
        revisions = sorted(rev for got in results for rev in got)
        assert revisions == list(range(2, 2 + 4 * 15 * 2))

        # Compaction ran (more than 60 revisions); both processes serve the same document.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            r, _ = api_two.pull(user, project, after=0)
            if COMPACTED_HEADER in r.headers:
                break
            time.sleep(0.1)
        assert COMPACTED_HEADER in r.headers
        text_one = replay(api_one.pull_all(user, project))
        text_two = replay(api_two.pull_all(user, project))
        assert text_one == text_two and "hello" in text_one
        assert text_one.count(".") == 60

        # A process that was not used for a while catches its cached document up from the
        # database before validating: an update that builds on edits made through the other
        # process is accepted.
        follow = writer.type(" world")
        assert api_two.push(user, project, [follow]).status_code == 200
        assert api_one.push(user, project, [writer.type("!")]).status_code == 200
        assert "hello world!" in replay(api_two.pull_all(user, project))


def test_replayed_update_refused_on_postgres_too(tmp_path: Path, postgres_url: str) -> None:
    with SyncServer(tmp_path, postgres_url) as server, Api(server.url) as api:
        user = api.user()
        team = api.team(user)
        a, b = api.project(user, team), api.project(user, team)
        writer = Writer()
        first, second = writer.type("one"), writer.type("two")
        assert api.push(user, a, [first, second]).status_code == 200
        assert api.push(user, b, [second]).status_code == 422
        assert api.pull(user, b)[1] == []


def test_a_batch_is_written_in_order_with_its_event_in_one_statement(
    tmp_path: Path, postgres_url: str
) -> None:
    """PostgreSQL writes a push as one statement (server/updatelog.py): every update of the
    batch at its own revision, in the batch's order and byte for byte, the project's revision,
    and one push event with the batch's count and bytes."""
    with SyncServer(tmp_path, postgres_url) as server, Api(server.url) as api:
        user = api.user()
        team = api.team(user)
        project = api.project(user, team)
        writer = Writer()
        first = [writer.type(c) for c in "abc"]
        second = [writer.type(c) for c in "défghij"]
        assert api.push(user, project, first).json() == {
            "first_revision": 1, "revision": 3, "count": 3}  # fmt: skip
        assert api.push(user, project, second).json() == {
            "first_revision": 4, "revision": 10, "count": 7}  # fmt: skip
        assert api.pull_all(user, project) == list(enumerate(first + second, start=1))
        engine = make_engine(postgres_url)
        try:
            with engine.connect() as c:
                revision = c.execute(
                    select(db.projects.c.revision).where(db.projects.c.id == project)
                ).scalar_one()
                pushes = c.execute(
                    select(db.events.c.count, db.events.c.bytes, db.events.c.user_id)
                    .where(db.events.c.project_id == project, db.events.c.kind == "push")
                    .order_by(db.events.c.id)
                ).all()
        finally:
            engine.dispose()
        assert revision == 10
        assert [(n, size) for n, size, _user in pushes] == [
            (3, sum(map(len, first))), (7, sum(map(len, second)))]  # fmt: skip
        assert {u for _n, _s, u in pushes} == {user.user_id}

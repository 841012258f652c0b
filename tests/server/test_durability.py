"""SIGKILL in the middle of a stream of pushes: every acknowledged revision survives."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx

from tests.server.client import Api, Writer, replay
from tests.support.sync_server import SyncServer


def test_sigkill_mid_push_stream_keeps_every_acknowledged_revision(tmp_path: Path) -> None:
    server = SyncServer(tmp_path, compact_after=40).start()
    try:
        with Api(server.url) as api:
            user = api.user()
            project = api.project(user, api.team(user))
        acknowledged: dict[int, str] = {}  # revision -> the word that made it
        stop = threading.Event()

        def pusher(index: int) -> None:
            writer = Writer()
            with Api(server.url, timeout=5) as own:
                for n in range(100_000):
                    if stop.is_set():
                        return
                    word = f"<{index}:{n}>"
                    try:
                        r = own.push(user, project, [writer.type(word)])
                    except httpx.HTTPError:
                        return  # the server died under us: unacknowledged, may or may not be in
                    if r.status_code != 200:
                        return
                    acknowledged[r.json()["revision"]] = word

        threads = [threading.Thread(target=pusher, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(1.5)
        server.kill()
        stop.set()
        for thread in threads:
            thread.join(10)
        assert len(acknowledged) > 20, "the pushers got going before the kill"

        server.restart()
        with Api(server.url) as api:
            entries = api.pull_all(user, project)
        revisions = [rev for rev, _ in entries]
        assert revisions == sorted(set(revisions))
        newest = int(api_head(server, user, project))
        assert newest >= max(acknowledged)
        text = replay(entries)
        missing = [word for word in acknowledged.values() if word not in text]
        assert missing == [], f"{len(missing)} acknowledged edits lost"
        # Gapless: without a snapshot the log is 1..newest, with one it continues after it.
        first = revisions[0]
        assert revisions == list(range(first, newest + 1))
        with Api(server.url) as api:
            r = api.push(user, project, [Writer().type("after restart")])
            assert r.json()["revision"] == newest + 1
    finally:
        server.stop()


def api_head(server: SyncServer, user, project: str) -> str:
    with Api(server.url) as api:
        r, _ = api.pull(user, project, after=2**62)
        return r.headers["X-Hookline-Revision"]

"""The convergence fuzz of tests/e2e/test_sync_convergence.py on two ``hookline serve`` processes
(``python -m server``, uvicorn) that share one throwaway PostgreSQL database, as several
stateless processes behind a load balancer would: the desktops alternate between the two
processes, a push to one wakes the long-polls on the other through LISTEN/NOTIFY, and in the
middle one process is SIGKILLed while the other keeps serving. Right after the kill a client of
the surviving process finds every edit the killed one had acknowledged; the killed process comes
back on its port some steps later, and at the end both serve the same document that every desktop
holds.

Both processes poll the database only every 30 s here (``poll_interval_s``), so a long-poll on one
process that answers a push to the other within 2 s was woken by the notification. The two
processes keep their blobs in one folder (a blob folder per process would be a deployment error;
an object store is the production set-up).
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.sync.sharing import pull_everything
from app.sync.store import wire_id
from tests.e2e.test_sync_convergence import Run, run_convergence
from tests.server.postgres import PostgresCluster, find_binary, throwaway_cluster
from tests.support.sync_server import SyncServer

POLL_INTERVAL_S = 30.0  # the database fallback of a waiting long-poll; NOTIFY must be faster
NOTIFY_WAKE_LIMIT_S = 2.0


@pytest.fixture(scope="module")
def cluster() -> Iterator[PostgresCluster]:
    """A throwaway PostgreSQL cluster for this module. A missing PostgreSQL fails the tests
    (`make test` installs it), as in tests/server."""
    if find_binary("initdb") is None:
        pytest.fail("PostgreSQL is not installed: run `make test` (packaging/system-deps.sh)")
    with throwaway_cluster() as started:
        yield started


@contextlib.contextmanager
def two_servers(root: Path, cluster: PostgresCluster) -> Iterator[list[SyncServer]]:
    """Two server processes on one new database of ``cluster``, with one blob folder."""
    database_url = cluster.create_database("fuzz" + uuid.uuid4().hex)
    blobs = root / "shared-blobs"
    blobs.mkdir(parents=True)
    servers = []
    for name in ("one", "two"):
        (root / name).mkdir()
        (root / name / "blobs").symlink_to(blobs, target_is_directory=True)
        servers.append(
            SyncServer(
                root / name,
                database_url,
                compact_after=80,
                poll_interval_s=POLL_INTERVAL_S,
                access_ttl_s=2,  # desktops refresh and rotate tokens often, across the kill
            )
        )
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(server) for server in servers]


def check_notify_wakes_the_other_process(run: Run) -> None:
    """For each direction: a long-poll waiting on one process (20 s) answers a push made
    through the other within :data:`NOTIFY_WAKE_LIMIT_S` (its own database poll is 30 s away)."""
    for source in range(len(run.servers)):
        elapsed = _wake_after_push(run, source, target=1 - source)
        assert elapsed < NOTIFY_WAKE_LIMIT_S, f"woken after {elapsed:.2f} s: no notification"


def _wake_after_push(run: Run, source: int, target: int) -> float:
    """Seconds from an edit on a desktop of ``servers[source]`` to the answer of a long-poll
    waiting on ``servers[target]``."""
    wire = wire_id(run.project_id)
    listener = run.auditors[target]
    _state, revision = pull_everything(listener, wire)
    seen: list[tuple[float, list[int]]] = []

    def wait() -> None:
        result = listener.pull(wire, revision, 20.0)
        seen.append((time.monotonic(), [rev for rev, _data in result.entries]))

    thread = threading.Thread(target=wait, daemon=True)
    thread.start()
    time.sleep(0.5)  # the long-poll is waiting on the target process
    writer = next(m for i, m in enumerate(run.machines) if m and i % 2 == source)
    project = writer.project
    assert project is not None

    def ping() -> None:
        with project.edit():
            project.meta["ping"] = source

    pushed = time.monotonic()
    writer.owner.run(ping)
    thread.join(25.0)
    assert seen and seen[0][1], f"the long-poll on {run.servers[target].url} saw nothing"
    return seen[0][0] - pushed


def test_six_desktops_on_two_processes_converge(tmp_path: Path, cluster: PostgresCluster) -> None:
    with two_servers(tmp_path, cluster) as servers:
        run = run_convergence(
            tmp_path,
            servers,
            clients=6,
            steps=300,
            seed=20261127,
            kill=1,
            down_steps=30,
            on_converged=check_notify_wakes_the_other_process,
        )
    # One audit through the surviving process right after the kill, one through the restarted.
    assert len(run.audits) == 2 and run.audits[0] > 0, run.audits


@pytest.mark.slow
@pytest.mark.timeout(1200)  # about 3 min alone on 2 busy cores
def test_twenty_desktops_on_two_processes_converge(
    tmp_path: Path, cluster: PostgresCluster
) -> None:
    with two_servers(tmp_path, cluster) as servers:
        run = run_convergence(
            tmp_path,
            servers,
            clients=20,
            steps=1500,
            seed=3,
            kill=0,
            down_steps=150,
            on_converged=check_notify_wakes_the_other_process,
        )
    assert len(run.audits) == 2 and run.audits[0] > 0, run.audits

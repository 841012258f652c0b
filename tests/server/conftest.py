"""Fixtures of the sync-server tests: real server processes on 127.0.0.1 (see
tests/support/sync_server.py)."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.client import Api
from tests.server.postgres import PostgresCluster, find_binary
from tests.support.sync_server import SyncServer, sync_server

__all__ = ["sync_server"]


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SyncServer]:
    """One server for a module's tests that do not restart it or change its settings."""
    root: Path = tmp_path_factory.mktemp("shared-sync-server")
    with SyncServer(root, compact_after=2000) as server:
        yield server


@pytest.fixture
def api(shared_server: SyncServer) -> Iterator[Api]:
    with Api(shared_server.url) as client:
        yield client


@pytest.fixture(scope="session")
def postgres_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresCluster]:
    """A throwaway PostgreSQL cluster for the whole session. A missing PostgreSQL fails these
    tests (`make test` installs it), so a broken set-up cannot pass for a green run."""
    if find_binary("initdb") is None:
        pytest.fail("PostgreSQL is not installed: run `make test` (packaging/system-deps.sh)")
    # Not under pytest's tmp folder: as root the cluster runs as `postgres`, which cannot enter it.
    root = Path(tempfile.mkdtemp(prefix="hookline-pg-"))
    cluster = PostgresCluster(root)
    try:
        yield cluster.start()
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_cluster: PostgresCluster) -> str:
    """A fresh, empty database in the session's cluster."""
    return postgres_cluster.create_database("t" + uuid.uuid4().hex)

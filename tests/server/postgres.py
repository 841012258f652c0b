"""A throwaway PostgreSQL cluster on 127.0.0.1 for the server tests.

``initdb`` into a temporary folder, then ``postgres`` itself as a child of the test process (not
``pg_ctl``, which would detach it), so the kernel ends it when the tests die. PostgreSQL refuses to
run as root; as root the cluster runs as the ``postgres`` user (Debian's package creates it).
Binaries are looked up on PATH, in /usr/local/bin and in /usr/lib/postgresql/*/bin.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tests.support.jack import die_with_parent
from tests.support.sync_server import free_port


def find_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for folder in ["/usr/local/bin", *sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]:
        candidate = Path(folder) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


class PostgresCluster:
    """``root`` must be reachable by the cluster's user (pytest's tmp folders are root-only, so
    as root pass a folder made with :func:`tempfile.mkdtemp` directly under /tmp)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.socket_dir = root / "sock"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.user: str | None = None
        if os.geteuid() == 0:
            self.user = "postgres"
            pwd.getpwnam(self.user)  # KeyError when the account is missing

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://hookline@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> None:
        done = subprocess.run(command, capture_output=True, user=self.user, cwd=self.root)
        if done.returncode:
            raise RuntimeError(f"{command[0]} failed: {done.stderr.decode(errors='replace')}")

    def start(self, timeout: float = 30.0) -> PostgresCluster:
        initdb, postgres = find_binary("initdb"), find_binary("postgres")
        if initdb is None or postgres is None:
            raise RuntimeError("PostgreSQL is not installed (initdb/postgres not found)")
        self.root.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        if self.user:
            for path in (self.root, self.socket_dir):
                shutil.chown(path, self.user)
        self._run(
            initdb,
            "-D",
            str(self.data),
            "-U",
            "hookline",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-locale",
        )
        log = open(self.root / "postgres.log", "ab")  # noqa: SIM115 (kept open by the child)
        self.process = subprocess.Popen(
            [
                postgres,
                "-D",
                str(self.data),
                "-p",
                str(self.port),
                "-k",
                str(self.socket_dir),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "max_connections=300",
                "-c",
                "fsync=on",
                "-c",
                "synchronous_commit=on",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            user=self.user,
            cwd=self.root,
            preexec_fn=die_with_parent,
        )
        log.close()
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited; see {self.root / 'postgres.log'}")
            try:
                with psycopg.connect(self.url(), connect_timeout=2):
                    return self
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(15)
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(5)


@contextlib.contextmanager
def throwaway_cluster(prefix: str = "hookline-pg-") -> Iterator[PostgresCluster]:
    """A started cluster in a new folder directly under /tmp (reachable by the ``postgres`` user
    when running as root), stopped and deleted afterwards. RuntimeError when PostgreSQL is not
    installed."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    cluster = PostgresCluster(root)
    try:
        yield cluster.start()
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)

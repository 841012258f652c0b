"""A real sync server (``python -m server``, uvicorn) in a subprocess on 127.0.0.1.

``SyncServer(root, database_url=None, *, blobs_url=None, env=None, **config)``: ``root`` holds the
SQLite file (unless a ``database_url`` is given), the blob folder (unless ``blobs_url`` names
another place, such as ``s3://bucket/prefix``) and the server's log; ``env`` adds environment
variables of the server process (the ``AWS_*`` settings of an object store). ``config`` takes any
field of ``server.config.ServerConfig`` (``access_ttl_s=2``, ``compact_after=50``, ...), passed to
the process as ``HOOKLINE_SERVER_*`` variables. Password hashing is made cheap unless set. The
process gets SIGTERM from the kernel when the test process dies (``die_with_parent``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType

import pytest

from server.config import env_for
from tests.support.jack import die_with_parent

REPO_ROOT = Path(__file__).resolve().parents[2]
FAST_HASHING = {"argon2_time_cost": 1, "argon2_memory_kib": 1024, "argon2_parallelism": 1}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SyncServer:
    def __init__(
        self,
        root: Path,
        database_url: str | None = None,
        *,
        blobs_url: str | None = None,
        env: Mapping[str, str] | None = None,
        **config: object,
    ) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url or f"sqlite:///{self.root / 'sync.sqlite3'}"
        self.blobs = self.root / "blobs"
        # --blobs: the folder above, or e.g. s3://bucket/prefix (with the AWS_* variables in env)
        self.blobs_url = blobs_url or str(self.blobs)
        self.log_path = self.root / "server.log"
        self.config = {**FAST_HASHING, **config}
        self.env_extra = {**env_for(**self.config), **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> SyncServer:
        for _attempt in range(3):  # a free port can be taken between the check and the bind
            self.port = free_port()
            if self._launch(timeout):
                return self
        raise RuntimeError(f"the sync server did not start; see {self.log_path}")

    def _launch(self, timeout: float) -> bool:
        env = dict(os.environ)
        env.update(self.env_extra)
        env["PYTHONUNBUFFERED"] = "1"
        command = [
            sys.executable,
            "-m",
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--database",
            self.database_url,
            "--blobs",
            self.blobs_url,
        ]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock,
            ):
                sock.sendall(b"GET /v1/health-check HTTP/1.1\r\nHost: x\r\n\r\n")
                if sock.recv(12).startswith(b"HTTP/1.1"):
                    return True
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(
            f"the sync server did not answer within {timeout} s; see {self.log_path}"
        )

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush; what was acknowledged must still be there."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def restart(self, timeout: float = 20.0) -> SyncServer:
        """Stop (if running) and start again on the same database, blobs and port, as a real
        server comes back at its address; only if that port was taken meanwhile does ``url``
        change."""
        self.stop()
        if self.port and self._launch(timeout):
            return self
        return self.start(timeout)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> SyncServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


@pytest.fixture
def sync_server(tmp_path: Path) -> Iterator[SyncServer]:
    """A running server on SQLite with short-lived test settings left at their defaults."""
    with SyncServer(tmp_path / "sync-server") as server:
        yield server

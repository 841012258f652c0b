"""An S3-compatible stand-in for tests: ``moto_server`` (PyPI ``moto[server]``, in memory) in a
subprocess on 127.0.0.1.

``MotoServer(log_path)``: ``start()`` picks a free port and waits until it answers;
``create_bucket(name)`` makes an empty bucket; ``put_object`` writes one object behind a sync
server's back; ``keys(bucket)`` lists what a bucket holds; ``env`` holds the ``AWS_*`` variables a
sync server (or :func:`server.blobs.open_object_store`) needs to reach it; ``stop()`` ends it (its
buckets go with it). The credentials are made up: moto accepts any. The process gets SIGTERM from
the kernel when the test process dies."""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from xml.etree import ElementTree

import httpx
import obstore
import pytest
from obstore.store import S3Store

from tests.support.jack import die_with_parent
from tests.support.sync_server import REPO_ROOT, free_port

ACCESS_KEY_ID = "hookline-test-key"
SECRET_ACCESS_KEY = "hookline-test-secret-4f1c9a"  # tests check it never reaches a log
REGION = "eu-central-1"


def moto_server_command() -> str:
    """The ``moto_server`` script of this interpreter's environment (or on PATH)."""
    beside = Path(sys.executable).with_name("moto_server")
    found = str(beside) if beside.exists() else shutil.which("moto_server")
    if found is None:
        pytest.fail("moto_server is missing: pip install -e '.[dev]' (it brings moto[server])")
    return found


class MotoServer:
    def __init__(self, log_path: Path) -> None:
        self.log_path = Path(log_path)
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "AWS_REGION": REGION,
            "AWS_ALLOW_HTTP": "true",
        }

    def start(self, timeout: float = 30.0) -> MotoServer:
        for _attempt in range(3):  # a free port can be taken between the check and the bind
            self.port = free_port()
            if self._launch(timeout):
                return self
        raise RuntimeError(f"moto_server did not start; see {self.log_path}")

    def _launch(self, timeout: float) -> bool:
        command = [moto_server_command(), "-H", "127.0.0.1", "-p", str(self.port)]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/moto-api/", timeout=1.0).status_code < 500:
                    return True
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"moto_server did not answer within {timeout} s; see {self.log_path}")

    def create_bucket(self, name: str) -> str:
        answer = httpx.put(f"{self.url}/{name}", timeout=10.0)
        answer.raise_for_status()
        return name

    def put_object(self, bucket: str, key: str, data: bytes) -> None:
        """Write an object behind the sync server's back (signed, as moto wants for objects)."""
        store = S3Store(
            bucket,
            endpoint=self.url,
            region=REGION,
            access_key_id=ACCESS_KEY_ID,
            secret_access_key=SECRET_ACCESS_KEY,
            client_options={"allow_http": True},
        )
        obstore.put(store, key, data)

    def keys(self, bucket: str) -> list[str]:
        """Every key in the bucket (ListObjectsV2, one page: tests hold far fewer than 1,000)."""
        answer = httpx.get(f"{self.url}/{bucket}", params={"list-type": "2"}, timeout=10.0)
        answer.raise_for_status()
        root = ElementTree.fromstring(answer.content)
        keys = [e.text or "" for e in root.iter() if e.tag.rpartition("}")[2] == "Key"]
        return sorted(keys)

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

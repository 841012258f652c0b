"""Pictures of artists and albums for the Spotify page: fetched once from the address a snapshot
stored, kept in the cache folder, never trusted. Qt-free; :meth:`ImageCache.fetch` blocks (call
it from a worker thread), :meth:`ImageCache.cached` does not touch the network.

An address is fetched only when it is ``https``, or plain ``http`` to a host the caller allows
(the configured Web API's own host: a stand-in in tests). The answer must be a 200 of at most
:data:`MAX_IMAGE_BYTES` whose bytes begin like a JPEG, PNG, GIF or WebP file; redirects are not
followed and no credentials are sent (Spotify's image addresses need none). What passes is
written to ``<folder>/<sha256 of the address>`` under a temporary name and renamed, so a cached
file is always whole; the folder keeps the :data:`MAX_FILES` most recently stored pictures. A
failure gives ``None`` (the page shows no picture), is logged with the address's host only, and
is not retried for :data:`RETRY_AFTER_S` seconds.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

import requests

log = logging.getLogger(__name__)

MAX_IMAGE_BYTES = 2 * 1024 * 1024
"""The largest picture taken (Spotify's largest, 640 px JPEGs, are about 100 KB)."""
TIMEOUT_S = (5.0, 10.0)  # connect, read
RETRY_AFTER_S = 600.0
MAX_FILES = 500
"""Pictures kept; storing one more removes the oldest (a few tens of MB at most)."""
MAX_URL_CHARS = 2000

_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a")


def looks_like_image(data: bytes) -> bool:
    """Whether ``data`` begins like a JPEG, PNG, GIF or WebP file."""
    if data.startswith(_SIGNATURES):
        return True
    return len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP"


class ImageCache:
    def __init__(
        self,
        folder: Path,
        http_hosts: Iterable[str] = (),
        timeout: tuple[float, float] = TIMEOUT_S,
    ) -> None:
        self.folder = Path(folder)
        self.http_hosts = {h.lower() for h in http_hosts}
        self._timeout = timeout
        self._failed: dict[str, float] = {}  # address -> monotonic time of the failure
        self._lock = threading.Lock()
        self._local = threading.local()

    def allowed(self, url: str) -> bool:
        if not isinstance(url, str) or len(url) > MAX_URL_CHARS:
            return False
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
        except ValueError:
            return False
        if not host or parts.username or parts.password:
            return False
        return parts.scheme == "https" or (parts.scheme == "http" and host in self.http_hosts)

    def path(self, url: str) -> Path:
        return self.folder / hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()

    def cached(self, url: str) -> bytes | None:
        """The picture if it is in the cache already (no network)."""
        if not self.allowed(url):
            return None
        try:
            data = self.path(url).read_bytes()
        except OSError:
            return None
        return data if looks_like_image(data) else None

    def fetch(self, url: str) -> bytes | None:
        """The picture, from the cache or else from the network; ``None`` when it cannot be
        had (see the module text). Blocks: worker threads only."""
        data = self.cached(url)
        if data is not None or not self.allowed(url):
            return data
        with self._lock:
            failed = self._failed.get(url)
            if failed is not None and time.monotonic() - failed < RETRY_AFTER_S:
                return None
        try:
            data = self._download(url)
        except (requests.RequestException, OSError, ValueError) as exc:
            log.info("no picture from %s: %s", urlsplit(url).hostname, exc)
            with self._lock:
                self._failed[url] = time.monotonic()
            return None
        with self._lock:
            self._failed.pop(url, None)
        return data

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False  # no .netrc credentials or proxies from the environment
            self._local.session = session
        return session

    def _download(self, url: str) -> bytes:
        response = self._session().get(
            url, timeout=self._timeout, stream=True, allow_redirects=False
        )
        try:
            if response.status_code != 200:
                raise ValueError(f"answer {response.status_code}")
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > MAX_IMAGE_BYTES:
                raise ValueError(f"{declared} bytes is too large")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_content(chunk_size=1 << 16):
                size += len(chunk)
                if size > MAX_IMAGE_BYTES:
                    raise ValueError("too large")
                chunks.append(chunk)
        finally:
            response.close()
        data = b"".join(chunks)
        if not looks_like_image(data):
            raise ValueError("not a picture")
        self._store(url, data)
        return data

    def _store(self, url: str, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(prefix=".incoming-", dir=self.folder)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temp_name, self.path(url))
        finally:
            Path(temp_name).unlink(missing_ok=True)
        self._prune()

    def _prune(self) -> None:
        """Remove the oldest pictures beyond :data:`MAX_FILES` (by the time they were stored)."""
        try:
            entries = [(e.stat().st_mtime_ns, e.path) for e in os.scandir(self.folder)
                       if e.is_file() and not e.name.startswith(".")]  # fmt: skip
        except OSError:
            return
        entries.sort()
        for _stored, path in entries[: max(0, len(entries) - MAX_FILES)]:
            Path(path).unlink(missing_ok=True)

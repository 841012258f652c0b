"""Content-addressed blobs, visible per team: on local disk or in an S3-compatible object store
(blocking calls; the routes run them in worker threads).

Both stores implement :class:`BlobBackend`. A blob's name is always a validated lowercase sha256
hex string, and every path or object key is built from that name alone (and, for uploads in
progress, a random upload id of 32 hex digits), so no request can reach anything else.

- :class:`BlobStore` (local disk): a blob lives at ``<root>/<hex[0:2]>/<hex[2:4]>/<hex>``.
  Uploads stream into ``<root>/tmp``, are hashed and counted while they arrive, flushed to disk,
  and renamed into place only when the hash matches.
- :class:`ObjectBlobStore` (S3 through obstore): a blob is the object ``blobs/<hex>`` under the
  store's prefix. An upload through the server streams into a multipart upload of that key that
  is completed only after size and hash were checked (an aborted multipart upload leaves no
  object). A presigned upload goes to ``incoming/<hex>.<upload id>``; on commit the server reads
  it back in one GET and writes those same bytes to ``blobs/<hex>`` the same way, so a client
  that writes its URL again meanwhile cannot slip unchecked bytes in; the incoming object is then
  deleted whatever the outcome.

Which teams may read a blob is recorded in ``team_blobs``; a blob no team references is garbage
(:func:`collect_garbage`).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import secrets
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol
from urllib.parse import urlsplit

import obstore
from obstore.exceptions import BaseError as ObjectStoreError
from obstore.store import S3Store
from sqlalchemy import Engine, and_, delete, insert, select
from sqlalchemy.exc import IntegrityError

from server import db
from server.errors import ApiError
from server.protocol import is_sha256

if TYPE_CHECKING:
    from obstore.store import ClientConfig, RetryConfig, S3Config

    from server.config import ServerConfig

log = logging.getLogger(__name__)

READ_CHUNK = 1024 * 1024  # bytes per chunk when a blob is read back or streamed out
PART_BYTES = 8 * 1024 * 1024  # multipart part size of uploads through the server (S3: >= 5 MiB)
PART_CONCURRENCY = 4  # parts of one upload in flight at once (memory: PART_BYTES times this)
UNAVAILABLE_RETRY_S = 5  # the Retry-After of an answer when the object store fails
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_PREFIX_PART = re.compile(r"^[A-Za-z0-9._-]{1,200}$")
_TRUE = ("1", "true", "yes", "on")


def is_upload_id(text: str) -> bool:
    return bool(_UPLOAD_ID.match(text))


def _name(sha256: str) -> str:
    if not is_sha256(sha256):
        raise ApiError("bad_request", "a blob name is 64 lowercase hex digits")
    return sha256


class BlobStreamCut(Exception):
    """The store failed after the first bytes of a blob went out (already logged); the answer
    can only be cut short."""


@dataclass(frozen=True)
class StoredItem:
    """One thing the store holds, as garbage collection sees it."""

    key: str  # the store's own name for it: a file path or an object key
    sha256: str | None  # the blob's name; None for the leftovers of an upload
    modified: float  # seconds since the epoch


@dataclass(frozen=True)
class SignedUpload:
    """A presigned PUT to a staging key; the client commits ``upload_id`` afterwards."""

    url: str
    upload_id: str


class BlobSink(Protocol):
    """Receives one upload: ``write`` each chunk, then ``finish`` (or ``abort``)."""

    def write(self, chunk: bytes) -> None: ...

    def finish(self) -> int: ...

    def abort(self) -> None: ...


class BlobBackend(ABC):
    """What the routes and garbage collection need from a blob store."""

    can_sign = False  # whether sign_get and offer_upload give presigned URLs
    description = ""  # where the blobs are, for people (no credentials)

    @abstractmethod
    def writer(self, sha256: str, max_bytes: int) -> BlobSink:
        """An upload of at most ``max_bytes`` bytes that lands only if its sha256 matches."""

    @abstractmethod
    def size(self, sha256: str) -> int | None:
        """The stored blob's size in bytes, or None when it is not there."""

    @abstractmethod
    def read(self, sha256: str) -> Iterator[bytes]:
        """The blob's bytes in chunks; ``not_found`` (before the first chunk) when absent."""

    @abstractmethod
    def delete(self, sha256: str) -> None:
        """Remove the blob (nothing happens when it is not there)."""

    @abstractmethod
    def inventory(self) -> Iterator[StoredItem]:
        """Every blob and upload leftover the store holds."""

    @abstractmethod
    def discard(self, item: StoredItem) -> None:
        """Remove one item of :meth:`inventory`."""

    def sign_get(self, sha256: str, ttl_s: float) -> str:
        raise ApiError("not_found", "this blob store gives no presigned URLs")

    def offer_upload(self, sha256: str, ttl_s: float) -> SignedUpload:
        raise ApiError("not_found", "this blob store gives no presigned URLs")

    def accept_upload(self, sha256: str, upload_id: str, max_bytes: int) -> int:
        """Check a presigned upload (size, sha256) and put it in place; returns its size."""
        raise ApiError("not_found", "no such upload")


# -- local disk ---------------------------------------------------------------------------------
class BlobStore(BlobBackend):
    """Blobs in a folder on local disk."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.description = str(root)
        self.tmp = root / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"<BlobStore {self.root}>"

    def path(self, sha256: str) -> Path:
        name = _name(sha256)
        return self.root / name[:2] / name[2:4] / name

    def writer(self, sha256: str, max_bytes: int) -> BlobWriter:
        return BlobWriter(self, sha256, max_bytes)

    def size(self, sha256: str) -> int | None:
        try:
            return self.path(sha256).stat().st_size
        except FileNotFoundError:
            return None

    def read(self, sha256: str) -> Iterator[bytes]:
        try:
            file = open(self.path(sha256), "rb")  # noqa: SIM115 (closed by the generator)
        except FileNotFoundError:
            raise ApiError("not_found", "no such blob") from None
        return _file_chunks(file)

    def delete(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)

    def inventory(self) -> Iterator[StoredItem]:
        for path in self.root.rglob("*"):
            try:
                if not path.is_file():
                    continue
                modified = path.stat().st_mtime
            except FileNotFoundError:
                continue
            if path.parent == self.tmp:
                yield StoredItem(str(path), None, modified)
            elif is_sha256(path.name):
                yield StoredItem(str(path), path.name, modified)

    def discard(self, item: StoredItem) -> None:
        path = Path(item.key)
        if self.root not in path.parents:
            raise ValueError(f"{path} is not in {self.root}")
        path.unlink(missing_ok=True)


def _file_chunks(file: BinaryIO) -> Iterator[bytes]:
    try:
        while chunk := file.read(READ_CHUNK):
            yield chunk
    finally:
        file.close()


class BlobWriter:
    """One upload into a :class:`BlobStore`."""

    def __init__(self, store: BlobStore, sha256: str, max_bytes: int) -> None:
        self.final = store.path(sha256)
        self.sha256 = sha256
        self.max_bytes = max_bytes
        self.size = 0
        self._hash = hashlib.sha256()
        fd, name = tempfile.mkstemp(dir=store.tmp, prefix="upload-")
        self._file = os.fdopen(fd, "wb")
        self._temp = Path(name)

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            self.abort()
            raise ApiError("too_large", f"a blob holds at most {self.max_bytes} bytes")
        self._hash.update(chunk)
        self._file.write(chunk)

    def finish(self) -> int:
        """Check the hash, make the bytes durable and move them into place; returns the size."""
        if self._hash.hexdigest() != self.sha256:
            self.abort()
            raise ApiError("bad_hash", "the bytes do not match the sha256 in the path")
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self.final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._temp, self.final)
        directory = os.open(self.final.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        return self.size

    def abort(self) -> None:
        if not self._file.closed:
            self._file.close()
        self._temp.unlink(missing_ok=True)


# -- S3-compatible object store -----------------------------------------------------------------
@contextlib.contextmanager
def _store_call(what: str) -> Iterator[None]:
    """Turn a failure of the object store into an ``unavailable`` answer (logged in one line,
    without a stack trace; obstore's messages name the request, never the credentials)."""
    try:
        yield
    except (ApiError, FileNotFoundError):
        raise  # FileNotFoundError: the object is not there, which callers answer themselves
    except (ObjectStoreError, OSError) as error:
        first_line = str(error).strip().splitlines()[0][:300] if str(error).strip() else ""
        log.warning("blob store: %s failed: %s: %s", what, type(error).__name__, first_line)
        raise ApiError(
            "unavailable",
            "the blob store cannot be reached; try again later",
            headers={"Retry-After": str(UNAVAILABLE_RETRY_S)},
        ) from None


def _lifetime(ttl_s: float) -> timedelta:
    """A presigned URL's lifetime: 1 s to 7 days (the most S3 signs for)."""
    return timedelta(seconds=min(max(float(ttl_s), 1.0), 7 * 24 * 3600.0))


class ObjectBlobStore(BlobBackend):
    """Blobs in an S3-compatible bucket, through obstore (``store`` carries bucket and prefix)."""

    BLOBS = "blobs/"
    INCOMING = "incoming/"  # presigned uploads land here; clients can write these keys

    def __init__(self, store: S3Store, description: str, *, can_sign: bool = True) -> None:
        self.store = store
        self.description = description
        self.can_sign = can_sign

    def __repr__(self) -> str:
        return f"<ObjectBlobStore {self.description}>"

    def key(self, sha256: str) -> str:
        return self.BLOBS + _name(sha256)

    def _staging(self, folder: str, sha256: str, upload_id: str) -> str:
        if not is_upload_id(upload_id):
            raise ApiError("bad_request", "upload_id: 32 lowercase hex digits")
        return f"{folder}{_name(sha256)}.{upload_id}"

    def writer(self, sha256: str, max_bytes: int) -> ObjectBlobWriter:
        return ObjectBlobWriter(self, sha256, max_bytes)

    def size(self, sha256: str) -> int | None:
        key = self.key(sha256)
        try:
            with _store_call("head"):
                return int(obstore.head(self.store, key)["size"])
        except FileNotFoundError:
            return None

    def read(self, sha256: str) -> Iterator[bytes]:
        key = self.key(sha256)
        try:
            with _store_call("get"):
                result = obstore.get(self.store, key)
        except FileNotFoundError:
            raise ApiError("not_found", "no such blob") from None
        return self._chunks(result.stream(min_chunk_size=READ_CHUNK))

    @staticmethod
    def _chunks(stream: Iterator[bytes]) -> Iterator[bytes]:
        try:
            for chunk in stream:
                yield bytes(chunk)
        except (ObjectStoreError, OSError) as error:
            log.warning("blob store: get (streaming) failed: %s", type(error).__name__)
            raise BlobStreamCut from None

    def delete(self, sha256: str) -> None:
        key = self.key(sha256)
        with _store_call("delete"):
            obstore.delete(self.store, key)

    def inventory(self) -> Iterator[StoredItem]:
        for folder in (self.BLOBS, self.INCOMING):
            with _store_call("list"):
                batches = list(obstore.list(self.store, prefix=folder.rstrip("/")))
            for batch in batches:
                for meta in batch:
                    key = meta["path"]
                    name = key[len(folder) :] if key.startswith(folder) else ""
                    modified = meta["last_modified"].timestamp()
                    if folder == self.BLOBS:
                        if is_sha256(name):
                            yield StoredItem(key, name, modified)
                        continue
                    sha, dot, upload_id = name.partition(".")
                    if is_sha256(sha) and dot and is_upload_id(upload_id):
                        yield StoredItem(key, None, modified)

    def discard(self, item: StoredItem) -> None:
        folder, _, name = item.key.rpartition("/")
        folder += "/"
        sha, dot, upload_id = name.partition(".")
        blob = folder == self.BLOBS and not dot and is_sha256(sha)
        staged = folder == self.INCOMING and is_sha256(sha)
        if not blob and not (staged and is_upload_id(upload_id)):
            raise ValueError(f"{item.key!r} is not a key of this blob store")
        with _store_call("delete"):
            obstore.delete(self.store, item.key)

    def sign_get(self, sha256: str, ttl_s: float) -> str:
        key = self.key(sha256)
        with _store_call("sign"):
            return obstore.sign(self.store, "GET", key, _lifetime(ttl_s))

    def offer_upload(self, sha256: str, ttl_s: float) -> SignedUpload:
        upload_id = secrets.token_hex(16)
        key = self._staging(self.INCOMING, sha256, upload_id)
        with _store_call("sign"):
            url = obstore.sign(self.store, "PUT", key, _lifetime(ttl_s))
        return SignedUpload(url, upload_id)

    def accept_upload(self, sha256: str, upload_id: str, max_bytes: int) -> int:
        incoming = self._staging(self.INCOMING, sha256, upload_id)
        try:
            with _store_call("head"):
                size = int(obstore.head(self.store, incoming)["size"])
            if size > max_bytes:
                raise ApiError("too_large", f"a blob holds at most {max_bytes} bytes")
            # One GET answers with one version of the object, even if the client's URL writes
            # the key again meanwhile: the bytes hashed here are the bytes written to the blob.
            writer = self.writer(sha256, max_bytes)
            try:
                with _store_call("get"):
                    stream = obstore.get(self.store, incoming).stream(min_chunk_size=PART_BYTES)
                    for chunk in stream:
                        writer.write(bytes(chunk))
                return writer.finish()
            finally:
                writer.abort()  # nothing once finished
        except FileNotFoundError:
            raise ApiError("not_found", "no such upload (expired, or already committed)") from None
        finally:
            with contextlib.suppress(ApiError, FileNotFoundError), _store_call("delete"):
                obstore.delete(self.store, incoming)


class ObjectBlobWriter:
    """One upload through the server into an :class:`ObjectBlobStore`: a multipart upload of the
    blob's key, completed only after the size and sha256 were checked, aborted otherwise."""

    def __init__(self, store: ObjectBlobStore, sha256: str, max_bytes: int) -> None:
        self.sha256 = sha256
        self.max_bytes = max_bytes
        self.size = 0
        self._hash = hashlib.sha256()
        self._done = False
        key = store.key(sha256)
        with _store_call("upload"):
            self._file = obstore.open_writer(
                store.store, key, buffer_size=PART_BYTES, max_concurrency=PART_CONCURRENCY
            )

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            self.abort()
            raise ApiError("too_large", f"a blob holds at most {self.max_bytes} bytes")
        self._hash.update(chunk)
        try:
            with _store_call("upload"):
                self._file.write(chunk)
        except ApiError:
            self.abort()
            raise

    def finish(self) -> int:
        if self._hash.hexdigest() != self.sha256:
            self.abort()
            raise ApiError("bad_hash", "the bytes do not match the sha256 in the path")
        try:
            with _store_call("upload"):
                self._file.close()  # completes the upload: the object appears only now
        except ApiError:
            self.abort()
            raise
        self._done = True
        return self.size

    def abort(self) -> None:
        """Drop what was sent (idempotent). obstore aborts the multipart upload when its writer
        leaves a ``with`` block by an exception, which is what this does."""
        if self._done:
            return
        self._done = True
        try:
            self._file.__exit__(ApiError, ApiError("bad_request", "upload aborted"), None)
        except (ObjectStoreError, OSError) as error:
            # An unfinished multipart upload is invisible; a bucket lifecycle rule removes it.
            log.warning("blob store: abort failed: %s", type(error).__name__)


# -- choosing a store ---------------------------------------------------------------------------
def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` -> (bucket, prefix). Credentials, ports, queries and unusual
    characters are refused (the message never repeats the URL, which may hold a secret)."""
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        raise ValueError("an s3:// location holds no spaces or control characters")
    parts = urlsplit(url)
    if parts.scheme.lower() != "s3":
        raise ValueError("an object store location is s3://bucket/prefix")
    if "@" in parts.netloc or parts.query or parts.fragment or ":" in parts.netloc:
        raise ValueError(
            "an s3:// location holds no user name, password, port, query or fragment; "
            "credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    bucket = parts.netloc
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise ValueError("not an S3 bucket name (3 to 63 of a-z, 0-9, '.', '-')")
    segments = [s for s in parts.path.split("/") if s]
    for segment in segments:
        if not _PREFIX_PART.match(segment) or segment in (".", ".."):
            raise ValueError("an s3:// prefix is made of A-Z, a-z, 0-9, '.', '_', '-' and '/'")
    return bucket, "/".join(segments)


def s3_settings(environ: Mapping[str, str]) -> tuple[S3Config, ClientConfig]:
    """Endpoint, region and credentials from the standard AWS variables (obstore would also find
    them itself; reading them here makes a given environment win and keeps them out of files)."""
    config: S3Config = {}
    endpoint = (
        environ.get("AWS_ENDPOINT_URL_S3")
        or environ.get("AWS_ENDPOINT_URL")
        or environ.get("AWS_ENDPOINT")
    )
    if endpoint:
        config["endpoint"] = endpoint
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    if region:
        config["region"] = region
    if environ.get("AWS_ACCESS_KEY_ID"):
        config["access_key_id"] = environ["AWS_ACCESS_KEY_ID"]
    if environ.get("AWS_SECRET_ACCESS_KEY"):
        config["secret_access_key"] = environ["AWS_SECRET_ACCESS_KEY"]
    if environ.get("AWS_SESSION_TOKEN"):
        config["session_token"] = environ["AWS_SESSION_TOKEN"]
    client: ClientConfig = {
        "connect_timeout": timedelta(seconds=5),
        "read_timeout": timedelta(seconds=60),  # a stalled connection; resets on every read
        "timeout": timedelta(hours=1),  # a whole request, body included (a slow download)
        "allow_http": environ.get("AWS_ALLOW_HTTP", "").strip().lower() in _TRUE,
    }
    return config, client


RETRIES: RetryConfig = {
    "max_retries": 3,
    "retry_timeout": timedelta(seconds=20),
    "backoff": {
        "init_backoff": timedelta(milliseconds=100),
        "max_backoff": timedelta(seconds=2),
        "base": 2,
    },
}


def open_object_store(
    url: str, environ: Mapping[str, str] | None = None, *, can_sign: bool = True
) -> ObjectBlobStore:
    bucket, prefix = parse_s3_url(url)
    config, client = s3_settings(os.environ if environ is None else environ)
    store = S3Store(
        bucket,
        prefix=prefix or None,
        config=config,
        client_options=client,
        retry_config=RETRIES,
    )
    description = f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}"
    return ObjectBlobStore(store, description, can_sign=can_sign)


def open_blob_store(config: ServerConfig, environ: Mapping[str, str] | None = None) -> BlobBackend:
    """The store ``config.blobs_path`` names: a folder, or ``s3://bucket/prefix``."""
    if config.blobs_in_object_store:
        return open_object_store(config.blobs_path, environ, can_sign=config.presign_blobs)
    return BlobStore(config.resolved_blobs_path())


# -- which team may read what -------------------------------------------------------------------
def record_blob(engine: Engine, team_id: str, sha256: str, size: int) -> None:
    """Note that the team may read the blob (idempotent)."""
    now = time.time()
    with db.write_transaction(engine) as c:
        known = c.execute(select(db.blobs.c.size).where(db.blobs.c.sha256 == sha256)).first()
        if known is None:
            try:
                with c.begin_nested():
                    c.execute(insert(db.blobs).values(sha256=sha256, size=size, created_at=now))
            except IntegrityError:
                pass
        link = and_(db.team_blobs.c.team_id == team_id, db.team_blobs.c.sha256 == sha256)
        if c.execute(select(db.team_blobs.c.sha256).where(link)).first() is None:
            try:
                with c.begin_nested():
                    c.execute(
                        insert(db.team_blobs).values(team_id=team_id, sha256=sha256, created_at=now)
                    )
            except IntegrityError:
                pass


def team_has_blob(engine: Engine, team_id: str, sha256: str) -> bool:
    with engine.connect() as c:
        link = and_(db.team_blobs.c.team_id == team_id, db.team_blobs.c.sha256 == sha256)
        return c.execute(select(db.team_blobs.c.sha256).where(link)).first() is not None


def release_blob(engine: Engine, team_id: str, sha256: str) -> None:
    """The team no longer references the blob (its projects dropped it)."""
    with engine.begin() as c:
        c.execute(
            delete(db.team_blobs).where(
                and_(db.team_blobs.c.team_id == team_id, db.team_blobs.c.sha256 == sha256)
            )
        )


def collect_garbage(engine: Engine, store: BlobBackend, *, grace_s: float = 3600.0) -> list[str]:
    """Delete blobs that no team references, and stored blobs or upload leftovers the database
    does not know, once they are older than ``grace_s`` (an upload in progress is never older
    than that). Returns the sha256 of each blob removed."""
    cutoff = time.time() - grace_s
    removed: list[str] = []
    with db.write_transaction(engine) as c:
        referenced = select(db.team_blobs.c.sha256).where(
            db.team_blobs.c.sha256 == db.blobs.c.sha256
        )
        rows = c.execute(
            select(db.blobs.c.sha256).where(
                and_(~referenced.exists(), db.blobs.c.created_at < cutoff)
            )
        ).all()
        for row in rows:
            c.execute(delete(db.blobs).where(db.blobs.c.sha256 == row.sha256))
            removed.append(row.sha256)
        known = set(c.execute(select(db.blobs.c.sha256)).scalars())
    for sha256 in removed:
        store.delete(sha256)
    for item in list(store.inventory()):
        if item.modified >= cutoff:
            continue
        if item.sha256 is None:
            store.discard(item)
        elif item.sha256 not in known and item.sha256 not in removed:
            store.discard(item)
            removed.append(item.sha256)
    return removed

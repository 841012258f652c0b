"""Content-addressed blobs on local disk, visible per team (blocking; worker threads).

A blob lives at ``<root>/<hex[0:2]>/<hex[2:4]>/<hex>``, a path built only from a validated
lowercase sha256 hex string. Uploads stream into ``<root>/tmp``, are hashed and counted while they
arrive, flushed to disk, and renamed into place only when the hash matches. Which teams may read a
blob is recorded in ``team_blobs``; a blob no team references is garbage.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from pathlib import Path

from sqlalchemy import Engine, and_, delete, insert, select
from sqlalchemy.exc import IntegrityError

from server import db
from server.errors import ApiError
from server.protocol import is_sha256


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        if not is_sha256(sha256):
            raise ApiError("bad_request", "a blob name is 64 lowercase hex digits")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def writer(self, sha256: str, max_bytes: int) -> BlobWriter:
        return BlobWriter(self, sha256, max_bytes)


class BlobWriter:
    """Receives one upload: ``write`` each chunk, then ``finish`` (or ``abort``)."""

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


def record_blob(engine: Engine, team_id: str, sha256: str, size: int) -> None:
    """Note that the team may read the blob (idempotent)."""
    now = time.time()
    with engine.begin() as c:
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


def collect_garbage(engine: Engine, store: BlobStore, *, grace_s: float = 3600.0) -> list[str]:
    """Delete blobs that no team references, and files the database does not know, once they are
    older than ``grace_s`` (an upload in progress is never older than that). Returns the sha256
    of each blob removed."""
    cutoff = time.time() - grace_s
    removed: list[str] = []
    with engine.begin() as c:
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
        store.path(sha256).unlink(missing_ok=True)
    for path in store.root.rglob("*"):
        if not path.is_file() or path.stat().st_mtime >= cutoff:
            continue
        if path.parent == store.tmp or (is_sha256(path.name) and path.name not in known):
            path.unlink(missing_ok=True)
            if path.parent != store.tmp:
                removed.append(path.name)
    return removed

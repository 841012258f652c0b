"""Files a project refers to (stems, bounces, samples, MIDI clips as files): content-addressed
copies in a folder of their own, named by their SHA-256, and the project's ``files`` part that
lists them. Qt-free.

- :class:`FileStore` keeps the bytes: ``<root>/<first two hex digits>/<sha256>``, written to a
  temporary name, fsynced and renamed, so a file under its final name is always whole. The name
  is the hash of the content, checked on the way in; nothing else ever becomes part of a path.
  Each stored file has a ``blobs`` row (size, media type, when it was added).
- :func:`add_file` lists a stored file in a project (one Map per file in the ``files`` Array:
  ``sha256``, ``name``, ``size``, ``media_type``, ``added_at``); :func:`file_entries` reads the
  list back, skipping entries that are not well formed (they may come from anyone on a team).

Thread contract: :class:`FileStore` may be used from any thread (each call opens its own
database session); :func:`add_file` and :func:`file_entries` on the project's owner thread.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from pycrdt import Map
from sqlalchemy.exc import SQLAlchemyError

from app.i18n import _, format_decimal
from app.projects.errors import ProjectError
from app.projects.project import Project
from app.storage import BlobRow, Database

SHA256 = re.compile(r"[0-9a-f]{64}\Z")
MAX_FILE_BYTES = 512 * 1024 * 1024
"""The largest file a project can refer to (the team server's limit too)."""
CHUNK = 1 << 20
CHECK_CHUNK = 1 << 18  # hashing reads less at a time: a check runs beside a transfer
MAX_FILES = 2_000
"""Entries read from one project's ``files`` part (a hostile document may hold more)."""


class FileError(ProjectError):
    """A file could not be stored or read; the message is translated and says why."""


@dataclass(frozen=True)
class FileEntry:
    """One file listed in a project."""

    sha256: str
    name: str
    size: int
    media_type: str
    added_at: str  # ISO 8601, UTC


class FileStore:
    """The content-addressed folder of files projects refer to."""

    def __init__(self, root: Path, database: Database) -> None:
        self.root = Path(root)
        self._db = database

    def path(self, sha256: str) -> Path:
        """Where the file with this hash lives (whether or not it is there)."""
        if not SHA256.match(sha256):
            raise FileError(_("That is not the name of a stored file."))
        return self.root / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def read(self, sha256: str) -> bytes:
        """The stored bytes, checked against their name (small files; big ones: :meth:`opened`)."""
        with self.opened(sha256) as stream:
            return stream.read()

    @contextmanager
    def opened(self, sha256: str) -> Iterator[BinaryIO]:
        """The stored file, open for reading from its start, after its bytes were checked
        against its name in chunks (never the whole file in memory). :class:`FileError` when
        the file is missing or damaged; a damaged one is removed, so it can be fetched again."""
        path = self.path(sha256)
        try:
            stream = open(path, "rb")  # noqa: SIM115 - closed below, after the caller's block
        except OSError as exc:
            raise FileError(
                _("The file is not on this computer ({error}).").format(error=exc)
            ) from exc
        with stream:
            try:
                digest = hashlib.sha256()
                while chunk := stream.read(CHECK_CHUNK):
                    digest.update(chunk)
                stream.seek(0)
            except OSError as exc:
                raise FileError(
                    _("The file is not on this computer ({error}).").format(error=exc)
                ) from exc
            if digest.hexdigest() != sha256:
                path.unlink(missing_ok=True)
                raise FileError(_("The stored copy of the file was damaged and has been removed."))
            yield stream

    def add_path(self, source: Path, max_bytes: int = MAX_FILE_BYTES) -> tuple[str, int, str]:
        """Copy ``source`` into the store; return (sha256, size, media type). A file already
        stored is not written again."""
        media_type = mimetypes.guess_type(source.name)[0] or "application/octet-stream"
        incoming = self._incoming(max_bytes)
        try:
            with open(source, "rb") as stream:
                while chunk := stream.read(CHUNK):
                    incoming.write(chunk)
            sha256, size = incoming.commit()
        except OSError as exc:
            raise FileError(_("The file cannot be read ({error}).").format(error=exc)) from exc
        finally:
            incoming.discard()
        self._record(sha256, size, media_type)
        return sha256, size, media_type

    def add_bytes(self, data: bytes, sha256: str, media_type: str = "") -> None:
        """Store ``data`` received from elsewhere, refusing it unless its hash is ``sha256``."""
        with self.receiving(sha256, media_type) as sink:
            sink.write(data)

    @contextmanager
    def receiving(self, sha256: str, media_type: str = "") -> Iterator[_Incoming]:
        """A sink for a file arriving in chunks (``write(chunk)``): when the block ends without
        an exception, the bytes are kept if their hash is ``sha256`` (else :class:`FileError`);
        when it raises, nothing is kept. At most :data:`MAX_FILE_BYTES` are taken."""
        self.path(sha256)  # checks the name
        incoming = self._incoming(MAX_FILE_BYTES)
        try:
            yield incoming
            if incoming.sha256() != sha256:
                raise FileError(
                    _("The file that arrived does not match its name; it was not kept.")
                )
            _sha, size = incoming.commit()
        finally:
            incoming.discard()
        self._record(sha256, size, media_type or "application/octet-stream")

    def _incoming(self, max_bytes: int) -> _Incoming:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            return _Incoming(self, max_bytes)
        except OSError as exc:
            raise FileError(_("The file cannot be stored ({error}).").format(error=exc)) from exc

    def _record(self, sha256: str, size: int, media_type: str) -> None:
        try:
            with self._db.session() as session:
                if session.get(BlobRow, sha256) is None:
                    session.add(
                        BlobRow(
                            sha256=sha256,
                            size=size,
                            media_type=media_type[:255],
                            created_at=datetime.now(UTC),
                        )
                    )
        except SQLAlchemyError as exc:
            raise FileError(
                _("The file was stored but could not be recorded ({error}).").format(error=exc)
            ) from exc


class _Incoming:
    """A file being written into the store under a temporary name, hashed as it comes."""

    def __init__(self, store: FileStore, max_bytes: int) -> None:
        self._store = store
        self._max = max_bytes
        self._digest = hashlib.sha256()
        self.size = 0
        handle, name = tempfile.mkstemp(prefix=".incoming-", dir=store.root)
        self._temp = Path(name)
        self._out = os.fdopen(handle, "wb")

    def write(self, chunk: bytes) -> int:
        self.size += len(chunk)
        if self.size > self._max:
            raise FileError(
                _("The file is larger than {limit} MB.").format(
                    limit=format_decimal(self._max / 1e6, 0)
                )
            )
        self._digest.update(chunk)
        try:
            return self._out.write(chunk)
        except OSError as exc:
            raise FileError(_("The file cannot be stored ({error}).").format(error=exc)) from exc

    def sha256(self) -> str:
        return self._digest.hexdigest()

    def commit(self) -> tuple[str, int]:
        """Make the bytes durable and move them under their hash (atomic: a racing writer of
        the same bytes is harmless); returns (sha256, size)."""
        sha256 = self.sha256()
        try:
            self._out.flush()
            os.fsync(self._out.fileno())
            self._out.close()
            final = self._store.path(sha256)
            final.parent.mkdir(exist_ok=True)
            os.replace(self._temp, final)
        except OSError as exc:
            raise FileError(_("The file cannot be stored ({error}).").format(error=exc)) from exc
        _fsync_folder(final.parent)
        return sha256, self.size

    def discard(self) -> None:
        """Close and remove the temporary file (nothing, after :meth:`commit`)."""
        self._out.close()
        self._temp.unlink(missing_ok=True)


MAX_NAME_CHARS = 200


def file_name(name: str) -> str:
    """A file's name as listed: control characters dropped, white space collapsed, at most
    :data:`MAX_NAME_CHARS` characters; only the last part of a path."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    printable = "".join(c if c.isprintable() else " " for c in name)
    return " ".join(printable.split())[:MAX_NAME_CHARS]


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def add_file(project: Project, sha256: str, name: str, size: int, media_type: str) -> FileEntry:
    """List a stored file in ``project`` (saved like any edit). Owner thread."""
    if not SHA256.match(sha256):
        raise FileError(_("That is not the name of a stored file."))
    entry = FileEntry(
        sha256,
        file_name(name) or sha256[:12],
        int(size),
        media_type[:255],
        datetime.now(UTC).isoformat(timespec="seconds"),
    )
    with project.edit():
        project.files.append(
            Map(
                {
                    "sha256": entry.sha256,
                    "name": entry.name,
                    "size": entry.size,
                    "media_type": entry.media_type,
                    "added_at": entry.added_at,
                }
            )
        )
    return entry


def remove_file(project: Project, sha256: str) -> int:
    """Take every entry of ``sha256`` off ``project``'s list; return how many. The stored copy
    stays (other projects may use it). Owner thread."""
    removed = 0
    with project.edit():
        for index in reversed(range(len(project.files))):
            item = project.files[index]
            if isinstance(item, Map) and item.get("sha256") == sha256:
                del project.files[index]
                removed += 1
    return removed


def file_entries(project: Project) -> list[FileEntry]:
    """The files ``project`` lists, well-formed entries only, at most :data:`MAX_FILES`.
    Owner thread."""
    return parse_entries(project.files.to_py() or [])


def parse_entries(items: Iterable[Any]) -> list[FileEntry]:
    """:class:`FileEntry` s from plain values (as a ``files`` part's ``to_py()`` gives them);
    anything not well formed is skipped."""
    out: list[FileEntry] = []
    for item in items:
        if len(out) >= MAX_FILES:
            break
        if not isinstance(item, dict):
            continue
        sha256, name, size = item.get("sha256"), item.get("name"), item.get("size")
        if not isinstance(sha256, str) or not SHA256.match(sha256):
            continue
        if not isinstance(size, (int, float)) or not 0 <= size <= MAX_FILE_BYTES:
            continue
        media_type = item.get("media_type")
        added_at = item.get("added_at")
        out.append(
            FileEntry(
                sha256,
                (file_name(name) if isinstance(name, str) else "") or sha256[:12],
                int(size),
                media_type[:255] if isinstance(media_type, str) else "application/octet-stream",
                added_at[:40] if isinstance(added_at, str) else "",
            )
        )
    return out

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
import io
import mimetypes
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

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
        """The stored bytes, checked against their name; :class:`FileError` when the file is
        missing or damaged (then it is removed, so it can be fetched again)."""
        path = self.path(sha256)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise FileError(
                _("The file is not on this computer ({error}).").format(error=exc)
            ) from exc
        if hashlib.sha256(data).hexdigest() != sha256:
            path.unlink(missing_ok=True)
            raise FileError(_("The stored copy of the file was damaged and has been removed."))
        return data

    def add_path(self, source: Path, max_bytes: int = MAX_FILE_BYTES) -> tuple[str, int, str]:
        """Copy ``source`` into the store; return (sha256, size, media type). A file already
        stored is not written again."""
        media_type = mimetypes.guess_type(source.name)[0] or "application/octet-stream"
        try:
            with open(source, "rb") as stream:
                sha256, size = self._write(stream, None, max_bytes)
        except OSError as exc:
            raise FileError(_("The file cannot be read ({error}).").format(error=exc)) from exc
        self._record(sha256, size, media_type)
        return sha256, size, media_type

    def add_bytes(self, data: bytes, sha256: str, media_type: str = "") -> None:
        """Store ``data`` received from elsewhere, refusing it unless its hash is ``sha256``."""
        self.path(sha256)  # checks the name
        if hashlib.sha256(data).hexdigest() != sha256:
            raise FileError(_("The file that arrived does not match its name; it was not kept."))
        if not self.has(sha256):
            self._write(io.BytesIO(data), sha256, len(data))
        self._record(sha256, len(data), media_type or "application/octet-stream")

    def _write(self, stream: IO[bytes], expected: str | None, max_bytes: int) -> tuple[str, int]:
        """Hash ``stream`` while copying it to a temporary file, then move it into place."""
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        handle, temp_name = tempfile.mkstemp(prefix=".incoming-", dir=self.root)
        temp = Path(temp_name)
        try:
            with os.fdopen(handle, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise FileError(
                            _("The file is larger than {limit} MB.").format(
                                limit=format_decimal(max_bytes / 1e6, 0)
                            )
                        )
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha256 = digest.hexdigest()
            if expected is not None and sha256 != expected:
                raise FileError(_("The file changed while it was being stored."))
            final = self.path(sha256)
            final.parent.mkdir(exist_ok=True)
            os.replace(temp, final)  # atomic: a racing writer of the same bytes is harmless
            _fsync_folder(final.parent)
            return sha256, size
        finally:
            temp.unlink(missing_ok=True)

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

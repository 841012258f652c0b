"""Storage errors the user can act on.

SQLite reports trouble as terse codes ("SQLITE_NOTADB", "SQLITE_FULL"). :func:`storage_error`
turns the ones caused by the file or the machine (damage, a full disk, missing permissions, another
program holding the file) into a :class:`StorageError` whose message is translated and names the
file. Errors that mean a bug in Hookline (a broken constraint, bad SQL) are left alone, so they
reach the log with their real traceback.
"""

from __future__ import annotations

import errno
import sqlite3
from enum import Enum
from pathlib import Path

from sqlalchemy import exc as sa_exc

from app.i18n import _


class StorageProblem(Enum):
    """What went wrong, so a front end can choose what to offer (retry, free space, a backup)."""

    NOT_A_DATABASE = "not-a-database"  # the file is something else, or its header is destroyed
    DAMAGED = "damaged"  # a Hookline database whose contents are broken or truncated
    NOT_HOOKLINE = "not-hookline"  # a valid SQLite file that another program made
    NEWER_VERSION = "newer-version"  # made by a newer Hookline; this build must not touch it
    NO_ACCESS = "no-access"  # the file or its folder cannot be opened or written
    DISK_FULL = "disk-full"
    BUSY = "busy"  # another program keeps the database locked
    IO = "io"  # the disk reported a read or write failure


class StorageError(Exception):
    """A database problem. ``str(error)`` is the translated message for the user."""

    def __init__(self, message: str, problem: StorageProblem, path: Path | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problem = problem
        self.path = path


def message_for(problem: StorageProblem, path: Path | None, detail: str = "") -> str:
    """The user's message for ``problem`` (translated now, in the current language)."""
    name = str(path) if path is not None else _("the database")
    if problem is StorageProblem.NOT_A_DATABASE:
        text = _(
            "{name} is not a Hookline database, or its first bytes are destroyed. "
            "Hookline left the file as it is."
        )
    elif problem is StorageProblem.DAMAGED:
        text = _(
            "The database {name} is damaged. Hookline left the file as it is; "
            "restore it from a backup or keep it for repair."
        )
    elif problem is StorageProblem.NOT_HOOKLINE:
        text = _("{name} is a database made by another program. Hookline left it as it is.")
    elif problem is StorageProblem.NEWER_VERSION:
        text = _(
            "The database {name} was written by a newer version of Hookline "
            "(schema {detail}). Update Hookline to open it; this version will not change it."
        )
    elif problem is StorageProblem.NO_ACCESS:
        text = _(
            "Hookline cannot open or write {name}. Check that the file and its folder "
            "exist and that you may write to them."
        )
    elif problem is StorageProblem.DISK_FULL:
        text = _("The disk holding {name} is full. Free some space; nothing saved before was lost.")
    elif problem is StorageProblem.BUSY:
        text = _("The database {name} is in use by another program. Close it and try again.")
    else:
        text = _("The disk reported an error while reading or writing {name}.")
    return text.format(name=name, detail=detail)


# Primary SQLite result codes (extended names start with these) and what they mean for the user.
_PROBLEMS_BY_CODE: tuple[tuple[str, StorageProblem], ...] = (
    ("SQLITE_NOTADB", StorageProblem.NOT_A_DATABASE),
    ("SQLITE_CORRUPT", StorageProblem.DAMAGED),
    ("SQLITE_FULL", StorageProblem.DISK_FULL),
    ("SQLITE_CANTOPEN", StorageProblem.NO_ACCESS),
    ("SQLITE_READONLY", StorageProblem.NO_ACCESS),
    ("SQLITE_PERM", StorageProblem.NO_ACCESS),
    ("SQLITE_AUTH", StorageProblem.NO_ACCESS),
    ("SQLITE_BUSY", StorageProblem.BUSY),
    ("SQLITE_LOCKED", StorageProblem.BUSY),
    ("SQLITE_IOERR", StorageProblem.IO),
)


def problem_of(error: BaseException) -> StorageProblem | None:
    """The :class:`StorageProblem` behind an sqlite3/SQLAlchemy/OS error, or None for a bug."""
    if isinstance(error, StorageError):
        return error.problem
    if isinstance(error, sa_exc.DBAPIError) and error.orig is not None:
        error = error.orig
    if isinstance(error, sqlite3.Error):
        name = getattr(error, "sqlite_errorname", "") or ""
        for prefix, problem in _PROBLEMS_BY_CODE:
            if name.startswith(prefix):
                return problem
        return None
    if isinstance(
        error, PermissionError | IsADirectoryError | NotADirectoryError | FileNotFoundError
    ):
        return StorageProblem.NO_ACCESS
    if isinstance(error, OSError):
        return StorageProblem.DISK_FULL if error.errno == errno.ENOSPC else StorageProblem.IO
    return None


def storage_error(error: BaseException, path: Path | None) -> StorageError | None:
    """A :class:`StorageError` for ``error`` when the file or machine is at fault, else None."""
    if isinstance(error, StorageError):
        return error
    problem = problem_of(error)
    if problem is None:
        return None
    return StorageError(message_for(problem, path), problem, path)

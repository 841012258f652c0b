"""Background transfer of the files shared projects refer to, between this computer's
:class:`~app.projects.files.FileStore` and the team server's blob store. Qt-free.

The project document lists files by SHA-256 (:mod:`app.projects.files`); the document itself
syncs through :class:`~app.sync.engine.SyncEngine`. This worker makes the bytes follow:

- a listed file that is here and not yet known to be on the server is uploaded (after asking
  the server whether it has it: a 48 MB stem another member already sent is not sent again);
- a listed file that is not here is downloaded, checked against its name by the client and
  again by the store, and kept;
- a file the server does not have yet (its owner has not uploaded it, or is offline) is asked
  for again later, with a growing pause; so is any transfer that failed for a reason that may
  pass (network, server busy). A refusal that will not pass (a viewer may not upload, a file
  over the server's limit) is reported and not retried.

One thread does every transfer, one at a time, so a large file never competes with the
document's own sync for more than one connection. :meth:`want` is cheap and may be called on
every change of a project.

Thread contract: every public method on any thread; listeners are called on the worker thread.
"""

from __future__ import annotations

import enum
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from app.i18n import _
from app.projects.files import FileEntry, FileError, FileStore
from app.sync.client import SyncClient
from app.sync.errors import Forbidden, NotFound, SyncError, TooLarge

log = logging.getLogger(__name__)

FIRST_RETRY_S = 2.0
MAX_RETRY_S = 120.0
ON_SERVER_TTL_S = 600.0
"""How long a file seen on the server counts as there without asking again (the server lets
go of files no project lists; one listed again after that must be sent again)."""


class FileState(enum.StrEnum):
    HERE = "here"  # on this computer and on the server
    UPLOADING = "uploading"
    DOWNLOADING = "downloading"
    QUEUED = "queued"  # waiting for its turn (or its next try)
    NOT_UPLOADED = "not_uploaded"  # not here, and the server does not have it (yet)
    FAILED = "failed"  # refused for good; ``message`` says why


@dataclass(frozen=True)
class FileStatus:
    state: FileState
    message: str = ""
    retry_at: float | None = None  # time.monotonic() of the next try


@dataclass
class _Task:
    team_id: str
    sha256: str
    media_type: str
    due: float = 0.0
    failures: int = 0


class FileSync:
    """Moves the bytes of listed files between this computer and one team server."""

    def __init__(
        self,
        client: SyncClient,
        files: FileStore,
        *,
        first_retry_s: float | None = None,
        max_retry_s: float | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self.files = files
        self._first_retry = FIRST_RETRY_S if first_retry_s is None else first_retry_s
        self._max_retry = MAX_RETRY_S if max_retry_s is None else max_retry_s
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._tasks: dict[tuple[str, str], _Task] = {}  # (team, sha) -> pending transfer
        self._status: dict[str, FileStatus] = {}  # sha -> latest state
        self._on_server: dict[tuple[str, str], float] = {}  # (team, sha) -> when seen there
        self._stop = threading.Event()
        self._online = True  # False while the user works offline: nothing is transferred
        self._thread: threading.Thread | None = None
        self._listeners: list[Callable[[str, FileStatus], None]] = []

    # -- life ----------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="hookline-file-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def go_offline(self) -> None:
        """Transfer nothing until :meth:`go_online` (a transfer under way finishes)."""
        with self._wake:
            self._online = False

    def go_online(self) -> None:
        with self._wake:
            self._online = True
            for task in self._tasks.values():
                task.due = 0.0
            self._wake.notify_all()

    # -- asking --------------------------------------------------------------------------------
    def want(self, team_id: str, entries: Iterable[FileEntry]) -> None:
        """Make every file of ``entries`` (a shared project's list) present both here and on
        ``team_id``'s server. Files already settled are left alone."""
        with self._wake:
            added = False
            for entry in entries:
                key = (team_id, entry.sha256)
                if key in self._tasks:
                    continue
                seen = self._on_server.get(key)
                fresh = seen is not None and time.monotonic() - seen < ON_SERVER_TTL_S
                if fresh and self.files.has(entry.sha256):
                    self._status[entry.sha256] = FileStatus(FileState.HERE)
                    continue
                current = self._status.get(entry.sha256)
                if current is not None and current.state is FileState.FAILED:
                    continue  # refused for good; a new want() after retry() tries again
                self._tasks[key] = _Task(team_id, entry.sha256, entry.media_type)
                self._status[entry.sha256] = FileStatus(FileState.QUEUED)
                added = True
            if added:
                self._wake.notify_all()

    def retry(self) -> None:
        """Forget refusals and pauses: everything is tried again at the next :meth:`want` (and
        what is queued, now)."""
        with self._wake:
            for sha, status in list(self._status.items()):
                if status.state is FileState.FAILED:
                    del self._status[sha]
            for task in self._tasks.values():
                task.due = 0.0
            self._wake.notify_all()

    def status(self, sha256: str) -> FileStatus | None:
        with self._lock:
            return self._status.get(sha256)

    def pending(self) -> int:
        """Transfers still to do (queued, running or waiting to try again)."""
        with self._lock:
            return len(self._tasks)

    def add_listener(self, listener: Callable[[str, FileStatus], None]) -> None:
        self._listeners.append(listener)

    # -- the worker ----------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            task = self._next()
            if task is None:
                continue
            try:
                self._transfer(task)
            except Exception:  # a bug must not end file sync for the session
                log.exception("file transfer of %s failed", task.sha256)
                self._again(task, _("The file could not be transferred."))

    def _next(self) -> _Task | None:
        """The next due task, or None after waiting (stop, a new task, or a due time)."""
        with self._wake:
            if not self._online:
                self._wake.wait()
                return None
            now = time.monotonic()
            due = [t for t in self._tasks.values() if t.due <= now]
            if due:
                return min(due, key=lambda t: (t.due, t.sha256))
            wait = min((t.due - now for t in self._tasks.values()), default=None)
            self._wake.wait(wait)
            return None

    def _transfer(self, task: _Task) -> None:
        key = (task.team_id, task.sha256)
        if self.files.has(task.sha256):
            self._set(task.sha256, FileStatus(FileState.UPLOADING))
            try:
                if not self.client.has_blob(task.team_id, task.sha256):
                    with self.files.opened(task.sha256) as stream:
                        self.client.put_blob(task.team_id, stream, sha256=task.sha256)
            except (Forbidden, TooLarge) as exc:
                self._give_up(task, str(exc))
                return
            except (FileError, SyncError) as exc:  # a damaged copy here is removed: refetched
                self._again(task, str(exc))
                return
        else:
            self._set(task.sha256, FileStatus(FileState.DOWNLOADING))
            try:
                with self.files.receiving(task.sha256, task.media_type) as sink:
                    self.client.download_blob(task.team_id, task.sha256, sink)
            except NotFound:
                self._again(
                    task,
                    _("Not uploaded yet by the team member who added it."),
                    FileState.NOT_UPLOADED,
                )
                return
            except (FileError, SyncError) as exc:  # BlobDamaged is a SyncError
                self._again(task, str(exc))
                return
        with self._wake:
            self._on_server[key] = time.monotonic()
            self._tasks.pop(key, None)
        self._set(task.sha256, FileStatus(FileState.HERE))

    def _again(self, task: _Task, message: str, state: FileState = FileState.QUEUED) -> None:
        with self._wake:
            task.failures += 1
            pause = min(self._max_retry, self._first_retry * 2 ** (task.failures - 1))
            pause *= 0.5 + self._rng.random()  # jitter: members do not retry in step
            task.due = time.monotonic() + pause
            status = FileStatus(state, message, task.due)
        self._set(task.sha256, status)

    def _give_up(self, task: _Task, message: str) -> None:
        with self._wake:
            self._tasks.pop((task.team_id, task.sha256), None)
        self._set(task.sha256, FileStatus(FileState.FAILED, message))

    def _set(self, sha256: str, status: FileStatus) -> None:
        with self._lock:
            self._status[sha256] = status
        for listener in list(self._listeners):
            try:
                listener(sha256, status)
            except Exception:
                log.exception("a file-sync listener failed")

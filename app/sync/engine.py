"""Background sync of open projects with one team server; the GUI thread never waits on it.

- **Outbox**: every local change of an attached project is written to the ``sync_outbox`` table
  (committed, durable) from the project's local-update listener, before :meth:`Project.edit`
  returns, so a crash at any moment loses nothing. A sender thread pushes each project's outbox
  in batches: the first change after a quiet spell goes at once, later ones at most every
  ``batch_interval_s`` (0.25 s), merged into one Yjs update. Rows are deleted only after the
  server answered with a revision; a resend after a failure or a crash is harmless.
- **Receiving**: one thread per attached project long-polls ``after=last_revision`` and hands what
  arrives to the project on its owner thread through ``call_in_owner`` (the GUI passes a
  Qt-queued call, tests an executor). Received updates go through :meth:`Project.apply_update`,
  which checks them on a scratch copy first and does not call the local-update listener, so they
  are never echoed back. The newest applied revision is stored in ``sync_projects``.
- **Offline and failures**: edits keep going to the outbox; requests are retried after an
  exponential back-off with jitter (:class:`~app.sync.backoff.Backoff`). A reply that cannot be
  used (damaged frame, hostile update) changes nothing locally and is reported in
  :attr:`SyncStatus.last_error`.
- **Edits made while no engine ran** (a crash before the outbox row was written, the command line):
  at :meth:`attach`, when the project has saved rows newer than those recorded at the last clean
  :meth:`detach`, everything newer than the state vector recorded then goes to the outbox.

Thread contract: :meth:`attach` and :meth:`detach` run on the project's owner thread; every other
method on any thread. Status listeners are called on the engine's threads.
"""

from __future__ import annotations

import enum
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

import pycrdt

from app.i18n import _
from app.projects import Project, ProjectError
from app.projects.document import EMPTY_UPDATE, is_fatal
from app.storage import Database
from app.sync.backoff import Backoff
from app.sync.client import PullResult, SyncClient
from app.sync.errors import NotSignedIn, SyncError, TooLarge
from app.sync.store import SyncStore, wire_id
from server import protocol

log = logging.getLogger(__name__)

CallInOwner = Callable[[Callable[[], None]], object]
BATCH_INTERVAL_S = 0.25
LONG_POLL_S = 20.0
MAX_BATCH_ROWS = 500
MAX_BATCH_BYTES = protocol.MAX_UPDATE_BYTES // 2  # merged, it must stay one update
OWNER_TIMEOUT_S = 60.0


class Connection(enum.StrEnum):
    STOPPED = "stopped"
    OFFLINE = "offline"  # asked to work offline (go_offline) or not started yet
    ONLINE = "online"  # the last exchange with the server worked
    RETRYING = "retrying"  # the last exchange failed; waiting to try again


@dataclass(frozen=True)
class SyncStatus:
    """A snapshot for the Team view. ``last_error`` is a translated message (None after the
    next success); ``retry_at`` a ``time.monotonic()`` value while RETRYING."""

    connection: Connection
    outbox_size: int
    last_error: str | None = None
    last_error_code: str | None = None
    retry_at: float | None = None
    projects: tuple[str, ...] = ()
    revisions: dict[str, int] = field(default_factory=dict)


@dataclass
class _Attached:
    project: Project
    project_id: str
    wire: str
    last_revision: int
    remove_listener: Callable[[], None]
    detached: threading.Event = field(default_factory=threading.Event)
    listener_failed: bool = False
    apply_error: ProjectError | None = None
    thread: threading.Thread | None = None


class SyncEngine:
    """Keeps the projects attached to it in step with one team server."""

    def __init__(
        self,
        client: SyncClient,
        database: Database,
        call_in_owner: CallInOwner,
        *,
        batch_interval_s: float = BATCH_INTERVAL_S,
        long_poll_s: float = LONG_POLL_S,
        backoff_first_s: float = 0.5,
        backoff_cap_s: float = 30.0,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self.store = SyncStore(database)
        self._call_in_owner = call_in_owner
        self._batch_interval = batch_interval_s
        self._long_poll = long_poll_s
        self._rng = rng or random.Random()
        self._backoff_args = (backoff_first_s, backoff_cap_s)
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)  # sender: new rows, online, stop
        self._online_event = threading.Event()  # set while not offline
        self._stop_event = threading.Event()
        self._attached: dict[str, _Attached] = {}
        self._dirty: set[str] = set()  # projects whose outbox may hold rows
        self._last_push: dict[str, float] = {}
        self._max_rows: dict[str, int] = {}
        self._failing: dict[str, float] = {}  # component -> monotonic retry time
        self._last_error: tuple[str, str] | None = None
        self._sender: threading.Thread | None = None
        self._started = False
        self._generation = 0  # bumped by go_online and stop: ends back-off waits early
        self._status_listeners: list[Callable[[SyncStatus], None]] = []
        self._remote_listeners: list[Callable[[str, int], None]] = []

    # -- life ----------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the sender (and the receivers of projects attached so far)."""
        with self._lock:
            if self._started:
                return
            self._started = True
            self._online_event.set()
            self._dirty.update(link.project_id for link in self.store.links(self.client.server_url))
            attached = list(self._attached.values())
        self._sender = threading.Thread(target=self._send_loop, name="sync-sender", daemon=True)
        self._sender.start()
        for att in attached:
            self._start_receiver(att)
        self._notify()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop every thread. Unsent changes stay in the outbox for the next start. A receiver
        in the middle of a long-poll is left to finish on its own (it is a daemon thread and its
        answer is dropped)."""
        self._stop_event.set()
        self._online_event.set()
        with self._wake:
            self._generation += 1
            self._wake.notify_all()
        deadline = time.monotonic() + timeout_s
        if self._sender is not None:
            self._sender.join(max(0.0, deadline - time.monotonic()))
        self._notify()

    @property
    def stopped(self) -> bool:
        return self._stop_event.is_set()

    def go_offline(self) -> None:
        """Work offline: no requests until :meth:`go_online`; edits keep going to the outbox.
        Answers already on their way are dropped."""
        self._online_event.clear()
        self._notify()

    def go_online(self) -> None:
        with self._wake:
            self._online_event.set()
            self._failing.clear()
            self._generation += 1
            self._wake.notify_all()
        self._notify()

    @property
    def online_wanted(self) -> bool:
        return self._online_event.is_set()

    # -- projects ------------------------------------------------------------------------------
    def attach(self, project: Project) -> None:
        """Sync ``project`` (already shared, see :mod:`app.sync.sharing`). Owner thread only."""
        link = self.store.get_link(project.id)
        if link is None or link.server_url != self.client.server_url:
            raise ValueError(f"project {project.id} is not shared through {self.client.server_url}")
        if project.id in self._attached:
            return
        if self.store.newest_update_row(project.id) > link.rows_seen:
            # Saved while no engine listened (or after a crash): send what may be missing.
            missing = project.state_update(link.state_vector) if link.state_vector else None
            self.store.add_to_outbox(project.id, missing or project.state_update())
        att = _Attached(project, project.id, link.wire_id, link.last_revision, lambda: None)
        att.remove_listener = project.add_local_listener(
            lambda update: self._on_local_update(att, update)
        )
        with self._wake:
            self._attached[project.id] = att
            self._dirty.add(project.id)
            started = self._started and not self._stop_event.is_set()
            self._wake.notify_all()
        if started:
            self._start_receiver(att)
        self._notify()

    def detach(self, project: Project) -> None:
        """Stop syncing ``project`` (before closing it). Owner thread only. Its unsent changes
        stay in the outbox and are still pushed while the engine runs."""
        with self._lock:
            att = self._attached.pop(project.id, None)
        if att is None:
            return
        att.detached.set()
        att.remove_listener()
        if not att.listener_failed and not project.closed:
            try:
                self.store.set_seen(
                    project.id, self.store.newest_update_row(project.id), project.state_vector()
                )
            except SyncError:
                log.warning("sync state of %s not recorded at detach", project.id, exc_info=True)
        self._notify()

    def attached(self) -> list[str]:
        with self._lock:
            return list(self._attached)

    # -- observing -----------------------------------------------------------------------------
    def status(self) -> SyncStatus:
        with self._lock:
            if self._stop_event.is_set() or not self._started:
                connection = Connection.STOPPED if self._stop_event.is_set() else Connection.OFFLINE
            elif not self._online_event.is_set():
                connection = Connection.OFFLINE
            elif self._failing:
                connection = Connection.RETRYING
            else:
                connection = Connection.ONLINE
            retry_at = min(self._failing.values()) if self._failing else None
            error = self._last_error
            projects = tuple(self._attached)
            revisions = {pid: a.last_revision for pid, a in self._attached.items()}
        try:
            size = self.store.outbox_size()
        except SyncError:
            size = -1
        return SyncStatus(
            connection,
            size,
            error[0] if error else None,
            error[1] if error else None,
            retry_at,
            projects,
            revisions,
        )

    def add_status_listener(self, listener: Callable[[SyncStatus], None]) -> None:
        """``listener(status)`` after every change of state (on an engine thread)."""
        self._status_listeners.append(listener)

    def add_remote_listener(self, listener: Callable[[str, int], None]) -> None:
        """``listener(project_id, revision)`` on the owner thread, right after changes from the
        server up to ``revision`` were applied to the project."""
        self._remote_listeners.append(listener)

    def _notify(self) -> None:
        if not self._status_listeners:
            return
        try:
            status = self.status()
        except RuntimeError:  # the database was closed after stop(): nobody is listening now
            if self._stop_event.is_set():
                return
            raise
        for listener in list(self._status_listeners):
            try:
                listener(status)
            except Exception:
                log.exception("a sync status listener failed")

    def _succeeded(self, component: str) -> None:
        with self._lock:
            changed = self._failing.pop(component, None) is not None or (
                self._last_error is not None and not self._failing
            )
            if not self._failing:
                self._last_error = None
        if changed:
            self._notify()

    def _failed(self, component: str, error: SyncError | ProjectError, wait_s: float) -> None:
        if self._stop_event.is_set():
            # A long-poll left running by stop() ends with the server or the app going away:
            # nothing to report, and the database may already be closed.
            return
        code = error.code if isinstance(error, SyncError) else "bad_update"
        with self._lock:
            self._failing[component] = time.monotonic() + wait_s
            self._last_error = (str(error), code)
        log.info("sync %s failed (%s); next try in %.1f s", component, code, wait_s)
        self._notify()

    # -- local changes -------------------------------------------------------------------------
    def _on_local_update(self, att: _Attached, update: bytes) -> None:
        """The project's listener: on the owner thread, before the edit returns."""
        if att.detached.is_set():
            return
        try:
            self.store.add_to_outbox(att.project_id, update)
        except SyncError as exc:
            # The change is saved in the project but not queued: queue the whole state later.
            att.listener_failed = True
            self._failed("outbox", exc, 1.0)
            self._call_in_owner(lambda: self._requeue_all(att))
            return
        with self._wake:
            self._dirty.add(att.project_id)
            self._wake.notify_all()

    def _requeue_all(self, att: _Attached) -> None:
        if att.detached.is_set() or att.project.closed:
            return
        try:
            self.store.add_to_outbox(att.project_id, att.project.state_update())
        except SyncError as exc:
            self._failed("outbox", exc, 5.0)
            retry = threading.Timer(
                5.0, self._call_in_owner, args=(lambda: self._requeue_all(att),)
            )
            retry.daemon = True
            retry.start()
            return
        att.listener_failed = False
        self._succeeded("outbox")
        with self._wake:
            self._dirty.add(att.project_id)
            self._wake.notify_all()

    # -- sender --------------------------------------------------------------------------------
    def _send_loop(self) -> None:
        backoff = Backoff(*self._backoff_args, rng=self._rng)
        wait: float | None = None  # None: until woken; else at most this long
        while not self._stop_event.is_set():
            with self._wake:
                if not self._dirty or (wait is not None and wait > 0):
                    self._wake.wait(wait)
            if self._stop_event.is_set():
                return
            if not self._online_event.is_set():
                self._online_event.wait(1.0)
                wait = 0.0
                continue
            try:
                wait = self._send_due()
            except SyncError as exc:
                pause = backoff.next_wait()
                self._failed("push", exc, pause)
                self._pause(pause)  # new edits do not end it; go_online does
                wait = 0.0
                continue
            except Exception:
                log.exception("sync sender failed")
                self._pause(backoff.next_wait())
                wait = 0.0
                continue
            backoff.reset()

    def _pause(self, seconds: float) -> None:
        """Wait ``seconds``, or less when the engine stops or goes online again."""
        with self._wake:
            generation = self._generation
            self._wake.wait_for(
                lambda: self._stop_event.is_set() or self._generation != generation, seconds
            )

    def _send_due(self) -> float | None:
        """Push every project whose outbox is due; return how long until the next one is
        (None when nothing waits)."""
        with self._lock:
            dirty = sorted(self._dirty)
        next_wait: float | None = None
        for project_id in dirty:
            if self._stop_event.is_set() or not self._online_event.is_set():
                return 0.05
            since = time.monotonic() - self._last_push.get(project_id, -1e9)
            if since < self._batch_interval:
                remaining = self._batch_interval - since
                next_wait = remaining if next_wait is None else min(next_wait, remaining)
                continue
            more = self._push_one(project_id)
            if more:
                next_wait = (
                    self._batch_interval
                    if next_wait is None
                    else min(next_wait, self._batch_interval)
                )
        return next_wait

    def _push_one(self, project_id: str) -> bool:
        """Push one batch of ``project_id``'s outbox; True when rows remain."""
        max_rows = self._max_rows.get(project_id, MAX_BATCH_ROWS)
        batch = self.store.outbox_batch(project_id, max_rows=max_rows, max_bytes=MAX_BATCH_BYTES)
        if not batch:
            with self._lock:
                # A row added after the read above also re-marked the project, under the lock.
                if self.store.outbox_size(project_id) == 0:
                    self._dirty.discard(project_id)
            return False
        self._last_push[project_id] = time.monotonic()
        updates = [data for _row, data in batch]
        if len(updates) > 1:
            merged = _merge(updates)
            if merged is not None and len(merged) <= protocol.MAX_UPDATE_BYTES:
                updates = [merged]
        try:
            self.client.push(wire_id(project_id), updates)
        except TooLarge:
            if len(batch) == 1:
                raise
            self._max_rows[project_id] = max(1, len(batch) // 2)
            return True
        self._max_rows.pop(project_id, None)
        self.store.remove_from_outbox([row for row, _data in batch])
        self._succeeded("push")
        self._notify()
        return True  # look again: rows may have arrived meanwhile

    # -- receivers -----------------------------------------------------------------------------
    def _start_receiver(self, att: _Attached) -> None:
        thread = threading.Thread(
            target=self._receive_loop, args=(att,), name=f"sync-pull-{att.wire[:8]}", daemon=True
        )
        att.thread = thread
        thread.start()

    def _receive_loop(self, att: _Attached) -> None:
        backoff = Backoff(*self._backoff_args, rng=self._rng)
        component = f"pull:{att.project_id}"
        caught_up = False
        while not self._stop_event.is_set() and not att.detached.is_set():
            if not self._online_event.is_set():
                self._online_event.wait(1.0)
                caught_up = False
                continue
            try:
                result = self.client.pull(
                    att.wire, att.last_revision, self._long_poll if caught_up else 0.0
                )
                if not self._online_event.is_set() or self._stop_event.is_set():
                    continue  # went offline meanwhile: the answer is dropped
                if result.entries:
                    self._deliver(att, result)
                elif result.revision < att.last_revision:
                    self._server_went_back(att, result.revision)
            except (SyncError, ProjectError) as exc:
                pause = backoff.next_wait()
                if isinstance(exc, NotSignedIn):
                    pause = max(pause, 5.0)
                self._failed(component, exc, pause)
                caught_up = False
                self._pause(pause)
                continue
            except Exception:
                log.exception("sync receiver of %s failed", att.project_id)
                self._pause(backoff.next_wait())
                continue
            backoff.reset()
            self._succeeded(component)
            caught_up = result.complete

    def _deliver(self, att: _Attached, result: PullResult) -> None:
        """Apply ``result`` on the owner thread and wait for it; then record the revision."""
        done: Future[int] = Future()

        def apply() -> None:
            if not done.set_running_or_notify_cancel():
                return
            try:
                done.set_result(self._apply(att, result))
            except BaseException as exc:
                done.set_exception(exc)

        self._call_in_owner(apply)
        deadline = time.monotonic() + OWNER_TIMEOUT_S
        while True:
            try:
                applied = done.result(timeout=0.5)
                break
            except FutureTimeout:
                if self._stop_event.is_set() or att.detached.is_set():
                    done.cancel()
                    return
                if time.monotonic() > deadline:
                    done.cancel()
                    raise SyncError(
                        _("The project did not take the team's changes in time."),
                        code="owner_timeout",
                    ) from None
        if applied > att.last_revision:
            self.store.set_last_revision(att.project_id, applied)
            att.last_revision = applied
        if applied < (result.last or 0):
            error, att.apply_error = att.apply_error, None
            raise error or ProjectError(_("A change from the team server was refused."))

    def _apply(self, att: _Attached, result: PullResult) -> int:
        """On the owner thread: apply the pulled updates; return the newest revision applied.
        A refused update stops there (everything before it is kept)."""
        if att.detached.is_set() or att.project.closed:
            return att.last_revision
        entries = result.entries
        if len(entries) > 1:
            merged = _merge([data for _rev, data in entries])
            if merged is not None:
                try:
                    att.project.apply_update(merged)
                except ProjectError:
                    log.info("merged pull of %s refused; applying one by one", att.project_id)
                else:
                    self._told_remote(att.project_id, entries[-1][0])
                    return entries[-1][0]
        applied = att.last_revision
        for revision, data in entries:
            try:
                att.project.apply_update(data)
            except ProjectError as exc:
                log.warning(
                    "revision %d of %s refused: %s", revision, att.project_id, exc.__cause__
                )
                att.apply_error = ProjectError(
                    _(
                        "The team server sent a damaged change (revision {revision}); it was not "
                        "applied and your project is unchanged."
                    ).format(revision=revision)
                )
                break
            applied = revision
        if applied > att.last_revision:
            self._told_remote(att.project_id, applied)
        return applied

    def _told_remote(self, project_id: str, revision: int) -> None:
        for listener in list(self._remote_listeners):
            try:
                listener(project_id, revision)
            except Exception:
                log.exception("a remote-change listener failed")

    def _server_went_back(self, att: _Attached, revision: int) -> None:
        """The server has fewer revisions than this copy applied (restored from a backup):
        start again from its newest and send it this copy's whole state."""
        log.warning(
            "server revision of %s went back from %d to %d; resending the whole project",
            att.project_id,
            att.last_revision,
            revision,
        )
        att.last_revision = revision
        self.store.reset_last_revision(att.project_id, revision)
        self._call_in_owner(lambda: self._requeue_all(att))


def _merge(updates: list[bytes]) -> bytes | None:
    """One update equal to ``updates`` together, or None when they cannot be merged."""
    try:
        merged = pycrdt.merge_updates(*updates)
    except BaseException as exc:
        if is_fatal(exc):
            raise
        return None
    return merged if merged != EMPTY_UPDATE or all(u == EMPTY_UPDATE for u in updates) else None

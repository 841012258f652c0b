"""An open project: a live pycrdt document whose every change is saved as it happens.

Make changes inside :meth:`Project.edit`. The block is one pycrdt transaction; its Yjs update is
written and committed to SQLite before ``edit()`` returns, so once it has returned the change is
on disk ("acknowledged") and survives a crash or a power cut. Changes made outside ``edit()``
(each one its own transaction) are saved the same way, one write each.

If a save fails (disk full, file gone), the change stays in memory, :attr:`Project.unsaved_changes`
counts it, the error is raised as :class:`ProjectError`, and the next save writes it first.

Thread contract: a Project belongs to the thread that opened it (the main thread in the app);
every method checks that. Hand updates to other threads as ``bytes``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Generic, Protocol, TypeVar

from pycrdt import Array, Doc, Map, Text, TransactionEvent

from app.i18n import _, format_decimal
from app.projects import document
from app.projects.errors import ProjectError

log = logging.getLogger(__name__)


class UpdateLog(Protocol):
    """Where a project's updates are kept (the :class:`~app.projects.ProjectStore`)."""

    def append_updates(self, project_id: str, updates: Sequence[bytes], name: str | None) -> None:
        """Write ``updates`` in one committed transaction, or raise ProjectError."""

    def compact(self, project_id: str) -> int:
        """Merge the project's saved updates into one; return how many rows were merged."""


PartT = TypeVar("PartT", Map[Any], Text, Array[Any])


class _Part(Generic[PartT]):
    """A named part of the document as an attribute. Assigning the part to itself is allowed,
    so ``project.lyrics += "la la"`` works; assigning anything else is a mistake."""

    def __init__(self, name: str, part_type: type[PartT]) -> None:
        self._name = name
        self._type: type[PartT] = part_type

    def __get__(self, project: Project, owner: type[Project] | None = None) -> PartT:
        part = project._parts[self._name]
        assert isinstance(part, self._type)
        return part

    def __set__(self, project: Project, value: PartT) -> None:
        if value is not project._parts[self._name]:
            raise AttributeError(
                f"{self._name} is a shared {self._type.__name__}: change it in place inside edit()"
            )


class Project:
    """A song: lyrics, notes, chords, markers, MIDI clips and file references in one document.

    Get one from :meth:`ProjectStore.open` or :meth:`ProjectStore.create`; :meth:`close` it
    when done. ``warnings`` lists (translated) what could not be loaded.
    """

    def __init__(
        self,
        store: UpdateLog,
        project_id: str,
        doc: Doc[Any],
        *,
        warnings: Sequence[str] = (),
        skipped_updates: Sequence[int] = (),
        waiting_updates: Sequence[bytes] = (),
    ) -> None:
        self._log = store
        self._id = project_id
        self._doc = doc
        self._owner = threading.get_ident()
        self._unsaved: list[bytes] = []
        self._depth = 0  # nesting of edit() blocks
        self._receiving = False  # inside apply_update: the received bytes are stored as given
        self._closed = False
        self._listing_stale = False  # the name in the project list may lag behind the document
        self._waiting = list(waiting_updates)  # accepted, held back for missing predecessors
        self._local_listeners: list[Callable[[bytes], None]] = []
        self.warnings: list[str] = list(warnings)
        self.skipped_updates: tuple[int, ...] = tuple(skipped_updates)
        self._parts: dict[str, Map[Any] | Text | Array[Any]] = {
            name: doc.get(name, type=part_type) for name, part_type in document.PART_TYPES.items()
        }
        self._subscription = doc.observe(self._on_transaction)

    # -- the parts -----------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self._id

    @property
    def doc(self) -> Doc[Any]:
        return self._doc

    meta = _Part("meta", Map)
    lyrics = _Part("lyrics", Text)
    notes = _Part("notes", Text)
    chords = _Part("chords", Array)
    markers = _Part("markers", Array)
    clips = _Part("clips", Array)
    files = _Part("files", Array)

    @property
    def name(self) -> str:
        value = self.meta.get("name")
        return value if isinstance(value, str) else ""

    @property
    def unsaved_changes(self) -> int:
        return len(self._unsaved)

    @property
    def closed(self) -> bool:
        return self._closed

    def content(self) -> dict[str, Any]:
        """Every part as plain JSON-safe values."""
        self._check_usable()
        return document.read_parts(self._doc)

    # -- changing it ---------------------------------------------------------------------------
    @contextmanager
    def edit(self) -> Iterator[Project]:
        """One transaction; saved and committed to disk before the block is left.

        An exception inside the block does not undo changes already made to the document (a
        CRDT has no rollback): they are saved all the same and the exception propagates.
        Blocks may nest; the outermost one saves.
        """
        self._check_usable()
        self._depth += 1
        failed = False
        try:
            with self._doc.transaction():
                yield self
        except BaseException:
            failed = True
            raise
        finally:
            self._depth -= 1
            if self._depth == 0:
                self._save_after_edit(failed)

    def rename(self, name: str) -> None:
        """Give the song a new name (saved like any edit)."""
        clean = clean_name(name)
        with self.edit():
            self.meta["name"] = clean

    def apply_update(self, update: bytes) -> bool:
        """Apply a change from elsewhere (a collaborator, the sync server) and save it.

        The update is checked on a scratch copy first: damaged or hostile bytes raise
        :class:`ProjectError` and change and store nothing. Returns False when the update held
        nothing new (then nothing is stored), True when it was applied and saved. An update
        whose predecessors have not arrived yet is kept and shown once they come (Yjs rules).
        A failed save also raises ProjectError; the change is then applied and kept for the
        next save, like a local edit.
        """
        self._check_usable()
        if self._depth:
            raise RuntimeError("apply_update() inside edit()")
        data = document.as_update_bytes(update)
        document.check_update(self._doc.get_update(), data, self._waiting)
        if not document.brings_news(data, self._doc.get_state()):
            return False
        self._receiving = True
        try:
            self._doc.apply_update(data)
        except Exception as exc:  # the scratch copy took it: this would be a pycrdt bug
            log.error("update passed the check but failed on project %s", self._id, exc_info=True)
            raise ProjectError(_("The received change could not be applied.")) from exc
        finally:
            self._receiving = False
        state = self._doc.get_state()
        self._waiting = [u for u in (*self._waiting, data) if document.waiting_structs(u, state)]
        self._unsaved.append(data)
        self.save()
        return True

    def state_update(self, since: bytes | None = None) -> bytes:
        """The whole document as one update, or only what a peer whose state vector is
        ``since`` lacks."""
        self._check_usable()
        try:
            return self._doc.get_update(since)
        except BaseException as exc:
            if document.is_fatal(exc):
                raise
            raise ProjectError(_("The other side's project state could not be read.")) from exc

    def state_vector(self) -> bytes:
        """What this copy has seen, for a peer's :meth:`state_update`."""
        self._check_usable()
        return self._doc.get_state()

    def add_local_listener(self, listener: Callable[[bytes], None]) -> Callable[[], None]:
        """Call ``listener(update)`` on this thread with the Yjs update of every local change
        (not with updates given to :meth:`apply_update`), before the change is saved and before
        :meth:`edit` returns. It must not touch the document; an exception it raises is logged
        and ignored. Returns a function that removes the listener."""
        self._check_usable()
        self._local_listeners.append(listener)

        def remove() -> None:
            if listener in self._local_listeners:
                self._local_listeners.remove(listener)

        return remove

    # -- saving --------------------------------------------------------------------------------
    def save(self) -> None:
        """Write every unsaved change now (normally done for you). Raises ProjectError."""
        self._check_usable()
        self._write(self._name_for_listing())

    def _write(self, name: str | None) -> None:
        """Write the unsaved updates. ``name`` is None inside the observer callback, where the
        document cannot be read; the listed name is then brought up to date by a later save."""
        if not self._unsaved and (name is None or not self._listing_stale):
            return
        pending = list(self._unsaved)
        self._log.append_updates(self._id, pending, name)
        del self._unsaved[: len(pending)]
        self._listing_stale = name is None

    def compact(self) -> int:
        """Merge all saved updates of this project into one row; return how many were merged.

        Saved content is unchanged; damaged rows are left as they are."""
        self.save()
        return self._log.compact(self._id)

    def close(self) -> None:
        """Save what is left and stop. If that save fails, ProjectError is raised and the
        project stays open, so the caller can retry once the disk has room again."""
        if self._closed:
            return
        self.save()
        self._doc.unobserve(self._subscription)
        self._closed = True

    # -- internals -----------------------------------------------------------------------------
    def _on_transaction(self, event: TransactionEvent) -> None:
        if self._receiving:
            return
        self._unsaved.append(event.update)
        for listener in list(self._local_listeners):
            try:
                listener(event.update)
            except Exception:
                log.exception("a listener of project %s failed", self._id)
        if self._depth == 0:
            # A change made outside edit(): save it now. Raising from here would reach the
            # caller wrapped in an ExceptionGroup, so a failure is logged and retried later.
            try:
                self._write(name=None)
            except ProjectError:
                log.exception("could not save a change to project %s; will retry", self._id)

    def _save_after_edit(self, failed: bool) -> None:
        if not failed:
            self.save()
            return
        try:
            self.save()
        except ProjectError:
            log.exception("could not save the changes of a failed edit to project %s", self._id)

    def _name_for_listing(self) -> str | None:
        try:
            return clean_name(self.name)
        except ProjectError:
            return None

    def _check_usable(self) -> None:
        if self._closed:
            raise RuntimeError("the project is closed")
        if threading.get_ident() != self._owner:
            raise RuntimeError("a Project may only be used on the thread that opened it")

    def __repr__(self) -> str:
        return f"<Project {self._id} {self.name!r}>"


MAX_NAME_LENGTH = 200


def clean_name(name: object) -> str:
    """A project name as stored: trimmed, not empty, at most 200 characters."""
    if not isinstance(name, str) or not name.strip():
        raise ProjectError(_("A project needs a name."))
    clean = " ".join(name.split())
    if len(clean) > MAX_NAME_LENGTH:
        raise ProjectError(
            _("A project name can have at most {count} characters.").format(
                count=format_decimal(MAX_NAME_LENGTH)
            )
        )
    return clean

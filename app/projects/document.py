"""The project document: its named parts, checking foreign updates, and replaying the saved log.

A project is a pycrdt (Yjs) ``Doc`` with these parts:

- ``meta`` (Map): ``name`` and other small facts (tempo, key, time signature).
- ``lyrics`` and ``notes`` (Text).
- ``chords`` and ``markers`` (Array of Maps, e.g. ``{"beat": 16.0, "symbol": "Am7"}``).
- ``clips`` (Array of MIDI clip records: Maps with ``name``, ``start_beat`` and ``notes``).
- ``files`` (Array of Maps referring to content-addressed files: ``sha256``, ``name``, ...).

Updates from elsewhere (a collaborator, the sync server, a damaged row) are untrusted: a Yjs
update that fails half-way can leave a document partly changed, so :func:`check_update` first
applies it to a scratch copy and only a clean result is accepted.

Thread contract: pure functions on documents the caller owns; no shared state.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pycrdt
from pycrdt import Array, Doc, Map, Text

from app.i18n import _, format_decimal
from app.projects.errors import ProjectError

PART_TYPES: dict[str, type[Map[Any] | Text | Array[Any]]] = {
    "meta": Map,
    "lyrics": Text,
    "notes": Text,
    "chords": Array,
    "markers": Array,
    "clips": Array,
    "files": Array,
}
MAX_UPDATE_BYTES = 32 << 20  # audio lives in blobs; a document update is text and numbers
EMPTY_UPDATE = b"\x00\x00"


def new_doc() -> Doc[Any]:
    """An empty project document with every part declared."""
    doc: Doc[Any] = Doc()
    for name, part_type in PART_TYPES.items():
        doc.get(name, type=part_type)
    return doc


def read_parts(doc: Doc[Any]) -> dict[str, Any]:
    """Every part as plain, JSON-safe Python values (raises if the document cannot be read)."""
    parts: dict[str, Any] = {}
    for name, part_type in PART_TYPES.items():
        part = doc.get(name, type=part_type)
        parts[name] = str(part) if isinstance(part, Text) else jsonable(part.to_py())
    return parts


def jsonable(value: Any) -> Any:
    """``value`` with bytes, non-finite numbers and odd keys turned into JSON-safe values."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, bytes | bytearray | memoryview):
        return {"base64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def as_update_bytes(update: object) -> bytes:
    """Accept bytes-like input only, within the size limit."""
    if not isinstance(update, bytes | bytearray | memoryview):
        raise ProjectError(_("The received change is not binary data."))
    data = bytes(update)
    if len(data) > MAX_UPDATE_BYTES:
        raise ProjectError(
            _("The received change is too large ({size} bytes).").format(
                size=format_decimal(len(data))
            )
        )
    return data


def is_fatal(exc: BaseException) -> bool:
    """Whether ``exc`` must propagate. A Rust panic inside pycrdt arrives as pyo3's
    ``PanicException``, a BaseException: for a bad update it is just one more refusal."""
    return not isinstance(exc, Exception) and type(exc).__name__ != "PanicException"


def check_update(state: bytes, update: bytes, waiting: Sequence[bytes] = ()) -> Doc[Any]:
    """Apply ``update`` to a scratch copy of the document whose full state is ``state`` and
    whose ``waiting`` updates are held back for missing predecessors (``update`` may bring them,
    and then they are integrated too, so they are part of the check).

    Returns the scratch document; raises :class:`ProjectError` (and changes nothing) if the
    update cannot be decoded, cannot be integrated, or leaves a part unreadable.
    """
    scratch = new_doc()
    try:
        if state != EMPTY_UPDATE:
            scratch.apply_update(state)
        for held in waiting:
            scratch.apply_update(held)
        scratch.apply_update(update)
        read_parts(scratch)
    except BaseException as exc:
        if is_fatal(exc):
            raise
        raise ProjectError(
            _(
                "The received change is damaged or not a Hookline project change; "
                "it was not applied."
            )
        ) from exc
    return scratch


def brings_news(update: bytes, state_vector: bytes) -> bool:
    """False when every part of ``update`` is already in a document with ``state_vector``."""
    try:
        return pycrdt.get_update(update, state_vector) != EMPTY_UPDATE
    except BaseException as exc:
        if is_fatal(exc):
            raise
        raise ProjectError(_("The received change is damaged; it was not applied.")) from exc


def waiting_structs(update: bytes, state_vector: bytes) -> bool:
    """True when ``update`` holds changes not yet shown by a document with ``state_vector``:
    they wait for an earlier change that has not arrived (or was damaged). An update that
    cannot be compared counts as waiting, so nothing relies on it being complete."""
    try:
        # A v1 update starts with the number of clients that have structs in it.
        return pycrdt.get_update(update, state_vector)[0] != 0
    except BaseException as exc:
        if is_fatal(exc):
            raise
        return True


def state_vector(doc: Doc[Any]) -> dict[int, int]:
    """The document's state vector as ``{client id: clock}``. Compare these, not the encoded
    bytes: the encoding lists clients in no fixed order."""
    data, position = doc.get_state(), 0

    def read() -> int:
        nonlocal position
        value = shift = 0
        while True:
            byte = data[position]
            position += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7

    return {read(): read() for _ in range(read())}


@dataclass
class Replay:
    """The result of replaying a saved log: the document and what happened to each row."""

    doc: Doc[Any]
    applied: list[int] = field(default_factory=list)  # row ids, in order
    skipped: list[int] = field(default_factory=list)  # damaged rows: kept, not applied
    waiting: list[int] = field(default_factory=list)  # applied, but some content not shown


def replay(rows: Sequence[tuple[int, object]]) -> Replay:
    """Rebuild a document from ``(row id, update)`` rows in id order, skipping damaged ones."""
    result = Replay(new_doc())
    good: list[bytes] = []
    for row_id, data in rows:
        try:
            if not isinstance(data, bytes):
                raise TypeError("not binary")
            result.doc.apply_update(data)
        except BaseException as exc:
            if is_fatal(exc):
                raise
            result.skipped.append(row_id)
            result.doc = _rebuild(good)  # a failed update may have changed the document
            continue
        good.append(data)
        result.applied.append(row_id)
    try:
        read_parts(result.doc)
    except Exception:
        return _replay_carefully(rows)
    _find_waiting(result, rows)
    return result


def _rebuild(updates: Sequence[bytes]) -> Doc[Any]:
    doc = new_doc()
    for update in updates:
        doc.apply_update(update)
    return doc


def _replay_carefully(rows: Sequence[tuple[int, object]]) -> Replay:
    """The slow path for the rare log whose rows apply but whose result cannot be read:
    check the document after every row and drop the rows that break it."""
    result = Replay(new_doc())
    good: list[bytes] = []
    for row_id, data in rows:
        if not isinstance(data, bytes):
            result.skipped.append(row_id)
            continue
        try:
            result.doc = check_update(result.doc.get_update(), data)
        except ProjectError:
            result.skipped.append(row_id)
            result.doc = _rebuild(good)
            continue
        good.append(data)
        result.applied.append(row_id)
    _find_waiting(result, rows)
    return result


def _find_waiting(result: Replay, rows: Sequence[tuple[int, object]]) -> None:
    state = result.doc.get_state()
    by_id = {i: d for i, d in rows if isinstance(d, bytes)}
    result.waiting = [i for i in result.applied if waiting_structs(by_id[i], state)]

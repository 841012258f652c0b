"""Checking pushed Yjs updates against a project's current document (pycrdt).

An update is accepted when it decodes and, applied after everything the project already has,
leaves nothing pending: no structs whose predecessors are missing and no deletions of items the
document does not hold. An update that depends on edits this project lacks (one replayed from
another project, or a forged one) is refused that way. pycrdt raises ``ValueError`` for bytes
that do not decode; a panic inside the Rust code surfaces as pyo3's ``PanicException``, which
derives from ``BaseException``, so both are caught here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pycrdt import Doc, get_update


class BadUpdate(ValueError):
    """An update that does not decode or depends on edits this project does not have."""


def _is_fatal(error: BaseException) -> bool:
    return isinstance(error, KeyboardInterrupt | SystemExit | GeneratorExit | MemoryError)


class _Reader:
    def __init__(self, data: bytes, offset: int = 0) -> None:
        self.data = data
        self.offset = offset

    def var_uint(self) -> int:
        result, shift = 0, 0
        while True:
            if self.offset >= len(self.data) or shift > 63:
                raise BadUpdate("truncated or oversized variable-length integer")
            byte = self.data[self.offset]
            self.offset += 1
            result |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return result


def decode_state_vector(data: bytes) -> dict[int, int]:
    """A Yjs v1 state vector: client id -> next expected clock."""
    reader = _Reader(data)
    state = {}
    for _ in range(reader.var_uint()):
        client = reader.var_uint()
        state[client] = reader.var_uint()
    return state


def _delete_ranges(diff: bytes) -> Iterable[tuple[int, int, int]]:
    """(client, clock, length) of the delete set of a v1 update that holds no structs."""
    reader = _Reader(diff)
    if reader.var_uint() != 0:
        raise BadUpdate("the update depends on edits this project does not have")
    for _ in range(reader.var_uint()):
        client = reader.var_uint()
        for _ in range(reader.var_uint()):
            clock = reader.var_uint()
            yield client, clock, reader.var_uint()


def new_doc() -> Doc:
    return Doc(allow_multithreading=True)


def apply_checked(doc: Doc, batch: Sequence[bytes]) -> None:
    """Apply ``batch`` to ``doc`` in order and check that nothing is left pending.

    Raises :class:`BadUpdate`; ``doc`` is then in an unknown state and must be thrown away.
    """
    for index, update in enumerate(batch):
        try:
            doc.apply_update(bytes(update))
        except BaseException as error:
            if _is_fatal(error):
                raise
            raise BadUpdate(f"update {index} does not decode: {error}") from None
    try:
        state_bytes = doc.get_state()
        state = decode_state_vector(state_bytes)
        for index, update in enumerate(batch):
            diff = get_update(bytes(update), state_bytes)
            for client, clock, length in _delete_ranges(diff):
                if clock + length > state.get(client, 0):
                    raise BadUpdate(f"update {index} deletes edits this project does not have")
    except BadUpdate:
        raise
    except BaseException as error:
        if _is_fatal(error):
            raise
        raise BadUpdate(f"the update batch does not decode: {error}") from None


def full_state(doc: Doc) -> bytes:
    """The whole document as one update."""
    return bytes(doc.get_update())

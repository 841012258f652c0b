"""How results cross from the analysis worker to readers (UI timer, CLI, tests).

* :class:`LatestValue` — a slot holding the newest immutable reading. Writing is one reference
  assignment; readers never block the writer. ``wait_newer`` lets a headless reader sleep until
  the next value without polling.
* :class:`EventQueue` — a bounded queue of events (device lost/restored, later onsets and chord
  changes). When full, the oldest event is dropped and counted: the worker never waits.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class LatestValue(Generic[T]):
    def __init__(self) -> None:
        self._value: T | None = None
        self._version = 0
        self._changed = threading.Condition()

    def set(self, value: T) -> None:
        """Writer side (worker thread)."""
        with self._changed:
            self._value = value
            self._version += 1
            self._changed.notify_all()

    def get(self) -> T | None:
        """Reader side, never blocks."""
        return self._value

    @property
    def version(self) -> int:
        return self._version

    def wait_newer(self, version: int, timeout: float) -> tuple[T | None, int]:
        """Block until a value newer than ``version`` exists (or timeout): (value, version)."""
        with self._changed:
            self._changed.wait_for(lambda: self._version > version, timeout=timeout)
            return self._value, self._version


class EventQueue(Generic[T]):
    def __init__(self, maxlen: int = 256) -> None:
        self._events: deque[T] = deque(maxlen=maxlen)
        self.dropped = 0

    def put(self, event: T) -> None:
        """Worker side: never blocks; the oldest event goes when the queue is full."""
        if len(self._events) == self._events.maxlen:
            self.dropped += 1
        self._events.append(event)

    def drain(self) -> list[T]:
        """Reader side: everything queued, oldest first."""
        out = []
        while True:
            try:
                out.append(self._events.popleft())
            except IndexError:
                return out

"""Waking long-polls after a commit.

In one process each project has an :class:`asyncio.Event`; a commit sets it and replaces it, so
every pull waiting on it wakes at once. A waiter takes the event *before* it reads the database,
so a commit between its read and its wait still wakes it. With PostgreSQL, each push also sends
``NOTIFY hookline_updates, '<project id>'`` inside its transaction (delivered at commit), and every
server process LISTENs and wakes its own waiters: that is how a push to one process wakes a pull
on another.
"""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)


class Waiters:
    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}

    def event(self, project_id: str) -> asyncio.Event:
        """The event the next commit to this project sets (event-loop thread only)."""
        current = self._events.get(project_id)
        if current is None:
            current = self._events[project_id] = asyncio.Event()
        return current

    def wake(self, project_id: str) -> None:
        current = self._events.pop(project_id, None)
        if current is not None:
            current.set()

    def wake_all(self) -> None:
        events, self._events = self._events, {}
        for current in events.values():
            current.set()

    def forget(self, project_id: str, event: asyncio.Event) -> None:
        """Drop an event nobody waits on any more, so idle projects cost no memory."""
        # asyncio.Event keeps its waiters in a private deque; an empty one means no waiter.
        idle = not event.is_set() and not getattr(event, "_waiters", None)
        if idle and self._events.get(project_id) is event:
            del self._events[project_id]


async def listen_postgres(conninfo: str, channel: str, waiters: Waiters) -> None:
    """LISTEN on ``channel`` until cancelled, reconnecting after errors."""
    import psycopg

    delay = 0.5
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                await conn.execute(f"LISTEN {channel}")
                delay = 0.5
                waiters.wake_all()  # anything committed while we were not listening
                async for note in conn.notifies():
                    waiters.wake(note.payload)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the database restarted or the network dropped
            log.warning("LISTEN %s failed (%s); retrying in %.1f s", channel, error, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)

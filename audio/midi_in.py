"""Live MIDI input: rtmidi ports -> rtmidi's own queue per source -> the worker's ``read()``.

No Python runs on the MIDI system's thread. rtmidi's C++ input handler (on JACK's real-time
process thread, or ALSA's input thread) timestamps each message and pushes it into rtmidi's
lock-free queue; the worker drains the queues with ``get_message()``. A Python callback there
would need the GIL on JACK's real-time thread, and any busy Python thread (the GUI painting,
the analysis worker) could then hold a JACK cycle past its period, after which JACK hands the
client a buffer that is already being refilled: events lost, repeated or mixed (measured here
with a Python callback: 869 of 5,000 lost with one busy thread).

Timestamps: rtmidi gives each message its time since the previous one on that port, from the
MIDI system's clock. :class:`Timeline` turns those into ``time.perf_counter_ns()`` times: the
offset between the two clocks is the smallest ``poll time - message time`` seen, a bound that
tightens with every poll (a message is never read before it arrived), relaxed by 100 ppm so a
slowly drifting MIDI clock is followed. A message's time is therefore never earlier than its
arrival and, after the first few polls, later by no more than the quietest poll's delay.

Only channel messages are kept: SysEx, clock and active sensing are filtered by rtmidi, other
system messages are counted as ``ignored``, and messages without a status byte or with missing
or invalid data bytes as ``dropped``. rtmidi's queue holds :data:`QUEUE_SIZE` messages per
source; JACK xruns (cycles a client finished late, when MIDI may be lost) are counted.

:meth:`MidiInput.check` (worker thread, about twice a second) follows named sources that vanish and
return, and the JACK server itself; it reports codes and names (:class:`PortEvent`), never
sentences, and never raises for a missing server or port.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from audio.midi_ports import RTMIDI_APIS, quiet_libjack, resolve_midi_api

log = logging.getLogger(__name__)
QUEUE_SIZE = 1 << 16  # messages rtmidi keeps per source until the worker reads them
VIRTUAL_APIS = frozenset({"alsa", "jack", "coremidi"})


def abandon(obj: object) -> None:
    """Keep a client of a dead JACK server for ever: closing or freeing one can crash libjack
    (seen: a segfault in rtmidi's close_port, and at interpreter exit)."""
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(obj))


@dataclass(frozen=True, slots=True)
class MidiEvent:
    time_ns: int  # time.perf_counter_ns() taken in the rtmidi callback
    port: int  # index into MidiInput.sources
    status: int
    data1: int
    data2: int

    @property
    def channel(self) -> int:
        return self.status & 0x0F

    @property
    def command(self) -> int:
        return self.status & 0xF0

    def to_bytes(self) -> bytes:
        if self.command in (0xC0, 0xD0):
            return bytes((self.status, self.data1))
        return bytes((self.status, self.data1, self.data2))


class PortEvent(NamedTuple):
    """``("port_lost", name)``, ``("port_back", name)``, ``("server_lost", api)``,
    ``("server_back", api)`` or ``("open_failed", name)``."""

    kind: str
    name: str


@dataclass(frozen=True, slots=True)
class SourceStatus:
    name: str
    virtual: bool
    state: str  # "open" | "lost"


@dataclass(frozen=True, slots=True)
class MidiInputStatus:
    api: str
    server_ok: bool
    sources: tuple[SourceStatus, ...]
    dropped: int
    ignored: int
    xruns: int = 0  # JACK only: cycles some client finished late; MIDI in them may be lost
    error: str | None = None


class Timeline:
    """Maps one source's rtmidi delta times onto ``perf_counter_ns`` (see the module notes)."""

    RELAX = 1e-4  # the offset estimate may rise this much per nanosecond between polls

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.elapsed_ns = 0  # the MIDI clock: sum of rtmidi's deltas since the first message
        self.offset_ns: int | None = None
        self.last_poll_ns = 0
        self.last_ns = 0  # the newest time handed out (times never go backwards)

    def place(self, deltas_s: Sequence[float], poll_ns: int) -> list[int]:
        """perf_counter_ns times of messages with these deltas, all read before ``poll_ns``."""
        elapsed = []
        total = self.elapsed_ns
        for delta in deltas_s:
            total += max(0, round(delta * 1e9))
            elapsed.append(total)
        self.elapsed_ns = total
        bound = poll_ns - total
        if self.offset_ns is None:
            self.offset_ns = bound
        else:
            relaxed = self.offset_ns + round((poll_ns - self.last_poll_ns) * self.RELAX)
            self.offset_ns = min(relaxed, bound)
        self.last_poll_ns = poll_ns
        times = []
        last = self.last_ns
        for e in elapsed:
            last = max(last, e + self.offset_ns)
            times.append(last)
        self.last_ns = last
        return times


def channel_word(message: Sequence[int]) -> int:
    """``status << 16 | data1 << 8 | data2`` of a channel message; ``-1`` for a malformed one
    (no status, missing or invalid data bytes), ``-2`` for a system message."""
    n = len(message)
    status = message[0] if n else 0
    if status < 0x80:
        return -1
    if status >= 0xF0:
        return -2
    if 0xC0 <= status < 0xE0:
        if n < 2 or message[1] > 0x7F:
            return -1
        return status << 16 | message[1] << 8
    if n < 3 or message[1] > 0x7F or message[2] > 0x7F:
        return -1
    return status << 16 | message[1] << 8 | message[2]


def rtmidi_api(api: str) -> int:
    import rtmidi

    return int(getattr(rtmidi, "API_" + RTMIDI_APIS[api]))


_ALSA_NUMBERS = re.compile(r" \d+:\d+$")


def find_port(name: str, available: Sequence[str]) -> int | None:
    """Index of ``name`` in ``available``: exact, else ignoring ALSA's trailing client:port
    numbers (which change when a device is replugged)."""
    if name in available:
        return list(available).index(name)
    bare = _ALSA_NUMBERS.sub("", name)
    for i, other in enumerate(available):
        if _ALSA_NUMBERS.sub("", other) == bare:
            return i
    return None


class JackWatch:
    """Notices the JACK server going away (rtmidi does not). Main/worker thread only."""

    RETRY_S = (0.5, 1.0, 2.0, 5.0)  # waits between attempts to reach a missing server
    OPEN_WAIT_S = 2.0  # an attempt still running after this is left to finish on its own

    def __init__(self, name: str) -> None:
        self.name = name
        self.down = False
        self.xruns = 0  # JACK xruns seen since start: MIDI read in such a cycle may be wrong
        self._client: Any = None
        self._failures = 0
        self._next_try = 0.0
        self._attempt: threading.Thread | None = None
        self._attempt_result: list[Any] = []
        self.open()

    def open(self) -> bool:
        """Connect to the server; while it stays away, attempts are spaced out (0.5 s to 5 s)
        and report failure at once in between.

        Each attempt runs on a thread of its own: right after a server is killed, libjack's
        ``jack_client_open`` can block on what the dead server left behind (seen here about one
        time in ten). The caller waits at most :attr:`OPEN_WAIT_S`; a stuck attempt is left to
        finish, and no new one starts until it has.
        """
        now = time.monotonic()
        if self._attempt is not None:
            if self._attempt.is_alive():
                return False
            self._attempt = None
            return self._adopt(now)
        if now < self._next_try:
            return False
        result: list[Any] = []
        attempt = threading.Thread(target=self._connect, args=(result,), daemon=True)
        attempt.start()
        attempt.join(self.OPEN_WAIT_S)
        self._attempt_result = result
        if attempt.is_alive():
            self._attempt = attempt
            self.down = True
            return False
        return self._adopt(now)

    def _connect(self, result: list[Any]) -> None:
        try:
            import jack

            quiet_libjack()
            client = jack.Client(self.name, no_start_server=True)
            client.set_shutdown_callback(self._on_shutdown)
            client.set_xrun_callback(self._on_xrun)
            client.activate()
        except Exception:
            result.append(None)
            return
        result.append(client)

    def _adopt(self, now: float) -> bool:
        client = self._attempt_result[0] if self._attempt_result else None
        if client is None:
            self.down = True
            self._next_try = now + self.RETRY_S[min(self._failures, len(self.RETRY_S) - 1)]
            self._failures += 1
            return False
        self._client = client
        self.down = False
        self._failures = 0
        return True

    def _on_shutdown(self, _status: object, _reason: str) -> None:
        self.down = True

    def _on_xrun(self, _delay_usecs: float) -> None:
        self.xruns += 1

    def connections(self, port: str) -> list[str] | None:
        if self._client is None or self.down:
            return None
        try:
            return [p.name for p in self._client.get_all_connections(port)]
        except Exception:
            return None

    def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        if self.down:
            abandon(client)
            return
        with contextlib.suppress(Exception):
            client.deactivate()
            client.close()


@dataclass
class _Source:
    name: str
    virtual: bool
    local: str  # our port's name
    timeline: Timeline = field(default_factory=Timeline)
    midi: Any = None
    state: str = "lost"
    dropped: int = 0
    ignored: int = 0


class MidiInput:
    """Named MIDI sources and/or a virtual input port, read by one worker thread."""

    def __init__(
        self,
        ports: Sequence[str] = (),
        *,
        virtual: bool = False,
        api: str = "auto",
        client_name: str = "Hookline",
        virtual_name: str = "Hookline In",
    ) -> None:
        self.api = resolve_midi_api(api)
        if virtual and self.api not in VIRTUAL_APIS:
            raise ValueError(f"the {self.api} MIDI API has no virtual ports")
        self.client_name = client_name
        self._sources = [_Source(p, False, f"in_{i + 1}") for i, p in enumerate(ports)]
        if virtual:
            self._sources.append(_Source(virtual_name, True, virtual_name))
        self._events: list[PortEvent] = []
        self._error: str | None = None
        self._closed = False
        self._watch = JackWatch(client_name + "-watch") if self.api == "jack" else None
        self._server_ok = not (self._watch and self._watch.down)
        if self._server_ok:
            self._open_all()
        else:
            self._error = "server-not-running"
            self._events.append(PortEvent("server_lost", self.api))

    @property
    def sources(self) -> tuple[str, ...]:
        """Source names; ``MidiEvent.port`` indexes this."""
        return tuple(s.name for s in self._sources)

    # ----- consumer side -------------------------------------------------------------------
    def read(self, max_events: int = 1024) -> list[MidiEvent]:
        """Waiting events, at most ``max_events`` per source, in time order across sources."""
        events: list[MidiEvent] = []
        for index, source in enumerate(self._sources):
            if source.midi is not None and source.state == "open":
                events.extend(self._drain(index, source, max_events))
        if len(self._sources) > 1:
            events.sort(key=lambda e: e.time_ns)
        return events

    def _drain(self, index: int, source: _Source, limit: int) -> list[MidiEvent]:
        messages: list[tuple[list[int], float]] = []
        get = source.midi.get_message
        try:
            while len(messages) < limit:
                item = get()
                if item is None:
                    break
                messages.append(item)
        except (RuntimeError, SystemError):  # a port of a server that just died
            pass
        if not messages:
            return []
        times = source.timeline.place([delta for _m, delta in messages], time.perf_counter_ns())
        out = []
        for (message, _delta), t in zip(messages, times, strict=True):
            word = channel_word(message)
            if word == -1:
                source.dropped += 1
            elif word == -2:
                source.ignored += 1
            else:
                out.append(MidiEvent(t, index, word >> 16, (word >> 8) & 0xFF, word & 0xFF))
        return out

    @property
    def status(self) -> MidiInputStatus:
        return MidiInputStatus(
            self.api,
            self._server_ok,
            tuple(SourceStatus(s.name, s.virtual, s.state) for s in self._sources),
            sum(s.dropped for s in self._sources),
            sum(s.ignored for s in self._sources),
            self._watch.xruns if self._watch is not None else 0,
            self._error,
        )

    # ----- ports ---------------------------------------------------------------------------
    def check(self) -> list[PortEvent]:
        """Follow lost/returning sources and the server; returns the events since last call."""
        if self._closed:
            return self._take_events()
        if self._watch is not None and self._server_ok and self._watch.down:
            self._server_ok = False
            self._error = "server-lost"
            self._events.append(PortEvent("server_lost", self.api))
            self._abandon_all()
        if not self._server_ok:
            if self._watch is not None and self._watch.down:
                self._watch.close()
                if not self._watch.open():
                    return self._take_events()
            self._server_ok = True
            self._error = None
            self._events.append(PortEvent("server_back", self.api))
            self._open_all()
            return self._take_events()
        if all(s.virtual for s in self._sources):
            return self._take_events()
        available = self._list_ports()
        if available is None:
            return self._take_events()
        for source in self._sources:
            if source.virtual:
                continue
            present = find_port(source.name, available) is not None
            if source.state == "open" and not (present and self._still_connected(source)):
                source.state = "lost"
                self._events.append(PortEvent("port_lost", source.name))
            if source.state == "lost" and present and self._open(source, available):
                self._events.append(PortEvent("port_back", source.name))
        return self._take_events()

    def close(self) -> None:
        """Close every port; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        for source in self._sources:
            midi, source.midi = source.midi, None
            source.state = "lost"
            if midi is None:
                continue
            if not self._server_ok or (self._watch is not None and self._watch.down):
                abandon(midi)
                continue
            with contextlib.suppress(Exception):
                midi.close_port()
            with contextlib.suppress(Exception):
                midi.delete()
        if self._watch is not None:
            self._watch.close()

    def __enter__(self) -> MidiInput:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ----- internals -----------------------------------------------------------------------
    def _take_events(self) -> list[PortEvent]:
        events, self._events = self._events, []
        return events

    def _open_all(self) -> None:
        available = None
        for source in self._sources:
            if not source.virtual and available is None:
                available = self._list_ports()
            opened = self._open(source, available or [])
            if not opened and source.virtual:
                self._events.append(PortEvent("open_failed", source.name))
            elif not opened:
                self._events.append(PortEvent("port_lost", source.name))

    def _open(self, source: _Source, available: Sequence[str]) -> bool:
        import rtmidi

        try:
            if source.midi is None:
                source.midi = rtmidi.MidiIn(
                    rtmidi_api(self.api), self.client_name, queue_size_limit=QUEUE_SIZE
                )
                source.midi.ignore_types(sysex=True, timing=True, active_sense=True)
            midi = source.midi
            source.timeline.reset()
            if source.virtual:
                midi.open_virtual_port(source.name)
            else:
                index = find_port(source.name, available)
                if index is None:
                    return False
                if midi.is_port_open():
                    midi.close_port()
                    while midi.get_message() is not None:  # what the old port left behind
                        pass
                midi.open_port(index, source.local)
        except (rtmidi.RtMidiError, RuntimeError, SystemError) as exc:
            self._error = f"{type(exc).__name__}: {exc}"
            return False
        source.state = "open"
        return True

    def _list_ports(self) -> list[str] | None:
        import rtmidi

        named = next(s for s in self._sources if not s.virtual)
        try:
            if named.midi is None:
                named.midi = rtmidi.MidiIn(
                    rtmidi_api(self.api), self.client_name, queue_size_limit=QUEUE_SIZE
                )
                named.midi.ignore_types(sysex=True, timing=True, active_sense=True)
            return list(named.midi.get_ports())
        except (rtmidi.RtMidiError, RuntimeError, SystemError) as exc:
            self._error = f"{type(exc).__name__}: {exc}"
            return None

    def _still_connected(self, source: _Source) -> bool:
        """Under JACK a source can vanish and return between two checks; its connection to us is
        then gone although the name is listed again."""
        if self._watch is None:
            return True
        connected = self._watch.connections(source.name)
        if connected is None:
            return True
        return any(c.endswith(":" + source.local) for c in connected)

    def _abandon_all(self) -> None:
        for source in self._sources:
            if source.midi is not None:
                abandon(source.midi)
                source.midi = None
            source.state = "lost"

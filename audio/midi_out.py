"""Live MIDI output: a virtual "Hookline Out" port and/or a named port, and a clip player.

:class:`MidiOutput` remembers which notes it turned on, so :meth:`MidiOutput.all_notes_off` can
end them one by one (some synths ignore CC123) before sending CC123 on every channel it used. It
never raises for a missing server: failures are counted and described in :attr:`status`.

:class:`ClipPlayer` plays ``(seconds_from_start, message)`` pairs in its own thread: it sleeps
until about a millisecond before each message and spins the rest. Under JACK a message sent
from Python reaches the graph at the next process cycle, so what another client sees is late
by up to one JACK period on top of the scheduling error measured here.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from audio.midi_in import VIRTUAL_APIS, JackWatch, abandon, find_port, rtmidi_api
from audio.midi_ports import resolve_midi_api

Message = bytes | Sequence[int]


@dataclass(frozen=True, slots=True)
class MidiOutputStatus:
    api: str
    server_ok: bool
    ports: tuple[str, ...]  # what is open: the virtual port's name and/or the named port
    sent: int
    failed: int
    error: str | None = None


class MidiOutput:
    def __init__(
        self,
        port: str | None = None,
        *,
        virtual: bool = True,
        api: str = "auto",
        client_name: str = "Hookline",
        virtual_name: str = "Hookline Out",
    ) -> None:
        self.api = resolve_midi_api(api)
        if virtual and self.api not in VIRTUAL_APIS:
            raise ValueError(f"the {self.api} MIDI API has no virtual ports")
        self._lock = threading.Lock()
        self._outs: list[tuple[str, Any]] = []
        self._on: set[tuple[int, int]] = set()  # (channel, note) we turned on
        self._channels: set[int] = set()
        self._sent = self._failed = 0
        self._error: str | None = None
        self._closed = False
        self._watch = JackWatch(client_name + "-out-watch") if self.api == "jack" else None
        import rtmidi

        try:
            if virtual:
                out = rtmidi.MidiOut(rtmidi_api(self.api), client_name)
                self._outs.append((virtual_name, out))
                out.open_virtual_port(virtual_name)
            if port is not None:
                out = rtmidi.MidiOut(rtmidi_api(self.api), client_name)
                self._outs.append((port, out))
                index = find_port(port, out.get_ports())
                if index is None:
                    self._error = f"no-such-port: {port}"
                    self._outs.pop()
                else:
                    out.open_port(index, "out")
        except (rtmidi.RtMidiError, RuntimeError, SystemError) as exc:
            self._error = f"{type(exc).__name__}: {exc}"

    @property
    def server_ok(self) -> bool:
        return not (self._watch is not None and self._watch.down)

    @property
    def status(self) -> MidiOutputStatus:
        return MidiOutputStatus(
            self.api,
            self.server_ok,
            tuple(name for name, _ in self._outs),
            self._sent,
            self._failed,
            self._error,
        )

    def send(self, message: Message) -> bool:
        """Send one message to every open port; False (and counted) if it could not be sent."""
        data = list(message)
        with self._lock:
            if self._closed or not self._outs or not self.server_ok:
                self._failed += 1
                return False
            try:
                for _, out in self._outs:
                    out.send_message(data)
            except Exception as exc:  # rtmidi's error types, or a dead back end
                self._failed += 1
                self._error = f"{type(exc).__name__}: {exc}"
                return False
            self._sent += 1
            self._track(data)
            return True

    def _track(self, data: list[int]) -> None:
        if not data or not 0x80 <= data[0] < 0xF0:
            return
        command, channel = data[0] & 0xF0, data[0] & 0x0F
        self._channels.add(channel)
        if command == 0x90 and len(data) >= 3 and data[2] > 0:
            self._on.add((channel, data[1]))
        elif command in (0x80, 0x90) and len(data) >= 2:
            self._on.discard((channel, data[1]))
        elif command == 0xB0 and len(data) >= 2 and data[1] in (120, 123):
            self._on = {(c, n) for c, n in self._on if c != channel}

    def notes_on(self) -> frozenset[tuple[int, int]]:
        """(channel, note) pairs this output turned on and has not turned off."""
        with self._lock:
            return frozenset(self._on)

    def all_notes_off(self) -> bool:
        """Note-off for every note still on, then CC123 on every channel used."""
        with self._lock:
            notes = sorted(self._on)
            channels = sorted(self._channels)
        ok = True
        for channel, note in notes:
            ok = self.send((0x80 | channel, note, 0)) and ok
        for channel in channels:
            ok = self.send((0xB0 | channel, 123, 0)) and ok
        return ok

    def close(self) -> None:
        """End sounding notes and close the ports; safe to call twice."""
        if self._closed:
            return
        if self.server_ok:
            self.all_notes_off()
        with self._lock:
            self._closed = True
            outs, self._outs = self._outs, []
        for _, out in outs:
            if not self.server_ok:
                abandon(out)
                continue
            with contextlib.suppress(Exception):
                out.close_port()
            with contextlib.suppress(Exception):
                out.delete()
        if self._watch is not None:
            self._watch.close()

    def __enter__(self) -> MidiOutput:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


Clip = Sequence[tuple[float, Message]]


class ClipPlayer:
    """Plays one clip at a time on a :class:`MidiOutput`, in its own thread.

    ``lateness`` holds, for the last clip, how late each message was handed to rtmidi
    (seconds after its due time, perf_counter clock).
    """

    def __init__(
        self,
        output: MidiOutput,
        on_finished: Callable[[bool], None] | None = None,
        spin_s: float = 0.001,
    ) -> None:
        self.output = output
        self.on_finished = on_finished  # called with True if the clip played to its end
        self.spin_s = spin_s
        self.finished = threading.Event()
        self.finished.set()
        self.lateness: list[float] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def playing(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def play(self, clip: Clip) -> None:
        """Stop what is playing, then start ``clip`` now."""
        self.stop()
        ordered = sorted(((float(t), bytes(m)) for t, m in clip), key=lambda item: item[0])
        self._stop = threading.Event()
        self.finished = threading.Event()
        self.lateness = []
        self._thread = threading.Thread(
            target=self._run, args=(ordered, self._stop, self.finished), name="clip-player"
        )
        self._thread.daemon = True
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop and wait; notes the clip left on get their note-off."""
        thread = self._thread
        if thread is None:
            return
        self._stop.set()
        thread.join(timeout)
        self._thread = None

    def _run(
        self, clip: list[tuple[float, bytes]], stop: threading.Event, finished: threading.Event
    ) -> None:
        on: set[tuple[int, int]] = set()
        lateness = self.lateness
        start = time.perf_counter()
        completed = True
        for offset, message in clip:
            due = start + offset
            while True:
                left = due - time.perf_counter()
                if left > self.spin_s:
                    if stop.wait(left - self.spin_s):
                        break
                elif left > 0:
                    time.sleep(0)  # spin, letting other threads take the GIL
                else:
                    break
            if stop.is_set():
                completed = False
                break
            self.output.send(message)
            lateness.append(time.perf_counter() - due)
            _follow(on, message)
        for channel, note in sorted(on):
            self.output.send((0x80 | channel, note, 0))
        finished.set()
        if self.on_finished is not None:
            self.on_finished(completed)


def _follow(on: set[tuple[int, int]], message: bytes) -> None:
    if len(message) < 2 or not 0x80 <= message[0] < 0xF0:
        return
    command, channel = message[0] & 0xF0, message[0] & 0x0F
    if command == 0x90 and len(message) >= 3 and message[2] > 0:
        on.add((channel, message[1]))
    elif command in (0x80, 0x90):
        on.discard((channel, message[1]))

"""The harmony engine: MIDI events in, the chord, key, recent chords and suggestions out.

Threads: rtmidi's callback only timestamps events into a ring (:mod:`audio.midi_in`). One worker
thread here reads the ring every millisecond, keeps the sounding notes (:mod:`audio.midi_state`),
names the chord in the tracked key, and publishes an immutable :class:`HarmonySnapshot` into a
latest-value slot; chord changes, key changes and port events also go to a bounded event queue.
Readers (the GUI's timer, ``hookline midi listen``) take both without waiting on the worker.

The lane of recent chords takes a new entry when the named chord changes. A chord struck a note
at a time (or with a grace note first) reads as several chords for a few milliseconds; an entry
younger than :data:`MERGE_S` is replaced rather than followed, so the lane holds what was played,
not how the fingers landed.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from audio.midi_in import MidiInput, MidiInputStatus, PortEvent
from audio.midi_state import NoteState, decode
from models.chords import ChordName, function, name_chord, roman_numeral
from models.key_tracking import KeyTracker
from models.next_chord import NextChordModel, Suggestion
from models.theory import Key

MERGE_S = 0.12  # lane entries younger than this are replaced by the next chord
PLAYED_NOTES = 256  # finished notes kept for "continue what I played"
LANE_SIZE = 16
SUGGESTIONS = 8
POLL_S = 0.001  # the worker's wait when the ring is empty
KEY_EVERY_S = 0.25  # how often the key tracker's clock advances with no notes
PORTS_EVERY_S = 0.5  # how often vanished ports are looked for
EVENT_QUEUE = 256
DEFAULT_STYLE = 0.15  # suggestions: mostly the key's own chords, a little borrowed colour
BATCH = 256  # events the worker names at once at most


@dataclass(frozen=True)
class PlayedNote:
    """A note played on the MIDI input, key down to key up (perf_counter seconds)."""

    pitch: int
    start_s: float
    end_s: float
    velocity: int


@dataclass(frozen=True)
class LaneEntry:
    chord: ChordName
    numeral: str
    time_s: float


@dataclass(frozen=True)
class HarmonySnapshot:
    """Everything the engine knows at one moment. ``time_s`` is on the perf_counter clock."""

    time_s: float
    sounding: tuple[int, ...]
    chord: ChordName | None  # the chord sounding now (None: silence or no chord)
    numeral: str
    function: str  # "tonic", "predominant", "dominant", "other" or ""
    key: Key | None
    key_confidence: float
    lane: tuple[LaneEntry, ...]
    suggestions: tuple[Suggestion, ...]
    events: int  # MIDI events read so far
    input: MidiInputStatus | None = None


@dataclass(frozen=True)
class HarmonyEvent:
    """``kind``: "chord", "key" or a :class:`PortEvent` kind; ``snapshot`` at that moment."""

    kind: str
    snapshot: HarmonySnapshot
    port: str = ""


@dataclass
class LatencyTrace:
    """Benchmark instrumentation: for each publication caused by MIDI, the callback time of
    the newest event in it, when the worker read it and when the snapshot was published
    (perf_counter_ns). Preallocated; assign to ``HarmonyEngine.trace`` before ``start()``."""

    capacity: int = 1 << 16
    event_ns: np.ndarray = field(init=False)
    read_ns: np.ndarray = field(init=False)
    published_ns: np.ndarray = field(init=False)
    count: int = 0

    def __post_init__(self) -> None:
        self.event_ns = np.zeros(self.capacity, dtype=np.int64)
        self.read_ns = np.zeros(self.capacity, dtype=np.int64)
        self.published_ns = np.zeros(self.capacity, dtype=np.int64)

    def record(self, event_ns: int, read_ns: int) -> None:
        if self.count < self.capacity:
            self.event_ns[self.count] = event_ns
            self.read_ns[self.count] = read_ns
            self.published_ns[self.count] = time.perf_counter_ns()
            self.count += 1


def own_key(chord: ChordName) -> Key:
    """The key a chord heard on its own suggests: its root, minor for minor-third chords."""
    minor = chord.quality.startswith("m") and not chord.quality.startswith("maj")
    return Key(chord.root, "minor" if minor else "major")


class HarmonyTracker:
    """The engine's state without the thread: feed events, read :meth:`snapshot`."""

    def __init__(self, model: NextChordModel | None, style: float = DEFAULT_STYLE) -> None:
        self.model = model
        self.style = style
        self.notes = NoteState()
        self.keys = KeyTracker()
        self.lane: deque[LaneEntry] = deque(maxlen=LANE_SIZE)
        self.events_read = 0
        self._chord: ChordName | None = None
        self._suggestions: tuple[Suggestion, ...] = ()
        self._dirty_suggestions = True
        self._unnamed = False  # the sounding notes changed since the last naming
        self._struck = False  # ... and a note was struck among those changes
        # The last PLAYED_NOTES finished notes, oldest first. Replaced, never changed in
        # place: other threads read the attribute without a lock.
        self.played: tuple[PlayedNote, ...] = ()
        self._held: dict[int, tuple[float, int]] = {}  # pitch -> (start, velocity)

    @property
    def key(self) -> Key | None:
        tracked = self.keys.key
        if tracked is not None:
            return tracked
        if self.lane:  # before the tracker has heard enough: the first chord's own key
            return own_key(self.lane[0].chord)
        return None

    def feed(
        self, status: int, data1: int, data2: int, time_s: float, name: bool = True
    ) -> tuple[bool, bool]:
        """Apply one MIDI message; returns (chord changed, key changed).

        With ``name=False`` the chord is named later, by :meth:`name_now` (the engine names once
        per batch of events that arrived together, not once per note of a struck chord).
        """
        self.events_read += 1
        kind, _channel, number, value = decode(status, data1, data2)
        key_change = None
        if kind == "note_on":
            key_change = self.keys.note_on(number, value, time_s)
            self._release(number, time_s)  # struck again while held: the first one ends
            self._held[number] = (time_s, value)
        elif kind == "note_off":
            key_change = self.keys.note_off(number, time_s)
            self._release(number, time_s)
        if self.notes.apply(status, data1, data2):
            self._unnamed = True
            self._struck = self._struck or kind == "note_on"
        if key_change is not None:
            self._dirty_suggestions = True
        return (self.name_now(time_s) if name else False), key_change is not None

    def _release(self, pitch: int, time_s: float) -> None:
        held = self._held.pop(pitch, None)
        if held is not None:
            note = PlayedNote(pitch, held[0], max(held[0], time_s), held[1])
            self.played = (*self.played[-(PLAYED_NOTES - 1) :], note)

    def name_now(self, time_s: float) -> bool:
        """Name the notes sounding now if they changed since the last naming; True if the chord
        changed."""
        if not self._unnamed:
            return False
        struck, self._struck, self._unnamed = self._struck, False, False
        return self._name(time_s, struck)

    def advance(self, time_s: float) -> bool:
        """Let time pass for the key tracker; True if the key changed."""
        if self.keys.advance(time_s) is not None:
            self._dirty_suggestions = True
            return True
        return False

    def set_style(self, style: float) -> None:
        self.style = min(1.0, max(0.0, style))
        self._dirty_suggestions = True

    def _name(self, time_s: float, struck: bool) -> bool:
        """Name what sounds now. Only a struck note names a new chord: letting go of a chord
        note by note passes through its inversions and subsets, which nobody played."""
        sounding = self.notes.sounding()
        if not struck and len(sounding) >= 2:
            return False
        chord = name_chord(sounding, self.key) if len(sounding) >= 2 else None
        if chord is None:  # silence or a lone note: the last chord stays on the lane
            changed = self._chord is not None
            self._chord = None
            return changed
        if self._chord is not None and chord.symbol == self._chord.symbol:
            return False
        self._chord = chord
        key = self.key or own_key(chord)
        numeral = roman_numeral(chord, key)
        entry = LaneEntry(chord, numeral, time_s)
        if self.lane and time_s - self.lane[-1].time_s < MERGE_S:
            self.lane[-1] = entry
            if len(self.lane) >= 2 and self.lane[-2].chord.symbol == chord.symbol:
                self.lane.pop()  # a passing reading between two of the same chord
        elif not self.lane or self.lane[-1].chord.symbol != chord.symbol:
            self.lane.append(entry)
        self._dirty_suggestions = True
        return True

    def snapshot(self, time_s: float, status: MidiInputStatus | None = None) -> HarmonySnapshot:
        key = self.key
        if self._dirty_suggestions:
            self._dirty_suggestions = False
            if self.model is not None and key is not None:
                recent = [entry.chord for entry in self.lane]
                self._suggestions = tuple(self.model.suggest(key, recent, self.style, SUGGESTIONS))
            else:
                self._suggestions = ()
        chord = self._chord
        return HarmonySnapshot(
            time_s=time_s,
            sounding=self.notes.sounding(),
            chord=chord,
            numeral=roman_numeral(chord, key) if chord is not None and key is not None else "",
            function=function(chord, key) if chord is not None and key is not None else "",
            key=key,
            key_confidence=self.keys.confidence if self.keys.key is not None else 0.0,
            lane=tuple(self.lane),
            suggestions=self._suggestions,
            events=self.events_read,
            input=status,
        )


class HarmonyEngine:
    """Runs a :class:`HarmonyTracker` on a worker thread over a :class:`MidiInput`."""

    def __init__(
        self,
        midi_in: MidiInput,
        model: NextChordModel | None,
        style: float = DEFAULT_STYLE,
        clock: Callable[[], int] = time.perf_counter_ns,
    ) -> None:
        self.midi_in = midi_in
        self.tracker = HarmonyTracker(model, style)
        self.events: deque[HarmonyEvent] = deque(maxlen=EVENT_QUEUE)
        self.dropped_events = 0
        self.trace: LatencyTrace | None = None
        self._clock = clock
        self._latest: HarmonySnapshot | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._style_request: float | None = None

    # -- readers (any thread) ---------------------------------------------------------------

    def played(self) -> tuple[PlayedNote, ...]:
        """The last notes played on the input and released, oldest first (any thread)."""
        return self.tracker.played

    def latest(self) -> HarmonySnapshot | None:
        return self._latest

    def drain(self) -> list[HarmonyEvent]:
        """The events since the last call, oldest first."""
        out = []
        while True:
            try:
                out.append(self.events.popleft())
            except IndexError:
                return out

    def set_style(self, style: float) -> None:
        self._style_request = style  # picked up by the worker

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._publish(self._clock() / 1e9)
        self._thread = threading.Thread(target=self._run, name="harmony-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.midi_in.close()

    # -- the worker ---------------------------------------------------------------------------

    def _run(self) -> None:
        tracker = self.tracker
        next_key = next_ports = 0.0
        while not self._stop.is_set():
            batch = self.midi_in.read(BATCH)
            now_s = self._clock() / 1e9
            if batch:
                read_ns = self._clock()
                keys = 0
                for event in batch:
                    keys += tracker.feed(
                        event.status, event.data1, event.data2, event.time_ns / 1e9, name=False
                    )[1]
                chords = tracker.name_now(batch[-1].time_ns / 1e9)
                if chords or keys:
                    self._publish(now_s)
                    if self.trace is not None:
                        self.trace.record(batch[-1].time_ns, read_ns)
                    if chords:
                        self._queue("chord", now_s)
                    if keys:
                        self._queue("key", now_s)
            if self._style_request is not None:
                style, self._style_request = self._style_request, None
                tracker.set_style(style)
                self._publish(now_s)
            if now_s >= next_key:
                next_key = now_s + KEY_EVERY_S
                if tracker.advance(now_s):
                    self._publish(now_s)
                    self._queue("key", now_s)
            if now_s >= next_ports:
                next_ports = now_s + PORTS_EVERY_S
                self._ports(now_s)
            if batch:
                time.sleep(0)  # let the GUI thread in between batches of a flood
            else:
                self._stop.wait(POLL_S)

    def _ports(self, now_s: float) -> None:
        port_events: list[PortEvent] = self.midi_in.check()
        if port_events:
            self._publish(now_s)
            for event in port_events:
                self._queue(event.kind, now_s, event.name)
        elif self._latest is not None and self._latest.input != self.midi_in.status:
            self._publish(now_s)

    def _publish(self, now_s: float) -> None:
        self._latest = self.tracker.snapshot(now_s, self.midi_in.status)

    def _queue(self, kind: str, now_s: float, port: str = "") -> None:
        snapshot = self._latest or self.tracker.snapshot(now_s)
        if len(self.events) == self.events.maxlen:
            self.dropped_events += 1
        self.events.append(HarmonyEvent(kind, snapshot, port))

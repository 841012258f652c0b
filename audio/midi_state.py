"""Which notes are sounding, from a stream of MIDI channel messages (pure Python, no I/O).

Rules, per channel (16 of them):

* note-on with velocity > 0 holds a note; note-off, or note-on with velocity 0, releases it;
* while the sustain pedal (CC64 >= 64) is down, a released note keeps sounding until pedal up;
  striking it again while it is sustained holds it again;
* CC123 (all notes off) releases every held note (the pedal still sustains them, as the MIDI
  spec says); CC120 (all sound off) silences the channel at once, sustained notes included;
  CC121 (reset all controllers) lifts the pedal.

:meth:`NoteState.sounding` is the sorted set of note numbers sounding on any channel.
:attr:`NoteState.version` grows by one each time that set changes, and only then.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple, Protocol

SUSTAIN, ALL_SOUND_OFF, RESET_CONTROLLERS, ALL_NOTES_OFF = 64, 120, 121, 123


class Decoded(NamedTuple):
    kind: (
        str  # note_on note_off control program pitch_bend poly_aftertouch channel_aftertouch other
    )
    channel: int
    number: int  # note, controller or program; 0 where the kind has none
    value: int  # velocity, controller value, pressure, or signed pitch bend (-8192..8191)


def decode(status: int, data1: int = 0, data2: int = 0) -> Decoded:
    """Name a channel message; a note-on with velocity 0 is a note-off."""
    command, channel = status & 0xF0, status & 0x0F
    if status < 0x80 or status >= 0xF0:
        return Decoded("other", 0, 0, 0)
    if command == 0x90 and data2 > 0:
        return Decoded("note_on", channel, data1, data2)
    if command in (0x80, 0x90):
        return Decoded("note_off", channel, data1, data2 if command == 0x80 else 0)
    if command == 0xB0:
        return Decoded("control", channel, data1, data2)
    if command == 0xC0:
        return Decoded("program", channel, data1, 0)
    if command == 0xE0:
        return Decoded("pitch_bend", channel, 0, ((data2 << 7) | data1) - 8192)
    if command == 0xA0:
        return Decoded("poly_aftertouch", channel, data1, data2)
    return Decoded("channel_aftertouch", channel, 0, data1)


class ChannelMessage(Protocol):
    @property
    def status(self) -> int: ...
    @property
    def data1(self) -> int: ...
    @property
    def data2(self) -> int: ...


class NoteState:
    def __init__(self) -> None:
        self._held: list[dict[int, int]] = [{} for _ in range(16)]  # note -> velocity
        self._sustained: list[dict[int, int]] = [{} for _ in range(16)]
        self._pedal = [False] * 16
        self._channels_sounding = [0] * 128  # per note: on how many channels it sounds
        self._sounding: tuple[int, ...] = ()
        self.version = 0

    # ----- queries ---------------------------------------------------------------------------
    def sounding(self) -> tuple[int, ...]:
        return self._sounding

    def velocity_of(self, note: int) -> int:
        """The loudest velocity the note sounds with on any channel; 0 when silent."""
        best = 0
        for channel in range(16):
            velocity = self._held[channel].get(note) or self._sustained[channel].get(note) or 0
            best = max(best, velocity)
        return best

    def pedal_down(self, channel: int) -> bool:
        return self._pedal[channel]

    # ----- updates ---------------------------------------------------------------------------
    def feed(self, events: Iterable[ChannelMessage]) -> bool:
        """Apply events in order; True if the sounding set changed."""
        before = self.version
        for event in events:
            self.apply(event.status, event.data1, event.data2)
        return self.version != before

    def apply(self, status: int, data1: int = 0, data2: int = 0) -> bool:
        """Apply one message; True if the sounding set changed."""
        kind, channel, number, value = decode(status, data1, data2)
        changed = False
        if kind == "note_on":
            changed = self._hold(channel, number, value)
        elif kind == "note_off":
            changed = self._release(channel, number)
        elif kind == "control":
            changed = self._control(channel, number, value)
        if changed:
            self._sounding = tuple(n for n in range(128) if self._channels_sounding[n])
            self.version += 1
        return changed

    def reset(self) -> bool:
        changed = False
        for channel in range(16):
            self._pedal[channel] = False
            changed = self._silence(channel) or changed
        if changed:
            self._sounding = ()
            self.version += 1
        return changed

    # ----- internals ---------------------------------------------------------------------------
    def _sounds(self, channel: int, note: int) -> bool:
        return note in self._held[channel] or note in self._sustained[channel]

    def _count(self, note: int, delta: int) -> bool:
        """Adjust a note's channel count; True if it started or stopped sounding overall."""
        before = self._channels_sounding[note]
        self._channels_sounding[note] = before + delta
        return (before == 0) != (before + delta == 0)

    def _hold(self, channel: int, note: int, velocity: int) -> bool:
        was = self._sounds(channel, note)
        self._sustained[channel].pop(note, None)
        self._held[channel][note] = velocity
        return False if was else self._count(note, 1)

    def _release(self, channel: int, note: int) -> bool:
        velocity = self._held[channel].pop(note, None)
        if velocity is None:
            return False
        if self._pedal[channel]:
            self._sustained[channel][note] = velocity
            return False
        return self._count(note, -1)

    def _control(self, channel: int, controller: int, value: int) -> bool:
        if controller == SUSTAIN:
            return self._set_pedal(channel, value >= 64)
        if controller == RESET_CONTROLLERS:
            return self._set_pedal(channel, False)
        if controller == ALL_NOTES_OFF:
            changed = False
            for note in list(self._held[channel]):
                changed = self._release(channel, note) or changed
            return changed
        if controller == ALL_SOUND_OFF:
            return self._silence(channel)
        return False

    def _set_pedal(self, channel: int, down: bool) -> bool:
        self._pedal[channel] = down
        if down or not self._sustained[channel]:
            return False
        changed = False
        for note in list(self._sustained[channel]):
            del self._sustained[channel][note]
            changed = self._count(note, -1) or changed
        return changed

    def _silence(self, channel: int) -> bool:
        changed = False
        for note in set(self._held[channel]) | set(self._sustained[channel]):
            changed = self._count(note, -1) or changed
        self._held[channel].clear()
        self._sustained[channel].clear()
        return changed

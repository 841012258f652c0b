"""Reading Standard MIDI Files safely: notes with times in seconds and in beats.

A ``.mid`` from the internet may be damaged or hostile. Before mido sees a byte, a structural
scan checks the whole file against hard budgets (size, tracks, messages, SysEx and meta payload,
variable-length numbers, total duration, wall-clock time): every chunk must fit in the file and
every track must end exactly where its chunk ends, data bytes must be 7-bit, running status must
follow a channel message. mido then decodes only a rebuilt file made of the checked header and
track chunks, so its own quirks (it reads past a short chunk, carries running status across
SysEx, or raises ``OSError``, ``EOFError``, ``KeyError``, ``IndexError``, ``ValueError``...) can
no longer surprise us; anything it still raises becomes a :class:`MidiFileError`. Every problem
is reported as that one exception with a translated message naming the file.

Notes: a note-on with velocity 0 is a note-off; a note-off ends the *oldest* sounding note of
that pitch and channel in the same track (so overlapping same-pitch notes both keep their
length); a note never released ends at the end of the file; notes of zero length are dropped.
Formats 0 and 1 with metrical time (ticks per quarter note) are read; format 2 and SMPTE time
are refused with a message. Beats are quarter notes (MIDI beats) counted from the file start.
"""

from __future__ import annotations

import bisect
import io
import struct
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import mido

from app.i18n import _

MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_TRACKS = 512
MAX_MESSAGES = 500_000
MAX_SYSEX_MESSAGES = 10_000
MAX_PAYLOAD_BYTES = 2 * 1024 * 1024  # SysEx and meta data together
MAX_DURATION_S = 6 * 3600.0
MAX_SECONDS_TO_PARSE = 20.0
MAX_VLQ_BYTES = 4  # the SMF spec's limit (0x0FFFFFFF)
_DEADLINE_EVERY = 4096  # messages between clock checks
_DEFAULT_TEMPO = 500_000  # µs per quarter note (120 BPM)


class MidiFileError(Exception):
    """The file could not be read as MIDI; ``str(error)`` is a translated sentence."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(
            _("Cannot read the MIDI file {name}: {problem}").format(
                name=Path(self.path).name or self.path, problem=problem
            )
        )


@dataclass(frozen=True)
class MidiNote:
    """One note: times in seconds and beats (quarter notes), MIDI pitch, velocity, where from."""

    onset_s: float
    offset_s: float
    onset_beat: float
    offset_beat: float
    pitch: int
    velocity: int
    channel: int
    track: int

    @property
    def duration_s(self) -> float:
        return self.offset_s - self.onset_s

    @property
    def is_drum(self) -> bool:
        """On General MIDI's percussion channel (10, index 9)."""
        return self.channel == 9


@dataclass(frozen=True)
class TempoChange:
    """From ``beat`` (at ``time_s``) on, a quarter note lasts ``us_per_beat`` microseconds."""

    tick: int
    beat: float
    time_s: float
    us_per_beat: int

    @property
    def bpm(self) -> float:
        return 60_000_000 / self.us_per_beat


@dataclass(frozen=True)
class TimeSignature:
    beat: float
    time_s: float
    numerator: int
    denominator: int


@dataclass(frozen=True)
class MidiNotes:
    """Everything the harmony tools need from a MIDI file (immutable)."""

    path: str
    notes: tuple[MidiNote, ...]
    ticks_per_beat: int
    tempo_map: tuple[TempoChange, ...]  # at least one entry, at beat 0
    time_signatures: tuple[TimeSignature, ...]
    duration_s: float
    duration_beats: float
    format: int = 1
    _beats: tuple[float, ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_beats", tuple(t.beat for t in self.tempo_map))

    def _segment(self, beats: float) -> TempoChange:
        return self.tempo_map[max(bisect.bisect_right(self._beats, beats) - 1, 0)]

    def seconds_at(self, beat: float) -> float:
        """Time in seconds of a beat position (extrapolating with the last tempo)."""
        t = self._segment(beat)
        return t.time_s + (beat - t.beat) * t.us_per_beat / 1e6

    def beat_at(self, seconds: float) -> float:
        """Beat position at a time in seconds."""
        times = [t.time_s for t in self.tempo_map]
        t = self.tempo_map[max(bisect.bisect_right(times, seconds) - 1, 0)]
        return t.beat + (seconds - t.time_s) * 1e6 / t.us_per_beat

    def beat_times(self) -> tuple[float, ...]:
        """Seconds of every whole beat from 0 up to the end of the file."""
        return tuple(self.seconds_at(float(b)) for b in range(int(self.duration_beats) + 1))


# --------------------------------------------------------------------------- structural scan


class _Budget:
    def __init__(self, path: str) -> None:
        self.path = path
        self.messages = 0
        self.sysex = 0
        self.payload = 0
        self.deadline = time.monotonic() + MAX_SECONDS_TO_PARSE

    def fail(self, problem: str) -> MidiFileError:
        return MidiFileError(self.path, problem)

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise self.fail(_("reading it took too long"))


def _vlq(data: bytes, pos: int, budget: _Budget) -> tuple[int, int]:
    value = 0
    for i in range(MAX_VLQ_BYTES):
        if pos + i >= len(data):
            raise budget.fail(_("a track ends in the middle of a message"))
        byte = data[pos + i]
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, pos + i + 1
    raise budget.fail(_("a time or length value is longer than the format allows"))


def _data_bytes(data: bytes, pos: int, count: int, budget: _Budget) -> int:
    end = pos + count
    if end > len(data):
        raise budget.fail(_("a track ends in the middle of a message"))
    if count and max(data[pos:end]) > 0x7F:
        raise budget.fail(_("a message has an invalid data byte"))
    return end


def _scan_track(data: bytes, budget: _Budget) -> int:
    """Check one track chunk's events; return its length in ticks."""
    pos, ticks, running = 0, 0, -1  # running: -1 none yet, -2 cancelled by SysEx
    while pos < len(data):
        delta, pos = _vlq(data, pos, budget)
        ticks += delta
        if pos >= len(data):
            raise budget.fail(_("a track ends in the middle of a message"))
        status = data[pos]
        if status < 0x80:
            if running < 0:
                raise budget.fail(_("a message has no status byte (running status misuse)"))
            status, first_data = running, pos
        else:
            first_data = pos + 1
        if status == 0xFF:
            if first_data >= len(data):
                raise budget.fail(_("a track ends in the middle of a message"))
            length, start = _vlq(data, first_data + 1, budget)
            pos = start + length
            budget.payload += length
        elif status in (0xF0, 0xF7):
            length, start = _vlq(data, first_data, budget)
            pos = start + length
            body = data[start:pos]
            body = body[1:] if body[:1] == b"\xf0" else body
            body = body[:-1] if body[-1:] == b"\xf7" else body
            if body and max(body) > 0x7F:
                raise budget.fail(_("a message has an invalid data byte"))
            budget.sysex += 1
            budget.payload += length
            running = -2
            if budget.sysex > MAX_SYSEX_MESSAGES:
                raise budget.fail(_("it holds too many SysEx messages"))
        elif status >= 0xF0:
            raise budget.fail(_("it contains a status byte that is not allowed in a file"))
        else:
            size = 1 if 0xC0 <= status < 0xE0 else 2
            pos = _data_bytes(data, first_data, size, budget)
            running = status
        if pos > len(data):
            raise budget.fail(_("a track ends in the middle of a message"))
        if budget.payload > MAX_PAYLOAD_BYTES:
            raise budget.fail(_("it holds too much SysEx or meta data"))
        budget.messages += 1
        if budget.messages > MAX_MESSAGES:
            raise budget.fail(_("it holds too many messages"))
        if budget.messages % _DEADLINE_EVERY == 0:
            budget.check_time()
    return ticks


def _unwrap_riff(data: bytes) -> bytes:
    """The SMF inside an RMID (RIFF) wrapper, or the data unchanged."""
    if data[:4] != b"RIFF" or data[8:12] != b"RMID":
        return data
    pos = 12
    while pos + 8 <= len(data):
        name, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if name == b"data":
            return data[pos + 8 : pos + 8 + size]
        pos += 8 + size + (size & 1)
    return b""


def _checked_smf(data: bytes, budget: _Budget) -> tuple[bytes, int, int, list[int]]:
    """Rebuilt file (header + checked tracks), format, ticks per beat, ticks per track."""
    data = _unwrap_riff(data)
    if len(data) < 14 or data[:4] != b"MThd":
        raise budget.fail(_("it is not a Standard MIDI File"))
    header_len = struct.unpack(">I", data[4:8])[0]
    if header_len < 6 or 8 + header_len > len(data):
        raise budget.fail(_("its header is damaged"))
    fmt, declared, division = struct.unpack(">HHH", data[8:14])
    if fmt > 2:
        raise budget.fail(_("its header is damaged"))
    if fmt == 2:
        raise budget.fail(_("format 2 (independent sequences) is not supported"))
    if division & 0x8000:
        raise budget.fail(_("SMPTE time code timing is not supported"))
    if division == 0:
        raise budget.fail(_("its header is damaged"))
    if declared == 0:
        raise budget.fail(_("it contains no tracks"))
    if declared > MAX_TRACKS:
        raise budget.fail(_("it has too many tracks"))
    pos = 8 + header_len
    chunks: list[bytes] = []
    track_ticks: list[int] = []
    while len(chunks) < declared:
        if pos + 8 > len(data):
            raise budget.fail(_("the file is truncated"))
        name, size = data[pos : pos + 4], struct.unpack(">I", data[pos + 4 : pos + 8])[0]
        body = data[pos + 8 : pos + 8 + size]
        if len(body) < size:
            raise budget.fail(_("a chunk is longer than the file (truncated or wrong length)"))
        if name == b"MTrk":
            track_ticks.append(_scan_track(body, budget))
            chunks.append(data[pos : pos + 8 + size])
        elif not all(0x20 <= c < 0x7F for c in name):
            raise budget.fail(_("a chunk header is damaged"))
        pos += 8 + size  # unknown chunk types are skipped, as the standard asks
    header = b"MThd" + struct.pack(">IHHH", 6, fmt, len(chunks), division)
    return header + b"".join(chunks), fmt, division, track_ticks


# --------------------------------------------------------------------------- decoding


def _tempo_map(
    tempos: list[tuple[int, int]], ticks_per_beat: int
) -> tuple[list[int], list[TempoChange]]:
    changes: dict[int, int] = {0: _DEFAULT_TEMPO}
    for tick, tempo in sorted(tempos, key=lambda t: t[0]):  # stable: later tracks win a tie
        changes[tick] = max(tempo, 1)
    ticks, seconds = sorted(changes), 0.0
    result: list[TempoChange] = []
    for i, tick in enumerate(ticks):
        if i:
            seconds += (tick - ticks[i - 1]) * result[-1].us_per_beat / 1e6 / ticks_per_beat
        result.append(TempoChange(tick, tick / ticks_per_beat, seconds, changes[tick]))
    return ticks, result


def _seconds(tick: int, ticks: list[int], tempo_map: list[TempoChange], tpb: int) -> float:
    t = tempo_map[bisect.bisect_right(ticks, tick) - 1]
    return t.time_s + (tick - t.tick) * t.us_per_beat / 1e6 / tpb


def _decode(path: str, smf: bytes, fmt: int, tpb: int, track_ticks: list[int]) -> MidiNotes:
    try:
        midi = mido.MidiFile(file=io.BytesIO(smf), clip=False)
    except Exception as exc:  # mido raises many types; the scan should have caught them all
        raise MidiFileError(path, _("it is damaged ({detail})").format(detail=str(exc))) from exc
    end_tick = max(track_ticks, default=0)
    tempos: list[tuple[int, int]] = []
    signatures: list[tuple[int, int, int]] = []
    raw: list[tuple[int, int, int, int, int, int]] = []  # on, off, pitch, vel, channel, track
    for index, track in enumerate(midi.tracks):
        tick = 0
        sounding: dict[tuple[int, int], deque[tuple[int, int]]] = {}
        for msg in track:
            tick += msg.time
            kind = msg.type
            if kind == "set_tempo":
                tempos.append((tick, msg.tempo))
            elif kind == "time_signature":
                signatures.append((tick, msg.numerator, msg.denominator))
            elif kind == "note_on" and msg.velocity > 0:
                sounding.setdefault((msg.channel, msg.note), deque()).append((tick, msg.velocity))
            elif kind in ("note_on", "note_off"):
                queue = sounding.get((msg.channel, msg.note))
                if queue:
                    start, velocity = queue.popleft()
                    raw.append((start, tick, msg.note, velocity, msg.channel, index))
        for (channel, pitch), queue in sounding.items():
            for start, velocity in queue:  # never released: ends with the file
                raw.append((start, end_tick, pitch, velocity, channel, index))
    ticks, tempo_map = _tempo_map(tempos, tpb)
    duration_s = _seconds(end_tick, ticks, tempo_map, tpb)
    if duration_s > MAX_DURATION_S:
        raise MidiFileError(path, _("it would last more than six hours"))
    notes = sorted(
        (
            MidiNote(
                _seconds(on, ticks, tempo_map, tpb),
                _seconds(off, ticks, tempo_map, tpb),
                on / tpb,
                off / tpb,
                pitch,
                velocity,
                channel,
                track,
            )
            for on, off, pitch, velocity, channel, track in raw
            if off > on
        ),
        key=lambda n: (n.onset_s, n.pitch, n.offset_s, n.track),
    )
    sigs = tuple(
        TimeSignature(t / tpb, _seconds(t, ticks, tempo_map, tpb), num, den)
        for t, num, den in sorted(signatures, key=lambda s: s[0])
    )
    return MidiNotes(
        path, tuple(notes), tpb, tuple(tempo_map), sigs, duration_s, end_tick / tpb, fmt
    )


def read_midi_bytes(data: bytes, path: str | Path = "<memory>") -> MidiNotes:
    """Parse MIDI file contents; raises only :class:`MidiFileError`."""
    name = str(path)
    if len(data) > MAX_FILE_BYTES:
        raise MidiFileError(name, _("the file is larger than 16 MiB"))
    budget = _Budget(name)
    try:
        smf, fmt, tpb, track_ticks = _checked_smf(bytes(data), budget)
        return _decode(name, smf, fmt, tpb, track_ticks)
    except MidiFileError:
        raise
    except Exception as exc:  # a bug or memory exhaustion must still read as a file problem
        raise MidiFileError(name, _("it is damaged ({detail})").format(detail=repr(exc))) from exc


def read_midi(path: str | Path) -> MidiNotes:
    """Read a ``.mid`` file from disk; raises only :class:`MidiFileError`."""
    file = Path(path)
    try:
        if file.stat().st_size > MAX_FILE_BYTES:
            raise MidiFileError(file, _("the file is larger than 16 MiB"))
        with open(file, "rb") as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
    except MidiFileError:
        raise
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise MidiFileError(
            file, _("it cannot be opened ({reason})").format(reason=reason)
        ) from exc
    except Exception as exc:  # e.g. ValueError for a path with a NUL byte
        raise MidiFileError(
            file, _("it cannot be opened ({reason})").format(reason=str(exc))
        ) from exc
    return read_midi_bytes(data, file)

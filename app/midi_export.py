"""Standard MIDI files from timed notes and chord progressions, written atomically.

Times are in beats (quarter notes). :func:`build_midi` makes a one-track type-1 file: track
name, tempo, 4/4 time signature and a program change first, then the notes (a note-off sorts
before a note-on at the same tick, so a repeated note sounds again). :func:`write_midi` writes
to a temporary file beside the target and renames it over the target, so a reader never sees a
half-written file; a failure raises :class:`MidiExportError` with a translated message.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import mido

from app.i18n import _
from models.progression import Progression, Voicing

TICKS_PER_BEAT = 480
DEFAULT_TEMPO_BPM = 100.0
DEFAULT_VELOCITY = 80


class MidiExportError(Exception):
    """The MIDI file could not be written; the message is translated for the user."""


@dataclass(frozen=True)
class TimedNote:
    """A note in beats from the start of the file."""

    pitch: int
    start: float
    duration: float
    velocity: int = DEFAULT_VELOCITY
    channel: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.pitch <= 127 or not 1 <= self.velocity <= 127:
            raise ValueError(f"pitch/velocity out of MIDI range: {self}")
        if self.start < 0 or self.duration <= 0 or not 0 <= self.channel <= 15:
            raise ValueError(f"bad timing or channel: {self}")


def progression_notes(
    progression: Progression, voicings: Sequence[Voicing], velocity: int = DEFAULT_VELOCITY
) -> list[TimedNote]:
    """Block chords: every voicing held for its chord's duration."""
    if len(voicings) != len(progression.chords):
        raise ValueError("one voicing per chord is needed")
    return [
        TimedNote(pitch, chord.start, chord.duration, velocity)
        for chord, voicing in zip(progression.chords, voicings, strict=True)
        for pitch in voicing.notes
    ]


def build_midi(
    notes: Iterable[TimedNote],
    tempo_bpm: float = DEFAULT_TEMPO_BPM,
    track_name: str = "Hookline",
    program: int = 0,
    ticks_per_beat: int = TICKS_PER_BEAT,
    time_signature: tuple[int, int] = (4, 4),
) -> mido.MidiFile:
    """A type-1 MIDI file with one track holding ``notes`` (program set on every used channel)."""
    notes = list(notes)
    channels = sorted({n.channel for n in notes}) or [0]
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name=track_name, time=0))
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo_bpm), time=0))
    track.append(
        mido.MetaMessage(
            "time_signature",
            numerator=time_signature[0],
            denominator=time_signature[1],
            clocks_per_click=24,
            time=0,
        )
    )
    for channel in channels:
        track.append(mido.Message("program_change", program=program, channel=channel, time=0))
    events: list[tuple[int, int, int, mido.Message]] = []
    for n in notes:
        on = round(n.start * ticks_per_beat)
        off = max(on + 1, round((n.start + n.duration) * ticks_per_beat))
        events.append(
            (
                on,
                1,
                n.pitch,
                mido.Message("note_on", note=n.pitch, velocity=n.velocity, channel=n.channel),
            )
        )
        events.append(
            (off, 0, n.pitch, mido.Message("note_off", note=n.pitch, velocity=0, channel=n.channel))
        )
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    now = 0
    for tick, _kind, _pitch, message in events:
        track.append(message.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    midi = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    midi.tracks.append(track)
    return midi


def write_midi(midi: mido.MidiFile, path: Path | str) -> Path:
    """Write ``midi`` to ``path`` atomically (temporary file + rename); returns the path."""
    target = Path(path)
    temp: str | None = None
    try:
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            midi.save(file=f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, target)
        temp = None
    except OSError as exc:
        raise MidiExportError(
            _("Could not write the MIDI file {path}: {reason}").format(
                path=str(target), reason=exc.strerror or str(exc)
            )
        ) from exc
    finally:
        if temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(temp)
    return target


def export_progression(
    progression: Progression,
    voicings: Sequence[Voicing],
    path: Path | str,
    tempo_bpm: float = DEFAULT_TEMPO_BPM,
    program: int = 0,
    track_name: str | None = None,
) -> Path:
    """Write a progression's voicings as block chords to ``path``."""
    name = track_name or f"{progression.key.name} progression"
    midi = build_midi(progression_notes(progression, voicings), tempo_bpm, name, program)
    return write_midi(midi, path)

"""Melody ideas for the app and the command line: keys and meters from text, a seed from a MIDI
file, tokens to MIDI. The network and its decoder live in :mod:`models.melody.runner`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import mido

from app.i18n import _
from app.midi_export import TimedNote, build_midi
from app.midi_files import MidiNotes
from models.melody import tokens as tk
from models.theory import parse_note

_KEY_RE = re.compile(r"^\s*([A-Ga-g](?:#|b|♯|♭)?)\s*([A-Za-z]*)\s*$")
_MODE_WORDS = {
    "": "major", "major": "major", "maj": "major", "m": "minor", "minor": "minor",
    "min": "minor", "dorian": "dorian", "dor": "dorian", "mixolydian": "mixolydian",
    "mix": "mixolydian",
}  # fmt: skip


class MelodyInputError(ValueError):
    """Text or a file that does not describe what a melody needs; the message is translated."""


@dataclass(frozen=True)
class KeyChoice:
    tonic: int
    mode: str
    name: str


def parse_key(text: str) -> KeyChoice:
    """``"D major"``, ``"Am"``, ``"E dorian"``, ``"G mixolydian"``, ``"Bb"``."""
    match = _KEY_RE.match(text or "")
    word = match.group(2) if match else ""
    mode = _MODE_WORDS.get(word if word == "m" else word.lower()) if match else None
    if match is None or mode is None:
        raise MelodyInputError(
            _("Unknown key {key!r}: write it like “D major”, “A minor”, “E dorian”.").format(
                key=text
            )
        )
    tonic_text = match.group(1).replace("♯", "#").replace("♭", "b")
    tonic_text = tonic_text[0].upper() + tonic_text[1:]
    return KeyChoice(parse_note(tonic_text), mode, f"{tonic_text} {mode}")


def parse_meter(text: str) -> str:
    meter = (text or "").strip()
    if meter not in tk.METERS:
        raise MelodyInputError(
            _("Unknown meter {meter!r}: use one of {meters}.").format(
                meter=text, meters=", ".join(tk.METERS)
            )
        )
    return meter


def seed_tokens(notes: MidiNotes, key: KeyChoice, meter: str) -> tuple[int, ...]:
    """The top line of a MIDI clip as a token prefix (without ``EOS``): the clip's beat 0 is a
    downbeat, onsets and ends snap to the 1/12-quarter grid, drums are ignored, and of notes
    that start together the highest is kept."""
    pitched = sorted(
        (n for n in notes.notes if not n.is_drum), key=lambda n: (n.onset_beat, -n.pitch)
    )
    if not pitched:
        raise MelodyInputError(_("The seed file has no notes to continue."))
    line: list[tk.Note] = []
    for n in pitched:
        start = round(n.onset_beat * tk.TPQ)
        end = max(start + 1, round(n.offset_beat * tk.TPQ))
        if line and start <= line[-1].start:
            continue  # a lower note of the same onset: the top line keeps the highest
        if line and start < line[-1].start + line[-1].length:
            last = line[-1]
            line[-1] = tk.Note(last.start, start - last.start, last.pitch)
        line.append(tk.Note(start, end - start, n.pitch))
    first = line[0].start
    bar = tk.bar_ticks(meter)
    pickup = (bar - first % bar) % bar
    shifted = tuple(tk.Note(n.start - first, n.length, n.pitch) for n in line)
    try:
        sequence = tk.encode(tk.Melody(key.tonic, key.mode, meter, shifted, pickup))
    except tk.TokenError as exc:  # the only one encode can meet here: a note out of range
        raise MelodyInputError(
            _("The seed cannot be continued: it has notes more than two octaves from the tonic.")
        ) from exc
    return tuple(sequence[:-1])


def melody_notes(sequence: list[int] | tuple[int, ...], tonic: int) -> list[TimedNote]:
    """Notes in beats from the first barline of a token sequence."""
    melody = tk.decode(list(sequence), tonic)
    return [
        TimedNote(n.pitch, n.start / tk.TPQ, n.length / tk.TPQ)
        for n in melody.notes
        if n.pitch is not None
    ]


def melody_midi(
    sequence: list[int] | tuple[int, ...], tonic: int, meter: str, tempo_bpm: float
) -> mido.MidiFile:
    num, den = (int(p) for p in meter.split("/"))
    return build_midi(
        melody_notes(sequence, tonic),
        tempo_bpm=tempo_bpm,
        track_name="Hookline melody",
        time_signature=(num, den),
    )


def variation_paths(out: Path, count: int) -> list[Path]:
    """``out`` itself for one melody; ``name-1.mid``, ``name-2.mid``... for several."""
    if count == 1:
        return [out]
    return [out.with_name(f"{out.stem}-{i}{out.suffix or '.mid'}") for i in range(1, count + 1)]

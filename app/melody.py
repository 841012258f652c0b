"""Melody ideas for the app and the command line: keys and meters from text, a seed from a MIDI
file or from what was just played on the MIDI input, tokens to MIDI. The network and its
decoder live in :mod:`models.melody.runner`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    pitched = [(n.onset_beat, n.offset_beat, n.pitch) for n in notes.notes if not n.is_drum]
    if not pitched:
        raise MelodyInputError(_("The seed file has no notes to continue."))
    return _top_line_tokens(pitched, key, meter)


def _top_line_tokens(
    notes: Sequence[tuple[float, float, int]], key: KeyChoice, meter: str
) -> tuple[int, ...]:
    """(onset beat, end beat, pitch) notes, of which the top line becomes the token prefix."""
    line: list[tk.Note] = []
    for onset, offset, pitch in sorted(notes, key=lambda n: (n[0], -n[2])):
        start = round(onset * tk.TPQ)
        end = max(start + 1, round(offset * tk.TPQ))
        if line and start <= line[-1].start:
            continue  # a lower note of the same onset: the top line keeps the highest
        if line and start < line[-1].start + line[-1].length:
            last = line[-1]
            line[-1] = tk.Note(last.start, start - last.start, last.pitch)
        line.append(tk.Note(start, end - start, pitch))
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


PHRASE_GAP_S = 2.0  # a pause this long ends a phrase
GRIDS = (0.25, 1 / 3)  # sixteenths, eighth-note triplets (in beats)


def phrase_seed(
    played: Sequence[Any],
    tempo_bpm: float,
    key: KeyChoice,
    meter: str,
    max_bars: int = 8,
) -> tuple[int, ...]:
    """What was just played (notes with ``pitch``, ``start_s``, ``end_s``, oldest first) as a
    token prefix to continue: the last phrase (after the last pause of
    :data:`PHRASE_GAP_S`), its first note on a downbeat, times in beats at ``tempo_bpm``
    snapped to sixteenths or eighth-note triplets (whichever fits the onsets better), at most
    the last ``max_bars`` bars of it (a note held past the bar of the last onset ends there),
    and its top line."""
    if not played:
        raise MelodyInputError(
            _("Nothing was played on the MIDI input yet: play a phrase, then try again.")
        )
    if not 20.0 <= tempo_bpm <= 400.0:
        raise MelodyInputError(_("The tempo must be between 20 and 400 BPM."))
    notes = sorted(played, key=lambda n: n.start_s)
    first = 0
    reach = notes[0].end_s
    for i in range(1, len(notes)):
        if notes[i].start_s - reach > PHRASE_GAP_S:
            first = i
        reach = max(reach, notes[i].end_s)
    phrase = notes[first:]
    beat_s = 60.0 / tempo_bpm
    t0 = phrase[0].start_s
    onsets = [(n.start_s - t0) / beat_s for n in phrase]
    grid = min(GRIDS, key=lambda g: sum(abs(b / g - round(b / g)) * g for b in onsets))
    snapped: list[tuple[float, float, int]] = []
    for n, onset in zip(phrase, onsets, strict=True):
        start = round(onset / grid) * grid
        end = max(start + grid, round((n.end_s - t0) / beat_s / grid) * grid)
        snapped.append((start, end, int(n.pitch)))
    bar_beats = tk.bar_ticks(meter) / tk.TPQ
    last_bar = int(max(s for s, _e, _p in snapped) // bar_beats)
    keep_from = max(0, last_bar - max_bars + 1) * bar_beats
    limit = (last_bar + 1) * bar_beats  # a note held on ends with the last onset's bar
    kept = [(s - keep_from, min(e, limit) - keep_from, p) for s, e, p in snapped if s >= keep_from]
    return _top_line_tokens(kept, key, meter)


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

"""``hookline progression`` writes a real MIDI file; the export is atomic and fails clearly."""

from __future__ import annotations

import json
import os
from pathlib import Path

import mido
import pytest
from click.testing import CliRunner

from app.midi_export import MidiExportError, TimedNote, build_midi, write_midi
from app.progression_cli import progression
from models.theory import Key


def _notes_by_onset(path: Path) -> dict[int, list[int]]:
    midi = mido.MidiFile(path)
    now, onsets = 0, dict[int, list[int]]()
    for message in midi.tracks[0]:
        now += message.time
        if message.type == "note_on" and message.velocity > 0:
            onsets.setdefault(now, []).append(message.note)
    return {tick: sorted(notes) for tick, notes in onsets.items()}


def test_writes_the_printed_progression_as_midi(tmp_path: Path) -> None:
    out = tmp_path / "out.mid"
    args = ["--key", "A minor", "--bars", "8", "--seed", "5", "--tempo", "90", "-o", str(out)]
    result = CliRunner().invoke(progression, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["key"] == "A minor" and data["seed"] == 5 and len(data["chords"]) == 8
    assert data["chords"][-1]["numeral"] == "i" and data["chords"][-1]["symbol"] == "Am"

    midi = mido.MidiFile(out)
    assert midi.ticks_per_beat == 480
    metas = {m.type: m for m in midi.tracks[0] if m.is_meta}
    assert metas["set_tempo"].tempo == mido.bpm2tempo(90)
    assert (metas["time_signature"].numerator, metas["time_signature"].denominator) == (4, 4)
    assert metas["track_name"].name == "A minor progression"
    assert midi.length == pytest.approx(8 * 4 * 60 / 90)
    onsets = _notes_by_onset(out)
    assert sorted(onsets) == [i * 4 * 480 for i in range(8)]
    key = Key.parse("A minor")
    for tick, chord in zip(sorted(onsets), data["chords"], strict=True):
        assert onsets[tick] == chord["notes"]
        assert {n % 12 for n in chord["notes"]} <= _pcs(chord["symbol"], key)

    text = CliRunner().invoke(progression, args)
    assert text.exit_code == 0
    assert "Am" in text.output and " i" in text.output and str(out) in text.output


def _pcs(symbol: str, key: Key) -> frozenset[int]:
    from models.next_chord import token_chord, token_table

    for token in token_table(key.mode):
        chord = token_chord(token, key)
        if chord.symbol == symbol:
            return chord.pitch_classes
    raise AssertionError(symbol)


def test_same_seed_same_file(tmp_path: Path) -> None:
    a, b = tmp_path / "a.mid", tmp_path / "b.mid"
    for path in (a, b):
        args = ["--key", "Eb", "--style", "adventurous", "--seed", "9", "-o", str(path)]
        assert CliRunner().invoke(progression, args).exit_code == 0
    assert a.read_bytes() == b.read_bytes()


def test_bad_key_is_a_usage_error() -> None:
    result = CliRunner().invoke(progression, ["--key", "H minor"])
    assert result.exit_code == 2
    assert '"H minor" is not a key' in result.output


def test_unwritable_path_fails_with_a_clear_message(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "x.mid"
    result = CliRunner().invoke(progression, ["--seed", "1", "-o", str(missing)])
    assert result.exit_code == 1
    assert "Could not write the MIDI file" in result.output and not missing.exists()


def test_write_is_atomic_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "take.mid"
    target.write_bytes(b"old")
    midi = build_midi([TimedNote(60, 0.0, 1.0), TimedNote(60, 1.0, 1.0)], tempo_bpm=120)
    write_midi(midi, target)
    assert os.listdir(tmp_path) == ["take.mid"]
    again = mido.MidiFile(target)
    kinds = [(m.type, m.time) for m in again.tracks[0] if m.type in ("note_on", "note_off")]
    assert kinds == [("note_on", 0), ("note_off", 480), ("note_on", 0), ("note_off", 480)]

    class Broken(mido.MidiFile):
        def save(self, filename: str | None = None, file: object = None) -> None:
            raise OSError(28, "No space left on device")

    before = target.read_bytes()
    with pytest.raises(MidiExportError, match="No space left"):
        write_midi(Broken(), target)
    assert target.read_bytes() == before and os.listdir(tmp_path) == ["take.mid"]


def test_timed_notes_are_checked() -> None:
    with pytest.raises(ValueError):
        TimedNote(128, 0.0, 1.0)
    with pytest.raises(ValueError):
        TimedNote(60, 0.0, 0.0)

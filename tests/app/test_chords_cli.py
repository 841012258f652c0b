"""``hookline chords FILE.mid``: segments, numerals and key from real MIDI files."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import mido
from click.testing import CliRunner

from app.chords_cli import chords
from tests.support.cli import run

TPB = 480


def write_progression(
    path: Path, chords_: Sequence[Sequence[int]], beats: int = 4, tempo: int = 500_000
) -> Path:
    """One track, each chord held for ``beats`` quarter notes, plus a drum hit on every beat."""
    midi = mido.MidiFile(ticks_per_beat=TPB)
    track = midi.add_track()
    track.append(mido.MetaMessage("set_tempo", tempo=tempo))
    for pitches in chords_:
        for p in pitches:
            track.append(mido.Message("note_on", note=p, velocity=80, time=0))
        track.append(mido.Message("note_on", channel=9, note=42, velocity=100, time=0))
        for i, p in enumerate(pitches):
            track.append(mido.Message("note_off", note=p, time=beats * TPB if i == 0 else 0))
        track.append(mido.Message("note_off", channel=9, note=42, time=0))
    midi.save(str(path))
    return path


C_MAJOR = [[48, 64, 67, 72], [53, 65, 69, 72], [43, 62, 67, 71], [48, 64, 67, 72]]
# i, iv6, V6, i in A minor, then V4/3 (E7 over B) and i.
A_MINOR = [
    [45, 64, 69, 72],
    [41, 62, 69, 74],
    [44, 64, 71, 76],
    [45, 64, 69, 72],
    [47, 62, 68, 76],
    [45, 60, 64, 69],
]


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(chords, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_json_for_a_cadence_in_c_major(tmp_path: Path) -> None:
    path = write_progression(tmp_path / "cadence.mid", C_MAJOR, tempo=600_000)  # 100 BPM
    code, out, _err = invoke(str(path), "--json")
    assert code == 0
    result = json.loads(out)
    assert result["key"] == "C major" and 0.5 < result["key_confidence"] <= 1.0
    segments = result["segments"]
    assert [(s["chord"], s["numeral"]) for s in segments] == [
        ("C", "I"),
        ("F", "IV"),
        ("G", "V"),
        ("C", "I"),
    ]
    assert [(s["start_beat"], s["end_beat"]) for s in segments] == [
        (0.0, 4.0), (4.0, 8.0), (8.0, 12.0), (12.0, 16.0)
    ]  # fmt: skip
    assert [(s["start_s"], s["end_s"]) for s in segments][1] == (2.4, 4.8)
    assert set(segments[0]) >= {"start_s", "end_s", "start_beat", "end_beat", "chord", "numeral"}


def test_inversions_in_a_minor(tmp_path: Path) -> None:
    path = write_progression(tmp_path / "minor.mid", A_MINOR, beats=2)
    code, out, _err = invoke(str(path), "--json")
    assert code == 0
    result = json.loads(out)
    assert result["key"] == "A minor"
    assert [(s["chord"], s["numeral"]) for s in result["segments"]] == [
        ("Am", "i"),
        ("Dm/F", "iv6"),
        ("E/G#", "V6"),
        ("Am", "i"),
        ("E7/B", "V4/3"),
        ("Am", "i"),
    ]


def test_human_table(tmp_path: Path) -> None:
    path = write_progression(tmp_path / "cadence.mid", C_MAJOR)
    code, out, _err = invoke(str(path))
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Key: C major (confidence " + lines[0].split("confidence ")[1]
    assert lines[1].split() == ["start", "s", "end", "s", "beat", "to", "beat", "chord", "numeral"]
    assert lines[3].split() == ["2.00", "4.00", "4.00", "8.00", "F", "IV"]
    assert len(lines) == 6


def test_a_file_without_notes(tmp_path: Path) -> None:
    path = write_progression(tmp_path / "empty.mid", [])
    code, out, _err = invoke(str(path), "--json")
    assert code == 0 and json.loads(out) == {
        "key": "C major",
        "key_confidence": 0.0,
        "segments": [],
    }


def test_bad_files_exit_2_with_a_message_and_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "notes.mid"
    bad.write_text("not a midi file")
    code, out, err = invoke(str(bad))
    assert code == 2 and out == ""
    assert "notes.mid" in err and "not a Standard MIDI File" in err
    code, _out, err = invoke(str(tmp_path / "missing.mid"), "--json")
    assert code == 2 and "missing.mid" in err


def test_as_a_process(tmp_path: Path) -> None:
    bad = tmp_path / "broken.mid"
    bad.write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0MTrk\x00\x00\x00\x09\x00\x90")
    command = [sys.executable, "-c", "from app.chords_cli import chords; chords()"]
    done = run([*command, str(bad)], timeout=60)
    assert done.returncode == 2
    assert "broken.mid" in done.stderr and "Traceback" not in done.stderr
    good = write_progression(tmp_path / "good.mid", C_MAJOR)
    done = run([*command, str(good), "--json"], timeout=60)
    assert done.returncode == 0 and json.loads(done.stdout)["key"] == "C major"

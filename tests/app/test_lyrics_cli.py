"""``hookline lyrics``: scan a sheet against a melody, suggest lines, find rhymes; bad files and
impossible requests answered with a message."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from app.lyrics_cli import lyrics
from app.midi_export import TimedNote, build_midi, write_midi
from models.lyrics import phonemes as ph
from models.lyrics.dictionary import cmu_entries

SONG = (
    "The night is young and full of fire,\n"
    "we run until the stars are gone,\n"
    "\n"
    "and every spark becomes desire,\n"
    "we sing until the break of dawn.\n"
)


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(lyrics, list(args))
    return result.exit_code, result.output


def test_scan_prints_counts_letters_and_the_fit(tmp_path: Path) -> None:
    sheet = tmp_path / "song.txt"
    sheet.write_text(SONG, encoding="utf-8")
    melody = tmp_path / "tune.mid"
    notes = [TimedNote(60, float(i), 0.9) for i in range(9)]  # 9 notes, then a rest
    notes += [TimedNote(62, 11.0 + i, 0.9) for i in range(6)]  # 6 notes
    write_midi(build_midi(notes, tempo_bpm=100, track_name="tune"), melody)
    code, output = _run("scan", str(sheet), "--melody", str(melody), "--json")
    assert code == 0, output
    data = json.loads(output)
    sung = [line for line in data["lines"] if line["syllables"]]
    assert [line["syllables"] for line in sung] == [9, 8, 10, 8]
    assert [line["rhyme"] for line in sung] == ["A", "B", "A", "B"]
    assert data["stanzas"] == ["AB", "AB"]
    assert sung[0]["fit"]["difference"] == 0 and sung[1]["fit"]["difference"] == 2
    assert sung[2]["fit"]["notes"] == 0  # no third phrase in the tune
    code, text = _run("scan", str(sheet), "--melody", str(melody))
    assert code == 0 and "2 syllables too many" in text and "Rhyme scheme: AB AB" in text


def test_scan_refuses_bad_files_with_a_message(tmp_path: Path) -> None:
    code, output = _run("scan", str(tmp_path / "missing.txt"))
    assert code == 1 and "cannot be read" in output
    sheet = tmp_path / "song.txt"
    sheet.write_bytes(b"caf\xe9 \xff\xfe love\n\x00\x00")  # not UTF-8: decoded with U+FFFD
    code, output = _run("scan", str(sheet), "--json")
    assert code == 0 and json.loads(output)["lines"][0]["syllables"] >= 1
    bad_midi = tmp_path / "tune.mid"
    bad_midi.write_bytes(b"MThd\x00\x00\x00\x06garbage")
    code, output = _run("scan", str(sheet), "--melody", str(bad_midi))
    assert code == 1 and "tune.mid" in output


def test_suggest_meets_the_syllables_and_the_rhyme() -> None:
    code, output = _run("suggest", "--syllables", "8", "--rhyme-with", "fire", "--json")
    assert code == 0, output
    lines = json.loads(output)["lines"]
    assert len(lines) == 5
    entries = cmu_entries()
    want = ph.rhyme_part(entries["fire"][0])
    for line in lines:
        words = [w.strip(".,;:!?").lower() for w in line["text"].split()]
        assert sum(ph.syllables(entries[w][0]) for w in words) == 8, line
        assert ph.rhyme_part(entries[words[-1]][0]) == want, line


def test_suggest_says_why_when_nothing_fits() -> None:
    code, output = _run("suggest", "--syllables", "8", "--rhyme-with", "zzzqx")
    assert code == 1 and "not in the pronunciation dictionary" in output
    code, output = _run("suggest", "--syllables", "99")
    assert code == 2 and "99" in output  # click's range check


def test_rhymes_perfect_near_and_filtered() -> None:
    code, output = _run("rhymes", "fire", "--json")
    assert code == 0, output
    found = json.loads(output)["rhymes"]
    words = [r["word"] for r in found]
    assert "desire" in words and "fire" not in words
    assert {r["kind"] for r in found} <= {"perfect", "multi"}
    code, output = _run("rhymes", "fire", "--near", "--syllables", "1", "--limit", "500", "--json")
    near = json.loads(output)["rhymes"]
    assert all(r["syllables"] == 1 for r in near) and any(r["kind"] == "near" for r in near)
    code, output = _run("rhymes", "fire", "--kinds", "assonance", "--json")
    assert {r["kind"] for r in json.loads(output)["rhymes"]} == {"assonance"}
    code, output = _run("rhymes", "fire", "--kinds", "bogus")
    assert code == 1 and "Unknown kind of rhyme" in output
    code, output = _run("rhymes", "🎸🎸")
    assert code == 1 and "no known pronunciation" in output


def test_other_languages_count_by_hyphenation_and_rhyme_by_spelling(tmp_path: Path) -> None:
    sheet = tmp_path / "lied.txt"
    sheet.write_text("Guten Abend, gute Nacht\nmit Rosen bedacht\nनमस्कार दोस्त\n", "utf-8")
    code, output = _run("scan", str(sheet), "--language", "de", "--json")
    assert code == 0, output
    lines = json.loads(output)["lines"]
    assert [line["syllables"] for line in lines[:2]] == [6, 5]
    assert [line["rhyme"] for line in lines[:2]] == ["A", "A"]  # Nacht / bedacht
    assert lines[2]["unknown"] == ["नमस्कार", "दोस्त"]  # not a script German hyphenation covers
    code, output = _run("scan", str(sheet), "--language", "xx")
    assert code == 1 and "not supported" in output


def test_stress_patterns_are_checked_before_use() -> None:
    code, output = _run("suggest", "--syllables", "8", "--stress", "0101")
    assert code == 1 and "one character a syllable (8)" in output
    code, output = _run("suggest", "--syllables", "4", "--stress", "0101", "--json")
    assert code == 0 and all(len(x["stress"]) == 4 for x in json.loads(output)["lines"])
    code, output = _run("rhymes", "fire", "--stress", "1x")
    assert code == 1 and "stress pattern" in output
    code, output = _run("rhymes", "fire", "--stress", "10", "--json")
    assert all(r["stress"] == "10" for r in json.loads(output)["rhymes"])

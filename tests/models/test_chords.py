"""Chord naming, spelling, Roman numerals and function: exhaustive block chords plus properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.chords import (
    QUALITY_INTERVALS,
    ChordName,
    function,
    make_chord,
    name_chord,
    roman_numeral,
)
from models.theory import Key, interval_name, parse_note, pretty, spell_above, transpose
from tests.support.chords import block_chord, expected_reading

TRIADS = ("", "m", "dim", "aug", "sus2", "sus4")
SEVENTHS = ("maj7", "7", "m7", "m7b5", "dim7", "mMaj7")
VOICINGS = ("close", "open", "doubled bass", "doubled root")
C_MAJOR = Key.parse("C major")
A_MINOR = Key.parse("A minor")


@pytest.mark.parametrize("quality", TRIADS + SEVENTHS)
def test_every_block_chord_names_exactly(quality: str) -> None:
    for root in range(12):
        for inversion in range(len(QUALITY_INTERVALS[quality])):
            want_root, want_quality, want_bass = expected_reading(root, quality, inversion)
            want = make_chord(want_root, want_quality, want_bass).symbol
            for voicing in VOICINGS:
                notes = block_chord(root, quality, inversion, voicing)
                got = name_chord(notes)
                assert got is not None, (notes, want)
                assert (got.root, got.quality, got.bass, got.symbol) == (
                    want_root,
                    want_quality,
                    want_bass,
                    want,
                ), (notes, voicing)


@pytest.mark.parametrize(
    ("notes", "symbol"),
    [
        ([60, 64, 67, 70, 74], "C9"),
        ([60, 64, 70, 74], "C9"),  # fifth left out
        ([60, 63, 67, 70, 74], "Cm9"),
        ([60, 64, 67, 71, 74], "Cmaj9"),
        ([60, 64, 67, 74], "Cadd9"),
        ([62, 66, 69, 76], "Dadd9"),
        ([60, 63, 67, 74], "Cmadd9"),
        ([60, 64, 67, 69], "C6"),
        ([57, 64, 67, 72], "Am7"),
        ([60, 63, 67, 69], "Cm6"),
        ([60, 64, 67, 70], "C7"),
        ([48, 60, 64, 70], "C7"),  # fifth left out
        ([55, 60, 62, 65], "G7sus4"),
        ([60, 64, 68, 70], "C7#5"),
        ([60, 61, 64, 67, 70], "C7b9"),
        ([60, 63, 64, 67, 70], "C7#9"),
        ([59, 62, 65, 69], "Bm7b5"),
        ([66, 69, 72, 76], "F#m7b5"),
        ([58, 63, 65], "Bbsus4"),
        ([60, 63, 66, 69], "Cdim7"),
        ([64, 68, 72], "Eaug"),
    ],
)
def test_extended_and_added_tone_chords(notes: list[int], symbol: str) -> None:
    chord = name_chord(notes)
    assert chord is not None and chord.symbol == symbol


@pytest.mark.parametrize(
    ("notes", "symbol"),
    [
        ([52, 60, 67], "C/E"),
        ([55, 60, 64], "C/G"),
        ([59, 62, 65, 67], "G7/B"),
        ([55, 57, 60, 64], "Am7/G"),
        ([52, 57, 60, 67], "Am7/E"),  # not C6/E: m7 is the commoner reading
        ([54, 62, 69], "D/F#"),
        ([50, 58, 65], "Bb/D"),
        ([48, 53, 57], "F/C"),
        ([53, 59, 62, 67], "G7/F"),
        ([50, 55, 60], "Gsus4/D"),
    ],
)
def test_slash_chords_name_the_bass(notes: list[int], symbol: str) -> None:
    chord = name_chord(notes)
    assert chord is not None and chord.symbol == symbol and chord.is_inverted


@pytest.mark.parametrize(
    ("notes", "key", "symbol"),
    [
        ([54, 58, 61], "Db major", "Gb"),
        ([54, 58, 61], "E major", "F#"),
        ([54, 58, 61], None, "F#"),
        ([61, 65, 68], None, "Db"),
        ([61, 64, 68], None, "C#m"),
        ([61, 64, 68], "Bb minor", "Dbm"),
        ([63, 66, 70], "B major", "D#m"),
        ([63, 66, 70], "Bb minor", "Ebm"),
        ([53, 58, 61], "Bb minor", "Bbm/F"),
        ([49, 58, 65], "Bb minor", "Bbm/Db"),
        ([48, 56, 63], "Eb major", "Ab/C"),
        ([56, 64, 71], "A major", "E/G#"),
        ([65, 68, 71, 75], "F# major", "E#m7b5"),
        ([65, 68, 71, 74], "Gb major", "Fdim7"),
        ([63, 67, 70], "C minor", "Eb"),
        ([68, 72, 75], "C major", "Ab"),
        ([68, 72, 75], "A minor", "G#"),
    ],
)
def test_spelling_follows_the_key(notes: list[int], key: str | None, symbol: str) -> None:
    chord = name_chord(notes, Key.parse(key) if key else None)
    assert chord is not None and chord.symbol == symbol


def test_pretty_symbols_use_real_accidentals() -> None:
    chord = name_chord([66, 69, 72, 76])
    assert chord is not None and chord.pretty() == "F♯m7♭5"
    assert pretty("Bbsus4/Eb") == "B♭sus4/E♭"


def test_keys_parse_and_spell_their_scales() -> None:
    assert Key.parse("A minor") == Key(9, "minor")
    assert Key.parse("Am").name == "A minor"
    assert Key.parse("F# major").scale_names == ("F#", "G#", "A#", "B", "C#", "D#", "E#")
    assert Key.parse("Gb major").scale_names[3] == "Cb"
    assert Key.parse("bb minor").name == "Bb minor"
    assert Key.parse("E♭ maj").tonic == 3
    assert Key.parse("F major").prefers_flats and not Key.parse("E major").prefers_flats
    assert Key.parse("A minor").spell(8) == "G#" and Key.parse("C major").spell(6) == "F#"
    assert Key.parse("C major").spell(10) == "Bb" and Key.parse("A minor").spell(10) == "Bb"
    assert Key.parse("C major").relative.name == "A minor"
    assert Key.parse("Eb minor").relative.name == "Gb major"
    assert Key(1, "major").name == "Db major" and Key(1, "minor").name == "C# minor"
    for bad in ("H major", "C dorian", "", "Cx"):
        with pytest.raises(ValueError):
            Key.parse(bad)
    with pytest.raises(ValueError):
        Key(12)


def test_interval_helpers() -> None:
    assert interval_name(0, 7) == "P5" and interval_name(11, 2) == "m3"
    assert parse_note("Cb") == 11 and parse_note("B#") == 0 and parse_note("f##") == 7
    assert spell_above("D", 4, 2) == "F#" and spell_above("Bb", 3, 2) == "Db"


def _numeral(notes: list[int], key: Key) -> str:
    chord = name_chord(notes, key)
    assert chord is not None
    return roman_numeral(chord, key)


@pytest.mark.parametrize(
    ("notes", "numeral", "role"),
    [
        ([60, 64, 67], "I", "tonic"),
        ([62, 65, 69], "ii", "predominant"),
        ([64, 67, 71], "iii", "tonic"),
        ([65, 69, 72], "IV", "predominant"),
        ([67, 71, 74], "V", "dominant"),
        ([69, 72, 76], "vi", "tonic"),
        ([71, 74, 77], "vii°", "dominant"),
        ([60, 64, 67, 71], "Imaj7", "tonic"),
        ([62, 65, 69, 72], "ii7", "predominant"),
        ([67, 71, 74, 77], "V7", "dominant"),
        ([71, 74, 77, 81], "viiø7", "dominant"),
        ([71, 74, 77, 80], "vii°7", "dominant"),
        ([59, 62, 67], "V6", "dominant"),
        ([62, 67, 71], "V6/4", "dominant"),
        ([59, 62, 65, 67], "V6/5", "dominant"),
        ([62, 65, 67, 71], "V4/3", "dominant"),
        ([53, 59, 62, 67], "V4/2", "dominant"),
        ([52, 55, 60], "I6", "tonic"),
        ([60, 64, 67, 69], "Iadd6", "tonic"),
        ([67, 72, 74], "Vsus4", "dominant"),
        ([65, 68, 72], "iv", "predominant"),  # borrowed from the minor
        ([56, 60, 63], "bVI", "predominant"),
        ([58, 62, 65], "bVII", "other"),
        ([63, 67, 70], "bIII", "other"),
        ([62, 66, 69], "V/V", "predominant"),
        ([62, 66, 69, 72], "V7/V", "predominant"),
        ([64, 68, 71, 74], "V7/vi", "other"),
        ([57, 61, 64], "V/ii", "other"),
        ([60, 64, 67, 70], "V7/IV", "other"),
        ([59, 63, 66], "V/iii", "other"),
        ([54, 60, 62, 69], "V6/5/V", "predominant"),
    ],
)
def test_roman_numerals_in_c_major(notes: list[int], numeral: str, role: str) -> None:
    assert _numeral(notes, C_MAJOR) == numeral
    chord = name_chord(notes, C_MAJOR)
    assert chord is not None and function(chord, C_MAJOR) == role


@pytest.mark.parametrize(
    ("notes", "numeral", "role"),
    [
        ([57, 60, 64], "i", "tonic"),
        ([59, 62, 65], "ii°", "predominant"),
        ([60, 64, 67], "III", "tonic"),
        ([62, 65, 69], "iv", "predominant"),
        ([64, 67, 71], "v", "dominant"),
        ([64, 68, 71], "V", "dominant"),
        ([64, 68, 71, 74], "V7", "dominant"),
        ([65, 69, 72], "VI", "predominant"),
        ([67, 71, 74], "VII", "other"),
        ([68, 71, 74, 77], "vii°7", "dominant"),
        ([59, 62, 65, 69], "iiø7", "predominant"),
        ([58, 62, 65], "bII", "predominant"),  # Neapolitan
        ([62, 66, 69], "IV", "predominant"),  # melodic-minor IV, not V/VII
        ([59, 63, 66], "V/V", "predominant"),
        ([57, 61, 64, 67], "V7/iv", "other"),
        ([57, 61, 64], "I", "tonic"),  # Picardy third
        ([60, 64, 68], "III+", "tonic"),
        ([62, 64, 68, 71], "V4/2", "dominant"),
    ],
)
def test_roman_numerals_in_a_minor(notes: list[int], numeral: str, role: str) -> None:
    assert _numeral(notes, A_MINOR) == numeral
    chord = name_chord(notes, A_MINOR)
    assert chord is not None and function(chord, A_MINOR) == role


def test_single_notes_and_dyads_follow_the_documented_policy() -> None:
    assert name_chord([]) is None
    assert name_chord([60]) is None
    assert name_chord([48, 60, 72]) is None  # octaves are one pitch class
    names = {
        (60, 67): "C5",
        (55, 60): "C5/G",
        (60, 64): "C",
        (60, 63): "Cm",
        (57, 60): "Am",
        (60, 69): "Am/C",
        (52, 60): "C/E",
    }
    for notes, symbol in names.items():
        chord = name_chord(notes)
        assert chord is not None and chord.symbol == symbol, notes
    for notes in ((60, 61), (60, 62), (60, 66), (60, 70), (60, 71)):
        assert name_chord(notes) is None, notes
    assert name_chord([60, 61, 62, 63]) is None  # a cluster no chord explains


def test_make_chord_rejects_unknown_qualities() -> None:
    with pytest.raises(ValueError):
        make_chord(0, "13#11")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 127), min_size=1, max_size=10), st.integers(-24, 24))
def test_any_notes_name_or_return_none(notes: list[int], shift: int) -> None:
    chord = name_chord(notes)
    assert chord is None or (isinstance(chord, ChordName) and chord.symbol)
    if chord is None:
        return
    assert {n % 12 for n in notes} <= chord.pitch_classes
    assert chord.bass == min(notes) % 12
    moved = name_chord([n + shift + 24 for n in notes])
    assert moved is not None and moved.quality == chord.quality
    assert moved.root == transpose(chord.root, shift)
    for key in (C_MAJOR, A_MINOR, Key.parse("F# major"), Key.parse("Bb minor")):
        in_key = name_chord(notes, key)
        assert in_key is not None and in_key.root == chord.root
        assert roman_numeral(in_key, key) and function(in_key, key) in {
            "tonic",
            "predominant",
            "dominant",
            "other",
        }

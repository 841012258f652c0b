"""Chord segmentation: block chords, passing tones, suspensions, inversions, keys and time."""

from __future__ import annotations

from collections.abc import Sequence

from models.chord_segments import ChordSegment, Note, best_reading, segment_chords
from models.theory import Key

SPB = 0.5  # seconds per beat at 120 BPM


def block(beat: float, beats: float, pitches: Sequence[int], velocity: int = 80) -> list[Note]:
    return [
        Note(beat * SPB, (beat + beats) * SPB, p, velocity, beat, beat + beats) for p in pitches
    ]


def summary(segments: list[ChordSegment]) -> list[tuple[float, float, str | None, str | None]]:
    return [
        (s.start_beat, s.end_beat, s.chord.symbol if s.chord else None, s.numeral) for s in segments
    ]


def test_block_chords_in_c_major() -> None:
    notes = (
        block(0, 4, [48, 64, 67, 72])
        + block(4, 4, [53, 65, 69, 72])
        + block(8, 4, [43, 62, 67, 71])
        + block(12, 4, [48, 64, 67, 72])
    )
    segments = segment_chords(notes)
    assert summary(segments) == [
        (0.0, 4.0, "C", "I"),
        (4.0, 8.0, "F", "IV"),
        (8.0, 12.0, "G", "V"),
        (12.0, 16.0, "C", "I"),
    ]
    assert all(s.key == Key(0, "major") for s in segments)
    assert segments[1].start_s == 2.0 and segments[-1].end_s == 8.0


def test_inversions_in_a_minor() -> None:
    notes = (
        block(0, 2, [45, 64, 69, 72])  # i
        + block(2, 2, [41, 62, 69, 74])  # iv6 (F in the bass)
        + block(4, 2, [44, 64, 71, 76])  # V6 (G# in the bass)
        + block(6, 2, [45, 64, 69, 72])  # i
    )
    segments = segment_chords(notes)
    assert [(s.chord.symbol if s.chord else None, s.numeral) for s in segments] == [
        ("Am", "i"),
        ("Dm/F", "iv6"),
        ("E/G#", "V6"),
        ("Am", "i"),
    ]
    assert segments[0].key == Key(9, "minor")


def test_passing_tones_do_not_make_chords() -> None:
    # C major held for a bar while the melody runs C-D-E-F-G (D and F off the beat).
    notes = block(0, 4, [48, 55, 64])
    for i, pitch in enumerate([72, 74, 76, 77, 79, 77, 76, 74]):
        notes += block(i * 0.5, 0.5, [pitch])
    notes += block(4, 4, [43, 59, 62, 67])  # G
    segments = segment_chords(notes)
    assert summary(segments) == [(0.0, 4.0, "C", "I"), (4.0, 8.0, "G", "V")]


def test_a_suspension_resolving_inside_the_beat_stays_the_dominant() -> None:
    # G bass and D held; the soprano holds C over from the previous C chord (4-3) then B.
    notes = block(0, 2, [48, 55, 64, 72])
    notes += block(2, 2, [43, 62])
    notes += block(2, 0.75, [72]) + block(2.75, 1.25, [71])
    notes += block(4, 2, [48, 55, 64, 72])
    assert [s.chord.symbol if s.chord else None for s in segment_chords(notes)] == ["C", "G", "C"]


def test_sevenths_and_diminished_chords() -> None:
    notes = (
        block(0, 2, [48, 63, 67, 72])  # C minor
        + block(2, 2, [43, 59, 65, 74])  # G7 without its fifth
        + block(4, 2, [48, 63, 67, 72])  # C minor
        + block(6, 2, [47, 62, 65, 68])  # B dim7
        + block(8, 2, [48, 63, 67, 72])  # C minor
        + block(10, 2, [44, 60, 63, 72])  # Ab
    )
    segments = segment_chords(notes)
    assert [s.chord.symbol if s.chord else None for s in segments] == [
        "Cm", "G7", "Cm", "Bdim7", "Cm", "Ab"
    ]  # fmt: skip
    assert segments[0].key == Key(0, "minor")
    assert [s.numeral for s in segments] == ["i", "V7", "i", "vii°7", "i", "VI"]


def test_silence_is_no_chord_and_empty_input_is_no_segments() -> None:
    notes = block(0, 4, [48, 64, 67]) + block(8, 4, [53, 65, 69])
    chords = [s.chord.symbol if s.chord else None for s in segment_chords(notes)]
    assert chords == ["C", None, "F"]
    assert segment_chords([]) == []
    assert segment_chords([Note(1.0, 1.0, 60, 80, 2.0, 2.0)]) == []  # zero length


def test_local_keys_follow_a_modulation() -> None:
    c_major = [[48, 64, 67], [53, 65, 69], [55, 62, 71], [48, 64, 67]]
    g_major = [[43, 59, 62], [48, 64, 67], [50, 66, 69], [43, 59, 62]]
    notes, beat = [], 0.0
    for progression in [c_major] * 6 + [g_major] * 6:
        for pitches in progression:
            notes += block(beat, 2, pitches)
            beat += 2
    segments = segment_chords(notes)
    assert segments[0].key == Key(0, "major") and segments[-1].key == Key(7, "major")
    assert segments[-1].numeral == "I" and segments[0].numeral == "I"


def test_beat_to_seconds_mapping_is_used() -> None:
    notes = block(0, 2, [48, 64, 67]) + block(2, 2, [43, 62, 71])
    segments = segment_chords(notes, beat_to_seconds=lambda beat: beat * 0.25 + 10.0)
    assert [(s.start_s, s.end_s) for s in segments] == [(10.0, 10.5), (10.5, 11.0)]


def test_best_reading_of_one_window() -> None:
    weights = [0.0] * 12
    for pc, w in ((2, 1.0), (5, 1.0), (9, 1.0), (0, 1.0)):
        weights[pc] = w
    chord = best_reading(weights, bass_pc=5)
    assert chord is not None and chord.symbol in ("Dm7/F", "F6")
    assert best_reading([0.0] * 12) is None

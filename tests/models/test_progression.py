"""Seeded progressions end on cadences; voicings are complete, in range and move little."""

from __future__ import annotations

import itertools

import pytest

from models.chords import QUALITY_INTERVALS, function, make_chord
from models.progression import (
    ALTO_RANGE,
    BASS_RANGE,
    SOPRANO_RANGE,
    TENOR_RANGE,
    generate,
    voice,
    voice_chords,
)
from models.theory import Key

KEYS = [Key.parse(k) for k in ("C major", "A minor", "Eb major", "F# minor", "Bb minor")]
RANGES = (BASS_RANGE, TENOR_RANGE, ALTO_RANGE, SOPRANO_RANGE)
CASES = [
    (key, bars, style, seed)
    for key in KEYS
    for bars, style, seed in ((4, 0.0, 1), (8, 0.0, 2), (8, 1.0, 3), (8, 0.5, 4))
]


def test_same_seed_same_progression_other_seeds_vary() -> None:
    key = KEYS[0]
    assert generate(key, 8, 0.5, 11) == generate(key, 8, 0.5, 11)
    assert len({generate(key, 8, 0.5, seed).numerals for seed in range(8)}) > 3


@pytest.mark.parametrize(("key", "bars", "style", "seed"), CASES)
def test_ends_with_an_authentic_cadence(key: Key, bars: int, style: float, seed: int) -> None:
    p = generate(key, bars, style, seed)
    assert len(p.chords) == bars and p.total_beats == 4 * bars
    tonic = "I" if key.mode == "major" else "i"
    assert p.numerals[0] == tonic and p.numerals[-1] == tonic
    assert p.numerals[-2] in ("V", "V7")
    assert function(p.chords[-3].chord, key) == "predominant"
    assert all(a != b for a, b in itertools.pairwise(p.numerals))
    if bars == 8:
        assert p.numerals[3] in ("V", "V7")  # half cadence closing the first phrase
    assert [c.start for c in p.chords] == [4.0 * i for i in range(bars)]


def test_bar_counts_and_chords_per_bar() -> None:
    for bars in (1, 2, 3, 5, 16, 32):
        p = generate(KEYS[1], bars, 0.3, bars)
        assert len(p.chords) == bars
    p = generate(KEYS[0], 4, 0.0, 5, chords_per_bar=2)
    assert len(p.chords) == 8 and [c.duration for c in p.chords] == [2.0] * 8
    for bars, per_bar in ((0, 1), (33, 1), (4, 3)):
        with pytest.raises(ValueError):
            generate(KEYS[0], bars, 0.0, 0, per_bar)


def test_diatonic_style_stays_in_the_key() -> None:
    from models.next_chord import is_diatonic

    numerals = [n for seed in range(20) for n in generate(KEYS[0], 8, 0.0, seed).numerals]
    assert sum(is_diatonic(n, "major") for n in numerals) / len(numerals) >= 0.95


@pytest.mark.parametrize(("key", "bars", "style", "seed"), CASES)
def test_voicings_are_exact_in_range_and_smooth(
    key: Key, bars: int, style: float, seed: int
) -> None:
    p = generate(key, bars, style, seed, chords_per_bar=2)
    voicings = voice(p)
    assert len(voicings) == len(p.chords)
    for chord, v in zip(p.chords, voicings, strict=True):
        notes = v.notes
        assert list(notes) == sorted(notes) and len(set(notes)) == 4
        for note, (low, high) in zip(notes, RANGES, strict=True):
            assert low <= note <= high
        pcs = {n % 12 for n in notes}
        assert notes[0] % 12 == chord.chord.bass
        assert pcs <= chord.chord.pitch_classes
        fifth = (chord.chord.root + 7) % 12
        assert chord.chord.pitch_classes - {fifth} <= pcs  # only a fifth may be left out
        assert v.upper[2] - v.upper[0] <= 24
    moves = [
        abs(b - a)
        for prev, cur in itertools.pairwise(voicings)
        for a, b in zip(prev.upper, cur.upper, strict=True)
    ]
    assert sum(moves) / len(moves) <= 3.0
    assert max(moves) <= 9


def test_outer_voices_avoid_parallel_fifths_and_octaves() -> None:
    transitions = parallels = 0
    for key, bars, style, seed in CASES:
        voicings = voice(generate(key, bars, style, seed))
        for prev, cur in itertools.pairwise(voicings):
            transitions += 1
            b0, s0, b1, s1 = prev.bass, prev.notes[3], cur.bass, cur.notes[3]
            moving = b0 != b1 and s0 != s1
            if moving and (s0 - b0) % 12 == (s1 - b1) % 12 and (s1 - b1) % 12 in (0, 7):
                parallels += 1
    assert parallels <= 0.02 * transitions


def test_common_tones_are_held() -> None:
    c, am = make_chord(0, ""), make_chord(9, "m")  # share C and E
    first, second = voice_chords([c, am])
    assert set(first.upper) & set(second.upper)
    shared = held = 0
    for key, bars, style, seed in CASES:
        p = generate(key, bars, style, seed)
        for (a, va), (b, vb) in itertools.pairwise(zip(p.chords, voice(p), strict=True)):
            if a.chord.pitch_classes & b.chord.pitch_classes:
                shared += 1
                held += bool(set(va.upper) & set(vb.upper))
    assert held >= 0.8 * shared


def test_sevenths_and_inversions_voice_completely() -> None:
    chords = [make_chord(2, "m7"), make_chord(7, "7", 5), make_chord(0, "maj7", 4)]
    for chord, v in zip(chords, voice_chords(chords), strict=True):
        pcs = {n % 12 for n in v.notes}
        required = {(chord.root + i) % 12 for i in QUALITY_INTERVALS[chord.quality]}
        assert required - {(chord.root + 7) % 12} <= pcs and v.bass % 12 == chord.bass

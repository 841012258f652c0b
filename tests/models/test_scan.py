"""Scanning a lyric sheet (syllables, stress, rhyme scheme) and fitting it to a melody."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.lyrics import phonemes as ph
from models.lyrics.dictionary import Pronouncer
from models.lyrics.scan import (
    MAX_LINES,
    MelodyNote,
    fit,
    metric_weight,
    phrases,
    scan,
    split_words,
)


@pytest.fixture(scope="module")
def pronouncer() -> Pronouncer:
    return Pronouncer()


def test_phoneme_helpers_read_cmudict_notation() -> None:
    fire = ("F", "AY1", "ER0")
    assert ph.syllables(fire) == 2 and ph.stress_pattern(fire) == "10"
    assert ph.rhyme_part(("D", "IH0", "Z", "AY1", "ER0")) == ("AY", "ER")
    assert ph.rhyme_part(("N", "EY1", "SH", "AH0", "N")) == ("EY", "SH", "AH", "N")
    assert ph.tail_syllables(("T", "EH1", "N", "D", "ER0", "L", "IY0"), 3) == (
        "EH", "N", "D", "ER", "L", "IY")  # fmt: skip
    assert ph.onset_before(("S", "T", "EY1", "SH", "AH0", "N"), 2) == ("S", "T")
    assert ph.rhyme_part(()) == () and ph.syllables(("S", "T")) == 0


def test_lines_get_syllables_stress_and_an_abab_scheme(pronouncer: Pronouncer) -> None:
    sheet = scan(
        "The night is young and full of fire,\nwe run until the stars are gone,\n"
        "and every spark becomes desire,\nwe sing until the break of dawn.\n",
        pronouncer,
    )
    sung = sheet.sung_lines
    assert [line.syllables for line in sung] == [9, 8, 10, 8]
    assert [line.letter for line in sung] == ["A", "B", "A", "B"]
    assert sheet.stanzas[0].pattern == "ABAB"
    assert sung[1].stress.startswith("11") and len(sung[1].stress) == 8
    assert all(line.certain for line in sung)


def test_stanzas_restart_their_letters_and_repeated_words_rhyme(pronouncer: Pronouncer) -> None:
    sheet = scan("hold me close\nhold me close\nlet it go\n\nrain\nagain\n", pronouncer)
    # close/close repeat; go does not rhyme with close; again (a-GAIN) rhymes with rain
    assert [s.pattern for s in sheet.stanzas] == ["AAB", "AA"]
    sheet = scan("I walk alone\nthe sky is blue\nI'm on my own\nand so are you", pronouncer)
    assert sheet.stanzas[0].pattern == "ABAB"


def test_unknown_words_make_a_line_uncertain_not_wrong(pronouncer: Pronouncer) -> None:
    sheet = scan("love 日本 love\n🎸🎸🎸\n\x00\x07 bell\n", pronouncer)
    first, emoji, controls = sheet.lines[0], sheet.lines[1], sheet.lines[2]
    assert first.syllables == 2 and not first.certain and first.unknown_words == ["日本"]
    assert emoji.blank and emoji.syllables == 0
    assert controls.syllables == 1 and [w.text for w in controls.words] == ["bell"]
    assert split_words("well-known rock'n'roll don’t") == [
        ("well", 0), ("known", 5), ("rock'n'roll", 11), ("don’t", 23)]  # fmt: skip


def test_a_huge_paste_is_scanned_in_bounded_time(pronouncer: Pronouncer) -> None:
    text = ("midnight highway sirens calling " * 8 + "\n") * 40_000  # ~10 MB
    started = time.perf_counter()
    sheet = scan(text, pronouncer)
    assert time.perf_counter() - started < 5.0
    assert sheet.lines_not_scanned == 40_001 - MAX_LINES
    assert sheet.words_not_scanned > 0 and len(sheet.lines) == MAX_LINES


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=400))
def test_any_text_scans_without_error(pronouncer: Pronouncer, text: str) -> None:
    sheet = scan(text, pronouncer)
    for line in sheet.lines:
        assert line.syllables >= 0 and len(line.stress) == line.syllables
        assert line.letter == "" or line.letter.isalnum()


def test_metric_weights_in_simple_and_compound_meters() -> None:
    assert [metric_weight(b, 4.0) for b in (0, 1, 2, 3, 0.5, 4)] == [3, 1, 2, 1, 0, 3]
    assert [metric_weight(b, 3.0) for b in (0, 1, 2, 1.5)] == [3, 1, 1, 0]
    # 6/8: two dotted-quarter beats in a bar of 3 quarters
    assert [metric_weight(b, 3.0, 1.5) for b in (0, 1.5, 0.5, 1.0)] == [3, 2, 0, 0]


def test_phrases_split_at_rests_and_keep_the_top_line() -> None:
    notes = [MelodyNote(60, 0, 1), MelodyNote(55, 0, 1), MelodyNote(62, 1, 1),
             MelodyNote(64, 4, 1), MelodyNote(65, 5, 0.5)]  # fmt: skip
    cut = phrases(notes)
    assert [[n.pitch for n in p] for p in cut] == [[60, 62], [64, 65]]


def test_fit_counts_notes_and_finds_a_misplaced_stress(pronouncer: Pronouncer) -> None:
    sheet = scan("hotel lobby\nforever yours tonight\n", pronouncer)
    # "hotel" is ho-TEL. Phrase 1 puts both of its syllables off the beat (0.5, 1.5): no
    # stronger place for the weak one, so no fault; "lobby" gets LOB on the half-bar.
    first = [MelodyNote(60, 0.5, 0.5), MelodyNote(62, 1.5, 0.5), MelodyNote(64, 2, 1),
             MelodyNote(62, 3, 1)]  # fmt: skip
    second = [MelodyNote(60, 8 + i, 1) for i in range(4)]
    fits = fit(sheet, first + second, beats_per_bar=4.0)
    assert fits[0].difference == 0 and fits[0].misplaced_words == ()  # hoTEL on the half-bar
    assert fits[1].difference == 6 - 4
    assert [s.note for s in fits[1].slots][-2:] == [-1, -1]  # two syllables without a note
    wrong = [MelodyNote(60, 0, 1), MelodyNote(62, 1.5, 0.5), MelodyNote(64, 2, 1),
             MelodyNote(62, 3, 1)]  # fmt: skip
    fits = fit(sheet, wrong)
    assert fits[0].misplaced_words == ("hotel",)
    assert [s.misplaced for s in fits[0].slots] == [False, True, False, False]


def test_more_lines_than_phrases_leave_lines_without_notes(pronouncer: Pronouncer) -> None:
    sheet = scan("one line\nanother line\n", pronouncer)
    fits = fit(sheet, [MelodyNote(60, 0, 1), MelodyNote(62, 1, 1)])
    assert fits[0].difference == 0 and fits[1].notes == () and fits[1].difference == 4


def test_a_melody_without_rests_is_cut_into_equal_groups_of_bars(pronouncer: Pronouncer) -> None:
    sheet = scan("one two three four\nfive six seven eight\n", pronouncer)
    notes = [MelodyNote(60 + i % 3, i * 1.0, 1.0) for i in range(16)]  # four bars, no rest
    fits = fit(sheet, notes, beats_per_bar=4.0)
    assert [len(f.notes) for f in fits] == [8, 8]  # two bars a line
    assert [f.notes[0].start for f in fits] == [0.0, 8.0]
    assert fits[0].difference == 4 - 8 and fits[1].difference == 5 - 8

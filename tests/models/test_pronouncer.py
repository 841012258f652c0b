"""The Pronouncer with the shipped G2P attached: CMUdict words, possessives, accents, words
CMUdict lacks (G2P), other languages (hyphenation) and text nobody can pronounce."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from models.lyrics import phonemes as ph
from models.lyrics.dictionary import Pronouncer, cmu_entries
from models.lyrics.g2p import G2P, default_pronouncer

SOURCES = {"cmudict", "g2p", "hyphenation", "unknown"}


@pytest.fixture(scope="module")
def en() -> Pronouncer:
    pronouncer = default_pronouncer()
    assert isinstance(pronouncer.g2p, G2P)
    return pronouncer


@pytest.mark.parametrize(
    ("word", "syllables", "stress"),
    [("hello", 2, "01"), ("idea", 3, "010"), ("Evening", 2, "10"), ("rhythm", 2, "10"),
     ("queue", 1, "1"), ("hallelujah", 4, "2010")],
)  # fmt: skip
def test_cmudict_words(en: Pronouncer, word: str, syllables: int, stress: str) -> None:
    got = en.pronounce(word)
    assert got.source == "cmudict"
    assert got.phones == tuple(cmu_entries()[word.lower()][0])
    assert (got.syllables, got.stress) == (syllables, stress)


def test_punctuation_and_case_around_a_word(en: Pronouncer) -> None:
    assert en.pronounce("“Hello!”") == en.pronounce("hello")
    assert en.pronounce("Don’t").phones == en.pronounce("don't").phones != ()


def test_possessives(en: Pronouncer) -> None:
    assert "rhythm's" not in cmu_entries() and "tune's" not in cmu_entries()
    rhythm = en.pronounce("rhythm's")
    assert rhythm.source == "cmudict" and rhythm.phones[-1] == "Z" and rhythm.syllables == 2
    tune = en.pronounce("tune's")
    assert tune.phones == (*cmu_entries()["tune"][0], "Z")
    chorus = en.pronounce("chorus's")
    assert chorus.syllables == en.syllables("chorus") + 1  # /IH Z/ after a sibilant
    beat = en.pronounce("beat's")
    assert beat.phones[-1] == "S" and beat.syllables == 1


@pytest.mark.parametrize(
    ("word", "syllables"),
    [("naïve", 2), ("Café", 2), ("Beyoncé", 3), ("Pokémon", 3), ("rosé", 2), ("touché", 2)],
)
def test_accented_latin_words(en: Pronouncer, word: str, syllables: int) -> None:
    got = en.pronounce(word)
    assert got.source in ("cmudict", "g2p") and got.syllables == syllables, got


@pytest.mark.parametrize(
    ("word", "syllables"),
    [("yeet", 1), ("rizz", 1), ("skibidi", 3), ("vlogger", 2), ("frenemies", 3),
     ("staycation", 3), ("doomscrolling", 3), ("Quidditch", 2), ("vibranium", 4)],
)  # fmt: skip
def test_words_cmudict_lacks_get_counts_from_g2p(en: Pronouncer, word: str, syllables: int) -> None:
    assert word.lower() not in cmu_entries()
    got = en.pronounce(word)
    assert got.source == "g2p", got
    assert got.syllables == syllables, got
    assert len(got.stress) == got.syllables and set(got.stress) <= set("012")
    assert "1" in got.stress


def test_without_g2p_misses_fall_back_to_hyphenation() -> None:
    plain = Pronouncer()
    got = plain.pronounce("staycation")
    assert got.source == "hyphenation" and got.phones == () and got.syllables > 0


def test_too_long_for_the_network_falls_back_to_hyphenation(en: Pronouncer) -> None:
    got = en.pronounce("supercalifragilisticexpialidocious")
    assert got.source == "hyphenation" and got.syllables >= 10


@pytest.mark.parametrize(
    ("language", "word", "syllables"),
    [("de", "Schmetterling", 3), ("es", "mariposa", 4), ("it", "farfalla", 3),
     ("ru", "бабочка", 3), ("el", "πεταλούδα", 4)],
)  # fmt: skip
def test_other_languages_count_by_hyphenation(language: str, word: str, syllables: int) -> None:
    pronouncer = default_pronouncer(language)
    assert pronouncer.g2p is None
    got = pronouncer.pronounce(word)
    assert (got.source, got.syllables, got.phones) == ("hyphenation", syllables, ())


@pytest.mark.parametrize("text", ["привет", "日本語", "🎸", "12345", "", "\x00\x07", "a" * 200])
def test_unknown_scripts_and_non_words(en: Pronouncer, text: str) -> None:
    got = en.pronounce(text)
    assert got.source == "unknown" and got.syllables == 0 and got.stress == ""
    assert not got.known


def test_japanese_is_unknown_in_german_too() -> None:
    assert default_pronouncer("de").pronounce("日本語").source == "unknown"


_EN = default_pronouncer()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=40))
@example("yeet\u0301")
@example("x\u200by")
@example("SH")  # in CMUdict without a vowel: counted by hyphenation, not as a word of none
def test_any_text_gets_a_consistent_answer(text: str) -> None:
    got = _EN.pronounce(text)
    assert got.source in SOURCES
    assert got.syllables >= 0
    if got.source in ("cmudict", "g2p"):
        assert got.syllables == ph.syllables(got.phones) > 0
        assert len(got.stress) == got.syllables
    if got.source == "unknown":
        assert got.syllables == 0 and got.phones == ()

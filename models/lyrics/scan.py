"""Scan a lyric sheet and fit its lines to a melody.

**Scan.** Lines are split into words (letters, digits and inner apostrophes; a hyphen splits a
compound, so *well-known* is two words). Each word gets its pronunciation from a
:class:`~models.lyrics.dictionary.Pronouncer`: syllables and stress. A line's count is the sum;
when any word is unknown (an emoji, a script nobody covers) the line's count is marked
uncertain and the unknown words are listed. Blank lines separate stanzas.

**Rhyme scheme.** Within a stanza, line-end words whose rhyme parts (the last stressed vowel to
the end: :func:`models.lyrics.phonemes.rhyme_part`, over every pronunciation the dictionary
lists) are equal share a letter, A, B, C... in order of appearance; so does the same word
repeated. Words counted by hyphenation (other languages) compare their spelling from the last
vowel group on (:func:`spelled_rhyme`). Lines whose end word has no known
pronunciation, and blank lines, get no letter. The stanza's pattern is the letters joined
(``"ABAB"``).

**Fit.** The melody (notes in beats, one line of notes, e.g. from the project or a ``.mid``) is
split into phrases at rests of at least :data:`PHRASE_REST_BEATS` (gaps between one note's
end and the next note's start). A melody that never rests (one phrase) sung to several lines
is cut into equal groups of whole bars instead: the melody's bars divided by the lines,
rounded up. Line ``i`` of the sheet (non-blank lines, in
order) is sung to phrase ``i``. Syllables take notes one to one, in order: extra notes are a
melisma on the last syllable ("too few syllables"), extra syllables have no note ("too many").
Each note's metric weight comes from its position in the bar: 3 on the downbeat, 2 on the
half-bar of an even meter (the 4 of 12/8 and 6/8's second dotted beat included), 1 on other
beats, 0 off the beat. A **misplaced stress** is a word of two or more syllables whose
primary-stressed syllable falls on a weaker position than one of its unstressed syllables
(*ho-TEL* sung *HO-tel*); single-syllable words are not judged, since sung English lets them
fall either way.

Limits: at most :data:`MAX_LINES` lines and :data:`MAX_WORDS` words are scanned (the rest is
counted as not scanned), so a pasted megabyte answers in bounded time.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from models.lyrics import phonemes as ph
from models.lyrics.dictionary import Pronouncer, Pronunciation

MAX_LINES = 2000
MAX_WORDS = 20000
MAX_LINE_CHARS = 2000  # characters of one line looked at; a longer line is cut there
PHRASE_REST_BEATS = 1.0
# A word: letters and digits with the combining marks written on them (Devanagari vowel
# signs, Thai vowels, accents typed as marks), apostrophes inside.
_PART = r"(?:[^\W_]|[\u0300-\u036f\u0900-\u0dff\u0e31-\u0e4e\u1ab0-\u1aff\u20d0-\u20ff])+"
_WORD = re.compile(_PART + r"(?:['\u2019]" + _PART + r")*", re.UNICODE)


@dataclass(frozen=True)
class WordScan:
    text: str  # as written
    start: int  # character offset in the line
    pronunciation: Pronunciation

    @property
    def syllables(self) -> int:
        return self.pronunciation.syllables

    @property
    def known(self) -> bool:
        return self.pronunciation.known


@dataclass(frozen=True)
class LineScan:
    number: int  # 0-based line number in the sheet
    text: str
    words: tuple[WordScan, ...]
    letter: str = ""  # rhyme-scheme letter within its stanza ("" for none)

    @property
    def syllables(self) -> int:
        return sum(w.syllables for w in self.words)

    @property
    def certain(self) -> bool:
        """Every word's count is known (from the dictionary, the G2P or hyphenation)."""
        return all(w.known for w in self.words)

    @property
    def unknown_words(self) -> list[str]:
        return [w.text for w in self.words if not w.known]

    @property
    def stress(self) -> str:
        """Stress digits of the line's known words, in order ("?" per syllable whose stress
        is unknown: hyphenation counts without stress)."""
        out = []
        for w in self.words:
            p = w.pronunciation
            out.append(p.stress if p.stress else "?" * p.syllables)
        return "".join(out)

    @property
    def blank(self) -> bool:
        return not self.words


@dataclass(frozen=True)
class Stanza:
    lines: tuple[LineScan, ...]

    @property
    def pattern(self) -> str:
        return "".join(line.letter or "-" for line in self.lines)


@dataclass(frozen=True)
class SheetScan:
    lines: tuple[LineScan, ...]  # every line, blank ones included
    stanzas: tuple[Stanza, ...]
    lines_not_scanned: int = 0
    words_not_scanned: int = 0

    @property
    def sung_lines(self) -> list[LineScan]:
        return [line for line in self.lines if not line.blank]


def split_words(line: str) -> list[tuple[str, int]]:
    """Words of a line with their character offsets (control characters count as spaces)."""
    clean = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in line)
    return [(m.group(0), m.start()) for m in _WORD.finditer(clean[:MAX_LINE_CHARS])]


def scan_line(number: int, text: str, pronouncer: Pronouncer) -> LineScan:
    words = tuple(WordScan(w, s, pronouncer.pronounce(w)) for w, s in split_words(text))
    return LineScan(number, text, words)


def _rhyme_keys(line: LineScan, pronouncer: Pronouncer) -> set[tuple[str, ...]]:
    """Rhyme parts of the end word, over every pronunciation the dictionary lists (*again*
    rhymes with *rain* and with *pen*)."""
    if line.blank:
        return set()
    last = line.words[-1].pronunciation
    variants = [last.phones, *pronouncer.all_phones(last.word)]
    keys = {part for p in variants if p and (part := ph.rhyme_part(p))}
    if not keys and last.source == "hyphenation":
        tail = spelled_rhyme(last.word)
        if tail:
            keys.add(("spelling", tail))
    return keys


_VOWEL_LETTERS = frozenset("aeiouyäöüáéíóúàèìòùâêîôûëïœæåøãõ")


def spelled_rhyme(word: str) -> str:
    """For words known only by hyphenation (other languages): the spelling from the last
    group of vowel letters to the end (*Nacht*, *bedacht* → ``acht``). A spelling rule, not
    a pronunciation; English never uses it."""
    letters = word.lower()
    end = len(letters)
    i = end - 1
    while i >= 0 and letters[i] not in _VOWEL_LETTERS:
        i -= 1
    if i < 0:
        return ""
    while i > 0 and letters[i - 1] in _VOWEL_LETTERS:
        i -= 1
    return letters[i:]


def scan(text: str, pronouncer: Pronouncer) -> SheetScan:
    """Scan a whole sheet (see the module notes)."""
    raw = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines_not_scanned = max(0, len(raw) - MAX_LINES)
    lines: list[LineScan] = []
    words_left = MAX_WORDS
    words_not_scanned = 0
    for number, raw_line in enumerate(raw[:MAX_LINES]):
        found = split_words(raw_line)
        kept = raw_line
        if len(found) > words_left:
            words_not_scanned += len(found) - words_left
            kept = raw_line[: found[words_left][1]] if words_left > 0 else ""
        scanned = scan_line(number, kept, pronouncer)
        words_left -= len(scanned.words)
        lines.append(scanned)
    lines = _letter(lines, pronouncer)
    stanzas: list[Stanza] = []
    current: list[LineScan] = []
    for line in lines:
        if line.blank:
            if current:
                stanzas.append(Stanza(tuple(current)))
                current = []
        else:
            current.append(line)
    if current:
        stanzas.append(Stanza(tuple(current)))
    return SheetScan(tuple(lines), tuple(stanzas), lines_not_scanned, words_not_scanned)


def _letter(lines: list[LineScan], pronouncer: Pronouncer) -> list[LineScan]:
    out: list[LineScan] = []
    keys: dict[tuple[str, ...], str] = {}
    words: dict[str, str] = {}
    for line in lines:
        if line.blank:
            keys, words = {}, {}  # a new stanza starts its letters again
            out.append(line)
            continue
        found = _rhyme_keys(line, pronouncer)
        end = line.words[-1].pronunciation.word
        letter = next((keys[k] for k in sorted(found) if k in keys), None) or words.get(end)
        if letter is None and (found or line.words[-1].known):
            letter = _letter_name(len(set(keys.values()) | set(words.values())))
        if letter is not None:
            for key in found:
                keys.setdefault(key, letter)
            words.setdefault(end, letter)
        out.append(LineScan(line.number, line.text, line.words, letter or ""))
    return out


def _letter_name(index: int) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return letters[index] if index < 26 else f"{letters[index % 26]}{index // 26}"


# -- fitting a melody ------------------------------------------------------------------------


@dataclass(frozen=True)
class MelodyNote:
    pitch: int
    start: float  # beats
    duration: float


@dataclass(frozen=True)
class SyllableSlot:
    word: str
    syllable: int  # index within the word
    stress: str  # "1", "2", "0" or "?"
    note: int  # index into the phrase's notes, or -1 when the syllable has no note
    beat: float  # start beat of its note (-1 without one)
    weight: int  # metric weight of its note, 0..3 (-1 without one)
    misplaced: bool = False


@dataclass(frozen=True)
class LineFit:
    line: LineScan
    notes: tuple[MelodyNote, ...]  # the phrase sung to this line (empty: no phrase left)
    slots: tuple[SyllableSlot, ...]
    misplaced_words: tuple[str, ...] = field(default=())

    @property
    def difference(self) -> int:
        """Syllables minus notes: > 0 too many syllables, < 0 too few."""
        return self.line.syllables - len(self.notes)


def phrases(
    notes: Sequence[MelodyNote], rest_beats: float = PHRASE_REST_BEATS
) -> list[list[MelodyNote]]:
    """The melody cut at rests (gaps between one note's end and the next start) of at least
    ``rest_beats``; overlapping notes keep only the highest (a top line)."""
    ordered = sorted(notes, key=lambda n: (n.start, -n.pitch))
    line: list[MelodyNote] = []
    for n in ordered:
        if line and abs(n.start - line[-1].start) < 1e-6:
            continue  # a lower note of the same onset
        line.append(n)
    out: list[list[MelodyNote]] = []
    for n in line:
        if out and n.start - (out[-1][-1].start + out[-1][-1].duration) < rest_beats - 1e-6:
            out[-1].append(n)
        else:
            out.append([n])
    return out


def bar_groups(
    notes: Sequence[MelodyNote], lines: int, beats_per_bar: float
) -> list[list[MelodyNote]]:
    """The top line cut into groups of whole bars, ``ceil(bars / lines)`` bars each."""
    line = [n for phrase in phrases(notes, rest_beats=float("inf")) for n in phrase]
    end = max(n.start + n.duration for n in line)
    bars = max(1, math.ceil(end / beats_per_bar - 1e-6))
    size = max(1, math.ceil(bars / max(1, lines))) * beats_per_bar
    groups: dict[int, list[MelodyNote]] = {}
    for n in line:
        groups.setdefault(int((n.start + 1e-6) // size), []).append(n)
    return [groups[k] for k in sorted(groups)]


def metric_weight(beat: float, beats_per_bar: float, beat_unit_beats: float = 1.0) -> int:
    """3 downbeat, 2 half-bar (even meters), 1 other beats, 0 off the beat. ``beat`` and
    ``beats_per_bar`` are in quarter notes; ``beat_unit_beats`` is the felt beat (1.5 for
    compound meters such as 6/8)."""
    pos = beat % beats_per_bar
    eps = 1e-6
    if pos < eps or beats_per_bar - pos < eps:
        return 3
    units = round(beats_per_bar / beat_unit_beats)
    if units % 2 == 0 and abs(pos - beats_per_bar / 2) < eps:
        return 2
    ratio = pos / beat_unit_beats
    if abs(ratio - round(ratio)) < eps:
        return 1
    return 0


def fit(
    sheet: SheetScan,
    notes: Sequence[MelodyNote],
    beats_per_bar: float = 4.0,
    beat_unit_beats: float = 1.0,
) -> list[LineFit]:
    """Each sung line against its phrase of the melody (see the module notes)."""
    cut = phrases(notes)
    lines_wanted = len(sheet.sung_lines)
    if len(cut) == 1 and lines_wanted > 1:
        cut = bar_groups(notes, lines_wanted, beats_per_bar)
    out = []
    for i, line in enumerate(sheet.sung_lines):
        phrase = tuple(cut[i]) if i < len(cut) else ()
        slots: list[SyllableSlot] = []
        misplaced: list[str] = []
        k = 0
        for word in line.words:
            p = word.pronunciation
            stress = p.stress or "?" * p.syllables
            word_slots = []
            for s in range(p.syllables):
                if k < len(phrase):
                    n = phrase[k]
                    weight = metric_weight(n.start, beats_per_bar, beat_unit_beats)
                    word_slots.append(SyllableSlot(word.text, s, stress[s], k, n.start, weight))
                else:
                    word_slots.append(SyllableSlot(word.text, s, stress[s], -1, -1.0, -1))
                k += 1
            bad = _misplaced(word_slots)
            if bad:
                misplaced.append(word.text)
                word_slots = [
                    SyllableSlot(x.word, x.syllable, x.stress, x.note, x.beat, x.weight,
                                 x.stress == "1")
                    for x in word_slots
                ]  # fmt: skip
            slots.extend(word_slots)
        out.append(LineFit(line, phrase, tuple(slots), tuple(misplaced)))
    return out


def _misplaced(slots: list[SyllableSlot]) -> bool:
    if len(slots) < 2 or any(s.note < 0 for s in slots):
        return False
    primary = [s.weight for s in slots if s.stress == "1"]
    weak = [s.weight for s in slots if s.stress == "0"]
    return bool(primary and weak and max(primary) < max(weak))

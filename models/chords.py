"""Chord naming from MIDI notes, Roman numerals and harmonic function in a key.

:func:`name_chord` reduces the notes to a pitch-class set plus the lowest note (the bass) and
scores every reading "template T on root R" that explains all the pitch classes. Lower cost
wins: common chords are cheap (major < minor < 7 < m7 < maj7 < ... < altered), an omitted fifth
(allowed in sevenths, ninths and, for dyads, in major/minor triads) costs a little, and a root
that is not in the bass costs more than any difference between two common qualities. So:

* the root-position reading wins when there is one: C-E-G-A over C is ``C6``, over G ``Am7/G``;
  D-F-A-B over D is ``Dm6`` (not ``Bm7b5/D``); a diminished seventh or augmented triad is named
  after its bass note (``Cdim7`` inverted over Eb is ``Ebdim7``); C-D-G over G is ``Gsus4``.
* with no root in the bass the commoner quality wins (``Am7/E`` over ``C6/E``; ``Gsus4/D`` over
  ``Csus2/D``).

Policy for thin input: one pitch class (a single note or octaves) is not a chord -> ``None``.
Dyads: a fifth or fourth is a power chord (``C5``, ``C5/G``); a third or sixth names the triad it
implies with its fifth left out (C-E is ``C``, A-C is ``Am``, C-A is ``Am/C``); seconds, sevenths
and the tritone -> ``None``. A set that no template explains (a cluster, an 11th) -> ``None``.

Roman numerals use figured-bass inversions: triads ``V``, ``V6``, ``V6/4``; sevenths ``V7``,
``V6/5``, ``V4/3``, ``V4/2``. Upper case is a major third, lower case minor; ``°`` diminished,
``ø7`` half diminished, ``+`` augmented, ``maj7`` a major seventh (``IVmaj7``, ``imaj7``).
Other qualities append their chord-symbol suffix to the root-position numeral (``Vsus4``,
``Iadd9``, ``V9``; a sixth chord is ``Iadd6`` so it never reads as an inversion). Chromatic
roots carry ``b``/``#`` relative to the key's own scale (natural minor for minor keys, where the
leading-tone chords stay ``vii°``): ``bVI``, ``bVII``, ``iv`` in major. A major triad or a
dominant seventh/ninth that is not diatonic and lies a fifth above a diatonic, non-tonic,
non-diminished degree is a secondary dominant: ``V/V``, ``V7/vi``, ``V6/5/ii`` (in minor not
of VII: D major in A minor is ``IV``; A major in A minor is the Picardy ``I``, A7 ``V7/iv``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from models.theory import (
    MAJOR_KEY_NAMES,
    MINOR_KEY_NAMES,
    Key,
    interval,
    pretty,
    simple_name,
    spell_above,
    transpose,
)


@dataclass(frozen=True)
class ChordTemplate:
    """A chord quality: its symbol suffix, intervals above the root and naming cost."""

    quality: str
    intervals: tuple[int, ...]
    cost: float
    optional: tuple[int, ...] = ()  # intervals that may be left out (the fifth)


_FIFTH = (7,)
TEMPLATES: tuple[ChordTemplate, ...] = (
    ChordTemplate("", (0, 4, 7), 0.0, _FIFTH),
    ChordTemplate("m", (0, 3, 7), 0.1, _FIFTH),
    ChordTemplate("7", (0, 4, 7, 10), 0.5, _FIFTH),
    ChordTemplate("m7", (0, 3, 7, 10), 0.6, _FIFTH),
    ChordTemplate("maj7", (0, 4, 7, 11), 0.7, _FIFTH),
    ChordTemplate("5", (0, 7), 0.8),
    ChordTemplate("dim", (0, 3, 6), 1.0),
    ChordTemplate("sus4", (0, 5, 7), 1.0),
    ChordTemplate("6", (0, 4, 7, 9), 1.0),
    ChordTemplate("m7b5", (0, 3, 6, 10), 1.1),
    ChordTemplate("sus2", (0, 2, 7), 1.2),
    ChordTemplate("m6", (0, 3, 7, 9), 1.2),
    ChordTemplate("add9", (0, 2, 4, 7), 1.2),
    ChordTemplate("aug", (0, 4, 8), 1.3),
    ChordTemplate("dim7", (0, 3, 6, 9), 1.3),
    ChordTemplate("madd9", (0, 2, 3, 7), 1.4),
    ChordTemplate("9", (0, 2, 4, 7, 10), 1.5, _FIFTH),
    ChordTemplate("7sus4", (0, 5, 7, 10), 1.5),
    ChordTemplate("maj9", (0, 2, 4, 7, 11), 1.6, _FIFTH),
    ChordTemplate("m9", (0, 2, 3, 7, 10), 1.6, _FIFTH),
    ChordTemplate("mMaj7", (0, 3, 7, 11), 1.8, _FIFTH),
    ChordTemplate("7#5", (0, 4, 8, 10), 2.0),
    ChordTemplate("7b9", (0, 1, 4, 7, 10), 2.2, _FIFTH),
    ChordTemplate("7#9", (0, 3, 4, 7, 10), 2.2, _FIFTH),
)
QUALITY_INTERVALS: dict[str, tuple[int, ...]] = {t.quality: t.intervals for t in TEMPLATES}
OMITTED_TONE_COST = 0.4
INVERSION_COST = 1.0

# Letters above the root at which each interval is written (b5/#5 on the fifth, 6 on the sixth).
_LETTER_STEPS = (0, 1, 1, 2, 2, 3, 4, 4, 4, 5, 6, 6)
_MINOR_QUALITIES = frozenset({"m", "m7", "m6", "madd9", "m9", "mMaj7", "dim", "m7b5", "dim7"})


@dataclass(frozen=True)
class ChordName:
    """A named chord: root and bass pitch classes, quality suffix and the full symbol."""

    root: int
    quality: str
    bass: int
    symbol: str

    @property
    def pitch_classes(self) -> frozenset[int]:
        """Every tone of the full chord (including a fifth the voicing may have left out)."""
        return frozenset(transpose(self.root, i) for i in QUALITY_INTERVALS[self.quality])

    @property
    def is_inverted(self) -> bool:
        """Whether a tone other than the root is in the bass."""
        return self.bass != self.root

    def pretty(self) -> str:
        """The symbol with ♯/♭: ``"F♯m7♭5"``."""
        return pretty(self.symbol)


def _mask(pcs: Iterable[int]) -> int:
    mask = 0
    for pc in pcs:
        mask |= 1 << pc
    return mask


_TEMPLATE_MASKS = tuple(
    (_mask(t.intervals), _mask(i for i in t.intervals if i not in t.optional)) for t in TEMPLATES
)


@lru_cache(maxsize=8192)
def _best_reading(mask: int, bass: int) -> tuple[int, int] | None:
    """``(root, template index)`` of the cheapest reading of a pitch-class mask, or ``None``."""
    best: tuple[float, int, int] | None = None
    for step in range(12):  # from the bass up, so ties break the same way in every key
        root = (bass + step) % 12
        if not mask >> root & 1:
            continue
        rel = ((mask >> root) | (mask << (12 - root))) & 0xFFF
        for index, (full, required) in enumerate(_TEMPLATE_MASKS):
            if rel & ~full or required & ~rel:
                continue
            missing = bin(full & ~rel).count("1")
            cost = TEMPLATES[index].cost + OMITTED_TONE_COST * missing
            cost += 0.0 if root == bass else INVERSION_COST
            if best is None or cost < best[0]:
                best = (cost, root, index)
    return None if best is None else (best[1], best[2])


def root_name(root: int, quality: str, key: Key | None = None) -> str:
    """How a chord root is written: by the key when given, else the usual lead-sheet name."""
    if key is not None:
        return key.spell(root)
    return (MINOR_KEY_NAMES if quality in _MINOR_QUALITIES else MAJOR_KEY_NAMES)[root]


def make_chord(
    root: int, quality: str, bass: int | None = None, key: Key | None = None
) -> ChordName:
    """Build a :class:`ChordName`, spelling the root by ``key`` and the bass as a chord tone."""
    if quality not in QUALITY_INTERVALS:
        raise ValueError(f"unknown chord quality: {quality!r}")
    bass = root if bass is None else bass
    written_root = root_name(root, quality, key)
    symbol = written_root + quality
    if bass != root:
        offset = interval(root, bass)
        written_bass = spell_above(written_root, offset, _LETTER_STEPS[offset])
        if len(written_bass) > 2 and written_bass[1] == written_bass[2]:  # double accidental
            flats = key.prefers_flats if key is not None else "b" in written_root
            written_bass = key.spell(bass) if key is not None else simple_name(bass, flats)
        symbol += "/" + written_bass
    return ChordName(root, quality, bass, symbol)


def name_chord(pitches: Iterable[int], key: Key | None = None) -> ChordName | None:
    """Name the chord sounded by MIDI notes ``pitches`` (any order, doublings allowed).

    Returns ``None`` for an empty input, a single pitch class or a set no chord explains.
    """
    notes = list(pitches)
    if not notes:
        return None
    bass = min(notes) % 12
    reading = _best_reading(_mask(n % 12 for n in notes), bass)
    if reading is None:
        return None
    root, index = reading
    return make_chord(root, TEMPLATES[index].quality, bass, key)


_NUMERALS = ("I", "II", "III", "IV", "V", "VI", "VII")
_MAJOR_DEGREES = {0: "I", 2: "II", 4: "III", 5: "IV", 7: "V", 9: "VI", 11: "VII"}
_MINOR_DEGREES = {0: "I", 2: "II", 3: "III", 5: "IV", 7: "V", 8: "VI", 10: "VII"}
_MAJOR_CHROMATIC = {1: "bII", 3: "bIII", 6: "#IV", 8: "bVI", 10: "bVII"}
_MINOR_CHROMATIC = {1: "bII", 4: "#III", 6: "#IV", 9: "#VI", 11: "#VII"}
_TRIAD_FIGURES = ("", "6", "6/4")
_SEVENTH_FIGURES = ("7", "6/5", "4/3", "4/2")
_SEVENTH_SUFFIX = {"7": "", "m7": "", "maj7": "maj", "mMaj7": "maj", "m7b5": "ø", "dim7": "°"}
_TRIAD_SUFFIX = {"": "", "m": "", "dim": "°", "aug": "+"}
_OTHER_SUFFIX = {"6": "add6", "m6": "add6", "madd9": "add9", "m9": "9", "7#5": "+7"}
_DIMINISHED = frozenset({"dim", "m7b5", "dim7"})
_DOMINANT = frozenset({"", "7", "9", "7b9", "7#9"})


def _diatonic_pcs(key: Key) -> frozenset[int]:
    extra = {transpose(key.tonic, 11)} if key.mode == "minor" else set()
    return frozenset(key.scale) | extra  # minor: natural plus the leading tone


def _degree_numeral(offset: int, quality: str, key: Key) -> str:
    if key.mode == "major":
        base = _MAJOR_DEGREES.get(offset) or _MAJOR_CHROMATIC[offset]
    elif offset == 11 and quality in _DIMINISHED:
        base = "VII"  # the leading-tone chord of harmonic minor
    else:
        base = _MINOR_DEGREES.get(offset) or _MINOR_CHROMATIC[offset]
    return base.lower() if quality in _MINOR_QUALITIES else base


def _figured(chord: ChordName, numeral: str) -> str:
    quality = chord.quality
    position = QUALITY_INTERVALS[quality].index(interval(chord.root, chord.bass))
    if quality in _TRIAD_SUFFIX:
        return numeral + _TRIAD_SUFFIX[quality] + _TRIAD_FIGURES[position]
    if quality in _SEVENTH_SUFFIX:
        return numeral + _SEVENTH_SUFFIX[quality] + _SEVENTH_FIGURES[position]
    return numeral + _OTHER_SUFFIX.get(quality, quality)


def _secondary_target(chord: ChordName, key: Key) -> str | None:
    """Numeral of the degree this chord is the dominant of, or ``None``."""
    if chord.quality not in _DOMINANT or chord.pitch_classes <= _diatonic_pcs(key):
        return None
    target = transpose(chord.root, -7)
    degree = key.degree_of(target)
    if degree in (None, 0) or (chord.quality == "" and chord.root == key.tonic):
        return None
    if key.mode == "minor" and degree == 6:
        return None  # a major chord on iv's root in minor is the melodic-minor IV, not V/VII
    third = interval(target, key.scale[(degree + 2) % 7])
    fifth = interval(target, key.scale[(degree + 4) % 7])
    if key.mode == "minor" and degree == 4:
        third = 4  # V of a minor key is major
    if fifth == 6:
        return None
    numeral = _NUMERALS[degree]
    return numeral if third == 4 else numeral.lower()


def roman_numeral(chord: ChordName, key: Key) -> str:
    """Roman-numeral analysis of ``chord`` in ``key`` (conventions in the module docstring)."""
    target = _secondary_target(chord, key)
    if target is not None:
        return _figured(chord, "V") + "/" + target
    offset = interval(key.tonic, chord.root)
    return _figured(chord, _degree_numeral(offset, chord.quality, key))


_MAJOR_FUNCTIONS = {0: "tonic", 4: "tonic", 9: "tonic", 1: "predominant", 2: "predominant"}
_MAJOR_FUNCTIONS |= {5: "predominant", 8: "predominant", 7: "dominant"}
_MINOR_FUNCTIONS = {0: "tonic", 3: "tonic", 1: "predominant", 2: "predominant"}
_MINOR_FUNCTIONS |= {5: "predominant", 8: "predominant", 7: "dominant"}


def function(chord: ChordName, key: Key) -> str:
    """Harmonic function: ``"tonic"``, ``"predominant"``, ``"dominant"`` or ``"other"``.

    Tonic: I, iii, vi (major) / i, III (minor). Predominant: ii, IV/iv, bII, bVI (major) and
    ii°, iv/IV, bII, VI (minor), plus V/V. Dominant: V (and Vsus4, V9) and the leading-tone
    chords vii°/viiø7/vii°7. Other secondary dominants and other chromatic chords: other.
    """
    target = _secondary_target(chord, key)
    if target is not None:
        return "predominant" if target == "V" else "other"
    offset = interval(key.tonic, chord.root)
    if offset == 11 and chord.quality in _DIMINISHED:
        return "dominant"
    table = _MAJOR_FUNCTIONS if key.mode == "major" else _MINOR_FUNCTIONS
    return table.get(offset, "other")

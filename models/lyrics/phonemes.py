"""ARPAbet pronunciations as CMUdict writes them (``["F", "AY1", "ER0"]``), and what lyrics
need from them: syllables, stress, and the parts rhymes compare.

* A **syllable** is a vowel phoneme: the ones with a stress digit (0 none, 1 primary,
  2 secondary). ``syllables(["F", "AY1", "ER0"]) == 2``.
* The **stress pattern** is one character per syllable: ``"1"`` primary, ``"2"`` secondary,
  ``"0"`` unstressed (``"10"`` for *fire*).
* The **rhyme part** is everything from the last stressed vowel (primary, or secondary when the
  word has no primary) to the end, stress digits dropped: *fire* → ``AY ER``, *desire* →
  ``AY ER``. Two words rhyme perfectly when their rhyme parts are equal and their onsets before
  that vowel differ (``fire``/``desire`` do; ``fire``/``fire`` is an identity, not a rhyme).
* A **feminine** (two-syllable) or **dactylic** (three-syllable) rhyme compares the last two or
  three syllables' rhyme parts: *nation*/*station*, *tenderly*/*slenderly*.

No I/O, no state; used by :mod:`models.lyrics.dictionary` and :mod:`models.lyrics.rhymes`.
"""

from __future__ import annotations

from collections.abc import Sequence

VOWELS = frozenset(
    ["AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"]
)  # ARPAbet vowels without stress
CONSONANTS = frozenset(
    [
        "B",
        "CH",
        "D",
        "DH",
        "F",
        "G",
        "HH",
        "JH",
        "K",
        "L",
        "M",
        "N",
        "NG",
        "P",
        "R",
        "S",
        "SH",
        "T",
        "TH",
        "V",
        "W",
        "Y",
        "Z",
        "ZH",
    ]
)
PHONES = VOWELS | CONSONANTS

# Broad classes for near rhymes: consonants of one class sound alike at the end of a line.
CONSONANT_CLASS = {
    **dict.fromkeys(("P", "B"), "labial-stop"),
    **dict.fromkeys(("T", "D"), "alveolar-stop"),
    **dict.fromkeys(("K", "G"), "velar-stop"),
    **dict.fromkeys(("F", "V", "TH", "DH"), "fricative-front"),
    **dict.fromkeys(("S", "Z", "SH", "ZH", "CH", "JH"), "sibilant"),
    **dict.fromkeys(("M", "N", "NG"), "nasal"),
    **dict.fromkeys(("L", "R"), "liquid"),
    **dict.fromkeys(("W", "Y", "HH"), "glide"),
}
# Vowels that sit close in the mouth (a slant rhyme may swap them).
VOWEL_NEIGHBOURS = {
    "IY": ("IH",), "IH": ("IY", "EH"), "EH": ("IH", "AE", "EY"), "AE": ("EH", "AA"),
    "AA": ("AO", "AH", "AE"), "AO": ("AA", "OW"), "AH": ("AA", "UH", "ER"),
    "UH": ("UW", "AH"), "UW": ("UH", "OW"), "OW": ("AO", "UW"), "ER": ("AH",),
    "EY": ("EH", "IY"), "AY": ("AA", "OY"), "OY": ("AY", "AO"), "AW": ("AA", "OW"),
}  # fmt: skip


def base(phone: str) -> str:
    """The phone without its stress digit."""
    return phone[:-1] if phone and phone[-1].isdigit() else phone


def is_vowel(phone: str) -> bool:
    return base(phone) in VOWELS


def syllables(phones: Sequence[str]) -> int:
    return sum(1 for p in phones if is_vowel(p))


def stress_pattern(phones: Sequence[str]) -> str:
    """One digit per syllable: 1 primary, 2 secondary, 0 unstressed (a vowel written without
    a digit counts as unstressed)."""
    return "".join(p[-1] if p[-1].isdigit() else "0" for p in phones if is_vowel(p))


def _vowel_positions(phones: Sequence[str]) -> list[int]:
    return [i for i, p in enumerate(phones) if is_vowel(p)]


def stressed_vowel(phones: Sequence[str]) -> int:
    """Index of the last primary-stressed vowel, else the last secondary, else the last vowel;
    -1 when there is no vowel."""
    vowels = _vowel_positions(phones)
    if not vowels:
        return -1
    for digit in ("1", "2"):
        marked = [i for i in vowels if phones[i].endswith(digit)]
        if marked:
            return marked[-1]
    return vowels[-1]


def rhyme_part(phones: Sequence[str]) -> tuple[str, ...]:
    """From the last stressed vowel to the end, without stress digits (see the module notes)."""
    i = stressed_vowel(phones)
    return tuple(base(p) for p in phones[i:]) if i >= 0 else ()


def tail_syllables(phones: Sequence[str], count: int) -> tuple[str, ...]:
    """From the ``count``-th last vowel to the end, without stress digits (for feminine and
    dactylic rhymes); the whole word when it has fewer syllables."""
    vowels = _vowel_positions(phones)
    if not vowels:
        return ()
    start = vowels[-count] if count <= len(vowels) else vowels[0]
    return tuple(base(p) for p in phones[start:])


def onset_before(phones: Sequence[str], index: int) -> tuple[str, ...]:
    """The consonants right before position ``index`` (back to the previous vowel)."""
    out: list[str] = []
    j = index - 1
    while j >= 0 and not is_vowel(phones[j]):
        out.append(base(phones[j]))
        j -= 1
    return tuple(reversed(out))


def vowels_of(part: Sequence[str]) -> tuple[str, ...]:
    return tuple(base(p) for p in part if is_vowel(p))


def consonants_of(part: Sequence[str]) -> tuple[str, ...]:
    return tuple(base(p) for p in part if not is_vowel(p))

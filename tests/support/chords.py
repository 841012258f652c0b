"""Block chords for the chord-naming tests and benchmark, and the name a musician expects.

The expected reading is written from the documented naming rules, independently of
``models.chords``' scoring, so agreement measures whether the namer follows the rules.
"""

from __future__ import annotations

import random

from models.chords import QUALITY_INTERVALS
from models.theory import transpose

VOICINGS = ("close", "open", "doubled bass", "doubled root", "spread")


def block_chord(
    root: int,
    quality: str,
    inversion: int,
    voicing: str,
    base: int = 48,
    rng: random.Random | None = None,
) -> list[int]:
    """MIDI notes of a block chord: ``root`` pc, ``inversion`` (0 = root in bass), stacked upward
    from ``base``; "spread" moves upper voices up by random octaves (needs ``rng``)."""
    offsets = QUALITY_INTERVALS[quality]
    order = offsets[inversion:] + offsets[:inversion]
    notes: list[int] = []
    for offset in order:
        note = base + (root + offset - base) % 12
        while notes and note <= notes[-1]:
            note += 12
        notes.append(note)
    if voicing == "open" and len(notes) >= 3:
        notes[1] += 12  # the second voice from the bottom goes up an octave
    elif voicing == "doubled bass":
        notes.append(notes[0] - 12)
    elif voicing == "doubled root":
        notes.append(max(notes) + ((root - max(notes)) % 12 or 12))
    elif voicing == "spread":
        if rng is None:
            raise ValueError("a spread voicing needs an rng")
        notes = [notes[0]] + [n + 12 * rng.randint(0, 2) for n in notes[1:]]
    return notes


def expected_reading(root: int, quality: str, inversion: int) -> tuple[int, str, int]:
    """(root, quality, bass) a musician names, with the documented enharmonic readings."""
    bass = transpose(root, QUALITY_INTERVALS[quality][inversion])
    if quality in ("aug", "dim7"):
        return bass, quality, bass  # symmetric: named after the bass
    if (quality, inversion) == ("m7", 1):
        return bass, "6", bass  # Am7/C is C6
    if (quality, inversion) == ("m7b5", 1):
        return bass, "m6", bass  # Bm7b5/D is Dm6
    if quality == "sus2" and inversion > 0:
        return transpose(root, 7), "sus4", bass  # Csus2/G is Gsus4, Csus2/D is Gsus4/D
    if (quality, inversion) == ("sus4", 1):
        return bass, "sus2", bass  # Csus4/F is Fsus2
    return root, quality, bass

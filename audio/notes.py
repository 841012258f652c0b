"""Equal-tempered note naming: frequency to (note, octave, cents) for a configurable reference A.

Pure functions on Python floats: no state, no allocation worth mentioning, safe from any thread.
Names are English letter names with sharps (``"C"``, ``"C#"``, ... ``"B"``); the UI translates or
relabels them (flats, solfège). Octaves follow scientific pitch notation: MIDI note 60 is ``C4`` and
the reference A is ``A4`` whatever its frequency.
"""

from __future__ import annotations

import math

NOTE_NAMES: tuple[str, ...] = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

DEFAULT_REFERENCE_A = 440.0
MIN_REFERENCE_A = 415.0  # Baroque pitch, a semitone below A440
MAX_REFERENCE_A = 466.0  # a semitone above A440
A4_MIDI = 69


def validate_reference_a(reference_a: float) -> float:
    """Return ``reference_a`` as a float, or raise ``ValueError`` unless it lies in 415–466 Hz."""
    value = float(reference_a)
    if not (MIN_REFERENCE_A <= value <= MAX_REFERENCE_A):  # also rejects NaN
        raise ValueError(
            f"reference A must lie between {MIN_REFERENCE_A:g} and {MAX_REFERENCE_A:g} Hz, "
            f"got {reference_a!r}"
        )
    return value


def midi_from_frequency(frequency_hz: float, reference_a: float = DEFAULT_REFERENCE_A) -> float:
    """Fractional MIDI note number of a positive frequency (69.0 is the reference A)."""
    return A4_MIDI + 12.0 * math.log2(frequency_hz / reference_a)


def frequency_from_midi(midi: float, reference_a: float = DEFAULT_REFERENCE_A) -> float:
    """Frequency in Hz of a (fractional) MIDI note number."""
    return reference_a * 2.0 ** ((midi - A4_MIDI) / 12.0)


def note_name(midi_note: int) -> tuple[str, int]:
    """``(name, octave)`` of an integer MIDI note, e.g. ``note_name(61) == ("C#", 4)``."""
    return NOTE_NAMES[midi_note % 12], midi_note // 12 - 1


def nearest_note(
    frequency_hz: float, reference_a: float = DEFAULT_REFERENCE_A
) -> tuple[int, float]:
    """The nearest MIDI note and the offset from it in cents, in ``[-50, +50)``."""
    midi = midi_from_frequency(frequency_hz, reference_a)
    nearest = math.floor(midi + 0.5)
    return nearest, 100.0 * (midi - nearest)

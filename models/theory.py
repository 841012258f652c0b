"""Pitch classes, note spelling and keys: the vocabulary the harmony models speak.

Pure functions and frozen values, no state. A *pitch class* is an ``int`` in ``0..11`` with
``C == 0`` (MIDI note ``n`` has pitch class ``n % 12``). Note names use ASCII accidentals,
``"F#"`` and ``"Bb"`` (double accidentals ``"##"``/``"bb"`` only where strict spelling needs
them); :func:`pretty` turns them into ``"F♯"`` and ``"B♭"`` for display. Letters are always
upper case, so every lower-case ``b`` in a name or chord symbol is a flat.

A :class:`Key` spells its own scale by letter (``Key.parse("F# major")`` has an ``E#``, ``Gb
major`` a ``Cb``) and spells chromatic notes the way lead sheets usually do: in major the
flattened 2nd, 3rd, 6th and 7th and the raised 4th; in minor the flattened 2nd and the raised
3rd, 4th, 6th and 7th (leading tone), never with a double accidental.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

Mode = Literal["major", "minor"]

LETTERS = "CDEFGAB"
LETTER_PITCH_CLASSES: tuple[int, ...] = (0, 2, 4, 5, 7, 9, 11)
INTERVAL_NAMES: tuple[str, ...] = (
    "P1", "m2", "M2", "m3", "M3", "P4", "TT", "P5", "m6", "M6", "m7", "M7",
)  # fmt: skip
MAJOR_STEPS: tuple[int, ...] = (0, 2, 4, 5, 7, 9, 11)
MINOR_STEPS: tuple[int, ...] = (0, 2, 3, 5, 7, 8, 10)  # natural minor

# Spellings used when no key says otherwise: the usual lead-sheet names of major and minor keys.
MAJOR_KEY_NAMES: tuple[str, ...] = (
    "C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B",
)  # fmt: skip
MINOR_KEY_NAMES: tuple[str, ...] = (
    "C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B",
)  # fmt: skip

# Chromatic (non-scale) offsets from the tonic -> (scale degree index, alteration in semitones).
_MAJOR_CHROMATIC = {1: (1, -1), 3: (2, -1), 6: (3, 1), 8: (5, -1), 10: (6, -1)}
_MINOR_CHROMATIC = {1: (1, -1), 4: (2, 1), 6: (3, 1), 9: (5, 1), 11: (6, 1)}

_NOTE_RE = re.compile(r"^([A-Ga-g])((?:#|b|♯|♭)*)$")
_KEY_RE = re.compile(r"^\s*([A-Ga-g](?:#|b|♯|♭)*)\s*([A-Za-z]*)\s*$")


def pitch_class(midi_note: int) -> int:
    """Pitch class (``0..11``, C = 0) of a MIDI note number."""
    return midi_note % 12


def interval(lower: int, upper: int) -> int:
    """Ascending interval in semitones (``0..11``) from pitch class ``lower`` to ``upper``."""
    return (upper - lower) % 12


def interval_name(lower: int, upper: int) -> str:
    """Short name of the ascending interval, e.g. ``interval_name(0, 7) == "P5"``."""
    return INTERVAL_NAMES[interval(lower, upper)]


def transpose(pc: int, semitones: int) -> int:
    """Pitch class ``pc`` moved by ``semitones`` (either direction)."""
    return (pc + semitones) % 12


def pretty(text: str) -> str:
    """Display form of a note name or chord symbol: ``"F#m7b5" -> "F♯m7♭5"``."""
    return text.replace("#", "♯").replace("b", "♭")


def _accidental_text(alteration: int) -> str:
    return "#" * alteration if alteration > 0 else "b" * -alteration


def _alteration(letter: str, pc: int) -> int:
    """Accidental (``-6..5``) that turns ``letter`` into pitch class ``pc``."""
    diff = (pc - LETTER_PITCH_CLASSES[LETTERS.index(letter)]) % 12
    return diff - 12 if diff > 6 else diff


def parse_note(name: str) -> int:
    """Pitch class of a note name such as ``"C"``, ``"f#"``, ``"Bb"``, ``"E♭"``, ``"Cbb"``."""
    match = _NOTE_RE.match(name.strip())
    if not match:
        raise ValueError(f"not a note name: {name!r}")
    letter, accidentals = match.group(1).upper(), match.group(2)
    sharps = accidentals.count("#") + accidentals.count("♯")
    flats = accidentals.count("b") + accidentals.count("♭")
    return (LETTER_PITCH_CLASSES[LETTERS.index(letter)] + sharps - flats) % 12


def spell_with_letter(pc: int, letter: str) -> str:
    """Pitch class ``pc`` written on ``letter`` (``spell_with_letter(6, "G") == "Gb"``)."""
    return letter + _accidental_text(_alteration(letter, pc))


def spell_above(note: str, semitones: int, letter_steps: int) -> str:
    """The note ``semitones`` above ``note`` written ``letter_steps`` letters higher.

    ``spell_above("D", 4, 2) == "F#"`` (a major third), ``spell_above("Bb", 3, 2) == "Db"``.
    """
    letter = LETTERS[(LETTERS.index(note[0].upper()) + letter_steps) % 7]
    return spell_with_letter(transpose(parse_note(note), semitones), letter)


def simple_name(pc: int, prefer_flats: bool = False) -> str:
    """Name of ``pc`` with at most one accidental, sharp or flat as asked."""
    sharp, flat = "CCDDEFFGGAAB"[pc], "CDDEEFGGAABB"[pc]
    if LETTER_PITCH_CLASSES[LETTERS.index(sharp)] == pc:
        return sharp
    return flat + "b" if prefer_flats else sharp + "#"


@dataclass(frozen=True)
class Key:
    """A major or minor key: tonic pitch class, mode and how its tonic is written.

    ``tonic_name`` defaults to the usual name (``Key(6, "major")`` is F# major, ``Key(3,
    "minor")`` Eb minor); pass it, or use :meth:`parse`, for the enharmonic twin (Gb major).
    """

    tonic: int
    mode: Mode = "major"
    tonic_name: str = field(default="")

    def __post_init__(self) -> None:
        if not (isinstance(self.tonic, int) and 0 <= self.tonic < 12):
            raise ValueError(f"tonic must be a pitch class 0..11, got {self.tonic!r}")
        if self.mode not in ("major", "minor"):
            raise ValueError(f"mode must be 'major' or 'minor', got {self.mode!r}")
        if not self.tonic_name:
            names = MAJOR_KEY_NAMES if self.mode == "major" else MINOR_KEY_NAMES
            object.__setattr__(self, "tonic_name", names[self.tonic])
        elif parse_note(self.tonic_name) != self.tonic:
            raise ValueError(f"{self.tonic_name!r} is not pitch class {self.tonic}")
        else:
            name = self.tonic_name.strip()
            object.__setattr__(self, "tonic_name", name[0].upper() + name[1:])

    @classmethod
    def parse(cls, text: str) -> Key:
        """Read ``"A minor"``, ``"F# major"``, ``"Bb minor"``, ``"Am"``, ``"Eb"``, ``"c# min"``."""
        match = _KEY_RE.match(text)
        if not match:
            raise ValueError(f"not a key: {text!r}")
        tonic_text = match.group(1).replace("♯", "#").replace("♭", "b")
        word = match.group(2)
        if word in ("", "M") or word.lower() in ("major", "maj"):
            mode: Mode = "major"
        elif word == "m" or word.lower() in ("minor", "min"):
            mode = "minor"
        else:
            raise ValueError(f"not a key: {text!r}")
        return cls(parse_note(tonic_text), mode, tonic_text[0].upper() + tonic_text[1:])

    @property
    def name(self) -> str:
        """``"F# major"``, ``"Bb minor"``."""
        return f"{self.tonic_name} {self.mode}"

    @property
    def steps(self) -> tuple[int, ...]:
        """Semitones of the seven scale degrees above the tonic (natural minor for minor)."""
        return MAJOR_STEPS if self.mode == "major" else MINOR_STEPS

    @property
    def scale(self) -> tuple[int, ...]:
        """Pitch classes of the seven scale degrees, tonic first."""
        return tuple(transpose(self.tonic, step) for step in self.steps)

    @property
    def scale_names(self) -> tuple[str, ...]:
        """The scale spelled one letter per degree: F# major -> ``("F#", ..., "E#")``."""
        first = LETTERS.index(self.tonic_name[0])
        return tuple(
            spell_with_letter(pc, LETTERS[(first + i) % 7]) for i, pc in enumerate(self.scale)
        )

    @property
    def prefers_flats(self) -> bool:
        """Whether the key signature has flats (F major and D minor do; C major does not)."""
        return any("b" in name for name in self.scale_names)

    def degree_of(self, pc: int) -> int | None:
        """Scale degree index (0 = tonic .. 6) of ``pc``, or ``None`` when it is chromatic."""
        offset = interval(self.tonic, pc)
        return self.steps.index(offset) if offset in self.steps else None

    def spell(self, pc: int) -> str:
        """How this key writes pitch class ``pc`` (``Key.parse("Db major").spell(6) == "Gb"``)."""
        degree = self.degree_of(pc)
        names = self.scale_names
        if degree is not None:
            written = names[degree]
        else:
            chromatic = _MAJOR_CHROMATIC if self.mode == "major" else _MINOR_CHROMATIC
            index, _ = chromatic[interval(self.tonic, pc)]
            written = spell_with_letter(pc, names[index][0])
        if abs(_alteration(written[0], pc)) > 1:
            return simple_name(pc, self.prefers_flats)
        return written

    @property
    def relative(self) -> Key:
        """The relative minor of a major key and the relative major of a minor one."""
        if self.mode == "major":
            return Key(transpose(self.tonic, 9), "minor", self.scale_names[5])
        return Key(transpose(self.tonic, 3), "major", self.scale_names[2])

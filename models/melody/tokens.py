"""Melody tokens: one vocabulary for every key, meter and mode.

A melody is a sequence of bars; a bar is a sequence of *events*, each a pitch slot followed by a
duration. The token sequence of a tune is::

    BOS  METER_<n/d>  MODE_<mode>  BAR  p d  p d ...  BAR  p d ...  EOS

* **Pitch slots** are relative to the key's tonic: ``P<k>`` is the MIDI note ``ref + k`` where
  ``ref = 60 + tonic`` (the tonic between middle C and the B above it), ``k`` in
  ``-PITCH_SPAN .. +PITCH_SPAN``. ``REST`` is silence; ``HOLD`` continues the previous note
  (a note tied over a barline is the note, then ``BAR``, then ``HOLD`` with the rest of its
  length). Transposing a tune changes nothing but ``ref``, so one model serves every key.
* **Durations** ``D<t>`` in ticks of 1/12 quarter note (sixteenths and eighth-note triplets are
  whole ticks), ``1 .. MAX_TICKS``. A bar's durations add up to exactly its length; a pickup is
  completed by a rest at its start, so every bar is full.
* **Meter** tokens for the time signatures in :data:`METERS`, **mode** tokens for
  :data:`MODES` (``major``, ``minor`` and the two church modes common in folk tunes).

Position within the bar is not a token: it follows from the durations, and a model gets it as
an input feature (:func:`positions`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

TPQ = 12  # ticks per quarter note
PITCH_SPAN = 24
MAX_TICKS = 48
MAX_BAR_TICKS = 192  # the longest bar (4/1); bar positions are 0 .. MAX_BAR_TICKS - 1
METERS: tuple[str, ...] = (
    "2/4", "3/4", "4/4", "2/2", "3/2", "6/8", "9/8", "12/8", "3/8", "6/4", "5/4",
    "4/2", "6/2", "3/1", "4/1",  # old notation in the Essen collection: long note values
)  # fmt: skip
MODES: tuple[str, ...] = ("major", "minor", "dorian", "mixolydian")

SPECIALS: tuple[str, ...] = ("PAD", "BOS", "EOS", "BAR", "REST", "HOLD")
PITCHES: tuple[str, ...] = tuple(f"P{k}" for k in range(-PITCH_SPAN, PITCH_SPAN + 1))
DURATIONS: tuple[str, ...] = tuple(f"D{t}" for t in range(1, MAX_TICKS + 1))
VOCAB: tuple[str, ...] = (
    SPECIALS + tuple(f"METER_{m}" for m in METERS) + tuple(f"MODE_{m}" for m in MODES)
    + PITCHES + DURATIONS
)  # fmt: skip
INDEX: dict[str, int] = {name: i for i, name in enumerate(VOCAB)}

PAD, BOS, EOS, BAR, REST, HOLD = (INDEX[name] for name in SPECIALS)
FIRST_PITCH = INDEX[PITCHES[0]]
FIRST_DURATION = INDEX[DURATIONS[0]]


class TokenError(ValueError):
    """A melody that the vocabulary cannot express, or a token sequence that is not a melody."""


@dataclass(frozen=True, slots=True)
class Note:
    """One event: ``pitch`` is a MIDI note number or ``None`` for a rest; times in ticks."""

    start: int
    length: int
    pitch: int | None


@dataclass(frozen=True, slots=True)
class Melody:
    """A monophonic melody in a key and meter. ``notes`` start at tick 0 (the first downbeat
    after any pickup is at ``pickup`` ticks), are sorted and do not overlap."""

    tonic: int  # pitch class 0..11
    mode: str
    meter: str
    notes: tuple[Note, ...]
    pickup: int = 0  # ticks before the first full bar

    @property
    def bar_ticks(self) -> int:
        return bar_ticks(self.meter)


def bar_ticks(meter: str) -> int:
    """Ticks in one bar of ``meter`` (``"6/8"`` → 36)."""
    try:
        num, den = (int(p) for p in meter.split("/"))
    except ValueError as exc:
        raise TokenError(f"not a meter: {meter!r}") from exc
    ticks = Fraction(num * 4 * TPQ, den)
    if num <= 0 or den not in (1, 2, 4, 8, 16) or ticks.denominator != 1:
        raise TokenError(f"not a meter: {meter!r}")
    return int(ticks)


def pitch_token(pitch: int, tonic: int) -> int:
    k = pitch - (60 + tonic % 12)
    if not -PITCH_SPAN <= k <= PITCH_SPAN:
        raise TokenError(f"note {pitch} is more than two octaves from the tonic")
    return FIRST_PITCH + k + PITCH_SPAN


def duration_token(ticks: int) -> int:
    if not 1 <= ticks <= MAX_TICKS:
        raise TokenError(f"a duration of {ticks} ticks is not in the vocabulary")
    return FIRST_DURATION + ticks - 1


def is_pitch_slot(token: int) -> bool:
    return token in (REST, HOLD) or FIRST_PITCH <= token < FIRST_PITCH + len(PITCHES)


def is_duration(token: int) -> bool:
    return FIRST_DURATION <= token < FIRST_DURATION + MAX_TICKS


def duration_ticks(token: int) -> int:
    return token - FIRST_DURATION + 1


def encode(melody: Melody) -> list[int]:
    """Token ids of ``melody`` (see the module notes); raises :class:`TokenError`."""
    if melody.meter not in METERS:
        raise TokenError(f"meter {melody.meter} is not supported")
    if melody.mode not in MODES:
        raise TokenError(f"mode {melody.mode} is not supported")
    bar = melody.bar_ticks
    pickup = melody.pickup % bar
    # Lay the melody on a grid that starts at a barline: a pickup is preceded by a rest.
    offset = (bar - pickup) % bar
    events: list[tuple[int, int, int | None]] = []  # (start, length, pitch) on the grid
    cursor = 0
    for note in melody.notes:
        start = note.start + offset
        if note.length <= 0 or start < cursor:
            raise TokenError("notes overlap or have no length")
        if start > cursor:
            events.append((cursor, start - cursor, None))
        events.append((start, note.length, note.pitch))
        cursor = start + note.length
    if cursor % bar:
        events.append((cursor, bar - cursor % bar, None))  # complete the last bar
    tokens = [BOS, INDEX[f"METER_{melody.meter}"], INDEX[f"MODE_{melody.mode}"]]
    for start, length, pitch in events:
        first = True
        while length > 0:
            if start % bar == 0:
                tokens.append(BAR)
            piece = min(length, bar - start % bar, MAX_TICKS)
            if pitch is None:
                slot = REST
            elif first:
                slot = pitch_token(pitch, melody.tonic)
            else:
                slot = HOLD
            tokens += [slot, duration_token(piece)]
            start, length, first = start + piece, length - piece, False
    tokens.append(EOS)
    return tokens


def decode(tokens: Sequence[int], tonic: int) -> Melody:
    """The melody of a token sequence (a prefix is fine: it stops at ``EOS`` or the end);
    ``HOLD`` lengthens the note before it. Raises :class:`TokenError` on a malformed one."""
    seq = list(tokens)
    if len(seq) < 3 or seq[0] != BOS:
        raise TokenError("a melody starts with BOS, a meter and a mode")
    meter_name, mode_name = VOCAB[seq[1]], VOCAB[seq[2]]
    if not meter_name.startswith("METER_") or not mode_name.startswith("MODE_"):
        raise TokenError("a melody starts with BOS, a meter and a mode")
    meter, mode = meter_name[6:], mode_name[5:]
    bar = bar_ticks(meter)
    notes: list[Note] = []
    cursor = 0
    i = 3
    while i < len(seq) and seq[i] != EOS:
        token = seq[i]
        if token == BAR:
            if cursor % bar:
                raise TokenError(f"a barline {cursor % bar} ticks into a bar")
            i += 1
            continue
        if not is_pitch_slot(token) or i + 1 >= len(seq) or not is_duration(seq[i + 1]):
            raise TokenError(f"token {i} ({VOCAB[token]}) is not a pitch slot and a duration")
        length = duration_ticks(seq[i + 1])
        if cursor % bar + length > bar:
            raise TokenError("a note runs over the barline")
        if token == HOLD:
            if not notes or notes[-1].start + notes[-1].length != cursor:
                raise TokenError("HOLD with no note before it")
            last = notes[-1]
            notes[-1] = Note(last.start, last.length + length, last.pitch)
        elif token == REST:
            notes.append(Note(cursor, length, None))
        else:
            k = token - FIRST_PITCH - PITCH_SPAN
            notes.append(Note(cursor, length, 60 + tonic % 12 + k))
        cursor += length
        i += 2
    sounding = tuple(n for n in notes if n.pitch is not None)
    return Melody(tonic % 12, mode, meter, sounding, 0)


def positions(tokens: Sequence[int], meter: str | None = None) -> list[int]:
    """Ticks into the bar at which each token stands (the position the next event would
    start at); the meter comes from ``tokens[1]`` unless given."""
    if meter is None:
        meter = VOCAB[tokens[1]][6:] if len(tokens) > 1 else "4/4"
    bar = bar_ticks(meter)
    out = []
    cursor = 0
    for i, token in enumerate(tokens):
        out.append(cursor % bar)
        if is_duration(token) and i > 0 and is_pitch_slot(tokens[i - 1]):
            cursor += duration_ticks(token)
    return out


def bar_lengths(tokens: Sequence[int]) -> list[int]:
    """Ticks in each bar of a token sequence (from each ``BAR`` to the next or the end)."""
    out: list[int] = []
    for i, token in enumerate(tokens):
        if token == BAR:
            out.append(0)
        elif out and is_duration(token) and i > 0 and is_pitch_slot(tokens[i - 1]):
            out[-1] += duration_ticks(token)
    return out


def names(tokens: Iterable[int]) -> list[str]:
    return [VOCAB[t] for t in tokens]

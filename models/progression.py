"""Chord progressions from the next-chord model, and four-voice voice leading for them.

:func:`generate` walks :class:`models.next_chord.NextChordModel` with a seeded random number
generator: it starts on the tonic, samples each next chord from the model's suggestions (so
``style`` works as it does there) and, from two bars on, ends with a cadence: a predominant
(when there is room), the dominant (V or V7) and the tonic. Eight bars or more also get a half
cadence (V) at the end of the first half. The same arguments always give the same progression.

:func:`voice` turns the chords into block voicings: the chord's bass in a low register and
three upper voices (tenor, alto, soprano) in the ranges below. Each chord takes, among every
complete voicing of it, the one closest to the previous chord (smallest total motion, so common
tones stay put), with penalties for parallel fifths and octaves (heavy between the outer voices),
a doubled third or an omitted fifth, and wide spacing.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass

from models.chords import QUALITY_INTERVALS, ChordName, function
from models.next_chord import NextChordModel, Reason, Suggestion, token_chord
from models.theory import Key, interval

BEATS_PER_BAR = 4
CHORDS_PER_BAR = (1, 2, 4)
MAX_BARS = 32

BASS_RANGE = (36, 57)  # C2..A3
TENOR_RANGE = (48, 67)  # C3..G4
ALTO_RANGE = (55, 74)  # G3..D5
SOPRANO_RANGE = (60, 79)  # C4..G5
_START_UPPER = (55, 62, 67)  # a comfortable first tenor/alto/soprano around G3-D4-G4
_START_BASS = 45


@dataclass(frozen=True)
class ProgressionChord:
    """One chord of a progression: what it is and where it sits (in beats from the start)."""

    chord: ChordName
    numeral: str
    start: float
    duration: float
    reason: Reason


@dataclass(frozen=True)
class Progression:
    """A seeded progression in a key, ``bars`` bars of 4/4."""

    key: Key
    bars: int
    chords_per_bar: int
    style: float
    seed: int
    chords: tuple[ProgressionChord, ...]

    @property
    def total_beats(self) -> float:
        return float(self.bars * BEATS_PER_BAR)

    @property
    def numerals(self) -> tuple[str, ...]:
        return tuple(c.numeral for c in self.chords)

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(c.chord.symbol for c in self.chords)


@dataclass(frozen=True)
class Voicing:
    """MIDI notes of one chord, lowest first: bass, tenor, alto, soprano."""

    notes: tuple[int, int, int, int]

    @property
    def bass(self) -> int:
        return self.notes[0]

    @property
    def upper(self) -> tuple[int, int, int]:
        return self.notes[1], self.notes[2], self.notes[3]


_model: NextChordModel | None = None


def default_model() -> NextChordModel:
    """The shared model over the shipped statistics (loaded on first use)."""
    global _model
    if _model is None:
        _model = NextChordModel.load()
    return _model


def _tonic(key: Key) -> str:
    return "I" if key.mode == "major" else "i"


def _pick(rng: random.Random, options: Sequence[Suggestion]) -> Suggestion:
    total = sum(s.score for s in options)
    if total <= 0.0:
        return options[0]
    return rng.choices(list(options), weights=[s.score / total for s in options])[0]


def _suggestion(model: NextChordModel, key: Key, history: list[str], token: str) -> Suggestion:
    everything = model.suggest(key, history, 0.0, n=1000)
    for s in everything:
        if s.numeral == token:
            return s
    return Suggestion(token_chord(token, key), token, 0.0, Reason("frequent_chord"))


def _plan(total: int, bars: int) -> list[str | None]:
    """Per slot: a forced function ("tonic", "predominant", "dominant") or ``None``."""
    plan: list[str | None] = [None] * total
    plan[0] = "tonic"
    if bars >= 2 and total >= 2:
        plan[-1] = "tonic"
        plan[-2] = "dominant"
        if total >= 4:
            plan[-3] = "predominant"
    if bars >= 8 and total >= 8:
        plan[total // 2 - 1] = "dominant"
    return plan


def generate(
    key: Key,
    bars: int = 4,
    style: float = 0.0,
    seed: int = 0,
    chords_per_bar: int = 1,
    model: NextChordModel | None = None,
) -> Progression:
    """A progression of ``bars`` bars (1-32) with ``chords_per_bar`` (1, 2 or 4) chords each."""
    if not 1 <= bars <= MAX_BARS:
        raise ValueError(f"bars must be 1..{MAX_BARS}, got {bars}")
    if chords_per_bar not in CHORDS_PER_BAR:
        raise ValueError(f"chords_per_bar must be one of {CHORDS_PER_BAR}, got {chords_per_bar}")
    model = model or default_model()
    rng = random.Random(seed)
    total = bars * chords_per_bar
    plan = _plan(total, bars)
    history: list[str] = []
    picked: list[Suggestion] = []
    for slot, role in enumerate(plan):
        if role == "tonic":
            choice = _suggestion(model, key, history, _tonic(key))
        else:
            options = model.suggest(key, history, style, n=6 if role is None else 1000)
            if history:
                options = [s for s in options if s.numeral != history[-1]] or options
            if role == "dominant":
                options = [s for s in options if s.numeral in ("V", "V7")]
            elif role == "predominant":
                options = [s for s in options if function(s.chord, key) == "predominant"][:4]
            elif slot + 1 < total and plan[slot + 1] == "tonic":
                options = [s for s in options if s.numeral != _tonic(key)] or options
            choice = _pick(rng, options)
        picked.append(choice)
        history.append(choice.numeral)
    length = BEATS_PER_BAR / chords_per_bar
    chords = tuple(
        ProgressionChord(s.chord, s.numeral, i * length, length, s.reason)
        for i, s in enumerate(picked)
    )
    return Progression(key, bars, chords_per_bar, float(style), seed, chords)


# --- voice leading --------------------------------------------------------------------------


def _notes_in(low: int, high: int, pcs: frozenset[int]) -> list[int]:
    return [n for n in range(low, high + 1) if n % 12 in pcs]


def _chord_cost(chord: ChordName, notes: tuple[int, int, int, int]) -> float | None:
    """Cost of a complete voicing (doublings, omissions, spacing), ``None`` if incomplete."""
    pcs = [n % 12 for n in notes]
    present = set(pcs)
    intervals = QUALITY_INTERVALS[chord.quality]
    fifth = (chord.root + 7) % 12 if 7 in intervals else None
    required = {(chord.root + i) % 12 for i in intervals if (chord.root + i) % 12 != fifth}
    if not required <= present or not present <= chord.pitch_classes:
        return None
    cost = 0.0
    if fifth is not None and fifth not in present:
        cost += 1.5
    doubled = [pc for pc in present if pcs.count(pc) > 1]
    for pc in doubled:
        step = interval(chord.root, pc)
        cost += 0.0 if step == 0 else 0.5 if step == 7 else 2.0
    cost += 0.3 * max(0, notes[1] - notes[0] - 19)  # a tenor far above the bass sounds hollow
    return cost


def _candidates(chord: ChordName) -> list[tuple[tuple[int, int, int, int], float]]:
    pcs = chord.pitch_classes
    basses = _notes_in(*BASS_RANGE, frozenset({chord.bass}))
    tenors = _notes_in(*TENOR_RANGE, pcs)
    altos = _notes_in(*ALTO_RANGE, pcs)
    sopranos = _notes_in(*SOPRANO_RANGE, pcs)
    out = []
    for bass, tenor, alto, soprano in itertools.product(basses, tenors, altos, sopranos):
        if not bass < tenor < alto < soprano or alto - tenor > 12 or soprano - alto > 12:
            continue
        notes = (bass, tenor, alto, soprano)
        cost = _chord_cost(chord, notes)
        if cost is not None:
            out.append((notes, cost))
    return out


def _parallel(a0: int, a1: int, b0: int, b1: int) -> bool:
    """Whether voices a and b move in parallel fifths or octaves (both moving, same interval)."""
    if a0 == a1 or b0 == b1:
        return False
    before, after = (b0 - a0) % 12, (b1 - a1) % 12
    return before == after and before in (0, 7)


def motion_cost(prev: Sequence[int], notes: Sequence[int]) -> float:
    """Voice-leading cost between two voicings: motion plus parallel-fifth/octave penalties."""
    cost = float(sum(abs(b - a) for a, b in zip(prev[1:], notes[1:], strict=True)))
    cost += 0.5 * min(abs(notes[0] - prev[0]), 12)
    for i, j in itertools.combinations(range(4), 2):
        if _parallel(prev[i], notes[i], prev[j], notes[j]):
            cost += 12.0 if (i, j) == (0, 3) else 4.0
    return cost


def voice_chords(chords: Sequence[ChordName]) -> list[Voicing]:
    """Voice-led four-voice voicings of ``chords`` (see the module docstring)."""
    out: list[Voicing] = []
    previous: tuple[int, int, int, int] | None = None
    for chord in chords:
        candidates = _candidates(chord)
        if not candidates:
            raise ValueError(f"no four-voice voicing of {chord.symbol} in range")
        if previous is None:
            start = (_START_BASS, *_START_UPPER)
            best = min(candidates, key=lambda c: c[1] + _distance(start, c[0]))
        else:
            prev = previous
            best = min(candidates, key=lambda c: c[1] + motion_cost(prev, c[0]))
        previous = best[0]
        out.append(Voicing(best[0]))
    return out


def _distance(a: Sequence[int], b: Sequence[int]) -> float:
    return 0.5 * abs(a[0] - b[0]) + sum(abs(x - y) for x, y in zip(a[1:], b[1:], strict=True))


def voice(progression: Progression) -> list[Voicing]:
    """Voicings for every chord of ``progression``, in order."""
    return voice_chords([c.chord for c in progression.chords])

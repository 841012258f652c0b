"""Chord segmentation of a note list: where the harmony changes, what it is, and in which key.

Naive vertical slicing names every new combination of sounding notes, so a passing tone or a
suspension becomes a chord of its own. Here the music is cut into short windows on the beat grid
(``subdivision`` windows per beat), and in each window every pitch class is weighted by how
long (× how loud) it sounds there. Every reading "template T on root R" (the common qualities of
:data:`models.chords.TEMPLATES`) gets a fit score per window in the spirit of Pardo & Birmingham
(2002, "Algorithms for chordal analysis", Computer Music Journal 26(2)): weight of chord tones
minus weight of non-chord tones, minus a penalty per chord tone that is missing, minus a small
prior from the template's naming cost, plus a bonus when the bass is the root and a penalty when
the bass is not a chord tone. A Viterbi pass then picks the best sequence of readings with a
cost for every change, higher off the beat than on it. Because the fit is summed over a whole
segment, a short passing tone or a suspension that resolves inside the segment loses against
the chord that sounds around it, and equal neighbours are merged by construction.

The key of each segment comes from the same windows: pitch-class weights smoothed over a few bars
are correlated with the key profiles of :mod:`models.key_tracking`, and a second Viterbi pass
keeps the key unless another one fits clearly better for a while.

The parameters below were set by musical reasoning and on synthetic examples, not fitted to the
benchmark corpus (``benchmarks/bench_harmony_corpus.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from models.chords import TEMPLATES, ChordName, make_chord, roman_numeral
from models.key_tracking import KEYS, key_matrix
from models.theory import Key, transpose

# Qualities a segment may take; the others (sus, add9, 6, ...) read as triads plus non-chord
# tones, which is what they usually are in tonal part-writing.
SEGMENT_QUALITIES: tuple[str, ...] = ("", "m", "dim", "aug", "7", "m7", "maj7", "m7b5", "dim7")
NON_CHORD_TONE_PENALTY = 1.0  # per unit of weight outside the chord (weights sum to 1)
MISSING_TONE_PENALTY = 0.3  # per chord tone that does not sound in the window
MISSING_FIFTH_PENALTY = 0.08  # the fifth of a triad or seventh chord is often left out
PRIOR_SCALE = 0.1  # × the template's naming cost
BASS_ROOT_BONUS = 0.15
BASS_NOT_IN_CHORD_PENALTY = 0.15
CHANGE_COST_ON_BEAT = 0.3
CHANGE_COST_OFF_BEAT = 0.7
NO_CHORD_SCORE = -1.0  # of the "no chord" state in a window that has notes
EMPTY_WINDOW_SCORE = -0.2  # of every chord in a window without notes
KEY_SMOOTHING_BEATS = 8.0  # standard deviation of the Gaussian that pools pitch classes
KEY_CHANGE_COST = 2.0  # in correlation × windows


class BeatNote(Protocol):
    """A note with onset/offset in seconds and in beats (quarter notes), pitch and velocity."""

    @property
    def onset_s(self) -> float: ...
    @property
    def offset_s(self) -> float: ...
    @property
    def onset_beat(self) -> float: ...
    @property
    def offset_beat(self) -> float: ...
    @property
    def pitch(self) -> int: ...
    @property
    def velocity(self) -> int: ...


@dataclass(frozen=True)
class Note:
    """A plain :class:`BeatNote`."""

    onset_s: float
    offset_s: float
    pitch: int
    velocity: int = 80
    onset_beat: float = 0.0
    offset_beat: float = 0.0


@dataclass(frozen=True)
class ChordSegment:
    """A stretch with one harmony: ``chord`` is None where nothing (or no chord) sounds."""

    start_s: float
    end_s: float
    start_beat: float
    end_beat: float
    chord: ChordName | None
    numeral: str | None
    key: Key


@dataclass(frozen=True)
class _Readings:
    roots: np.ndarray  # (R,) root pitch class of each reading
    qualities: tuple[str, ...]  # (R,)
    member: np.ndarray  # (R, 12) 1.0 for chord tones
    required: np.ndarray  # (R, 12) chord tones whose absence costs the full penalty
    optional: np.ndarray  # (R, 12) fifths that may be left out
    prior: np.ndarray  # (R,)
    is_root: np.ndarray  # (R, 12) 1.0 at the root


def _build_readings(qualities: Sequence[str]) -> _Readings:
    by_quality = {t.quality: t for t in TEMPLATES}
    roots, names, member, required, optional, prior, is_root = [], [], [], [], [], [], []
    for quality in qualities:
        template = by_quality[quality]
        for root in range(12):
            m, r, o, z = np.zeros(12), np.zeros(12), np.zeros(12), np.zeros(12)
            for step in template.intervals:
                pc = transpose(root, step)
                m[pc] = 1.0
                (o if step in template.optional else r)[pc] = 1.0
            z[root] = 1.0
            roots.append(root)
            names.append(quality)
            member.append(m)
            required.append(r)
            optional.append(o)
            prior.append(PRIOR_SCALE * template.cost)
            is_root.append(z)
    return _Readings(
        np.array(roots),
        tuple(names),
        np.array(member),
        np.array(required),
        np.array(optional),
        np.array(prior),
        np.array(is_root),
    )


_READINGS = _build_readings(SEGMENT_QUALITIES)


def reading_scores(weights: np.ndarray, bass: np.ndarray) -> np.ndarray:
    """Fit of every reading (rows of ``_READINGS``) to each window.

    ``weights`` is (n, 12) pitch-class weight per window (any scale; rows are normalised here);
    ``bass`` is (n, 12), the share of each window in which each pitch class is the lowest note.
    Returns (n, R) scores; higher is better.
    """
    total = weights.sum(axis=1, keepdims=True)
    x = np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)
    inside = x @ _READINGS.member.T
    outside = 1.0 - inside
    sounding = (x > 0.02).astype(np.float64)
    missing = (1.0 - sounding) @ _READINGS.required.T
    missing_fifth = (1.0 - sounding) @ _READINGS.optional.T
    bass_root = bass @ _READINGS.is_root.T
    bass_outside = bass.sum(axis=1, keepdims=True) - bass @ _READINGS.member.T
    return (
        inside
        - NON_CHORD_TONE_PENALTY * outside
        - MISSING_TONE_PENALTY * missing
        - MISSING_FIFTH_PENALTY * missing_fifth
        - _READINGS.prior
        + BASS_ROOT_BONUS * bass_root
        - BASS_NOT_IN_CHORD_PENALTY * bass_outside
    )


def best_reading(weights: Sequence[float], bass_pc: int | None = None) -> ChordName | None:
    """The best-fitting chord for one 12-bin pitch-class weight vector (None if silent)."""
    x = np.asarray(weights, dtype=np.float64).reshape(1, 12)
    if x.sum() <= 0:
        return None
    bass = np.zeros((1, 12))
    if bass_pc is not None:
        bass[0, bass_pc % 12] = 1.0
    index = int(np.argmax(reading_scores(x, bass)[0]))
    root = int(_READINGS.roots[index])
    quality = _READINGS.qualities[index]
    in_chord = bass_pc is not None and _READINGS.member[index, bass_pc % 12] > 0
    return make_chord(root, quality, bass_pc % 12 if in_chord and bass_pc is not None else root)


def _window_features(
    notes: Sequence[BeatNote], start: float, step: float, count: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per window: duration × velocity weight of each pitch class, and who is in the bass."""
    weights = np.zeros((count, 12))
    lowest = np.full(count, 10_000)
    lowest_at_start = np.full(count, 10_000)
    for note in notes:
        a = (note.onset_beat - start) / step
        b = (note.offset_beat - start) / step
        if b <= a:
            continue
        level = max(note.velocity, 1) / 127.0
        first, last = max(int(np.floor(a)), 0), min(int(np.ceil(b)), count)
        for k in range(first, last):
            overlap = min(b, k + 1) - max(a, k)
            if overlap <= 0:
                continue
            weights[k, note.pitch % 12] += overlap * level
            lowest[k] = min(lowest[k], note.pitch)
            if a <= k + 1e-6:
                lowest_at_start[k] = min(lowest_at_start[k], note.pitch)
    bass = np.zeros((count, 12))
    for k in range(count):
        pitch = lowest_at_start[k] if lowest_at_start[k] < 10_000 else lowest[k]
        if pitch < 10_000:
            bass[k, pitch % 12] = 1.0
    return weights, bass


def _viterbi(scores: np.ndarray, change_cost: np.ndarray) -> np.ndarray:
    """Best state path for (n, S) scores when leaving a state before window k costs
    ``change_cost[k]`` (the same for every pair of states)."""
    n, states = scores.shape
    back = np.zeros((n, states), dtype=np.int64)
    total = scores[0].copy()
    for k in range(1, n):
        best_prev = int(np.argmax(total))
        switch = total[best_prev] - change_cost[k]
        stay = total >= switch
        back[k] = np.where(stay, np.arange(states), best_prev)
        total = np.where(stay, total, switch) + scores[k]
    path = np.zeros(n, dtype=np.int64)
    path[-1] = int(np.argmax(total))
    for k in range(n - 1, 0, -1):
        path[k - 1] = back[k, path[k]]
    return path


def _local_keys(weights: np.ndarray, step: float, profiles: str) -> np.ndarray:
    """Index into :data:`KEYS` of the key in each window."""
    n = weights.shape[0]
    sigma = max(KEY_SMOOTHING_BEATS / step, 1.0)
    radius = int(3 * sigma)
    offsets = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    pooled = np.zeros_like(weights)
    for pc in range(12):
        pooled[:, pc] = np.convolve(weights[:, pc], kernel, mode="same")[:n]
    centred = pooled - pooled.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    unit = np.divide(centred, norms, out=np.zeros_like(centred), where=norms > 1e-12)
    corr = unit @ key_matrix(profiles).T
    return _viterbi(corr, np.full(n, KEY_CHANGE_COST))


def _beat_clock(notes: Sequence[BeatNote]) -> Callable[[float], float]:
    """Seconds at a beat position, interpolated from the notes' own beat/second pairs."""
    pairs = sorted(
        {(n.onset_beat, n.onset_s) for n in notes} | {(n.offset_beat, n.offset_s) for n in notes}
    )
    beats = np.array([p[0] for p in pairs])
    seconds = np.array([p[1] for p in pairs])
    beats, first = np.unique(beats, return_index=True)
    seconds = seconds[first]
    if len(beats) < 2:
        return lambda beat: float(seconds[0] + (beat - beats[0]) * 0.5) if len(beats) else beat

    def clock(beat: float) -> float:
        if beat <= beats[0]:
            slope = (seconds[1] - seconds[0]) / (beats[1] - beats[0])
            return float(seconds[0] + (beat - beats[0]) * slope)
        if beat >= beats[-1]:
            slope = (seconds[-1] - seconds[-2]) / (beats[-1] - beats[-2])
            return float(seconds[-1] + (beat - beats[-1]) * slope)
        return float(np.interp(beat, beats, seconds))

    return clock


def _segment_bass(root: int, member: np.ndarray, bass: np.ndarray) -> int:
    """The bass to name: the first window's lowest note if it is a chord tone, else the chord
    tone most often lowest, else the root."""
    first = int(np.argmax(bass[0])) if bass[0].any() else None
    if first is not None and member[first] > 0:
        return first
    counts = bass.sum(axis=0) * member
    return int(np.argmax(counts)) if counts.any() else root


def segment_chords(
    notes: Sequence[BeatNote],
    subdivision: int = 2,
    beat_to_seconds: Callable[[float], float] | None = None,
    profiles: str = "krumhansl",
) -> list[ChordSegment]:
    """Chord segments of ``notes`` on a grid of ``subdivision`` windows per beat."""
    notes = [n for n in notes if n.offset_beat > n.onset_beat]
    if not notes:
        return []
    if subdivision < 1:
        raise ValueError("subdivision must be at least 1")
    clock = beat_to_seconds or _beat_clock(notes)
    step = 1.0 / subdivision
    start = float(np.floor(min(n.onset_beat for n in notes)))
    end = max(n.offset_beat for n in notes)
    count = max(int(np.ceil((end - start) / step - 1e-9)), 1)
    weights, bass = _window_features(notes, start, step, count)
    has_notes = weights.sum(axis=1) > 0

    scores = np.full((count, len(_READINGS.qualities) + 1), EMPTY_WINDOW_SCORE)
    scores[has_notes, :-1] = reading_scores(weights[has_notes], bass[has_notes])
    scores[:, -1] = np.where(has_notes, NO_CHORD_SCORE, 0.0)
    on_beat = (np.arange(count) % subdivision) == 0
    path = _viterbi(scores, np.where(on_beat, CHANGE_COST_ON_BEAT, CHANGE_COST_OFF_BEAT))
    keys = _local_keys(weights, step, profiles)

    segments: list[ChordSegment] = []
    k = 0
    while k < count:
        j = k
        while j + 1 < count and path[j + 1] == path[k]:
            j += 1
        key = KEYS[int(np.bincount(keys[k : j + 1], minlength=24).argmax())]
        chord = numeral = None
        if path[k] < len(_READINGS.qualities):
            index = int(path[k])
            root = int(_READINGS.roots[index])
            member = _READINGS.member[index]
            chord = make_chord(
                root, _READINGS.qualities[index], _segment_bass(root, member, bass[k : j + 1]), key
            )
            numeral = roman_numeral(chord, key)
        b0 = start + k * step
        b1 = min(start + (j + 1) * step, end)
        segments.append(ChordSegment(clock(b0), clock(b1), b0, b1, chord, numeral, key))
        k = j + 1
    return segments

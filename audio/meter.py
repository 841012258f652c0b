"""Downbeats and a meter guess for a whole recording, from its beats.

Given the beat times (from :mod:`audio.tempo`), each beat gets a *downbeat salience*, the
recording gets a number of beats per bar (3 or 4), and a bar-position tracker picks the beats
that start bars:

1. **Per-beat cues**, each standardised over the track (z-score):

   * *accent*: the largest onset strength within ±50 ms of the beat (a loud or dense attack);
   * *low*: the same on the low-band envelope (bands below 150 Hz: kick drums and bass notes,
     which land on bar starts far more often than elsewhere);
   * *harmonic change*: ``1 − cos`` between the mean chroma of the beat and of the one before it
     (chords change on downbeats more than within bars).

   The salience is ``ACCENT_W · accent + LOW_W · low + CHANGE_W · change``.
2. **Meter** (``beats_per_bar``): for ``m`` in 3 and 4 and every phase ``p < m``, the contrast
   between the mean salience of the beats at ``p, p + m, p + 2m, ...`` and that of the other
   beats, divided by its standard deviation under no metre at all (``sqrt(m / (m − 1) / n)``
   for ``n`` beats of unit variance), so the two candidates are compared on equal footing. The
   best phase of each candidate gives its score; ``m = 3`` must beat ``m = 4`` by
   ``TRIPLE_MARGIN`` (most music people bring here is in four). Duple metres are reported as 4
   (2/4 and 4/4 are not told apart), and a 6/8 tracked at the dotted quarter reads as 4 as well.
   ``confidence`` maps the score gap between the two candidates onto 0..1.
3. **Downbeats**: Viterbi over the bar positions ``0 .. m−1`` (a Numba kernel). Each beat moves
   to the next position for free, or to any other position at a cost of ``JUMP_COST`` (a beat
   tracker that adds or drops a beat shifts the bar; the tracker follows instead of keeping the
   wrong phase for the rest of the track). A beat scores ``+s`` at position 0 and ``−s / (m − 1)``
   elsewhere, ``s`` its salience. Beats on position 0 are the downbeats.

Fewer than ``2 · m`` beats give no downbeats and a confidence of 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from audio import numba_runtime

METERS = (3, 4)
ACCENT_W, LOW_W, CHANGE_W = 1.0, 1.0, 2.0
TRIPLE_MARGIN = 0.5  # in standard deviations
JUMP_COST = 8.0  # in units of the salience's standard deviation
REACH_S = 0.05
SPAN = 2  # beats on each side in the harmonic change
NOISE_Z = 1.0  # a cue's bar contrast below this is treated as noise
START_BONUS = 5.0  # in units of the salience's standard deviation


@dataclass(frozen=True, slots=True)
class Meter:
    """``beats_per_bar`` (3 or 4; 0 when there are too few beats), ``downbeats_s`` (a subset of
    the beats) and ``confidence`` 0..1 in the meter."""

    beats_per_bar: int
    downbeats_s: np.ndarray
    confidence: float


NO_METER = Meter(0, np.zeros(0), 0.0)


@njit(nogil=True, cache=True)
def _bar_viterbi(salience, m, jump_cost, start, path):
    """Bar position (0..m-1) of every beat: the first beat starts with ``start[k]`` at position
    ``k``; advancing by one is free, any other move costs ``jump_cost``; a beat scores
    ``salience`` at position 0 and ``-salience / (m - 1)`` at the others."""
    n = salience.shape[0]
    if n == 0:
        return
    back = np.empty((n, m), dtype=np.int64)
    prev = np.empty(m)
    cur = np.empty(m)
    off = 1.0 / (m - 1)
    for k in range(m):
        prev[k] = start[k] + (salience[0] if k == 0 else -salience[0] * off)
        back[0, k] = k
    for i in range(1, n):
        best = 0
        for k in range(1, m):
            if prev[k] > prev[best]:
                best = k
        for k in range(m):
            step = (k - 1 + m) % m  # the position that advances into k
            score = prev[step]
            src = step
            if prev[best] - jump_cost > score:
                score = prev[best] - jump_cost
                src = best
            emit = salience[i] if k == 0 else -salience[i] * off
            cur[k] = score + emit
            back[i, k] = src
        for k in range(m):
            prev[k] = cur[k]
    last = 0
    for k in range(1, m):
        if prev[k] > prev[last]:
            last = k
    path[n - 1] = last
    for i in range(n - 1, 0, -1):
        path[i - 1] = back[i, path[i]]


def _start(m: int) -> np.ndarray:
    """Prior on the first beat's bar position: music mostly starts on a downbeat or with a
    one-beat pickup. It only breaks ties (kick on 1 and 3 leaves 1 and 3 alike)."""
    start = np.zeros(m)
    start[0] = START_BONUS
    start[m - 1] = 0.5 * START_BONUS
    return start


def _zscore(x: np.ndarray) -> np.ndarray:
    sd = float(np.std(x))
    return (x - float(np.mean(x))) / sd if sd > 1e-12 else np.zeros_like(x)


def _peak_near(env: np.ndarray, frame_rate: float, times_s: np.ndarray) -> np.ndarray:
    reach = max(1, round(REACH_S * frame_rate))
    idx = np.round(times_s * frame_rate).astype(np.int64)
    out = np.zeros(len(times_s))
    for j, i in enumerate(idx):
        lo, hi = max(0, i - reach), min(len(env), i + reach + 1)
        if lo < hi:
            out[j] = float(np.max(env[lo:hi]))
    return out


def _beat_chroma(chroma: np.ndarray, frame_rate: float, beats_s: np.ndarray) -> np.ndarray:
    """Mean chroma from each beat to the next (the last beat: one median beat long), unit rows."""
    period = float(np.median(np.diff(beats_s)))
    starts = np.round(beats_s * frame_rate).astype(np.int64)
    stops = np.round(np.append(beats_s[1:], beats_s[-1] + period) * frame_rate).astype(np.int64)
    out = np.zeros((len(beats_s), chroma.shape[1]))
    n = chroma.shape[0]
    for j in range(len(beats_s)):
        a = min(max(0, int(starts[j])), n)
        b = min(max(a + 1, int(stops[j])), n)
        if a < b:
            out[j] = chroma[a:b].mean(axis=0)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return np.divide(out, norms, out=np.zeros_like(out), where=norms > 1e-12)


def _harmonic_change(chroma: np.ndarray, frame_rate: float, beats_s: np.ndarray) -> np.ndarray:
    """``1 − cos`` between the mean chroma of the two beats from each beat on and of the two
    beats before it (two beats: one passing chord does not read as a new bar)."""
    c = _beat_chroma(chroma, frame_rate, beats_s)
    n = len(c)
    cum = np.vstack([np.zeros((1, c.shape[1])), np.cumsum(c, axis=0)])
    idx = np.arange(n)
    after = cum[np.minimum(idx + SPAN, n)] - cum[idx]
    before = cum[idx] - cum[np.maximum(idx - SPAN, 0)]
    num = np.sum(after * before, axis=1)
    den = np.linalg.norm(after, axis=1) * np.linalg.norm(before, axis=1)
    change = 1.0 - np.divide(num, den, out=np.ones(n), where=den > 1e-12)
    change[0] = float(np.mean(change[1:])) if n > 1 else 0.0
    return change


def _reliability(z: np.ndarray) -> float:
    """How clearly one cue repeats with a bar period: its best standardised contrast (see
    :func:`meter_scores`) above what noise alone reaches, 0 when it does not."""
    scores = meter_scores(z)
    best = max((v[0] for v in scores.values()), default=0.0)
    return max(0.0, best - NOISE_Z)


def salience(
    beats_s: np.ndarray,
    env: np.ndarray,
    low_env: np.ndarray,
    env_rate: float,
    chroma: np.ndarray | None = None,
    chroma_rate: float = 0.0,
) -> np.ndarray:
    """Downbeat salience of each beat (see the module notes); chroma is optional."""
    beats = np.asarray(beats_s, dtype=float)
    cues = [
        (ACCENT_W, _zscore(_peak_near(env, env_rate, beats))),
        (LOW_W, _zscore(_peak_near(low_env, env_rate, beats))),
    ]
    if chroma is not None and chroma_rate > 0 and len(chroma) and len(beats) > 1:
        change = _harmonic_change(np.asarray(chroma, dtype=float), chroma_rate, beats)
        cues.append((CHANGE_W, _zscore(change)))
    s = np.zeros(len(beats))
    for weight, z in cues:
        s += weight * _reliability(z) * z
    return _zscore(s)


def meter_scores(sal: np.ndarray) -> dict[int, tuple[float, int]]:
    """For each candidate ``m``: (best standardised contrast, its phase)."""
    n = len(sal)
    out: dict[int, tuple[float, int]] = {}
    for m in METERS:
        if n < 2 * m:
            continue
        best, phase = -math.inf, 0
        for p in range(m):
            on = sal[p::m]
            rest = np.delete(sal, np.arange(p, n, m))
            contrast = float(np.mean(on) - np.mean(rest))
            z = contrast / math.sqrt(1.0 / len(on) + 1.0 / len(rest))
            if z > best:
                best, phase = z, p
        out[m] = (best, phase)
    return out


def estimate_meter(sal: np.ndarray, beats_s: np.ndarray) -> Meter:
    """Meter and downbeats from a per-beat salience (already standardised)."""
    beats = np.asarray(beats_s, dtype=float)
    scores = meter_scores(sal)
    if 4 not in scores:
        return NO_METER
    four = scores[4][0]
    three = scores[3][0] if 3 in scores else -math.inf
    m = 3 if three > four + TRIPLE_MARGIN else 4
    gap = abs(three - four - TRIPLE_MARGIN) if math.isfinite(three) else 0.0
    confidence = 1.0 - math.exp(-gap / 2.0)
    path = np.empty(len(sal), dtype=np.int64)
    _bar_viterbi(np.ascontiguousarray(sal, dtype=np.float64), m, JUMP_COST, _start(m), path)
    return Meter(m, beats[path == 0], confidence)


def analyze_meter(
    beats_s: np.ndarray,
    env: np.ndarray,
    low_env: np.ndarray,
    env_rate: float,
    chroma: np.ndarray | None = None,
    chroma_rate: float = 0.0,
) -> Meter:
    """Meter and downbeats of a recording from its beats, onset envelopes and (optionally) its
    chroma."""
    beats = np.asarray(beats_s, dtype=float)
    if len(beats) < 2 * min(METERS) or len(env) == 0:
        return NO_METER
    return estimate_meter(salience(beats, env, low_env, env_rate, chroma, chroma_rate), beats)


def warm_up() -> None:
    """Compile (or load from the cache) the kernel."""
    numba_runtime.prepare()
    path = np.empty(8, dtype=np.int64)
    _bar_viterbi(np.linspace(-1.0, 1.0, 8), 4, JUMP_COST, _start(4), path)

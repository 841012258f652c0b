"""Chord timeline of a recording, from its chroma. Worker thread or whole-file analysis only.

Input is a chroma matrix (frames x 12, C first, ~10 frames per second, e.g. from
:func:`audio.chroma.chroma`). The pipeline:

1. **Observations**: each chroma row is compressed (``log(1 + 10 c)``) and scaled to unit length.
   With ``beats_s`` the rows are first averaged between consecutive beats (beat-synchronous:
   one observation per beat, plus one before the first and after the last beat when there is
   audio there); otherwise every frame is an observation.
2. **Templates** for 7 qualities on 12 roots (``maj``, ``min``, ``7``, ``maj7``, ``min7``,
   ``dim``, ``sus4``), *harmonic-aware*: every chord tone also lends weight to the pitch
   classes of its first few overtones (octave, twelfth, double octave, major 17th; amplitudes
   0.6^(h-1)), because a chroma built from spectral peaks keeps the harmonics of every note.
   The root gets a little extra weight (bass notes often double it).
3. **Emission score** per observation and chord: cosine similarity with the template, less a
   small per-quality penalty (a seventh chord's template is a superset of its triad, so it must
   explain clearly more than the triad to win; ``dim``/``sus4`` are rarer still). A no-chord
   state ``"N"`` scores the cosine with a flat vector less an offset, so silence (all-zero
   rows) and noise (flat rows) read ``N`` and a clear triad never does.
4. **Viterbi smoothing** (a Numba kernel, ``O(frames x states)``): log-probabilities are the
   scores times a sharpness factor; the transition matrix keeps the current chord with a bias
   (probability ``self_prob``) and spreads the rest evenly over the other states, so one-frame
   flickers cost more than they explain. Beat-synchronous input uses a weaker bias (a chord
   change per beat is common in real music).
5. Consecutive observations on the same state merge into :class:`ChordSpan` s.

Chord names follow :mod:`models.chords`: ``"C"``, ``"Am"``, ``"G7"``, ``"Fmaj7"``, ``"Dm7"``,
``"Bdim"``, ``"Dsus4"`` (roots spelt C C# D Eb E F F# G Ab A Bb B), and ``"N"`` for no chord.
:func:`to_mir_eval` converts a name into mir_eval's syntax (``"A:min"``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from audio import numba_runtime

NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

# (symbol suffix as in models.chords, mir_eval quality, intervals, score penalty)
QUALITIES: tuple[tuple[str, str, tuple[int, ...], float], ...] = (
    ("", "maj", (0, 4, 7), 0.0),
    ("m", "min", (0, 3, 7), 0.0),
    ("7", "7", (0, 4, 7, 10), 0.045),
    ("maj7", "maj7", (0, 4, 7, 11), 0.06),
    ("m7", "min7", (0, 3, 7, 10), 0.045),
    ("dim", "dim", (0, 3, 6), 0.06),
    ("sus4", "sus4", (0, 5, 7), 0.07),
)
_SUFFIX_TO_MIREX = {q[0]: q[1] for q in QUALITIES}
N_CHORDS = 12 * len(QUALITIES)
N_STATE = N_CHORDS  # index of the no-chord state
HARMONICS = (0, 0, 7, 0, 4)  # pitch-class offset of harmonics 1..5 above their note
HARMONIC_DECAY = 0.6
ROOT_BOOST = 1.3
COMPRESSION = 10.0
NO_CHORD_OFFSET = 0.22  # N scores cos(observation, flat) minus this
SHARPNESS = 25.0  # log-probability per unit of score
SELF_PROB_FRAMES = 0.9  # frame-rate observations
SELF_PROB_BEATS = 0.6  # beat-synchronous observations


@dataclass(frozen=True, slots=True)
class ChordSpan:
    """One chord held from ``start_s`` to ``end_s``; ``root`` is None for no chord ("N").

    ``quality`` is the symbol suffix of :mod:`models.chords` (``""`` major, ``"m"``, ``"7"``,
    ``"maj7"``, ``"m7"``, ``"dim"``, ``"sus4"``), or ``"N"`` for no chord.
    """

    start_s: float
    end_s: float
    root: int | None
    quality: str
    name: str


def chord_name(root: int | None, quality: str) -> str:
    """``chord_name(9, "m") == "Am"``; ``chord_name(None, "N") == "N"``."""
    if root is None or quality == "N":
        return "N"
    return NOTE_NAMES[root % 12] + quality


_ROOTS = {name: i for i, name in enumerate(NOTE_NAMES)} | {
    "Db": 1, "D#": 3, "Gb": 6, "G#": 8, "A#": 10, "Cb": 11, "B#": 0, "E#": 5, "Fb": 4,
}  # fmt: skip


def to_mir_eval(name: str) -> str:
    """A chord name of this module in mir_eval syntax: ``"Am" -> "A:min"``, ``"N" -> "N"``."""
    if name in ("N", ""):
        return "N"
    root = name[:2] if len(name) > 1 and name[1] in "#b" else name[:1]
    suffix = name[len(root) :]
    if root not in _ROOTS or suffix not in _SUFFIX_TO_MIREX:
        raise ValueError(f"not a chord name of this module: {name!r}")
    return f"{root}:{_SUFFIX_TO_MIREX[suffix]}"


def _build_templates() -> tuple[np.ndarray, np.ndarray]:
    """Unit-length templates (states x 12, N last as a flat vector) and per-state offsets."""
    templates = np.zeros((N_CHORDS + 1, 12))
    offsets = np.zeros(N_CHORDS + 1)
    for q, (_, _, intervals, penalty) in enumerate(QUALITIES):
        for root in range(12):
            row = templates[q * 12 + root]
            for interval in intervals:
                weight = ROOT_BOOST if interval == 0 else 1.0
                for h, offset in enumerate(HARMONICS):
                    row[(root + interval + offset) % 12] += weight * HARMONIC_DECAY**h
            row /= np.linalg.norm(row)
            offsets[q * 12 + root] = penalty
    templates[N_STATE] = 1.0 / np.sqrt(12.0)
    offsets[N_STATE] = NO_CHORD_OFFSET
    return templates, offsets


TEMPLATES, OFFSETS = _build_templates()


# ---------------------------------------------------------------------------------------------
# Kernels


@njit(nogil=True, cache=True)
def _scores(obs, templates, offsets, out):
    """``out[t, s] = cos(obs[t], templates[s]) - offsets[s]``; an all-zero row scores N = 1."""
    n_states = templates.shape[0]
    n_state = n_states - 1
    for t in range(obs.shape[0]):
        norm = 0.0
        for k in range(12):
            norm += obs[t, k] * obs[t, k]
        if norm <= 1e-12:
            for s in range(n_states):
                out[t, s] = -1.0
            out[t, n_state] = 1.0
            continue
        inv = 1.0 / np.sqrt(norm)
        for s in range(n_states):
            acc = 0.0
            for k in range(12):
                acc += obs[t, k] * templates[s, k]
            out[t, s] = acc * inv - offsets[s]


@njit(nogil=True, cache=True)
def _viterbi(log_emit, log_stay, log_move, path):
    """Most likely state path under a 'stay or jump anywhere' transition model.

    ``log_emit`` is (T, S); staying costs ``log_stay``, moving to any other state
    ``log_move``. Runs in O(T * S): the best predecessor is either the state itself or the
    overall best of the previous step.
    """
    n_t, n_s = log_emit.shape
    if n_t == 0:
        return
    back = np.empty((n_t, n_s), dtype=np.int32)
    prev = np.empty(n_s)
    cur = np.empty(n_s)
    for s in range(n_s):
        prev[s] = log_emit[0, s]
        back[0, s] = s
    for t in range(1, n_t):
        best = 0
        for s in range(1, n_s):
            if prev[s] > prev[best]:
                best = s
        jump = prev[best] + log_move
        for s in range(n_s):
            stay = prev[s] + log_stay
            if stay >= jump or s == best:
                cur[s] = stay + log_emit[t, s]
                back[t, s] = s
            else:
                cur[s] = jump + log_emit[t, s]
                back[t, s] = best
        for s in range(n_s):
            prev[s] = cur[s]
    last = 0
    for s in range(1, n_s):
        if prev[s] > prev[last]:
            last = s
    path[n_t - 1] = last
    for t in range(n_t - 1, 0, -1):
        path[t - 1] = back[t, path[t]]


@njit(nogil=True, cache=True)
def _pool(chroma, starts, stops, out):
    """Mean of ``chroma[starts[i]:stops[i]]`` per segment (zeros for an empty segment)."""
    for i in range(starts.shape[0]):
        a = starts[i]
        b = stops[i]
        for k in range(12):
            acc = 0.0
            for t in range(a, b):
                acc += chroma[t, k]
            out[i, k] = acc / (b - a) if b > a else 0.0


# ---------------------------------------------------------------------------------------------
# Python API


def _compress(chroma: np.ndarray) -> np.ndarray:
    c = np.nan_to_num(np.asarray(chroma, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    if c.ndim != 2 or c.shape[1] != 12:
        raise ValueError(f"chroma must be (frames, 12), got {c.shape}")
    peak = c.max(axis=1, keepdims=True)
    scaled = np.where(peak > 1e-9, c / np.maximum(peak, 1e-9), 0.0)
    return np.ascontiguousarray(np.log1p(COMPRESSION * np.maximum(scaled, 0.0)))


def emission_scores(C: np.ndarray) -> np.ndarray:  # noqa: N803 - chroma matrix
    """Per-row scores (rows x 85): 84 chords (quality-major order, root minor) and N last."""
    obs = _compress(C)
    out = np.empty((obs.shape[0], TEMPLATES.shape[0]))
    _scores(obs, TEMPLATES, OFFSETS, out)
    return out


def state_label(state: int) -> tuple[int | None, str]:
    """``(root, quality suffix)`` of a state index; ``(None, "N")`` for no chord."""
    if state >= N_CHORDS:
        return None, "N"
    return state % 12, QUALITIES[state // 12][0]


def decode(scores: np.ndarray, self_prob: float) -> np.ndarray:
    """Viterbi state path (int32) over emission ``scores`` with a self-transition bias."""
    scores = np.ascontiguousarray(scores, dtype=np.float64)
    n_states = scores.shape[1]
    path = np.zeros(scores.shape[0], dtype=np.int32)
    if scores.shape[0] == 0:
        return path
    self_prob = min(max(self_prob, 1e-6), 1.0 - 1e-6)
    log_move = float(np.log((1.0 - self_prob) / (n_states - 1)))
    _viterbi(SHARPNESS * scores, float(np.log(self_prob)), log_move, path)
    return path


def _segments(n_frames: int, frame_rate: float, beats_s: np.ndarray) -> tuple[np.ndarray, ...]:
    """Beat segments as frame ranges and times: (starts, stops, start_s, end_s)."""
    duration = n_frames / frame_rate
    beats = np.asarray(beats_s, dtype=np.float64).ravel()
    beats = np.unique(beats[(beats > 0.0) & (beats < duration) & np.isfinite(beats)])
    edges_s = np.concatenate([[0.0], beats, [duration]])
    # frame i is centred on i / frame_rate; it belongs to the segment holding its centre
    edges = np.ceil(edges_s * frame_rate - 1e-9).astype(np.int64)
    edges[-1] = n_frames
    starts, stops = edges[:-1], edges[1:]
    keep = stops > starts
    return starts[keep], stops[keep], edges_s[:-1][keep], edges_s[1:][keep]


def chord_timeline(
    C: np.ndarray,  # noqa: N803 - the chroma matrix, as in audio.chroma
    frame_rate: float,
    beats_s: np.ndarray | None = None,
    self_prob: float | None = None,
    no_chord: bool = True,
) -> list[ChordSpan]:
    """Smoothed chord spans of a chroma matrix ``C`` (frames x 12, C first).

    Frame ``i`` is taken as centred on ``i / frame_rate``. With ``beats_s`` the chroma is
    averaged between beats and chords change only on beats. ``self_prob`` overrides the
    self-transition probability (0.9 per frame, 0.6 per beat); 0 disables smoothing.
    ``no_chord=False`` keeps the N state for silent (all-zero) rows only.
    """
    if frame_rate <= 0:
        raise ValueError("frame_rate must be positive")
    c = np.asarray(C, dtype=np.float64)
    if c.ndim != 2 or c.shape[1] != 12:
        raise ValueError(f"chroma must be (frames, 12), got {c.shape}")
    n = c.shape[0]
    if n == 0:
        return []
    c = np.ascontiguousarray(np.nan_to_num(c, nan=0.0, posinf=0.0, neginf=0.0))
    if beats_s is not None and len(beats_s) > 0:
        starts, stops, t0, t1 = _segments(n, frame_rate, np.asarray(beats_s))
        obs = np.empty((starts.shape[0], 12))
        # pool each frame normalised to max 1 so loud frames do not dominate the beat
        _pool(_compress(c), starts, stops, obs)
        weights = (stops - starts).astype(np.float64)
        default_self = SELF_PROB_BEATS
    else:
        obs = _compress(c)
        centres = np.arange(n) / frame_rate
        t0 = np.maximum(centres - 0.5 / frame_rate, 0.0)
        t1 = centres + 0.5 / frame_rate
        weights = np.ones(n)
        default_self = SELF_PROB_FRAMES
    scores = np.empty((obs.shape[0], TEMPLATES.shape[0]))
    _scores(np.ascontiguousarray(obs), TEMPLATES, OFFSETS, scores)
    if not no_chord:
        sounding = np.any(obs > 0.0, axis=1)
        scores[sounding, N_STATE] = -2.0
    # a beat's evidence is the sum over its frames, so smoothing per beat is as strong as
    # smoothing per frame would be with changes allowed on beats only
    scores *= weights[:, None]
    p = default_self if self_prob is None else self_prob
    path = np.argmax(scores, axis=1).astype(np.int32) if p <= 0.0 else decode(scores, p)
    spans: list[ChordSpan] = []
    start = 0
    for i in range(1, len(path) + 1):
        if i == len(path) or path[i] != path[start]:
            root, quality = state_label(int(path[start]))
            spans.append(
                ChordSpan(
                    float(t0[start]), float(t1[i - 1]), root, quality, chord_name(root, quality)
                )
            )
            start = i
    return spans


def warm_up() -> None:
    """Compile (or load from the cache) the kernels."""
    numba_runtime.prepare()
    c = np.zeros((4, 12))
    c[:2, [0, 4, 7]] = 1.0
    chord_timeline(c, 10.0)
    chord_timeline(c, 10.0, np.array([0.15]))

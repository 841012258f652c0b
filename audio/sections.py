"""Structural sections (A, B, A, ...) of a whole recording, from self-similarity.

The pipeline:

1. **Features** per analysis frame (the chroma's frames, ~10 per second): the chroma itself
   (given, or computed by :func:`audio.chroma.chroma`) and a timbre proxy: log energies in 16
   log-spaced bands (60 Hz – 8 kHz) of a Hann-windowed STFT computed here, hop matched to the
   chroma. Frames are then pooled: per beat when ``beats_s`` is given (and in 0.5 s blocks
   before the first and after the last beat), otherwise into blocks of 0.5 s. Each feature
   group is standardised over time (z-score per dimension) and every row is scaled to unit
   length, so chroma and timbre weigh the same.
2. **Self-similarity**: ``S = (Fc Fc' + Ft Ft') / 2`` (cosine similarity, −1..1), after a short
   time-delay embedding (each row stacked with its two neighbours) that favours sustained
   textures over single-block coincidences.
3. **Novelty** (Numba kernel): a Gaussian-tapered checkerboard kernel of ±6 s slid along the
   diagonal of ``S``; the value is the weighted mean similarity within the past and future
   quadrants less that across them (0 for homogeneous audio, up to 2 at a boundary between two
   unrelated textures).
4. **Boundaries**: local maxima of the novelty above ``threshold`` (0.25), taken greedily from
   the highest, at least ``min_section_s`` (8 s) from each other and from both ends.
5. **Labels**: segments are compared by their mean block of ``S`` (normalised by their own
   self-similarity); each segment joins the letter of the most similar earlier one when that
   similarity reaches ``label_threshold`` (0.5), else takes the next letter. Adjacent segments
   with the same letter merge.

Files shorter than 20 s, and silent files, are one section ``"A"``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from audio import numba_runtime
from audio.audio_file import rms

SHORT_S = 20.0
MIN_SECTION_S = 8.0
KERNEL_S = 6.0
BLOCK_S = 0.5
THRESHOLD = 0.25
LABEL_THRESHOLD = 0.5
N_BANDS = 16
BAND_LO_HZ = 60.0
BAND_HI_HZ = 8000.0
SILENCE_RMS = 1e-4  # about -80 dBFS
EMBED = 1  # neighbours stacked on each side of a row


@dataclass(frozen=True, slots=True)
class Section:
    start_s: float
    end_s: float
    label: str


# ---------------------------------------------------------------------------------------------
# Kernels


@njit(nogil=True, cache=True)
def _novelty(s, half, sigma, out):
    """Checkerboard-kernel novelty along the diagonal of the square matrix ``S``.

    For each ``i``: weighted mean of ``S`` inside the two same-side quadrants (past x past,
    future x future) minus that of the two cross quadrants, over lags ``1..half`` (Gaussian
    weights ``exp(-(a^2 + b^2) / (2 sigma^2))``); quadrants cut by the ends are renormalised.
    """
    n = s.shape[0]
    for i in range(n):
        same = 0.0
        same_w = 0.0
        cross = 0.0
        cross_w = 0.0
        for a in range(1, half + 1):
            for b in range(1, half + 1):
                w = np.exp(-(a * a + b * b) / (2.0 * sigma * sigma))
                p = i - a  # past rows are i - 1 .. i - half
                q = i - b
                f = i + a - 1  # future rows are i .. i + half - 1
                g = i + b - 1
                if p >= 0 and q >= 0:
                    same += w * s[p, q]
                    same_w += w
                if f < n and g < n:
                    same += w * s[f, g]
                    same_w += w
                if p >= 0 and g < n:
                    cross += w * s[p, g]
                    cross_w += w
                if f < n and q >= 0:
                    cross += w * s[f, q]
                    cross_w += w
        if same_w > 0.0 and cross_w > 0.0:
            out[i] = same / same_w - cross / cross_w
        else:
            out[i] = 0.0


@njit(nogil=True, cache=True)
def _pool_rows(x, starts, stops, out):
    """Mean of ``x[starts[i]:stops[i]]`` per row block."""
    for i in range(starts.shape[0]):
        a = starts[i]
        b = stops[i]
        for k in range(x.shape[1]):
            acc = 0.0
            for t in range(a, b):
                acc += x[t, k]
            out[i, k] = acc / (b - a) if b > a else 0.0


@njit(nogil=True, cache=True)
def _band_sums(power, edges, out_row):
    for b in range(out_row.shape[0]):
        acc = 0.0
        for k in range(edges[b], max(edges[b + 1], edges[b] + 1)):
            acc += power[k]
        out_row[b] = acc


# ---------------------------------------------------------------------------------------------
# Features


def _as_mono(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y, dtype=np.float32)  # not float64: a long track would double in size
    if y.ndim == 2:
        y = y.mean(axis=1) if y.shape[1] <= y.shape[0] else y.mean(axis=0)
    y = y.ravel()
    return y if np.isfinite(rms(y)) else np.nan_to_num(y)


def band_energies(y: np.ndarray, sr: int, frame_rate: float, n_frames: int) -> np.ndarray:
    """Log band energies (n_frames x 16) of frames centred on ``i / frame_rate``."""
    y = _as_mono(y)
    n_fft = 1 << int(np.ceil(np.log2(max(0.1 * sr, 64))))  # ~0.1 s window
    window = np.hanning(n_fft).astype(np.float32)
    hi = min(BAND_HI_HZ, 0.45 * sr)
    edges_hz = np.geomspace(BAND_LO_HZ, hi, N_BANDS + 1)
    edges = np.clip(np.round(edges_hz * n_fft / sr), 1, n_fft // 2).astype(np.int64)
    y = y.astype(np.float32, copy=False)  # and no padded copy: a long track stays small
    out = np.empty((n_frames, N_BANDS))
    hop = sr / frame_rate
    chunk = 256
    for first in range(0, n_frames, chunk):
        idx = np.arange(first, min(first + chunk, n_frames))
        starts = np.round(idx * hop).astype(np.int64) - n_fft // 2  # frames centred on i * hop
        where = starts[:, None] + np.arange(n_fft)[None, :]
        if starts[0] >= 0 and starts[-1] + n_fft <= len(y):
            frames = y[where] * window
        else:  # the first and last frames reach past the ends: zeros there
            inside = (where >= 0) & (where < len(y))
            frames = np.where(inside, y[np.clip(where, 0, max(0, len(y) - 1))], 0.0) * window
        spec = np.fft.rfft(frames, axis=1)
        power = spec.real**2 + spec.imag**2
        for j, row in enumerate(power):
            _band_sums(row, edges, out[first + j])
    return np.log10(out + 1e-10)


def _standardise(x: np.ndarray) -> np.ndarray:
    x = x - x.mean(axis=0, keepdims=True)
    sd = x.std(axis=0, keepdims=True)
    return x / np.where(sd > 1e-9, sd, 1.0)


def _unit_rows(x: np.ndarray) -> np.ndarray:
    norm = np.sqrt(np.sum(x * x, axis=1, keepdims=True))
    return x / np.where(norm > 1e-12, norm, 1.0)


def _embed(x: np.ndarray, k: int) -> np.ndarray:
    if k <= 0 or len(x) < 2:
        return x
    padded = np.concatenate([np.repeat(x[:1], k, axis=0), x, np.repeat(x[-1:], k, axis=0)])
    return np.concatenate([padded[j : j + len(x)] for j in range(2 * k + 1)], axis=1)


MAX_BLOCKS = 1200  # the self-similarity matrix is at most this square (11 MB)


def _blocks(
    n_frames: int, frame_rate: float, beats_s: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frame ranges (starts, stops) and edge times (len + 1) of the pooling blocks."""
    duration = n_frames / frame_rate
    if beats_s is not None and len(beats_s) > 1:
        beats = np.asarray(beats_s, dtype=np.float64).ravel()
        beats = np.unique(beats[(beats > 0) & (beats < duration) & np.isfinite(beats)])
        if len(beats) == 0:
            return _blocks(n_frames, frame_rate, None)
        # Where the tracker found no beats (a free intro, a long ending), 0.5 s blocks: one
        # block there could never hold a boundary.
        head = np.linspace(0.0, beats[0], max(1, round(beats[0] / BLOCK_S)) + 1)[1:-1]
        tail_n = max(1, round((duration - beats[-1]) / BLOCK_S))
        tail = np.linspace(beats[-1], duration, tail_n + 1)[1:-1]
        beats = np.concatenate([head, beats, tail])
        if len(beats) > MAX_BLOCKS:  # a long track: every k-th edge, so S stays ≤ MAX_BLOCKS²
            beats = beats[:: -(-len(beats) // MAX_BLOCKS)]
        edges_s = np.concatenate([[0.0], beats, [duration]])
    else:
        n_blocks = min(MAX_BLOCKS, max(1, round(duration / BLOCK_S)))
        edges_s = np.linspace(0.0, duration, n_blocks + 1)
    edges = np.ceil(edges_s * frame_rate - 1e-9).astype(np.int64)
    edges[-1] = n_frames
    keep = np.concatenate([edges[1:] > edges[:-1], [True]])
    edges, edges_s = edges[keep], edges_s[keep]
    edges_s[-1] = duration
    return edges[:-1], edges[1:], edges_s


def self_similarity(
    y: np.ndarray,
    sr: int,
    C: np.ndarray,  # noqa: N803 - the chroma matrix
    frame_rate: float,
    beats_s: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(S, edges_s)``: block self-similarity (blocks x blocks) and block edge times."""
    chroma = np.nan_to_num(np.asarray(C, dtype=np.float64))
    n = chroma.shape[0]
    timbre = band_energies(y, sr, frame_rate, n)
    starts, stops, edges_s = _blocks(n, frame_rate, beats_s)
    pooled_c = np.empty((len(starts), 12))
    pooled_t = np.empty((len(starts), N_BANDS))
    _pool_rows(np.ascontiguousarray(chroma), starts, stops, pooled_c)
    _pool_rows(np.ascontiguousarray(timbre), starts, stops, pooled_t)
    fc = _unit_rows(_embed(_unit_rows(_standardise(pooled_c)), EMBED))
    ft = _unit_rows(_embed(_unit_rows(_standardise(pooled_t)), EMBED))
    return 0.5 * (fc @ fc.T + ft @ ft.T), edges_s


def novelty(ssm: np.ndarray, half: int) -> np.ndarray:
    """Checkerboard novelty of ``ssm`` with a kernel of ``half`` blocks on each side."""
    out = np.zeros(ssm.shape[0])
    half = max(1, int(half))
    _novelty(np.ascontiguousarray(ssm, dtype=np.float64), half, max(half / 2.0, 1.0), out)
    return out


def _pick(
    nov: np.ndarray, times: np.ndarray, duration: float, min_len: float, thr: float
) -> list[int]:
    """Block indices of boundaries: greedy highest local maxima, spaced ``min_len`` apart."""
    n = len(nov)
    peaks = [
        i
        for i in range(1, n)
        if nov[i] >= thr and nov[i] >= nov[i - 1] and (i + 1 >= n or nov[i] >= nov[i + 1])
    ]
    chosen: list[int] = []
    for i in sorted(peaks, key=lambda j: -nov[j]):
        t = times[i]
        if t < min_len or duration - t < min_len:
            continue
        if all(abs(t - times[j]) >= min_len for j in chosen):
            chosen.append(i)
    return sorted(chosen)


def _labels(ssm: np.ndarray, bounds: list[tuple[int, int]], thr: float) -> list[str]:
    k = len(bounds)
    m = np.empty((k, k))
    for a, (a0, a1) in enumerate(bounds):
        for b, (b0, b1) in enumerate(bounds):
            m[a, b] = ssm[a0:a1, b0:b1].mean()
    diag = np.sqrt(np.maximum(np.diag(m), 1e-6))
    sim = m / diag[:, None] / diag[None, :]
    labels: list[str] = []
    letters = 0
    for a in range(k):
        best, best_sim = -1, thr
        for b in range(a):
            if sim[a, b] >= best_sim:
                best, best_sim = b, sim[a, b]
        if best >= 0:
            labels.append(labels[best])
        else:
            labels.append(_letter(letters))
            letters += 1
    return labels


def _letter(i: int) -> str:
    return chr(ord("A") + i) if i < 26 else f"Z{i - 25}"


def sections(
    y: np.ndarray,
    sr: int,
    C: np.ndarray | None = None,  # noqa: N803 - the chroma matrix, as in audio.chroma
    frame_rate: float | None = None,
    beats_s: np.ndarray | None = None,
    min_section_s: float = MIN_SECTION_S,
    threshold: float = THRESHOLD,
    label_threshold: float = LABEL_THRESHOLD,
) -> list[Section]:
    """Sections of mono audio ``y`` (any shape; stereo is averaged) at ``sr`` Hz.

    ``C``/``frame_rate`` reuse a chroma already computed (frames centred on
    ``i / frame_rate``); without them :func:`audio.chroma.chroma` runs. ``beats_s`` makes the
    analysis beat-synchronous (boundaries then fall on beats).
    """
    mono = _as_mono(y)
    duration = len(mono) / sr if sr > 0 else 0.0
    if duration <= 0.0:
        return []
    whole = [Section(0.0, duration, "A")]
    if duration < SHORT_S or rms(mono) < SILENCE_RMS:
        return whole
    if C is None or frame_rate is None:
        from audio.chroma import chroma

        chroma_m, frame_rate = chroma(mono.astype(np.float32), sr)
    else:
        chroma_m = np.asarray(C)
    if chroma_m.ndim != 2 or chroma_m.shape[1] != 12:
        raise ValueError(f"chroma must be (frames, 12), got {chroma_m.shape}")
    if chroma_m.shape[0] < 4:
        return whole
    ssm, edges_s = self_similarity(mono, sr, chroma_m, frame_rate, beats_s)
    centres = edges_s[:-1]  # a boundary sits at the start of the block where novelty peaks
    mean_block = float(np.mean(np.diff(edges_s)))
    half = max(2, round(KERNEL_S / mean_block))
    nov = novelty(ssm, half)
    picked = _pick(nov, centres, duration, min_section_s, threshold)
    cut = [0, *picked, len(centres)]
    bounds = [(cut[i], cut[i + 1]) for i in range(len(cut) - 1)]
    labels = _labels(ssm, bounds, label_threshold)
    out: list[Section] = []
    for (a, b), label in zip(bounds, labels, strict=True):
        start, end = float(edges_s[a]), float(edges_s[b]) if b < len(edges_s) else duration
        if out and out[-1].label == label:
            out[-1] = Section(out[-1].start_s, end, label)
        else:
            out.append(Section(start, end, label))
    if out:
        out[-1] = Section(out[-1].start_s, duration, out[-1].label)
    return _relabel(out)


def _relabel(secs: list[Section]) -> list[Section]:
    """Letters in order of first appearance after merging."""
    mapping: dict[str, str] = {}
    result = []
    for s in secs:
        if s.label not in mapping:
            mapping[s.label] = _letter(len(mapping))
        result.append(Section(s.start_s, s.end_s, mapping[s.label]))
    return result


def warm_up() -> None:
    """Compile (or load from the cache) the kernels."""
    numba_runtime.prepare()
    novelty(np.eye(8), 2)
    _pool_rows(np.ones((4, 3)), np.array([0, 2]), np.array([2, 4]), np.empty((2, 3)))
    _band_sums(np.ones(9), np.array([1, 3, 5], dtype=np.int64), np.empty(2))

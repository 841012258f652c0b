"""Tempo and beats of a whole recording: onset strength, tempo with octave check, beat tracking.

Pipeline (all mono, any sample rate):

1. **Onset strength** (:func:`onset_strength`): the signal is box-decimated by an integer factor
   to about 11 kHz (onsets live well below 5 kHz), then a Hann STFT with ``n_fft = 4 * hop`` and
   a hop near 1/45 s gives ~43–63 frames per second. Band magnitudes on a 1/6-octave axis
   (30 Hz–5 kHz) are log-compressed and their positive change against the frame ``lag`` hops
   earlier, after a 3-band maximum filter (SuperFlux, Böck & Widmer 2013), is summed. A moving
   average over ~1 s is subtracted and the result half-wave rectified.
2. **Tempo** (:func:`estimate_tempo`): the autocorrelation of the envelope is summed at the first
   four multiples of every candidate beat period (a comb over 30–300 BPM on a 0.25 % grid),
   weighted by a log-Gaussian prior around 120 BPM (one octave wide). The best peak and its
   metrical relatives (×2, ×½, ×3, ×⅓) are then compared on their pulse-train contrast (mean
   onset strength on the beats minus half-way between them, at the best phase): a slower
   candidate only wins if its off-beats are clearly weaker than its beats, i.e. the faster pulse
   is really a subdivision. Confidence is the chosen peak's share of the five strongest
   prior-weighted comb peaks (0 when the chosen tempo is not among them).
3. **Beats** (:func:`track_beats`): Ellis (2007) dynamic programming on the envelope smoothed by
   a Gaussian of period/32, tightness 100, backtracked from the strongest late peak of the
   cumulative score; weak beats at the very start and end are trimmed. Every beat then moves
   back by the track's median attack time (:func:`attack_shift`): the flux peaks part-way up a
   note's attack, which for an organ is 100 ms after the note starts.

:func:`analyze_rhythm` runs all three and refines the tempo from a least-squares fit of the beat
times when it agrees with the comb estimate within 8 %.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from audio import fft, numba_runtime
from audio.audio_file import rms
from audio.tempo_kernels import beat_dp, box_decimate, comb_scores, log_band_flux, pulse_contrast

TARGET_RATE = 11025.0
FMIN, FMAX = 30.0, 5000.0
BANDS_PER_OCTAVE = 6
LOW_HZ = 150.0  # the low-band envelope: bands whose top edge is at or below this
BPM_MIN, BPM_MAX = 30.0, 300.0
PRIOR_BPM, PRIOR_OCTAVES = 120.0, 1.0
HARMONICS = 4
MAX_ACF_S = 8.0
TIGHTNESS = 100.0
ATTACK_FLOOR = 0.1  # of the attack's flux peak: where an attack is taken to start
MAX_ATTACK_S = 0.15
GAIN = 1000.0


@dataclass(frozen=True, slots=True)
class TempoEstimate:
    """``bpm`` (0 when nothing pulses), ``confidence`` 0..1, and ``candidates``: (bpm, score)
    of the strongest comb peaks, best first."""

    bpm: float
    confidence: float
    candidates: tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class Rhythm:
    bpm: float
    confidence: float
    beats_s: np.ndarray


def _frame_params(sr: int) -> tuple[int, float, int, int]:
    """(decimation factor, analysis rate, hop, n_fft) for an input rate."""
    factor = max(1, round(sr / TARGET_RATE))
    rate = sr / factor
    hop = int(2 ** round(np.log2(rate / 45.0)))
    return factor, rate, hop, 4 * hop


def _band_edges(rate: float, n_fft: int) -> np.ndarray:
    top = min(FMAX, 0.45 * rate)
    n = int(np.ceil(np.log2(top / FMIN) * BANDS_PER_OCTAVE))
    hz = FMIN * 2.0 ** (np.arange(n + 1) / BANDS_PER_OCTAVE)
    bins = np.unique(np.round(hz * n_fft / rate).astype(np.int64))
    return bins[bins <= n_fft // 2]


STFT_CHUNK = 2048  # frames per STFT chunk in onset_strength


def onset_strength(y: np.ndarray, sr: int) -> tuple[np.ndarray, float]:
    """Onset strength envelope (float32, one value per hop) and its frame rate in Hz."""
    env, _, frame_rate = onset_envelopes(y, sr)
    return env, frame_rate


def onset_envelopes(y: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray, float]:
    """``(env, low, frame_rate)``: the onset strength envelope over all bands and the same over
    the bands below ``LOW_HZ`` only (bass and kick onsets, which mark downbeats more often than
    the rest), both float32 at ``frame_rate`` Hz."""
    x = np.ascontiguousarray(y, dtype=np.float32).reshape(-1)
    factor, rate, hop, n_fft = _frame_params(sr)
    frame_rate = rate / hop
    if factor > 1:
        dec = np.empty(len(x) // factor, dtype=np.float32)
        box_decimate(x, factor, dec)
        x = dec
    level = rms(x)
    if level < 1e-9 or len(x) < n_fft:
        n = max(0, 1 + (len(x) - n_fft) // hop) if len(x) >= n_fft else 0
        return np.zeros(n, dtype=np.float32), np.zeros(n, dtype=np.float32), frame_rate
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop]
    # The level normalisation rides on the window: no second copy of a long signal.
    window = (np.hanning(n_fft) * (0.1 / level)).astype(np.float32)
    edges = _band_edges(rate, n_fft)
    n_low = int(np.count_nonzero(edges[1:] * rate / n_fft <= LOW_HZ))
    lag = max(1, n_fft // (4 * hop))
    gain = GAIN * 2.0 / float(np.hanning(n_fft).sum())
    env = np.empty(frames.shape[0], dtype=np.float32)
    low = np.empty(frames.shape[0], dtype=np.float32)
    # The STFT in chunks of frames, each with the `lag` frames before it that the flux looks
    # back on: memory stays a few MB however long the track is.
    for start in range(0, frames.shape[0], STFT_CHUNK):
        lo, hi = max(0, start - lag), min(frames.shape[0], start + STFT_CHUNK)
        spec = fft.rfft(frames[lo:hi] * window, axis=1)
        logbands = np.empty((hi - lo, len(edges) - 1), dtype=np.float32)
        part = np.empty(hi - lo, dtype=np.float32)
        low_part = np.empty(hi - lo, dtype=np.float32)
        log_band_flux(spec, edges, gain, lag, n_low, logbands, part, low_part)
        env[start:hi] = part[start - lo :]
        low[start:hi] = low_part[start - lo :]
    return _centre(env, n_fft, hop, frame_rate), _centre(low, n_fft, hop, frame_rate), frame_rate


def _centre(env: np.ndarray, n_fft: int, hop: int, frame_rate: float) -> np.ndarray:
    """Centre each value on its frame (the STFT frame starts at t*hop: shift by half a window),
    then subtract a moving average over about a second and half-wave rectify."""
    shift = round(n_fft / 2 / hop)
    env = np.concatenate([np.zeros(shift, dtype=np.float32), env])
    width = round(frame_rate)
    if len(env) > width:
        kernel = np.full(width, 1.0 / width, dtype=np.float32)
        env = np.maximum(env - np.convolve(env, kernel, mode="same"), 0.0).astype(np.float32)
    return env


def _acf(env: np.ndarray, max_lag: int) -> np.ndarray:
    x = env.astype(np.float64) - float(np.mean(env))
    n = len(x)
    size = int(2 ** np.ceil(np.log2(2 * n)))
    f = np.fft.rfft(x, size)
    acf = np.fft.irfft(f.real**2 + f.imag**2, size)[: min(max_lag, n)]
    return acf / acf[0] if acf[0] > 0 else acf * 0.0


def _prior(bpm: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * (np.log2(bpm / PRIOR_BPM) / PRIOR_OCTAVES) ** 2)


def estimate_tempo(env: np.ndarray, frame_rate: float) -> TempoEstimate:
    """Global tempo of an onset envelope (see the module notes)."""
    if len(env) < 4 or not np.any(env > 0):
        return TempoEstimate(0.0, 0.0, ())
    bpms = BPM_MIN * (BPM_MAX / BPM_MIN) ** np.linspace(0.0, 1.0, 921)
    lags = 60.0 * frame_rate / bpms
    acf = _acf(env, int(MAX_ACF_S * frame_rate))
    comb = np.empty(len(bpms))
    comb_scores(acf, lags, HARMONICS, comb)
    weighted = np.maximum(comb, 0.0) * _prior(bpms)
    peaks = [
        i
        for i in range(1, len(bpms) - 1)
        if weighted[i] > 0 and weighted[i] >= weighted[i - 1] and weighted[i] > weighted[i + 1]
    ]
    if not peaks:
        return TempoEstimate(0.0, 0.0, ())
    peaks.sort(key=lambda i: -weighted[i])
    best = peaks[0]

    def refine(i: int) -> float:
        if 0 < i < len(bpms) - 1:
            a, b, c = weighted[i - 1], weighted[i], weighted[i + 1]
            den = a - 2 * b + c
            off = 0.5 * (a - c) / den if den < 0 else 0.0
            return float(bpms[0] * (BPM_MAX / BPM_MIN) ** ((i + off) / (len(bpms) - 1)))
        return float(bpms[i])

    chosen = refine(best)
    chosen = _metrical_check(env, frame_rate, chosen, bpms, weighted)
    # Confidence: the chosen peak's share of the five strongest comb peaks.
    top_peaks = np.array([weighted[i] for i in peaks[:5]])
    near = [i for i in peaks[:5] if abs(np.log(bpms[i] / chosen)) < np.log(1.04)]
    mass = float(weighted[near[0]]) if near else 0.0
    confidence = mass / float(top_peaks.sum())
    top = max(float(weighted[peaks[0]]), 1e-12)
    candidates = tuple((refine(i), float(weighted[i] / top)) for i in peaks[:5])
    return TempoEstimate(chosen, confidence, candidates)


def _metrical_check(
    env: np.ndarray, frame_rate: float, bpm: float, bpms: np.ndarray, weighted: np.ndarray
) -> float:
    """Move to a metrical relative of ``bpm`` when its pulse train fits clearly better."""
    x = env.astype(np.float64)
    scale = float(np.mean(x)) or 1.0

    def contrast(b: float) -> float:
        c, _ = pulse_contrast(x, 60.0 * frame_rate / b, 32)
        return c / scale

    def comb_at(b: float) -> float:
        i = int(np.argmin(np.abs(np.log(bpms / b))))
        lo, hi = max(0, i - 2), min(len(bpms), i + 3)
        return float(weighted[lo:hi].max())

    base_comb = comb_at(bpm)
    best, best_score = bpm, contrast(bpm)
    for ratio in (0.5, 2.0, 1.0 / 3.0, 3.0):
        b = bpm * ratio
        if not (BPM_MIN <= b <= BPM_MAX) or comb_at(b) < 0.5 * base_comb:
            continue
        s = contrast(b)
        # A slower pulse whose off-beats are as strong as its beats is a multiple of the beat.
        if s > 1.25 * best_score:
            best, best_score = b, s
    return best


def track_beats(env: np.ndarray, frame_rate: float, bpm: float) -> np.ndarray:
    """Beat times in seconds (Ellis 2007 dynamic programming at the given tempo)."""
    if bpm <= 0 or len(env) < 2 or not np.any(env > 0):
        return np.zeros(0)
    period = 60.0 * frame_rate / bpm
    x = env.astype(np.float64)
    x = x / (float(np.std(x)) or 1.0)
    half = round(period)
    win = np.exp(-0.5 * (np.arange(-half, half + 1) * 32.0 / period) ** 2)
    local = np.convolve(x, win, mode="same")
    cumscore = np.zeros(len(local))
    backlink = np.full(len(local), -1, dtype=np.int64)
    beat_dp(local, period, TIGHTNESS, cumscore, backlink)
    # Last beat: the latest local maximum of the cumulative score above half their median.
    is_peak = np.zeros(len(cumscore), dtype=bool)
    is_peak[1:-1] = (cumscore[1:-1] >= cumscore[:-2]) & (cumscore[1:-1] > cumscore[2:])
    is_peak[-1] = cumscore[-1] > cumscore[-2]
    peaks = np.flatnonzero(is_peak)
    if len(peaks) == 0:
        return np.zeros(0)
    good = peaks[cumscore[peaks] >= 0.5 * np.median(cumscore[peaks])]
    t = int(good[-1])
    beats = []
    while t >= 0:
        beats.append(t)
        t = int(backlink[t])
    frames = np.array(beats[::-1], dtype=np.int64)
    # Trim weak beats at the edges (fade-in/out, silence).
    strength = local[frames]
    threshold = 0.5 * float(np.sqrt(np.mean(strength**2)))
    keep = np.flatnonzero(strength >= threshold)
    if len(keep):
        frames = frames[keep[0] : keep[-1] + 1]
    return (frames + attack_shift(env, frame_rate, frames)) / frame_rate


def attack_shift(env: np.ndarray, frame_rate: float, frames: np.ndarray) -> float:
    """Frames to move every beat by (≤ 0) so that it sits where the attacks start.

    The flux peaks part-way up an attack, which for slow attacks (organ, strings, pads) is
    80–110 ms after the note starts. For each beat: the envelope's peak within ±70 ms, then
    back while the envelope stays above ``ATTACK_FLOOR`` of that peak; the median of those
    distances over the track (an instrument's attack is about the same on every note), at most
    ``MAX_ATTACK_S``. Percussive attacks rise within a frame, so they move by 0 or 1 frames.
    """
    if len(frames) < 4:
        return 0.0
    reach = max(1, round(0.07 * frame_rate))
    limit = round(MAX_ATTACK_S * frame_rate)
    shifts = []
    for b in frames:
        lo, hi = max(0, int(b) - reach), min(len(env), int(b) + reach + 1)
        if lo >= hi:
            continue
        peak = lo + int(np.argmax(env[lo:hi]))
        floor = ATTACK_FLOOR * float(env[peak])
        t = peak
        while t > 0 and peak - t < limit and env[t - 1] >= floor:
            t -= 1
        shifts.append(t - int(b))
    if not shifts:
        return 0.0
    return float(min(0.0, max(-limit, float(np.median(shifts)))))


def _refine_bpm(beats: np.ndarray, bpm: float) -> float:
    if len(beats) < 8:
        return bpm
    idx = np.arange(len(beats), dtype=np.float64)
    slope = float(np.polyfit(idx, beats, 1)[0])
    if slope <= 0:
        return bpm
    fitted = 60.0 / slope
    return fitted if abs(np.log(fitted / bpm)) < np.log(1.08) else bpm


def analyze_rhythm(y: np.ndarray, sr: int) -> Rhythm:
    """Tempo, confidence and beat times of a mono recording."""
    return rhythm_from_envelope(*onset_strength(y, sr))


def rhythm_from_envelope(env: np.ndarray, frame_rate: float) -> Rhythm:
    """Tempo, confidence and beats from an :func:`onset_strength` envelope (for callers that
    use the envelope for other things too)."""
    est = estimate_tempo(env, frame_rate)
    beats = track_beats(env, frame_rate, est.bpm)
    return Rhythm(_refine_bpm(beats, est.bpm), est.confidence, beats)


def warm_up() -> float:
    """Compile or load the kernels; returns the seconds it took."""
    started = time.perf_counter()
    numba_runtime.prepare()
    sr = 22050
    t = np.arange(sr * 3) / sr
    y = (np.sin(2 * np.pi * 440 * t) * (np.mod(t, 0.5) < 0.05)).astype(np.float32)
    analyze_rhythm(y, sr)
    return time.perf_counter() - started

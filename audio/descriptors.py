"""Track descriptors with written definitions: energy, danceability, brightness.

None of these is a trained model; each is a formula over measured quantities, documented here and
in the README's "Track descriptors", and each lies in ``0..1``. They stand in for the audio
features Spotify no longer serves, but they are *our* definitions: compare tracks with each
other, not with old Spotify numbers.

* **brightness** — where the spectrum's energy sits: the energy-weighted mean spectral centroid
  ``c`` (Hz, below 5.5 kHz: the analysis runs at about 11 kHz) mapped on a log scale,
  ``log2(c / 400) / log2(4000 / 400)``, clipped: a centroid of 400 Hz or less is 0 (a
  bass-heavy, dull mix), 4 kHz or more is 1 (hi-hats and air).
* **energy** — how loud and how busy: ``0.6 · L + 0.4 · D`` with ``L`` the integrated loudness
  mapped from −30 LUFS (0) to −6 LUFS (1) and ``D`` the onset density mapped from 0 to 8 onsets
  a second (1), both clipped.
* **danceability** — how strong and how regular the beat is, at a tempo people dance to:
  ``T · S · (0.5 + 0.5 · R)`` with ``S`` the beat contrast (mean onset strength within ±50 ms of
  the beats over that halfway between beats, mapped from 1 (0: the beats stand out no more than
  the off-beats, as in noise or a drone) to 3 (1)), ``R`` the beat regularity (``1 − 4 · cv`` of
  the inter-beat intervals, clipped, so a 25 % spread is 0) and ``T`` the tempo factor (1
  between 90 and 140 BPM, falling linearly to 0.5 at 60 and 200 BPM and staying there). Fewer
  than 8 beats give 0.
"""

from __future__ import annotations

import math

import numpy as np


def onset_rate(env: np.ndarray, frame_rate: float) -> float:
    """Onsets a second: local maxima of the onset envelope above its mean plus half a standard
    deviation, at least 50 ms apart."""
    if len(env) < 3 or frame_rate <= 0:
        return 0.0
    threshold = float(np.mean(env) + 0.5 * np.std(env))
    gap = max(1, round(0.05 * frame_rate))
    peaks = np.flatnonzero(
        (env[1:-1] > env[:-2]) & (env[1:-1] >= env[2:]) & (env[1:-1] > threshold)
    )
    count, last = 0, -gap
    for p in peaks:
        if p - last >= gap:
            count += 1
            last = int(p)
    return count / (len(env) / frame_rate)


def spectral_centroid(y: np.ndarray, sr: float, frame: int = 2048) -> float:
    """Energy-weighted mean spectral centroid of mono ``y`` in Hz (0 for silence)."""
    n = len(y) // frame
    if n == 0:
        return 0.0
    window = np.hanning(frame).astype(np.float32)
    freqs = np.fft.rfftfreq(frame, 1.0 / sr)
    weighted = total = 0.0
    for first in range(0, n, 512):  # 512 frames at a time: a few MB whatever the length
        last = min(n, first + 512)
        frames = y[first * frame : last * frame].reshape(last - first, frame) * window
        power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
        weighted += float((power @ freqs).sum())
        total += float(power.sum())
    return weighted / total if total > 0 else 0.0


def _clip01(x: float) -> float:
    return 0.0 if not math.isfinite(x) else min(1.0, max(0.0, x))


def brightness(centroid_hz: float) -> float:
    if not centroid_hz > 0:
        return 0.0
    return _clip01(math.log2(centroid_hz / 400.0) / math.log2(4000.0 / 400.0))


def energy(integrated_lufs: float, onsets_per_s: float) -> float:
    loud = _clip01((integrated_lufs + 30.0) / 24.0) if math.isfinite(integrated_lufs) else 0.0
    return _clip01(0.6 * loud + 0.4 * _clip01(onsets_per_s / 8.0))


def tempo_factor(bpm: float) -> float:
    if not bpm > 0:
        return 0.0
    if 90.0 <= bpm <= 140.0:
        return 1.0
    if bpm < 90.0:
        return max(0.5, 1.0 - 0.5 * (90.0 - bpm) / 30.0)
    return max(0.5, 1.0 - 0.5 * (bpm - 140.0) / 60.0)


def _around(env: np.ndarray, times_s: np.ndarray, frame_rate: float) -> list[float]:
    reach = max(1, round(0.05 * frame_rate))
    out = []
    for t in times_s:
        i = round(float(t) * frame_rate)
        lo, hi = max(0, i - reach), min(len(env), i + reach + 1)
        if lo < hi:
            out.append(float(np.max(env[lo:hi])))
    return out


def beat_contrast(env: np.ndarray, frame_rate: float, beats_s: np.ndarray) -> float:
    """Mean onset strength within ±50 ms of the beats over that halfway between them (≥ 0);
    1 when the beats stand out no more than the off-beats."""
    beats = np.asarray(beats_s, dtype=float)
    if len(beats) < 2 or len(env) == 0:
        return 0.0
    floor = float(np.min(env))
    shifted = env - floor
    on = _around(shifted, beats, frame_rate)
    off = _around(shifted, (beats[:-1] + beats[1:]) / 2, frame_rate)
    off_mean = float(np.mean(off)) if off else 0.0
    if not on or off_mean <= 1e-12:
        return 3.0 if on and float(np.mean(on)) > 1e-12 else 0.0
    return float(np.mean(on)) / off_mean


def beat_regularity(beats_s: np.ndarray) -> float:
    intervals = np.diff(np.asarray(beats_s, dtype=float))
    if len(intervals) < 7 or np.mean(intervals) <= 0:
        return 0.0
    cv = float(np.std(intervals) / np.mean(intervals))
    return _clip01(1.0 - 4.0 * cv)


def danceability(env: np.ndarray, frame_rate: float, beats_s: np.ndarray, bpm: float) -> float:
    if len(beats_s) < 8:
        return 0.0
    contrast = _clip01((beat_contrast(env, frame_rate, beats_s) - 1.0) / 2.0)
    return _clip01(tempo_factor(bpm) * contrast * (0.5 + 0.5 * beat_regularity(beats_s)))

"""Monophonic pitch tracking for the tuner: a two-rate YIN in Numba.

Algorithm
---------
YIN (de Cheveigné & Kawahara, JASA 111(4), 2002), computed on two time scales because the pitch
range (40 Hz – 2 kHz) is small next to the sample rate (44.1 – 192 kHz): a plain YIN at 48 kHz
costs ``W * tau_max`` ≈ 1.5 M multiply-adds per frame; this one does 30–60 k.

1. **Anti-alias, decimate, level.** A Kaiser-window low-pass (pass band to ``1.03 * fmax``,
   33–35 dB wherever an alias would land in the pass band: plenty for locating a period) is
   evaluated only at every ``factor``-th sample, in polyphase form, bringing the frame to
   ``sample_rate / factor`` ≈ 6 kHz (the largest integer factor keeping it ≥ ``3 * fmax``). The
   low-pass also drops most broadband noise (white noise loses ~9 dB at 48 kHz). Mean and RMS of
   that short signal decide silence and scale the rest; a NaN or infinity anywhere in the frame
   shows up there too.
2. **Coarse YIN.** Difference function ``d(tau) = e(0) + e(tau) - 2 r(tau)`` (running window
   energies, cross products eight lags per pass), cumulative-mean-normalised ``d'``, and YIN's
   absolute threshold: the first dip below ``yin_threshold``, taken whole (its lowest point), is
   the period. Lags are computed block by block and the search stops as soon as that dip has
   passed, so a high note costs a fraction of a low one. Where no dip reaches the threshold
   (noisy frames) YIN would take the global minimum, which the normalisation biases towards
   sub-harmonics; the threshold is raised to just above the global minimum instead.
3. **Refinement at full rate.** The original frame, at unit level and without DC, smoothed by a
   boxcar of ``smooth`` samples (a power of two up to a sixteenth of the period: it keeps the
   period exactly, removes noise and the top harmonics, and so steadies the fit) gives the
   normalised difference ``n(tau) = d(tau) / (e0 + e_tau)`` (0 periodic, ~1 noise, ≤ 2) on a
   window centred in the frame. From ``factor * tau_coarse`` the kernel walks down ``n`` to the
   local minimum and fits a parabola: full-rate resolution (clean sines within 0.1 cent) for a
   handful of lags.
4. **Octave check.** At ~6 kHz a 2 kHz period spans three samples, so a high note's coarse dip
   can miss the threshold and YIN picks twice the period; noise causes the same. Each sub-multiple
   ``tau_coarse / k`` (k = 2, 3, 4) with a coarse dip below ``submultiple_threshold`` is refined
   too, and the shortest whose ``n`` is within ``octave_tolerance`` of the chosen one wins. A
   sawtooth's half period scores ``n ≈ 0.75`` and a square wave's 2, so harmonic-rich tones keep
   their octave. (A missing or very weak fundamental is out of scope.)

Confidence is ``clip(1 - max(n, d'), 0, 1)``: the worse of the full-rate fit and the coarse YIN
dip (fixed ~2 kHz band). A clean tone scores ≥ 0.9, a tone with white noise at 10 dB SNR ≈ 0.9,
white noise ≈ 0.1–0.3.

YIN rather than McLeod's NSDF: both need the same lag products, and YIN's cumulative-mean
normalisation gives an absolute threshold that allows the early stop in step 2; the NSDF's local
normalisation is used where it shines, for the full-rate fit and the confidence.

Conventions
-----------
Unvoiced frames (silence, noise, confidence below ``voicing_threshold``) report frequency ``0.0``,
never NaN, so results compare and sort without NaN checks; the confidence is still reported.
**Non-finite input:** a frame holding any NaN or infinity is unvoiced, ``(0.0, 0.0)``; nothing
raises. Finite frames of any level give the same answer (huge ones are rescaled first).

Threads
-------
A :class:`PitchTracker` owns preallocated work buffers and belongs to one thread, the analysis
worker: :meth:`PitchTracker.estimate` is not re-entrant. The kernels are compiled with
``nogil=True`` (the GIL is released while they run) and ``cache=True``; :func:`warm_up` compiles
or loads every signature before the stream starts. :class:`TunerReading` is a frozen dataclass,
safe to hand to the UI thread through a latest-value slot. Nothing here imports Qt.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from audio import numba_runtime
from audio.notes import DEFAULT_REFERENCE_A, nearest_note, note_name, validate_reference_a
from audio.pitch_kernels import (
    ANTI_ALIAS_DB,
    DEFAULT_FMAX,
    DEFAULT_FMIN,
    G_FACTOR,
    MAX_SAMPLE_RATE,
    MIN_SAMPLE_RATE,
    OVERSAMPLING,
    RANGE_MARGIN,
    _estimate_kernel,
    _track_kernel,
    _workspace_size,
)

__all__ = [
    "DEFAULT_FMAX",
    "DEFAULT_FMIN",
    "PitchTracker",
    "TunerReading",
    "tuner_reading",
    "warm_up",
]


def _kaiser_beta(attenuation_db: float) -> float:
    """Kaiser's empirical window parameter for a stop-band attenuation (Oppenheim & Schafer)."""
    a = attenuation_db
    if a > 50.0:
        return 0.1102 * (a - 8.7)
    if a >= 21.0:
        return 0.5842 * (a - 21.0) ** 0.4 + 0.07886 * (a - 21.0)
    return 0.0


def _decimation_plan(sample_rate: int, fmax: float) -> tuple[int, np.ndarray]:
    """Decimation factor and the anti-alias FIR, as polyphase rows.

    The factor is the largest integer keeping the analysis rate ≥ ``OVERSAMPLING * fmax``. The
    filter is a Kaiser-window low-pass (windowed sinc, unit gain at DC), pass band to
    ``RANGE_MARGIN * fmax``, stop band from where aliases would fold back into the pass band,
    ``6 * k * factor`` taps long with the smallest ``k`` whose attenuation, by Kaiser's length
    formula, reaches ``ANTI_ALIAS_DB`` (33–35 dB measured at the usual rates, with ``k = 1``).
    Row ``p`` of the result holds taps ``p, p + factor, p + 2*factor, ...``.
    """
    factor = max(1, int(sample_rate // (OVERSAMPLING * fmax)))
    if factor == 1:
        return 1, np.array([[1.0, 0.0, 0.0, 0.0, 0.0, 0.0]], dtype=np.float32)
    analysis_rate = sample_rate / factor
    pass_edge = fmax * RANGE_MARGIN
    stop_edge = analysis_rate - pass_edge  # everything above folds back above the pass band
    width = 2.0 * math.pi * (stop_edge - pass_edge) / sample_rate  # rad/sample
    n_q = 6
    while 2.285 * (n_q * factor - 1) * width + 8.0 < ANTI_ALIAS_DB:
        n_q += 6
    attenuation = min(2.285 * (n_q * factor - 1) * width + 8.0, 80.0)
    n_taps = n_q * factor
    cutoff = 0.5 * (pass_edge + stop_edge) / sample_rate  # cycles/sample
    m = np.arange(n_taps) - 0.5 * (n_taps - 1)
    taps = np.sinc(2.0 * cutoff * m) * np.kaiser(n_taps, _kaiser_beta(attenuation))
    taps /= taps.sum()
    rows = taps[::-1].reshape(n_q, factor).T
    return factor, np.ascontiguousarray(rows, dtype=np.float32)


class PitchTracker:
    """Pitch of a mono signal, one frame at a time (see the module docstring for the method).

    Build it and call :func:`warm_up` before the stream starts: all work memory is allocated
    here, and :meth:`estimate` allocates no arrays. One tracker per thread (the analysis worker).

    Each estimate analyses :attr:`frame_size` samples: two periods of ``fmin / 1.03`` plus the
    anti-alias filter (2,560 samples, 53.3 ms, at 48 kHz; 2,352 at 44.1 kHz; 5,120 at 96 kHz),
    and describes the middle of that frame. A live worker passes the latest ``frame_size``
    samples once per hop.

    The keyword arguments tune the detector; the defaults were chosen on synthetic sines, harmonic
    tones, vibrato and noise (``benchmarks/bench_pitch.py``):

    ``yin_threshold``
        YIN's absolute threshold on the coarse ``d'`` (0.15).
    ``voicing_threshold``
        Frames whose confidence is below it report 0.0 Hz (0.5).
    ``silence_rms``
        RMS (full scale 1.0) of the band-limited frame below which it is silent (1e-4, -80 dBFS).
    ``submultiple_threshold``
        Coarse ``d'`` a sub-multiple of the period must beat to be refined (0.6).
    ``octave_tolerance``
        How much worse (in ``n``) a shorter period may fit and still win (0.1).
    """

    def __init__(
        self,
        sample_rate: int,
        fmin: float = DEFAULT_FMIN,
        fmax: float = DEFAULT_FMAX,
        *,
        yin_threshold: float = 0.15,
        voicing_threshold: float = 0.5,
        silence_rms: float = 1e-4,
        submultiple_threshold: float = 0.6,
        octave_tolerance: float = 0.1,
    ) -> None:
        rate = int(sample_rate)
        if rate != sample_rate or not (MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE):
            raise ValueError(
                f"sample_rate must be an integer in {MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE}, "
                f"got {sample_rate!r}"
            )
        if not (20.0 <= fmin < fmax <= rate / 8.0):
            raise ValueError(f"need 20 <= fmin < fmax <= sample_rate / 8, got {fmin!r}, {fmax!r}")
        if not (0.0 < yin_threshold < 1.0 and 0.0 <= voicing_threshold <= 1.0):
            raise ValueError("yin_threshold must lie in (0, 1) and voicing_threshold in [0, 1]")
        if not (silence_rms >= 0.0 and submultiple_threshold > 0.0 and octave_tolerance >= 0.0):
            raise ValueError("silence_rms, submultiple_threshold, octave_tolerance out of range")
        self._sample_rate = rate
        self._fmin = float(fmin)
        self._fmax = float(fmax)
        factor, phases = _decimation_plan(rate, self._fmax)
        analysis_rate = rate / factor
        # Coarse lags (decimated samples): the YIN window is one longest period.
        tau_d_min = max(2, int(analysis_rate / (self._fmax * RANGE_MARGIN)))
        tau_d_max = math.ceil(analysis_rate * RANGE_MARGIN / self._fmin) + 2
        win_d = tau_d_max
        n_dec = win_d + tau_d_max + 1
        n_poly = n_dec + phases.shape[1] - 1
        frame_size = n_poly * factor
        # Full-rate lags, smoothing and window (what is left of the frame after the longest lag).
        tau_f_min = max(2, int(rate / (self._fmax * RANGE_MARGIN)) - 1)
        tau_f_max = math.ceil(rate * RANGE_MARGIN / self._fmin) + factor + 2
        smooth = 1 << int(math.log2(max(1.0, rate / 750.0)))
        win_f = frame_size - (smooth - 1) - tau_f_max - 1
        max_steps = 2 * factor + 4 + tau_f_max // 16
        self._frame_size = frame_size
        self._phases = phases
        self._geometry = np.array(
            [
                factor,
                n_poly,
                tau_d_min,
                tau_d_max,
                win_d,
                tau_f_min,
                tau_f_max,
                win_f,
                max_steps,
                smooth,
            ],
            dtype=np.int64,
        )
        self._tuning = np.array(
            [
                rate,
                yin_threshold,
                voicing_threshold,
                silence_rms,
                submultiple_threshold,
                octave_tolerance,
                self._fmin,
                self._fmax,
            ],
            dtype=np.float64,
        )
        self._work = np.zeros(_workspace_size(self._geometry), dtype=np.float32)
        self._scratch = np.zeros(frame_size, dtype=np.float32)

    @property
    def sample_rate(self) -> int:
        return self._sample_rate

    @property
    def fmin(self) -> float:
        return self._fmin

    @property
    def fmax(self) -> float:
        return self._fmax

    @property
    def frame_size(self) -> int:
        """Samples analysed per :meth:`estimate` call."""
        return self._frame_size

    @property
    def decimation_factor(self) -> int:
        """Full-rate samples per sample of the coarse search."""
        return int(self._geometry[G_FACTOR])

    def estimate(self, frame: np.ndarray) -> tuple[float, float]:
        """``(frequency_hz, confidence)`` of the last :attr:`frame_size` samples of ``frame``.

        ``frequency_hz`` is 0.0 when the frame is unvoiced: silent, aperiodic, confidence below
        ``voicing_threshold``, or holding a NaN or infinity. ``confidence`` always lies in
        [0, 1]. C-contiguous float32 frames (what the ring buffer holds) go straight to the
        kernel; any other dtype or layout is first copied into a preallocated float32 buffer
        (float64 frames beyond float32 range are scaled down on the way). Raises ``ValueError``
        for a frame that is not one-dimensional or shorter than ``frame_size``. Worker thread
        only; the GIL is released during the computation.
        """
        n = self._frame_size
        if frame.ndim != 1 or frame.shape[0] < n:
            raise ValueError(f"need a 1-D frame of at least {n} samples, got shape {frame.shape}")
        start = frame.shape[0] - n
        if frame.dtype != np.float32 or not frame.flags.c_contiguous:
            _to_float32(frame[start:], self._scratch)
            frame, start = self._scratch, 0
        f, c = _estimate_kernel(
            frame, start, self._phases, self._geometry, self._tuning, self._work
        )
        return float(f), float(c)

    def track(self, samples: np.ndarray, hop_length: int) -> tuple[np.ndarray, np.ndarray]:
        """Offline path: ``(frequencies, confidences)`` of the frames of a whole signal.

        Frame ``i`` is ``samples[i * hop_length : i * hop_length + frame_size]`` (no padding,
        like ``librosa.yin(..., center=False)``); its estimate describes that frame's middle.
        One compiled call for all frames; the outputs (float64) are allocated here, and so is a
        float32 copy of a signal of another dtype or layout. Same conventions as
        :meth:`estimate`; a signal shorter than one frame gives empty arrays.
        """
        if samples.ndim != 1:
            raise ValueError(f"need a 1-D signal, got shape {samples.shape}")
        hop = int(hop_length)
        if hop < 1:
            raise ValueError(f"hop_length must be positive, got {hop_length!r}")
        if samples.dtype != np.float32 or not samples.flags.c_contiguous:
            samples = _to_float32(samples, np.empty(samples.shape[0], dtype=np.float32))
        count = max(0, (samples.shape[0] - self._frame_size) // hop + 1)
        freqs = np.zeros(count, dtype=np.float64)
        confs = np.zeros(count, dtype=np.float64)
        _track_kernel(
            samples, hop, self._phases, self._geometry, self._tuning, self._work, freqs, confs
        )
        return freqs, confs


_FLOAT32_SAFE = 1e30  # larger samples are scaled down before conversion to float32


def _to_float32(src: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Copy ``src`` into the float32 ``out``. Wide floats beyond float32 range are divided by
    their largest finite magnitude first (the tracker is scale free); NaN and infinities stay
    non-finite, so only the frames holding them are unvoiced."""
    if src.dtype.kind == "f" and src.dtype.itemsize > 4 and src.size:
        peak = max(abs(float(src.max())), abs(float(src.min())))
        if not math.isfinite(peak):  # rare: a NaN or infinity; size the rest without it
            finite = np.abs(src[np.isfinite(src)])
            peak = float(finite.max()) if finite.size else 0.0
        if peak > _FLOAT32_SAFE:
            with np.errstate(invalid="ignore"):
                np.multiply(src, 1.0 / peak, out=out, casting="unsafe")
            return out
    np.copyto(out, src, casting="unsafe")
    return out


@dataclass(frozen=True, slots=True)
class TunerReading:
    """What the tuner shows for one voiced frame."""

    frequency_hz: float
    note_name: str  # English letter name with sharps: "C", "C#", ... "B"
    octave: int  # scientific pitch notation: A4 is the reference A
    cents: float  # offset from the nearest note, in [-50, +50)
    confidence: float  # 0..1, from the tracker
    reference_a: float  # Hz, 415..466


def tuner_reading(
    frequency_hz: float, confidence: float, reference_a: float = DEFAULT_REFERENCE_A
) -> TunerReading | None:
    """Name the note of a tracker result, or ``None`` when the frame is unvoiced.

    ``frequency_hz`` of 0, negative, NaN or infinite means unvoiced. Raises ``ValueError`` when
    ``reference_a`` lies outside 415–466 Hz or ``confidence`` outside [0, 1].
    """
    ref = validate_reference_a(reference_a)
    conf = float(confidence)
    if not (0.0 <= conf <= 1.0):
        raise ValueError(f"confidence must lie in [0, 1], got {confidence!r}")
    freq = float(frequency_hz)
    if not (math.isfinite(freq) and freq > 0.0):
        return None
    midi, cents = nearest_note(freq, ref)
    name, octave = note_name(midi)
    return TunerReading(freq, name, octave, cents, conf, ref)


def warm_up(sample_rate: int = 48000) -> float:
    """Compile, or load from Numba's disk cache, every kernel; returns the seconds taken.

    Call it at start-up, before streams start, so the first note is not slow. The kernels take
    float32 frames only (other dtypes are converted in Python) and do not depend on the sample
    rate, so one call covers every tracker.
    """
    numba_runtime.prepare()
    started = time.perf_counter()
    tracker = PitchTracker(sample_rate)
    n = tracker.frame_size
    t = np.arange(2 * n) / sample_rate
    tone = (0.5 * np.sin(2.0 * np.pi * 220.0 * t)).astype(np.float32)
    tracker.estimate(tone[:n])
    tracker.track(tone, n // 2)
    return time.perf_counter() - started

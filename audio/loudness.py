"""Live and whole-file loudness: ITU-R BS.1770-4, EBU R 128, EBU Tech 3341 and 3342.

:class:`LoudnessMeter` measures a stream block by block; :func:`integrated_loudness`,
:func:`loudness_range` and :func:`true_peak` measure a whole signal with the same kernels, so a
file and its live playback read the same. Call :func:`warm_up` before a stream starts.

Thread contract: a meter belongs to the analysis worker. ``process``, ``reading`` and ``reset``
are called from that one thread only; publish the immutable :class:`LoudnessReading` to the UI
through a latest-value slot. ``process`` allocates nothing for C-contiguous, writable float32
blocks (other blocks are first copied into one) and runs with the GIL released.

Measurement rules (what the numbers mean):

- K-weighting: BS.1770's pre-filter (high shelf) and RLB high-pass, designed for the actual rate
  by the bilinear transform (frequency-prewarped) from analogue prototypes whose parameters
  reproduce the standard's 48 kHz table to ~1e-15. The RLB numerator keeps the table's unscaled
  ``[1, -2, 1]`` at 48 kHz and is scaled at other rates so its passband gain equals 48 kHz's.
- Channel weights (``G_i``): 1.0 each for mono, stereo and any count without a rule; 5 channels
  are taken as L R C Ls Rs with ``[1, 1, 1, 1.41, 1.41]``; 6 channels as L R C LFE Ls Rs with
  the LFE excluded: ``[1, 1, 1, 0, 1.41, 1.41]``. Pass ``weights`` to override.
- Time base: 100 ms sub-blocks (``round(rate / 10)`` samples). Momentary = the last 4, short-term
  = the last 30, both updated every sub-block (10 Hz) and ``-inf`` until their window is full.
  Integrated loudness gates the momentary blocks (400 ms, 75 % overlap): absolute -70 LUFS,
  relative -10 LU. Loudness range (Tech 3342) takes the short-term values at 10 Hz, gates them at
  -70 LUFS and -20 LU and reports the 95th minus the 10th percentile. Both keep 0.01 LU
  histograms with per-bin energy sums: constant memory for any duration; the relative gate is
  placed with bin resolution (a bin straddling the gate is judged by its mean), percentiles are
  bin means.
- True peak: 4x oversampling with a 63-tap Kaiser-windowed-sinc interpolator designed at
  construction (scipy ``firwin``), per channel, at every sample rate. It is a Nyquist filter: one
  polyphase branch is the input itself, so true peak >= sample peak by construction. In-band
  error < 0.1 dB up to 0.375 fs; a 4x grid can still under-read a tone near Nyquist by up to
  ~0.3 dB at 0.42 fs, as with the standard's own 48-tap filter.
- Non-finite input samples (NaN, +-inf) are replaced by 0.0 before anything sees them and
  counted in ``LoudnessReading.nonfinite_samples``; they never poison a reading.
- Every "no data" value is ``-inf`` (never NaN): nothing measured yet, digital silence, or
  nothing left after the gates.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from audio import loudness_kernels as k
from audio import numba_runtime

OVERSAMPLE = 4
TAPS_PER_PHASE = k.TAPS  # the interpolation kernel is written out for 16 taps per branch
_KAISER_BETA = 7.0

# Analogue prototypes of BS.1770's K-weighting (the standard publishes only the 48 kHz digital
# coefficients; these parameters reproduce them through the prewarped bilinear transform).
_SHELF_HZ = 1681.974450955533
_SHELF_GAIN_DB = 3.999843853973347
_SHELF_Q = 0.7071752369554196
_SHELF_MID_EXPONENT = 0.4996667741545416  # mid-band gain = high-frequency gain ** this
_HIGHPASS_HZ = 38.13547087602444
_HIGHPASS_Q = 0.5003270373238773

MIN_RATE, MAX_RATE = 8_000, 384_000
_FLOAT32 = np.dtype(np.float32)
_process_block = k.process_block
_NO_DATA = -math.inf


@dataclass(frozen=True, slots=True)
class LoudnessReading:
    """One snapshot of a meter. Loudness in LUFS, range in LU, peaks in dBTP/dBFS."""

    momentary_lufs: float
    short_term_lufs: float
    integrated_lufs: float
    loudness_range_lu: float
    true_peak_dbtp: float
    sample_peak_dbfs: float
    max_momentary_lufs: float
    true_peak_channels_dbtp: tuple[float, ...]
    frames: int  # frames measured since construction or the last reset
    nonfinite_samples: int  # input samples replaced by 0.0 since construction or reset


def _bilinear(num: Sequence[float], den: Sequence[float], f0: float, rate: float) -> np.ndarray:
    """Digital biquad ``[b0, b1, b2, a1, a2]`` (a0 = 1) of the analogue section
    ``(num[0] p^2 + num[1] p + num[2]) / (den[0] p^2 + den[1] p + den[2])`` with ``p = s / w0``,
    through the bilinear transform prewarped so ``f0`` maps exactly."""
    kk = math.tan(math.pi * f0 / rate)
    b = [
        num[0] + num[1] * kk + num[2] * kk * kk,
        2.0 * (num[2] * kk * kk - num[0]),
        num[0] - num[1] * kk + num[2] * kk * kk,
    ]
    a = [
        den[0] + den[1] * kk + den[2] * kk * kk,
        2.0 * (den[2] * kk * kk - den[0]),
        den[0] - den[1] * kk + den[2] * kk * kk,
    ]
    return np.array([b[0] / a[0], b[1] / a[0], b[2] / a[0], a[1] / a[0], a[2] / a[0]])


def k_weighting(sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """K-weighting for ``sample_rate``: (pre-filter, RLB high-pass), each ``[b0, b1, b2, a1, a2]``
    with ``a0 = 1``. At 48 kHz both equal BS.1770-4's Table 1 and 2."""
    high = 10.0 ** (_SHELF_GAIN_DB / 20.0)
    mid = high**_SHELF_MID_EXPONENT
    shelf = _bilinear(
        (high, mid / _SHELF_Q, 1.0), (1.0, 1.0 / _SHELF_Q, 1.0), _SHELF_HZ, sample_rate
    )
    highpass = _bilinear((1.0, 0.0, 0.0), (1.0, 1.0 / _HIGHPASS_Q, 1.0), _HIGHPASS_HZ, sample_rate)

    def unscaled_gain(rate: float) -> float:  # 1 / a0 of the un-normalised section
        kk = math.tan(math.pi * _HIGHPASS_HZ / rate)
        return 1.0 + kk / _HIGHPASS_Q + kk * kk

    highpass[:3] = np.array([1.0, -2.0, 1.0]) * (
        unscaled_gain(48_000.0) / unscaled_gain(sample_rate)
    )
    return shelf, highpass


def channel_weights(channels: int) -> np.ndarray:
    """BS.1770-4 channel weights for a channel count (see the module notes for the layouts)."""
    if channels == 5:
        return np.array([1.0, 1.0, 1.0, 1.41, 1.41])
    if channels == 6:
        return np.array([1.0, 1.0, 1.0, 0.0, 1.41, 1.41])
    return np.ones(channels)


def _kaiser_lowpass(taps: int, cutoff: float, beta: float) -> np.ndarray:
    """A windowed-sinc low-pass (``cutoff`` as a fraction of Nyquist) with unit gain at DC.

    Plain numpy on purpose: scipy.signal would add ~60 MB and half a second to start-up for
    this one design done once."""
    m = np.arange(taps) - (taps - 1) / 2.0
    h = cutoff * np.sinc(cutoff * m) * np.kaiser(taps, beta)
    return h / h.sum()


@lru_cache(maxsize=1)
def _interpolator() -> tuple[np.ndarray, float, int]:
    """The computed polyphase branches (branch-major, TAPS_PER_PHASE each), the largest sum of
    |tap| over a branch, and how many inputs the outputs lag (all branches' outputs for input
    ``i`` lie before input ``i - lag + 1``)."""
    n = OVERSAMPLE * TAPS_PER_PHASE - 1  # odd: centred on an input sample
    h = _kaiser_lowpass(n, 1.0 / OVERSAMPLE, _KAISER_BETA) * OVERSAMPLE
    centre = (n - 1) // 2
    identity = centre % OVERSAMPLE
    branch = h[identity::OVERSAMPLE]
    expected = np.zeros_like(branch)
    expected[centre // OVERSAMPLE] = 1.0
    if np.abs(branch - expected).max() > 1e-3:  # a Nyquist filter passes samples through
        raise RuntimeError("true-peak interpolator design is not a Nyquist filter")
    rows = [h[r::OVERSAMPLE][:TAPS_PER_PHASE] for r in range(OVERSAMPLE) if r != identity]
    taps = np.concatenate([np.pad(r, (0, TAPS_PER_PHASE - len(r))) for r in rows])
    bound = max(float(np.abs(r).sum()) for r in rows)
    return taps, bound, -(-centre // OVERSAMPLE)


def _db(amplitude: float) -> float:
    return 20.0 * math.log10(amplitude) if amplitude > 0.0 else _NO_DATA


def _lufs(energy: float) -> float:
    return k.OFFSET + 10.0 * math.log10(energy) if energy > 0.0 else _NO_DATA


class LoudnessMeter:
    """A streaming loudness meter (M, S, I, LRA, true peak, sample peak) for one stream.

    Construct and :func:`warm_up` before the stream starts; then only the worker thread calls
    :meth:`process`, :meth:`reading` and :meth:`reset`. ``true_peak=False`` skips the
    oversampling (peaks then report sample peaks only); the whole-file loudness functions use it.
    """

    def __init__(
        self,
        sample_rate: int,
        channels: int,
        *,
        weights: Sequence[float] | None = None,
        true_peak: bool = True,
    ) -> None:
        if not MIN_RATE <= sample_rate <= MAX_RATE:
            raise ValueError(f"sample_rate must be {MIN_RATE}..{MAX_RATE} Hz, not {sample_rate}")
        if channels <= 0:
            raise ValueError("channels must be positive")
        w = channel_weights(channels) if weights is None else np.asarray(weights, dtype=float)
        if w.shape != (channels,) or not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError("weights must be one finite, non-negative number per channel")
        self.sample_rate = int(sample_rate)
        self.channels = int(channels)
        self._true_peak = bool(true_peak)
        taps, bound, _ = _interpolator()
        shelf, highpass = k_weighting(sample_rate)
        at_chan = k.P_WEIGHTS + channels
        at_meter = at_chan + channels * k.C_COLS
        at_hist = at_meter + k.M_SIZE
        at_scratch = at_hist + 4 * k.HIST_BINS
        self._state = np.zeros(at_scratch + k.scratch_words(channels))
        params = self._state[:at_chan]
        params[0:5], params[5:10] = shelf, highpass
        params[k.P_HOP] = max(1, round(sample_rate / 10))
        params[k.P_PHASES] = OVERSAMPLE - 1
        params[k.P_BOUND] = bound
        params[k.P_TRUE_PEAK] = float(self._true_peak)
        params[k.P_CHAN : k.P_SCRATCH + 1] = at_chan, at_meter, at_hist, at_scratch
        params[k.P_WEIGHTS :] = w
        self._chan = self._state[at_chan:at_meter].reshape(channels, k.C_COLS)
        self._meter = self._state[at_meter:at_hist]
        self._hist = self._state[at_hist:at_scratch].reshape(4, k.HIST_BINS)
        float32_area = self._state[at_scratch + channels * k.MAX_PIECES :].view(np.float32)
        float32_area[: taps.size] = taps
        self._summary = np.zeros(2)

    def process(self, block: np.ndarray) -> None:
        """Measure the next ``(frames, channels)`` block (``(frames,)`` for mono); any length."""
        if not (
            type(block) is np.ndarray
            and block.dtype is _FLOAT32
            and block.flags.carray
            and block.ndim == 2
            and block.shape[1] == self.channels
        ):
            block = self._conform(block)
        _process_block(block, self._state)

    def _conform(self, block: np.ndarray) -> np.ndarray:
        """The slow path: copy to C-contiguous, writable float32 (a new Numba signature would
        otherwise compile on the worker thread) and check the shape."""
        if not isinstance(block, np.ndarray) or not np.issubdtype(block.dtype, np.floating):
            raise TypeError(f"expected an array of float samples, got {type(block).__name__}")
        if block.ndim == 1 and self.channels == 1:
            block = block.reshape(-1, 1)
        if block.ndim != 2 or block.shape[1] != self.channels:
            raise ValueError(f"expected (frames, {self.channels}) samples, got {block.shape}")
        return np.array(block, dtype=np.float32, order="C")

    def reading(self) -> LoudnessReading:
        """The current values. Allocates the small result: call at display rate, not per sample."""
        k.summarize(self._hist, self._summary)
        m = self._meter
        done = int(m[k.M_SUBBLOCKS])
        peaks = self._chan[:, k.C_PEAK]
        true_peaks = np.maximum(self._chan[:, k.C_TRUE_PEAK], peaks) if self._true_peak else peaks
        return LoudnessReading(
            momentary_lufs=_lufs(m[k.M_MOMENTARY]) if done >= k.MOMENTARY_SUBBLOCKS else _NO_DATA,
            short_term_lufs=_lufs(m[k.M_SHORT]) if done >= k.RING else _NO_DATA,
            integrated_lufs=float(self._summary[0]),
            loudness_range_lu=float(self._summary[1]),
            true_peak_dbtp=_db(float(true_peaks.max())),
            sample_peak_dbfs=_db(float(peaks.max())),
            max_momentary_lufs=_lufs(m[k.M_MAX_MOMENTARY]),
            true_peak_channels_dbtp=tuple(_db(float(p)) for p in true_peaks),
            frames=int(m[k.M_FRAMES]),
            nonfinite_samples=int(m[k.M_NONFINITE]),
        )

    def reset(self) -> None:
        """Start a new measurement: clears every reading (integrated, LRA, peaks, windows,
        counters). Filter and interpolator memory is kept, so no start-up transient follows; the
        interpolated points that still lie before the reset (the first 8 inputs' worth) are not
        counted as true peaks."""
        self._meter[:] = 0.0
        self._hist[:] = 0.0
        self._chan[:, k.C_SUM] = 0.0
        self._chan[:, k.C_PEAK] = 0.0
        self._chan[:, k.C_TRUE_PEAK] = 0.0
        self._chan[:, k.C_SKIP] = _interpolator()[2]


def _frames(samples: np.ndarray) -> np.ndarray:
    x = np.asarray(samples)
    if x.ndim == 1:
        x = x.reshape(-1, 1)
    if x.ndim != 2 or x.shape[1] == 0:
        raise ValueError(f"expected (frames,) or (frames, channels) samples, got {x.shape}")
    return x


def _measure(samples: np.ndarray, sample_rate: int, peaks: bool) -> LoudnessReading:
    x = _frames(samples)
    meter = LoudnessMeter(sample_rate, x.shape[1], true_peak=peaks)
    meter.process(x)
    return meter.reading()


def integrated_loudness(samples: np.ndarray, sample_rate: int) -> float:
    """Gated integrated loudness (LUFS) of a whole signal, ``(frames,)`` or ``(frames, ch)``."""
    return _measure(samples, sample_rate, peaks=False).integrated_lufs


def loudness_range(samples: np.ndarray, sample_rate: int) -> float:
    """EBU Tech 3342 loudness range (LU) of a whole signal; ``-inf`` if nothing passes the gates."""
    return _measure(samples, sample_rate, peaks=False).loudness_range_lu


def true_peak(samples: np.ndarray, sample_rate: int) -> float:
    """Maximum true peak (dBTP, 4x oversampled) over all channels of a whole signal."""
    return _measure(samples, sample_rate, peaks=True).true_peak_dbtp


def warm_up() -> float:
    """Compile (or load from the Numba cache) every kernel; returns the seconds it took."""
    numba_runtime.prepare()
    start = time.perf_counter()
    meter = LoudnessMeter(48_000, 2)
    rng = np.random.default_rng(0)
    meter.process((0.1 * rng.standard_normal((9_600, 2))).astype(np.float32))
    meter.reading()
    return time.perf_counter() - start

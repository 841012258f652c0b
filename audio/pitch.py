"""Monophonic pitch tracking for the tuner: a two-rate YIN in Numba.

Algorithm
---------
YIN (de Cheveigné & Kawahara, JASA 111(4), 2002) on two time scales, because the pitch range
(40 Hz – 2 kHz) is tiny next to the sample rate (44.1 – 192 kHz) and a plain YIN at full rate costs
``W * tau_max`` ≈ 1.5 M multiply-adds per 48 kHz frame:

1. **Level and sanity.** One pass computes the frame's mean and RMS. Silent frames (RMS below
   ``silence_rms``) stop here; every later stage works on the frame scaled to unit RMS, so any
   finite input level gives the same answer and nothing overflows.
2. **Coarse search at ~8 kHz.** An anti-alias FIR (Kaiser window, 50 dB, pass band to
   ``1.03 * fmax``) is evaluated only at every ``factor``-th sample, decimating to
   ``sample_rate / factor`` (the largest integer factor keeping the analysis rate ≥ ``4 * fmax``).
   The low-pass also removes most broadband noise (white noise loses ~10 dB at 48 kHz). On that
   short signal the kernel computes YIN's difference function ``d(tau)`` directly (a sum of squared
   differences, so no ``e0 + e_tau - 2r`` cancellation), the cumulative-mean-normalised
   difference ``d'(tau)``, and applies YIN's absolute threshold: the first dip below
   ``yin_threshold`` followed down to its local minimum, else the global minimum.
3. **Refinement at full rate.** Around ``factor * tau_coarse`` the kernel evaluates the normalised
   squared difference ``n(tau) = d(tau) / (e0 + e_tau)`` (0 for a perfectly periodic signal, about
   1 for noise, 2 at most) of the *original* frame on a window centred in the frame, walks downhill
   to the local minimum and interpolates it with a parabola. Resolution is therefore that of the
   full sample rate (better than 1 cent for clean sines), while only a handful of lags are
   computed.
4. **Octave check.** At ~8 kHz a 2 kHz period spans only four samples, so the coarse dip of a high
   note can be too shallow for the threshold and YIN picks twice the period; noisy frames make the
   same mistake through the global-minimum fallback. Each sub-multiple ``tau_coarse / k`` (k = 2,
   3, 4) with a coarse dip below ``submultiple_threshold`` is refined too, and the shortest one
   whose full-rate ``n`` is within ``octave_tolerance`` of the chosen period's wins. A sawtooth's
   half period scores ``n ≈ 0.75`` and a square wave's 2.0, so harmonic-rich tones keep their
   octave.

The reported confidence is ``clip(1 - n(period), 0, 1)``: roughly the periodic share of the
frame's power (a tone with white noise at 10 dB SNR scores ≈ 0.9, noise alone ≈ 0).

Why YIN and not McLeod's NSDF: both need the same lag products; YIN's cumulative-mean
normalisation gives an absolute threshold that needs no second pass over key maxima, and the full-rate
step already uses the NSDF-like local normalisation for interpolation and confidence.

Unvoiced frames (silence, noise, confidence below ``voicing_threshold``) report frequency
``0.0`` (never NaN), so results compare and sort without NaN checks. **Non-finite input policy:** a
frame holding any NaN or infinity is reported as unvoiced, ``(0.0, 0.0)``; nothing raises.

Threads
-------
A :class:`PitchTracker` owns preallocated work buffers and belongs to one thread, the analysis
worker: :meth:`PitchTracker.estimate` is not re-entrant. The kernels are compiled with
``nogil=True`` so the GIL is released while they run, and :func:`warm_up` compiles (or loads from
the ``cache=True`` disk cache) every signature before the stream starts. :class:`TunerReading` is a
frozen dataclass, safe to hand to the UI thread through a latest-value slot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy import signal

from audio.notes import DEFAULT_REFERENCE_A, nearest_note, note_name, validate_reference_a

# Fast-math flags for the inner sums: reassociation lets LLVM vectorise the reductions. ``nnan`` and
# ``ninf`` stay off so that non-finite checks keep their meaning.
_FAST = {"reassoc", "contract", "nsz"}

DEFAULT_FMIN = 40.0
DEFAULT_FMAX = 2000.0
MIN_SAMPLE_RATE = 8000
MAX_SAMPLE_RATE = 384000
RANGE_MARGIN = 1.03  # lag search extends half a semitone beyond [fmin, fmax]
OVERSAMPLING = 4.0  # coarse analysis rate >= OVERSAMPLING * fmax
ANTI_ALIAS_DB = 50.0
LAG_BLOCK = 8  # coarse lags computed per pass over the window

# Geometry (int64 array) indices.
(G_FACTOR, G_N_POLY, G_TAU_D_MIN, G_TAU_D_MAX, G_WIN_D, G_TAU_F_MIN, G_TAU_F_MAX, G_WIN_F,
 G_MAX_STEPS, G_SMOOTH) = range(10)
GEOMETRY_SIZE = 10
# Tuning (float64 array) indices.
T_RATE, T_YIN, T_VOICING, T_SILENCE, T_SUB, T_OCTAVE = range(6)
TUNING_SIZE = 6


def _workspace_size(geometry: np.ndarray) -> int:
    """float32 elements of the one work array a tracker owns (see :func:`_carve`)."""
    factor, n_poly = int(geometry[G_FACTOR]), int(geometry[G_N_POLY])
    n_dec = int(geometry[G_WIN_D] + geometry[G_TAU_D_MAX]) + 1 + LAG_BLOCK
    n_lag = int(geometry[G_TAU_D_MAX]) + 1 + LAG_BLOCK
    return factor * n_poly + n_dec + 2 * n_lag + factor * n_poly


@njit(nogil=True, cache=True)
def _carve(work, geometry):  # type: ignore[no-untyped-def]
    """Views into ``work``: polyphase rows, decimated frame, d, d', prepared full-rate frame."""
    factor = geometry[G_FACTOR]
    n_poly = geometry[G_N_POLY]
    n_dec = geometry[G_WIN_D] + geometry[G_TAU_D_MAX] + 1 + LAG_BLOCK
    n_lag = geometry[G_TAU_D_MAX] + 1 + LAG_BLOCK
    a = factor * n_poly
    poly = work[:a].reshape(factor, n_poly)
    dec = work[a : a + n_dec]
    diff = work[a + n_dec : a + n_dec + n_lag]
    cmnd = work[a + n_dec + n_lag : a + n_dec + 2 * n_lag]
    b = a + n_dec + 2 * n_lag
    prepared = work[b : b + factor * n_poly]
    return poly, dec, diff, cmnd, prepared


@njit(nogil=True, cache=True)
def _peak_if_finite(x, start, n):  # type: ignore[no-untyped-def]
    """Largest ``|x|`` in the frame, or -1.0 when a sample is NaN or infinite (slow path only)."""
    peak = 0.0
    for i in range(start, start + n):
        v = np.float64(x[i])
        if not math.isfinite(v):
            return -1.0
        a = abs(v)
        if a > peak:
            peak = a
    return peak


@njit(nogil=True, cache=True, fastmath=_FAST)
def _decimate(x, start, phases, scale, poly, out):  # type: ignore[no-untyped-def]
    """Polyphase FIR decimation: ``out[m] = sum_k taps[k] * scale * x[start + m*factor + k]``.

    ``phases[p, q]`` holds ``taps[q * factor + p]``; ``poly[p, i]`` receives
    ``x[start + i*factor + p]`` as float32, so that every inner loop runs over contiguous memory.
    A NaN or infinity anywhere in the frame reaches ``out`` (every sample meets some tap).
    """
    factor = phases.shape[0]
    n_q = phases.shape[1]
    n_poly = poly.shape[1]
    n_out = out.shape[0]
    seg = x[start : start + n_poly * factor]
    if scale == 1.0:
        for p in range(factor):
            row = poly[p]
            for i in range(n_poly):
                row[i] = seg[i * factor + p]
    else:
        for p in range(factor):
            row = poly[p]
            for i in range(n_poly):
                row[i] = np.float32(seg[i * factor + p] * scale)
    for m in range(n_out):
        out[m] = 0.0
    for p in range(factor):
        row = poly[p]
        for q in range(n_q):
            h = phases[p, q]
            src = row[q : q + n_out]
            for m in range(n_out):
                out[m] += h * src[m]


@njit(nogil=True, cache=True, fastmath=_FAST)
def _level(y):  # type: ignore[no-untyped-def]
    """Mean and RMS about the mean of ``y`` (NaN or inf when ``y`` holds a non-finite value)."""
    n = y.shape[0]
    s = 0.0
    s2 = 0.0
    for i in range(n):
        v = np.float64(y[i])
        s += v
        s2 += v * v
    mean = s / n
    var = s2 / n - mean * mean
    if not math.isfinite(var):
        return mean, var
    return mean, math.sqrt(var) if var > 0.0 else 0.0


@njit(nogil=True, cache=True, fastmath=_FAST)
def _prepare(x, start, scale, offset, smooth, out, temp):  # type: ignore[no-untyped-def]
    """Full-rate frame for refinement: unit level, DC removed, smoothed by a boxcar.

    ``out[i] = sum_{k < smooth} (x[start + i + k] * scale - offset)`` for ``i < n - smooth + 1``
    (``smooth`` a power of two, built by doubling through ``temp``). The boxcar keeps a periodic
    signal periodic with the same period, so it adds no bias, while it removes the white-noise
    power above ``sample_rate / smooth`` (~8 dB at 48 kHz) and the sharpest harmonics that make
    the parabolic fit coarse. Returns the valid length.
    """
    n = out.shape[0]
    seg = x[start : start + n]
    a = out
    b = temp
    if smooth == 1:
        for i in range(n):
            out[i] = np.float32(seg[i] * scale - offset)
        return n
    valid = n - 1
    for i in range(valid):
        a[i] = np.float32((seg[i] + seg[i + 1]) * scale - 2.0 * offset)
    in_out = True
    width = 2
    while width < smooth:
        valid -= width
        for i in range(valid):
            b[i] = a[i] + a[i + width]
        a, b = b, a
        in_out = not in_out
        width *= 2
    if not in_out:
        for i in range(valid):
            out[i] = a[i]
    return valid


@njit(nogil=True, cache=True, fastmath=_FAST)
def _coarse_difference(y, win, tau_max, diff, cmnd):  # type: ignore[no-untyped-def]
    """YIN difference ``diff[tau]`` and cumulative-mean-normalised ``cmnd[tau]``, tau <= tau_max.

    ``d(tau) = e(0) + e(tau) - 2 r(tau)`` with the window energies ``e`` kept as running sums and
    the cross products ``r`` computed ``LAG_BLOCK`` lags per pass over the window (``y`` holds
    ``win + tau_max + 1 + LAG_BLOCK`` samples). The frame is at unit RMS, so the float32
    cancellation error (~1e-5) is far below any threshold used on ``d'``.
    """
    ref = y[:win]
    for tau in range(1, tau_max + 1, LAG_BLOCK):
        b0 = y[tau : tau + win]
        b1 = y[tau + 1 : tau + 1 + win]
        b2 = y[tau + 2 : tau + 2 + win]
        b3 = y[tau + 3 : tau + 3 + win]
        b4 = y[tau + 4 : tau + 4 + win]
        b5 = y[tau + 5 : tau + 5 + win]
        b6 = y[tau + 6 : tau + 6 + win]
        b7 = y[tau + 7 : tau + 7 + win]
        r0 = r1 = r2 = r3 = r4 = r5 = r6 = r7 = np.float32(0.0)
        for j in range(win):
            v = ref[j]
            r0 += v * b0[j]
            r1 += v * b1[j]
            r2 += v * b2[j]
            r3 += v * b3[j]
            r4 += v * b4[j]
            r5 += v * b5[j]
            r6 += v * b6[j]
            r7 += v * b7[j]
        diff[tau] = r0
        diff[tau + 1] = r1
        diff[tau + 2] = r2
        diff[tau + 3] = r3
        diff[tau + 4] = r4
        diff[tau + 5] = r5
        diff[tau + 6] = r6
        diff[tau + 7] = r7
    e0 = 0.0
    for j in range(win):
        e0 += np.float64(y[j]) * y[j]
    e_tau = e0
    running = 0.0
    diff[0] = 0.0
    cmnd[0] = 1.0
    for tau in range(1, tau_max + 1):
        old = np.float64(y[tau - 1])
        new = np.float64(y[tau + win - 1])
        e_tau += new * new - old * old
        d = e0 + e_tau - 2.0 * diff[tau]
        if d < 0.0:
            d = 0.0
        diff[tau] = d
        running += d
        cmnd[tau] = d * tau / running if running > 0.0 else 1.0


@njit(nogil=True, cache=True, fastmath=_FAST)
def _window_energy(y, start, win):  # type: ignore[no-untyped-def]
    """Energy of ``y[start:start + win]``."""
    ref = y[start : start + win]
    e = np.float32(0.0)
    for j in range(win):
        e += ref[j] * ref[j]
    return np.float64(e)


@njit(nogil=True, cache=True, fastmath=_FAST)
def _lag_sums(y, start, win, tau):  # type: ignore[no-untyped-def]
    """``(d, e)``: squared difference and lagged-window energy for one lag."""
    ref = y[start : start + win]
    lag = y[start + tau : start + tau + win]
    d = np.float32(0.0)
    e = np.float32(0.0)
    for j in range(win):
        b = lag[j]
        t = ref[j] - b
        d += t * t
        e += b * b
    return np.float64(d), np.float64(e)


@njit(nogil=True, cache=True, fastmath=_FAST)
def _three_lag_sums(y, start, win, tau):  # type: ignore[no-untyped-def]
    """:func:`_lag_sums` for lags ``tau - 1``, ``tau``, ``tau + 1`` in one pass."""
    ref = y[start : start + win]
    la = y[start + tau - 1 : start + tau - 1 + win]
    lb = y[start + tau : start + tau + win]
    lc = y[start + tau + 1 : start + tau + 1 + win]
    da = db = dc = ea = eb = ec = np.float32(0.0)
    for j in range(win):
        v = ref[j]
        a = la[j]
        b = lb[j]
        c = lc[j]
        ta = v - a
        tb = v - b
        tc = v - c
        da += ta * ta
        db += tb * tb
        dc += tc * tc
        ea += a * a
        eb += b * b
        ec += c * c
    return (np.float64(da), np.float64(db), np.float64(dc),
            np.float64(ea), np.float64(eb), np.float64(ec))


@njit(nogil=True, cache=True)
def _ratio(d, e0, e1):  # type: ignore[no-untyped-def]
    """``n = d / (e0 + e1)``; 2.0 (maximally aperiodic) for silent windows."""
    total = e0 + e1
    return d / total if total > 0.0 else 2.0


@njit(nogil=True, cache=True)
def _refine(y, tau0, geometry):  # type: ignore[no-untyped-def]
    """Full-rate period near lag ``tau0`` of the prepared frame ``y``: walk down ``n(tau)``, then
    fit a parabola.

    Returns ``(period_samples, n_at_period)``; ``(-1.0, 2.0)`` when no interior minimum lies in
    the allowed lag range within ``max_steps`` of ``tau0``.
    """
    n = y.shape[0]
    tau_lo = geometry[G_TAU_F_MIN]
    tau_hi = geometry[G_TAU_F_MAX]
    win = geometry[G_WIN_F]
    max_steps = geometry[G_MAX_STEPS]
    c = int(tau0 + 0.5)
    if c < tau_lo + 1:
        c = tau_lo + 1
    if c > tau_hi - 1:
        c = tau_hi - 1
    # Centre the analysed span (window plus lag) in the frame, keeping room for the walk.
    s = (n - win - c - max_steps - 1) // 2
    if s < 0:
        s = 0
    if tau_hi > n - win - s - 1:
        tau_hi = n - win - s - 1
    if c > tau_hi - 1:
        return -1.0, 2.0
    e0 = _window_energy(y, s, win)
    da, db, dc, ea, eb, ec = _three_lag_sums(y, s, win, c)
    left = _ratio(da, e0, ea)
    mid = _ratio(db, e0, eb)
    right = _ratio(dc, e0, ec)
    for _ in range(max_steps):
        if left < mid and left <= right:
            if c - 1 <= tau_lo:
                return -1.0, 2.0
            c -= 1
            right = mid
            mid = left
            d, e = _lag_sums(y, s, win, c - 1)
            left = _ratio(d, e0, e)
        elif right < mid:
            if c + 1 >= tau_hi:
                return -1.0, 2.0
            c += 1
            left = mid
            mid = right
            d, e = _lag_sums(y, s, win, c + 1)
            right = _ratio(d, e0, e)
        else:
            break
    if left < mid or right < mid:
        return -1.0, 2.0  # still descending after max_steps: no dip near tau0
    curvature = left - 2.0 * mid + right
    shift = 0.0
    value = mid
    if curvature > 0.0:
        shift = 0.5 * (left - right) / curvature
        if shift > 0.5:
            shift = 0.5
        elif shift < -0.5:
            shift = -0.5
        value = mid - 0.25 * (left - right) * shift
    return c + shift, value


@njit(nogil=True, cache=True)
def _coarse_dip(cmnd, lo, hi):  # type: ignore[no-untyped-def]
    """Fractional lag of the smallest ``cmnd`` in ``[lo, hi]`` (parabolic) and its value."""
    best = lo
    for tau in range(lo + 1, hi + 1):
        if cmnd[tau] < cmnd[best]:
            best = tau
    shift = 0.0
    if best > 0:
        a = cmnd[best - 1]
        b = cmnd[best]
        c = cmnd[best + 1]
        curvature = a - 2.0 * b + c
        if curvature > 0.0:
            shift = 0.5 * (a - c) / curvature
            if shift > 0.5:
                shift = 0.5
            elif shift < -0.5:
                shift = -0.5
    return best + shift, cmnd[best]


@njit(nogil=True, cache=True)
def _estimate_kernel(x, start, phases, geometry, tuning, work):  # type: ignore[no-untyped-def]
    """One frame ``x[start:start + frame_size]`` -> ``(frequency_hz or 0.0, confidence)``."""
    factor = geometry[G_FACTOR]
    tau_d_min = geometry[G_TAU_D_MIN]
    tau_d_max = geometry[G_TAU_D_MAX]
    win_d = geometry[G_WIN_D]
    poly, dec, diff, cmnd, prepared = _carve(work, geometry)
    n = prepared.shape[0]

    # 1. Anti-alias and decimate; level, DC and sanity from the decimated frame.
    y = dec[: win_d + tau_d_max + 1]
    scale = 1.0
    _decimate(x, start, phases, scale, poly, y)
    mean, rms = _level(y)
    if not math.isfinite(rms):
        # A NaN or infinity in the frame, or values beyond float32 range.
        peak = _peak_if_finite(x, start, n)
        if peak < 0.0:
            return 0.0, 0.0  # non-finite input: unvoiced by policy
        scale = 1.0 / peak
        _decimate(x, start, phases, scale, poly, y)
        mean, rms = _level(y)
    if not rms >= tuning[T_SILENCE] * scale:
        return 0.0, 0.0
    gain = np.float32(1.0 / rms)
    for i in range(y.shape[0]):
        y[i] *= gain

    # 2. Coarse YIN on the decimated, low-passed frame.
    _coarse_difference(dec, win_d, tau_d_max, diff, cmnd)
    # YIN's absolute threshold: the first dip below it, taken whole (its lowest point, so noise
    # ripples on a broad low-note dip cannot stop the search early), else the global minimum.
    threshold = tuning[T_YIN]
    first = tau_d_min
    while first < tau_d_max - 1 and cmnd[first] >= threshold:
        first += 1
    if cmnd[first] < threshold:
        last = first
        while last + 1 < tau_d_max - 1 and cmnd[last + 1] < threshold:
            last += 1
        coarse, _ = _coarse_dip(cmnd, first, last)
    else:
        coarse, _ = _coarse_dip(cmnd, tau_d_min, tau_d_max - 1)

    # 3. Full-rate refinement of the chosen period on the frame at unit level, DC removed.
    valid = _prepare(x, start, scale / rms, mean / rms, geometry[G_SMOOTH], prepared,
                     work[: prepared.shape[0]])
    prepared = prepared[:valid]
    period, value = _refine(prepared, coarse * factor, geometry)

    # 4. Octave check on sub-multiples of the coarse period.
    sub_threshold = tuning[T_SUB]
    tolerance = tuning[T_OCTAVE]
    for k in range(2, 5):
        c = coarse / k
        if c < tau_d_min - 0.5:
            break
        lo = max(1, int(c + 0.5) - 1)
        hi = min(tau_d_max - 1, int(c + 0.5) + 1)
        sub, depth = _coarse_dip(cmnd, lo, hi)
        if depth >= sub_threshold:
            continue
        p, v = _refine(prepared, sub * factor, geometry)
        if p > 0.0 and (period <= 0.0 or v <= value + tolerance):
            period = p
            value = v
    if not period > 0.0 or not math.isfinite(value):
        return 0.0, 0.0
    confidence = min(1.0, max(0.0, 1.0 - value))
    if confidence < tuning[T_VOICING]:
        return 0.0, confidence
    return tuning[T_RATE] / period, confidence


@njit(nogil=True, cache=True)
def _estimate_many_kernel(frames, phases, geometry, tuning, work, freqs, confs):  # type: ignore[no-untyped-def]
    """Rows of ``frames`` one after another (whole-file analysis; one GIL-free call)."""
    n = frames.shape[1]
    flat = frames.reshape(frames.shape[0] * n)
    for i in range(frames.shape[0]):
        f, c = _estimate_kernel(flat, i * n, phases, geometry, tuning, work)
        freqs[i] = f
        confs[i] = c


def _decimation_plan(sample_rate: int, fmax: float) -> tuple[int, np.ndarray]:
    """Decimation factor (analysis rate ≥ 4 * fmax) and the anti-alias FIR as polyphase rows.

    Row ``p`` of the result holds taps ``p, p + factor, p + 2*factor, ...`` (zero padded).
    """
    factor = max(1, int(sample_rate // (4.0 * fmax)))
    if factor == 1:
        return 1, np.ones((1, 1), dtype=np.float32)
    analysis_rate = sample_rate / factor
    pass_edge = fmax * RANGE_MARGIN
    stop_edge = analysis_rate - pass_edge  # everything above folds back above the pass band
    n_taps, beta = signal.kaiserord(ANTI_ALIAS_DB, (stop_edge - pass_edge) / (0.5 * sample_rate))
    cutoff = 0.5 * (pass_edge + stop_edge)
    taps = signal.firwin(n_taps, cutoff, window=("kaiser", beta), fs=sample_rate)[::-1]
    n_q = -(-n_taps // factor)
    padded = np.zeros(n_q * factor)
    padded[:n_taps] = taps
    return factor, np.ascontiguousarray(padded.reshape(n_q, factor).T, dtype=np.float32)


class PitchTracker:
    """Pitch of one mono frame at a time; see the module docstring for the method.

    Build it (and call :func:`warm_up`) before the stream starts. All work memory is allocated
    here; :meth:`estimate` allocates no arrays. One tracker per thread.

    ``frame_size`` samples are analysed per call: two periods of ``fmin / 1.03`` plus the
    anti-alias filter (2,526 samples, 52.6 ms at 48 kHz). The estimate describes the middle of
    the frame, so a worker reading hop-sized blocks should pass the latest ``frame_size`` samples.
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
            raise ValueError(f"sample_rate must be an integer in 8000..384000, got {sample_rate!r}")
        if not (20.0 <= fmin < fmax <= rate / 8.0):
            raise ValueError(f"need 20 <= fmin < fmax <= sample_rate / 8, got {fmin!r}, {fmax!r}")
        if not (0.0 <= voicing_threshold <= 1.0):
            raise ValueError("voicing_threshold must lie in [0, 1]")
        self.sample_rate = rate
        self.fmin = float(fmin)
        self.fmax = float(fmax)
        factor, phases = _decimation_plan(rate, self.fmax)
        analysis_rate = rate / factor
        tau_d_min = max(2, int(analysis_rate / (self.fmax * RANGE_MARGIN)))
        tau_d_max = math.ceil(analysis_rate * RANGE_MARGIN / self.fmin) + 2
        win_d = tau_d_max
        n_dec = win_d + tau_d_max + 1
        n_poly = n_dec + phases.shape[1] - 1
        frame_size = n_poly * factor
        tau_f_min = max(2, int(rate / (self.fmax * RANGE_MARGIN)) - 1)
        tau_f_max = math.ceil(rate * RANGE_MARGIN / self.fmin) + factor + 2
        smooth = 1 << int(math.log2(max(1.0, rate / (3.0 * self.fmax))))
        win_f = frame_size - (smooth - 1) - tau_f_max - 1
        self._frame_size = frame_size
        self._phases = phases
        self._geometry = np.array(
            [factor, n_poly, tau_d_min, tau_d_max, win_d, tau_f_min, tau_f_max, win_f,
             2 * factor + 4 + tau_f_max // 16, smooth], dtype=np.int64)
        self._tuning = np.array(
            [rate, yin_threshold, voicing_threshold, silence_rms, submultiple_threshold,
             octave_tolerance], dtype=np.float64)
        self._work = np.zeros(_workspace_size(self._geometry), dtype=np.float32)
        self._scratch = np.zeros(frame_size, dtype=np.float64)

    @property
    def frame_size(self) -> int:
        """Samples analysed per :meth:`estimate` call."""
        return self._frame_size

    @property
    def decimation_factor(self) -> int:
        """Full-rate samples per coarse-search sample."""
        return int(self._geometry[G_FACTOR])

    def estimate(self, frame: np.ndarray) -> tuple[float, float]:
        """``(frequency_hz, confidence)`` of the last ``frame_size`` samples of ``frame``.

        ``frequency_hz`` is 0.0 when the frame is unvoiced (silence, noise, confidence below
        ``voicing_threshold``, or any NaN/infinity in it); ``confidence`` is always in [0, 1].
        Float32 and float64 C-contiguous frames go straight to the kernel; anything else is copied
        into a preallocated float64 buffer first. Raises ``ValueError`` for a frame that is not
        one-dimensional or is shorter than ``frame_size``.
        """
        n = self._frame_size
        if frame.ndim != 1 or frame.shape[0] < n:
            raise ValueError(f"need a 1-D frame of at least {n} samples, got shape {frame.shape}")
        start = frame.shape[0] - n
        if frame.dtype not in (np.float32, np.float64) or not frame.flags.c_contiguous:
            np.copyto(self._scratch, frame[start:], casting="unsafe")
            frame = self._scratch
            start = 0
        f, c = _estimate_kernel(frame, start, self._phases, self._geometry, self._tuning,
                                self._work)
        return float(f), float(c)

    def estimate_many(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Offline path: ``(frequencies, confidences)`` for each row of a 2-D ``frames`` array.

        One compiled call for all rows (whole-file analysis, benchmarks); allocates its outputs.
        Rows must be ``frame_size`` long; same conventions as :meth:`estimate`.
        """
        if frames.ndim != 2 or frames.shape[1] != self._frame_size:
            raise ValueError(f"need frames of shape (n, {self._frame_size}), got {frames.shape}")
        if frames.dtype not in (np.float32, np.float64):
            frames = frames.astype(np.float64)
        frames = np.ascontiguousarray(frames)
        freqs = np.zeros(frames.shape[0], dtype=np.float64)
        confs = np.zeros(frames.shape[0], dtype=np.float64)
        _estimate_many_kernel(frames, self._phases, self._geometry, self._tuning, self._work,
                              freqs, confs)
        return freqs, confs


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


def warm_up(sample_rate: int = 48000) -> None:
    """Compile (or load from the disk cache) every kernel signature before a stream starts."""
    tracker = PitchTracker(sample_rate)
    n = tracker.frame_size
    t = np.arange(n) / sample_rate
    tone = np.sin(2.0 * np.pi * 220.0 * t)
    for dtype in (np.float32, np.float64):
        frame = tone.astype(dtype)
        tracker.estimate(frame)
        tracker.estimate_many(frame.reshape(1, n))

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
from numba import njit

from audio.notes import DEFAULT_REFERENCE_A, nearest_note, note_name, validate_reference_a

# Fast-math flags for the inner sums: reassociation lets LLVM vectorise the reductions. ``nnan`` and
# ``ninf`` stay off, and no fast-math function tests finiteness (LLVM may still fold such tests
# under reassociation): the checks live in plain kernels.
_FAST = {"reassoc", "contract", "nsz"}

DEFAULT_FMIN = 40.0
DEFAULT_FMAX = 2000.0
MIN_SAMPLE_RATE = 8000
MAX_SAMPLE_RATE = 384000
RANGE_MARGIN = 1.03  # lag search extends half a semitone beyond [fmin, fmax]
OVERSAMPLING = 3.0  # coarse analysis rate >= OVERSAMPLING * fmax
ANTI_ALIAS_DB = 30.0  # minimum; the six-taps-per-phase design gives 33–35 dB
LAG_BLOCK = 8  # coarse lags computed per pass over the window
HUGE_RMS = 1e30  # decimated RMS above which the frame is first rescaled by its peak
FALLBACK_MARGIN = 0.1  # d' above the global minimum still accepted when no dip reaches threshold

# Geometry (int64 array) indices.
(
    G_FACTOR,
    G_N_POLY,
    G_TAU_D_MIN,
    G_TAU_D_MAX,
    G_WIN_D,
    G_TAU_F_MIN,
    G_TAU_F_MAX,
    G_WIN_F,
    G_MAX_STEPS,
    G_SMOOTH,
) = range(10)
# Tuning (float64 array) indices.
T_RATE, T_YIN, T_VOICING, T_SILENCE, T_SUB, T_OCTAVE, T_FMIN, T_FMAX = range(8)


def _workspace_size(geometry: np.ndarray) -> int:
    """float32 elements of the one work array a tracker owns (see :func:`_carve`)."""
    factor, n_poly = int(geometry[G_FACTOR]), int(geometry[G_N_POLY])
    n_dec = int(geometry[G_WIN_D] + geometry[G_TAU_D_MAX]) + 1 + LAG_BLOCK
    n_lag = int(geometry[G_TAU_D_MAX]) + 1 + LAG_BLOCK
    return factor * n_poly + n_dec + 2 * n_lag + factor * n_poly


@njit(nogil=True, cache=True)
def _carve(work, geometry):
    """Views into ``work``: polyphase rows (flat, row-major), decimated frame, d, d', prepared
    full-rate frame. (Flat rather than reshaped: a reshape here doubles the compile time.)"""
    factor = geometry[G_FACTOR]
    n_poly = geometry[G_N_POLY]
    n_dec = geometry[G_WIN_D] + geometry[G_TAU_D_MAX] + 1 + LAG_BLOCK
    n_lag = geometry[G_TAU_D_MAX] + 1 + LAG_BLOCK
    a = factor * n_poly
    poly = work[:a]  # factor rows of n_poly
    dec = work[a : a + n_dec]
    diff = work[a + n_dec : a + n_dec + n_lag]
    cmnd = work[a + n_dec + n_lag : a + n_dec + 2 * n_lag]
    b = a + n_dec + 2 * n_lag
    prepared = work[b : b + factor * n_poly]
    return poly, dec, diff, cmnd, prepared


@njit(nogil=True, cache=True)
def _peak_if_finite(x, start, n):
    """Largest ``|x|`` in the frame, or -1.0 when a sample is NaN or infinite (slow path only)."""
    peak = 0.0
    for i in range(start, start + n):
        v = float(x[i])
        if not math.isfinite(v):
            return -1.0
        a = abs(v)
        if a > peak:
            peak = a
    return peak


@njit(nogil=True, cache=True, fastmath=_FAST)
def _decimate(x, start, phases, scale, poly, out):
    """Polyphase FIR decimation: ``out[m] = sum_k taps[k] * scale * x[start + m*factor + k]``.

    ``phases[p, q]`` holds ``taps[q * factor + p]``; row ``p`` of ``poly`` (flat, ``factor``
    rows) receives ``x[start + i*factor + p]``, so every inner loop runs over contiguous memory.
    A NaN or infinity anywhere in the frame reaches ``out`` (every sample meets some tap).
    """
    factor = phases.shape[0]
    n_q = phases.shape[1]
    n_poly = poly.shape[0] // factor
    n_out = out.shape[0]
    seg = x[start : start + n_poly * factor]
    s = np.float32(scale)
    for p in range(factor):
        row = poly[p * n_poly : (p + 1) * n_poly]
        if scale == 1.0:
            for i in range(n_poly):
                row[i] = seg[i * factor + p]
        else:
            for i in range(n_poly):
                row[i] = seg[i * factor + p] * s
    for m in range(n_out):
        out[m] = 0.0
    # Six taps per pass (phases has a multiple of six columns) keep ``out`` in cache lines
    # that are loaded and stored once per six multiply-adds.
    for p in range(factor):
        row = poly[p * n_poly : (p + 1) * n_poly]
        for q in range(0, n_q, 6):
            h0 = phases[p, q]
            h1 = phases[p, q + 1]
            h2 = phases[p, q + 2]
            h3 = phases[p, q + 3]
            h4 = phases[p, q + 4]
            h5 = phases[p, q + 5]
            s0 = row[q : q + n_out]
            s1 = row[q + 1 : q + 1 + n_out]
            s2 = row[q + 2 : q + 2 + n_out]
            s3 = row[q + 3 : q + 3 + n_out]
            s4 = row[q + 4 : q + 4 + n_out]
            s5 = row[q + 5 : q + 5 + n_out]
            for m in range(n_out):
                out[m] += (h0 * s0[m] + h1 * s1[m] + h2 * s2[m]) + (
                    h3 * s3[m] + h4 * s4[m] + h5 * s5[m]
                )


@njit(nogil=True, cache=True, fastmath=_FAST)
def _sums(y):
    """Sum and sum of squares of ``y`` (NaN or inf propagate; checked by the caller)."""
    s = 0.0
    s2 = 0.0
    for i in range(y.shape[0]):
        v = np.float64(y[i])
        s += v
        s2 += v * v
    return s, s2


@njit(nogil=True, cache=True)
def _level(y):
    """Mean and RMS about the mean of ``y``; RMS is NaN when ``y`` holds a non-finite value.

    Not compiled with fast-math: ``math.isfinite`` must not be folded away.
    """
    s, s2 = _sums(y)
    n = y.shape[0]
    mean = s / n
    var = s2 / n - mean * mean
    if not (math.isfinite(mean) and math.isfinite(var)):
        return 0.0, math.nan
    return mean, math.sqrt(var) if var > 0.0 else 0.0


@njit(nogil=True, cache=True, fastmath=_FAST)
def _box_step(src, dst, width, taps, lo, hi):
    """``dst[i] = src[i] (+ src[i + w]) (+ src[i + 2w] + src[i + 3w])`` for ``lo <= i < hi``:
    the sum of ``taps`` (1, 2 or 4) samples ``width`` apart."""
    out = dst[lo:hi]
    a = src[lo:hi]
    if taps == 1:
        for i in range(hi - lo):
            out[i] = a[i]
        return
    b = src[lo + width : hi + width]
    if taps == 2:
        for i in range(hi - lo):
            out[i] = a[i] + b[i]
    else:
        c = src[lo + 2 * width : hi + 2 * width]
        d = src[lo + 3 * width : hi + 3 * width]
        for i in range(hi - lo):
            out[i] = (a[i] + b[i]) + (c[i] + d[i])


@njit(nogil=True, cache=True, fastmath=_FAST)
def _prepare(x, start, lo, hi, scale, offset, smooth, out, temp):
    """Full-rate frame for refinement: unit level, DC removed, smoothed by a boxcar.

    ``out[i] = sum_{k < smooth} (x[start + i + k] * scale - offset)`` for ``lo <= i < hi``
    (``hi <= n - smooth + 1``; ``smooth`` a power of two, built in steps of four and two through
    ``temp``, the first step of four folded into the conversion). Every sample is scaled before
    it is added, so frames near the float32 limit do not overflow. The boxcar keeps a periodic
    signal periodic with the same period, so it adds no bias, while it removes the noise above
    ``sample_rate / smooth`` and the upper harmonics that make a dip too sharp for a parabola.
    """
    width = 4 if smooth >= 4 else 1
    end = hi + smooth - width
    dst = out[lo:end]
    z = x[start + lo : start + end + width - 1]
    s = np.float32(scale)
    o = np.float32(width * offset)
    if width == 1:
        for i in range(end - lo):
            dst[i] = z[i] * s - o
    else:
        for i in range(end - lo):
            dst[i] = ((z[i] * s + z[i + 1] * s) + (z[i + 2] * s + z[i + 3] * s)) - o
    in_out = True
    while width < smooth:
        taps = 4 if 4 * width <= smooth else 2
        end = hi + smooth - width * taps
        if in_out:
            _box_step(out, temp, width, taps, lo, end)
        else:
            _box_step(temp, out, width, taps, lo, end)
        in_out = not in_out
        width *= taps
    if not in_out:
        _box_step(temp, out, 0, 1, lo, hi)  # plain copy back


@njit(nogil=True, cache=True, fastmath=_FAST)
def _cross_block(y, win, tau, out):
    """``out[tau + k] = sum_{j < win} y[j] * y[j + tau + k]`` for ``k < LAG_BLOCK`` (one pass)."""
    ref = y[:win]
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
    out[tau] = r0
    out[tau + 1] = r1
    out[tau + 2] = r2
    out[tau + 3] = r3
    out[tau + 4] = r4
    out[tau + 5] = r5
    out[tau + 6] = r6
    out[tau + 7] = r7


@njit(nogil=True, cache=True)
def _coarse_search(y, win, tau_min, tau_max, threshold, margin, diff, cmnd):
    """YIN on the decimated frame ``y`` (unit RMS), computed only as far as needed.

    Fills the difference ``diff[tau] = e(0) + e(tau) - 2 r(tau)`` (window energies as running
    sums, cross products ``LAG_BLOCK`` lags per pass) and the cumulative-mean-normalised
    ``cmnd[tau]`` block by block. The selection rule (see :func:`_estimate_kernel`) takes the first
    dip below ``max(threshold, lowest + margin)``, ``lowest`` being the global minimum. Once the
    first dip below ``threshold`` has been passed, and everything before it stayed at least
    ``margin`` above that dip's floor, no earlier lag can qualify under that rule, so the search
    stops there and takes this dip: a high note costs a few blocks instead of all ``tau_max``
    lags. (The full rule could differ only in a noisy frame whose later, deeper minimum lifts the
    threshold enough to merge this dip with the next one; the early stop keeps the earlier dip.)
    ``y`` holds ``win + tau_max + 1 + LAG_BLOCK`` samples; the float32 cancellation error (~1e-5
    at unit RMS) is far below any threshold applied to ``d'``.

    Returns ``(first, last)``, the dip's lag range, or ``(-1, -1)`` when the whole curve was
    computed and the caller must apply the full rule.
    """
    e0 = _window_energy(y, 0, win)
    e_tau = e0
    running = 0.0
    diff[0] = 0.0
    cmnd[0] = 1.0
    first = -1
    before = np.inf  # lowest cmnd ahead of the dip
    floor = np.inf  # lowest cmnd inside the dip
    searching = True
    for block in range(1, tau_max + 1, LAG_BLOCK):
        _cross_block(y, win, block, diff)
        for tau in range(block, min(block + LAG_BLOCK, tau_max + 1)):
            old = np.float64(y[tau - 1])
            new = np.float64(y[tau + win - 1])
            e_tau += new * new - old * old
            d = max(0.0, e0 + e_tau - 2.0 * diff[tau])
            diff[tau] = d
            running += d
            value = d * tau / running if running > 0.0 else 1.0
            cmnd[tau] = value
            if not searching or tau < tau_min:
                continue
            if first < 0:
                if value < threshold:
                    first = tau
                    floor = value
                else:
                    before = min(before, value)
            elif value < threshold:
                floor = min(floor, value)
            elif before >= floor + margin:
                return first, tau - 1
            else:
                searching = False  # an earlier dip may qualify: needs the global minimum
    return -1, -1


@njit(nogil=True, cache=True, fastmath=_FAST)
def _window_energy(y, start, win):
    """Energy of ``y[start:start + win]``."""
    ref = y[start : start + win]
    e = np.float32(0.0)
    for j in range(win):
        e += ref[j] * ref[j]
    return np.float64(e)


@njit(nogil=True, cache=True, fastmath=_FAST)
def _lag_sums(y, start, win, tau):
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
def _three_lag_sums(y, start, win, tau):
    """The reference window's energy, then :func:`_lag_sums` for lags ``tau - 1``, ``tau`` and
    ``tau + 1``, all in one pass."""
    ref = y[start : start + win]
    la = y[start + tau - 1 : start + tau - 1 + win]
    lb = y[start + tau : start + tau + win]
    lc = y[start + tau + 1 : start + tau + 1 + win]
    e0 = da = db = dc = ea = eb = ec = np.float32(0.0)
    for j in range(win):
        v = ref[j]
        e0 += v * v
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
    return (
        np.float64(e0),
        np.float64(da),
        np.float64(db),
        np.float64(dc),
        np.float64(ea),
        np.float64(eb),
        np.float64(ec),
    )


@njit(nogil=True, cache=True)
def _ratio(d, e0, e1):
    """``n = d / (e0 + e1)``; 2.0 (maximally aperiodic) for silent windows."""
    total = e0 + e1
    return d / total if total > 0.0 else 2.0


@njit(nogil=True, cache=True)
def _refine(y, limit, tau0, geometry):
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
    if tau_hi > limit - win - s - 1:
        tau_hi = limit - win - s - 1
    if c > tau_hi - 1:
        return -1.0, 2.0
    e0, da, db, dc, ea, eb, ec = _three_lag_sums(y, s, win, c)
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
def _coarse_dip(cmnd, lo, hi):
    """Fractional lag of the smallest ``cmnd`` in ``[lo, hi]`` and the value there (parabolic)."""
    best = lo
    for tau in range(lo + 1, hi + 1):
        if cmnd[tau] < cmnd[best]:
            best = tau
    shift = 0.0
    value = float(cmnd[best])
    if best > 0:
        a = float(cmnd[best - 1])
        c = float(cmnd[best + 1])
        curvature = a - 2.0 * value + c
        if curvature > 0.0:
            shift = 0.5 * (a - c) / curvature
            if shift > 0.5:
                shift = 0.5
            elif shift < -0.5:
                shift = -0.5
            value = max(0.0, value - 0.25 * (a - c) * shift)
    return best + shift, value


@njit(nogil=True, cache=True)
def _estimate_kernel(x, start, phases, geometry, tuning, work):
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
    if not rms < HUGE_RMS:
        # A NaN or infinity in the frame, or values near or beyond float32 range.
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
    # YIN's absolute threshold: the first dip below it, taken whole (its lowest point, so noise
    # ripples on a broad low-note dip cannot stop the search early). Where no dip reaches the
    # threshold (noisy frames), YIN takes the global minimum, which the cumulative-mean
    # normalisation pushes towards long lags, i.e. sub-harmonics; instead the threshold is raised
    # to just above the global minimum and the first dip that reaches it wins.
    first, last = _coarse_search(
        dec, win_d, tau_d_min, tau_d_max, tuning[T_YIN], FALLBACK_MARGIN, diff, cmnd
    )
    if first < 0:
        lowest = cmnd[tau_d_min]
        for tau in range(tau_d_min + 1, tau_d_max):
            lowest = min(lowest, cmnd[tau])
        threshold = max(tuning[T_YIN], lowest + FALLBACK_MARGIN)
        first = tau_d_min
        while first < tau_d_max - 1 and cmnd[first] >= threshold:
            first += 1
        last = first
        while last + 1 < tau_d_max - 1 and cmnd[last + 1] < threshold:
            last += 1
    coarse, depth0 = _coarse_dip(cmnd, first, last)

    # 3. Full-rate refinement of the chosen period on the frame at unit level, DC removed.
    smooth = 1
    while 2 * smooth <= geometry[G_SMOOTH] and 16 * smooth <= coarse * factor:
        smooth *= 2
    # Only the span the refinements can reach is prepared: from the window start for the
    # longest candidate lag to that lag plus the walk (shorter candidates sit inside it).
    valid = n - smooth + 1
    c0 = min(int(coarse * factor + 0.5), geometry[G_TAU_F_MAX] - 1)
    steps = geometry[G_MAX_STEPS]
    span_lo = max(0, (valid - geometry[G_WIN_F] - c0 - steps - 1) // 2 - 1)
    span_hi = min(valid, span_lo + geometry[G_WIN_F] + c0 + steps + 3)
    _prepare(x, start, span_lo, span_hi, scale / rms, mean / rms, smooth, prepared, work[:n])
    prepared = prepared[:valid]
    period, value = _refine(prepared, span_hi, coarse * factor, geometry)
    if period <= 0.0:  # no full-rate dip within reach: keep the coarse estimate
        period, value = coarse * factor, depth0

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
        p, v = _refine(prepared, span_hi, sub * factor, geometry)
        if p > 0.0 and v <= value + tolerance:
            period = p
            value = v
    frequency = tuning[T_RATE] / period
    if not math.isfinite(value) or not (
        tuning[T_FMIN] / RANGE_MARGIN <= frequency <= tuning[T_FMAX] * RANGE_MARGIN
    ):
        return 0.0, 0.0  # no usable period (only the coarse fallback can land out of range)
    # Aperiodicity: the worse of the coarse YIN dip and the full-rate fit. The coarse one (fixed
    # ~2 kHz band) keeps low-passed noise, which the adaptive smoothing makes look periodic at
    # long lags, from being voiced.
    confidence = min(1.0, max(0.0, 1.0 - max(value, depth0)))
    if confidence < tuning[T_VOICING]:
        return 0.0, confidence
    return frequency, confidence


@njit(nogil=True, cache=True)
def _track_kernel(x, hop, phases, geometry, tuning, work, freqs, confs):
    """Frames ``x[i*hop : i*hop + frame_size]`` one after another (one GIL-free call)."""
    for i in range(freqs.shape[0]):
        f, c = _estimate_kernel(x, i * hop, phases, geometry, tuning, work)
        freqs[i] = f
        confs[i] = c


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
    started = time.perf_counter()
    tracker = PitchTracker(sample_rate)
    n = tracker.frame_size
    t = np.arange(2 * n) / sample_rate
    tone = (0.5 * np.sin(2.0 * np.pi * 220.0 * t)).astype(np.float32)
    tracker.estimate(tone[:n])
    tracker.track(tone, n // 2)
    return time.perf_counter() - started

"""The compiled kernels of the pitch tracker (:mod:`audio.pitch` explains the algorithm).

Worker thread only; every kernel is ``@njit(nogil=True, cache=True)`` and allocates nothing.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

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

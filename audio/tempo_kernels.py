"""Numba kernels for onset strength, tempo scoring and beat tracking (see ``audio.tempo``).

All kernels are ``nogil`` and cached; none uses ``np.dot`` or ``np.linalg`` (see CONTRIBUTING).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(nogil=True, cache=True)
def box_decimate(y, factor, out):
    """``out[i]`` = mean of ``y[i*factor:(i+1)*factor]`` (a cheap anti-aliased decimation)."""
    scale = np.float32(1.0 / factor)
    for i in range(out.shape[0]):
        acc = np.float32(0.0)
        base = i * factor
        for j in range(factor):
            acc += y[base + j]
        out[i] = acc * scale


@njit(nogil=True, cache=True)
def log_band_flux(spec, edges, gain, lag, n_low, logbands, env, low_env):
    """Spectral flux of log band magnitudes with a 3-band maximum filter on the reference frame.

    ``spec`` (frames, bins) complex STFT; ``edges`` band edges in bins (bands are ``edges[b]`` to
    ``edges[b + 1]`` exclusive); ``logbands`` (frames, bands) scratch; ``env`` (frames,) output:
    ``env[t] = mean_b max(0, L[t, b] - max(L[t - lag, b - 1 : b + 2]))`` (SuperFlux style: the
    maximum filter keeps vibrato and slow glides from reading as onsets). ``low_env`` gets the
    same mean over the lowest ``n_low`` bands only (kick drums and bass notes).
    """
    n_frames = spec.shape[0]
    n_bands = edges.shape[0] - 1
    for t in range(n_frames):
        for b in range(n_bands):
            acc = 0.0
            for k in range(edges[b], edges[b + 1]):
                re = spec[t, k].real
                im = spec[t, k].imag
                acc += re * re + im * im
            logbands[t, b] = np.log1p(gain * np.sqrt(acc))
    for t in range(n_frames):
        if t < lag:
            env[t] = 0.0
            low_env[t] = 0.0
            continue
        r = t - lag
        total = 0.0
        low = 0.0
        for b in range(n_bands):
            ref = logbands[r, b]
            if b > 0 and logbands[r, b - 1] > ref:
                ref = logbands[r, b - 1]
            if b + 1 < n_bands and logbands[r, b + 1] > ref:
                ref = logbands[r, b + 1]
            d = logbands[t, b] - ref
            if d > 0.0:
                total += d
                if b < n_low:
                    low += d
        env[t] = total / n_bands
        low_env[t] = low / max(1, n_low)


@njit(nogil=True, cache=True)
def _interp(x, pos):
    i = int(pos)
    if i + 1 >= x.shape[0]:
        return 0.0
    f = pos - i
    return x[i] * (1.0 - f) + x[i + 1] * f


@njit(nogil=True, cache=True)
def comb_scores(acf, lags, harmonics, out):
    """Harmonic sum of the autocorrelation: ``out[i] = mean_k acf(k * lags[i])``, k=1..harmonics.

    Terms beyond the end of ``acf`` count as zero, so very slow tempi are not favoured.
    """
    for i in range(lags.shape[0]):
        acc = 0.0
        for k in range(1, harmonics + 1):
            acc += _interp(acf, k * lags[i])
        out[i] = acc / harmonics


@njit(nogil=True, cache=True)
def pulse_contrast(env, period, steps):
    """Best-phase contrast of a pulse train: mean env on the beats minus mean env half-way.

    Tries ``steps`` phases over one period; returns (contrast, on-beat mean) at the best phase.
    """
    n = env.shape[0]
    best = -1e30
    best_on = 0.0
    for s in range(steps):
        phase = period * s / steps
        on = 0.0
        off = 0.0
        count = 0
        pos = phase
        while pos + 0.5 * period < n - 1:
            on += _interp(env, pos)
            off += _interp(env, pos + 0.5 * period)
            count += 1
            pos += period
        if count == 0:
            continue
        c = (on - off) / count
        if c > best:
            best = c
            best_on = on / count
    return best, best_on


@njit(nogil=True, cache=True)
def beat_dp(local, period, tightness, cumscore, backlink):
    """Ellis (2007) dynamic programming: fill ``cumscore`` and ``backlink`` for every frame.

    A beat at ``t`` may follow one at ``t - d`` for ``d`` in [period/2, 2*period], paying
    ``tightness * log(d / period)**2``. Frames before the first clear onset start a chain.
    """
    n = local.shape[0]
    lo = max(1, int(np.floor(period * 0.5)))
    hi = int(np.ceil(period * 2.0))
    peak = 0.0
    for t in range(n):
        if local[t] > peak:
            peak = local[t]
    started = False
    for t in range(n):
        best = -1e30
        arg = -1
        start = t - hi
        if start < 0:
            start = 0
        for p in range(start, t - lo + 1):
            d = (t - p) / period
            lg = np.log(d)
            s = cumscore[p] - tightness * lg * lg
            if s > best:
                best = s
                arg = p
        if not started or arg < 0:
            cumscore[t] = local[t]
            backlink[t] = -1
            if local[t] > 0.01 * peak:
                started = True
        else:
            cumscore[t] = local[t] + best
            backlink[t] = arg

"""Numba kernels behind :mod:`audio.loudness` (ITU-R BS.1770-4, EBU Tech 3341/3342).

Everything here runs on memory that :class:`audio.loudness.LoudnessMeter` allocates once; a call
allocates nothing and releases the GIL (``nogil=True``). The kernels are pure number crunching and
know nothing of threads: the meter's thread contract (one worker thread) covers them.

State lives in one float64 array cut into five views, so feeding a block unboxes two arrays
instead of six (each costs ~0.1 µs per call, which shows at small blocks):

``params`` (read-only after construction)
    ``[0:5]`` pre-filter ``b0 b1 b2 a1 a2``; ``[5:10]`` RLB high-pass ``b0 b1 b2 a1 a2`` (its
    numerator is ``g * [1, -2, 1]``: the loops run it with ``g = 1`` and the energy is scaled by
    ``g**2``); ``P_HOP`` samples per 100 ms sub-block; ``P_TAPS`` taps per polyphase branch (T);
    ``P_PHASES`` computed branches; ``P_BOUND`` the largest sum of ``|tap|`` over a branch;
    ``P_CHAN``..``P_SCRATCH`` where the other views start; then one weight per channel.
``chan`` (channels x ``C_COLS + T - 1``)
    Per channel: the direct-form-I filter state, the running sum of squared K-weighted samples
    of the open sub-block, sample peak, true peak, a bound on ``|x|`` over the last T-1 samples,
    then the last T-1 input samples (the interpolator's history).
``meter``
    Counters, the latest momentary/short-term energies and a ring of the last 30 sub-block
    energies (``M_RING``).
``hist`` (4 x ``HIST_BINS``)
    Counts and energy sums of gating blocks (rows 0, 1) and of short-term values (rows 2, 3) in
    0.01 LU bins from -70 LUFS up; the last bin also takes everything louder. Constant memory for
    any duration, as in libebur128's histogram mode; the energy sums keep the means exact.
``scratch``
    A float32 area (the interpolator's taps, line buffer and work area) and the per-piece
    maxima of the open chunk.

Numerics: filters and sums run in float64 from float32 input; the interpolator in float32 (its
error, ~1e-6 dB, is far below what 4x oversampling itself can miss). Non-finite input
samples are replaced by 0.0 and counted (``M_NONFINITE``). Filter states below 1e-200 are flushed
to zero at chunk ends so long silences never reach (slow) subnormal arithmetic.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# params layout
P_HOP, P_TAPS, P_PHASES, P_BOUND = 10, 11, 12, 13
P_CHAN, P_METER, P_HIST, P_SCRATCH = 14, 15, 16, 17
P_WEIGHTS = 18
# chan columns
C_STATE = 0  # x1 x2 m1 m2 y1 y2 (DF-I: the second stage's input history is the first's output)
C_SUM, C_PEAK, C_TRUE_PEAK, C_TAIL_MAX = 6, 7, 8, 9
C_COLS = 10  # history of the last T-1 samples follows
# meter layout
M_FILL, M_SUBBLOCKS, M_MOMENTARY, M_SHORT, M_MAX_MOMENTARY, M_NONFINITE, M_FRAMES = range(7)
M_RING = 8
RING = 30  # sub-blocks in the short-term window (3 s)
MOMENTARY_SUBBLOCKS = 4  # 400 ms
M_SIZE = M_RING + RING
# histogram
HIST_LOW = -70.0  # absolute gate (LUFS); the lower edge of bin 0
HIST_PER_LU = 100  # 0.01 LU bins
HIST_BINS = 80 * HIST_PER_LU  # -70 .. +10 LUFS; louder values land in the last bin
OFFSET = -0.691  # BS.1770 loudness = OFFSET + 10 log10(sum of weighted mean squares)
# work partition
PIECE = 64  # samples per true-peak bound test
CHUNK = 4096  # longest stretch processed per channel before moving on
MAX_PIECES = CHUNK // PIECE
# scratch: a float32 area (taps, line = T-1 <= PIECE samples of history + one piece, work area
# = output + running maxima), then the piece maxima of the open chunk (float64)
TAPS32 = 64  # room for phases x T float32 taps
LINE = 2 * PIECE
F32_WORDS = (TAPS32 + LINE + 2 * PIECE) // 2  # float64 words holding the float32 area
PMAX_AT = F32_WORDS
FLUSH = 1e-200

_FM = {"contract"}  # FMA contraction only: keeps NaN/inf checks meaningful


@njit(nogil=True, cache=True, inline="always")
def _clean(v):
    x = float(v)
    return x if math.isfinite(x) else 0.0


@njit(nogil=True, cache=True, fastmath=_FM)
def _filter_one(block, start, n, c, params, chan, scratch, checked):
    """K-weight channel ``c`` over ``block[start:start+n]``; record each piece's max |x|.

    With ``checked`` false the loop trusts the input and returns -1, touching no state, if the
    running sum came out non-finite (only non-finite input can do that: float32 cannot overflow
    it); the caller then reruns with ``checked`` true, which zeroes and counts bad samples and
    returns their number.
    """
    b0, b1, b2, a1, a2 = params[0], params[1], params[2], params[3], params[4]
    e1, e2 = params[8], params[9]  # numerator g * [1, -2, 1]: g is applied to the energy
    s = chan[c]
    x1, x2, m1, m2, y1, y2 = s[0], s[1], s[2], s[3], s[4], s[5]
    acc, peak = s[C_SUM], s[C_PEAK]
    pmax = scratch[PMAX_AT + c * MAX_PIECES :]
    bad = 0
    for j, p0 in enumerate(range(start, start + n, PIECE)):
        pm = 0.0
        for i in range(p0, min(p0 + PIECE, start + n)):
            x = float(block[i, c])
            if checked and not math.isfinite(x):
                x = 0.0
                bad += 1
            m = (b0 * x + b1 * x1 + b2 * x2 - a2 * m2) - a1 * m1
            y = ((m + m2) - 2.0 * m1 - e2 * y2) - e1 * y1
            acc += y * y
            pm = max(pm, abs(x))
            x2, x1, m2, m1, y2, y1 = x1, x, m1, m, y1, y
        pmax[j] = pm
        peak = max(peak, pm)
    if not (checked or math.isfinite(acc)):
        return -1
    s[0], s[1], s[2], s[3], s[4], s[5] = x1, x2, m1, m2, y1, y2
    for k in range(6):
        if abs(s[k]) < FLUSH:
            s[k] = 0.0
    s[C_SUM], s[C_PEAK] = acc, peak
    return bad


@njit(nogil=True, cache=True, fastmath=_FM)
def _filter_pair(block, start, n, c, params, chan, scratch, checked):
    """:func:`_filter_one` for channels ``c`` and ``c + 1`` in one loop (two independent
    recursions keep the FPU busy while each waits on its own feedback)."""
    b0, b1, b2, a1, a2 = params[0], params[1], params[2], params[3], params[4]
    e1, e2 = params[8], params[9]  # numerator g * [1, -2, 1]: g is applied to the energy
    s, t = chan[c], chan[c + 1]
    x1, x2, m1, m2, y1, y2 = s[0], s[1], s[2], s[3], s[4], s[5]
    u1, u2, n1, n2, v1, v2 = t[0], t[1], t[2], t[3], t[4], t[5]
    acc, acd = s[C_SUM], t[C_SUM]
    pk, pl = s[C_PEAK], t[C_PEAK]
    pmax = scratch[PMAX_AT + c * MAX_PIECES :]
    bad = 0
    for j, p0 in enumerate(range(start, start + n, PIECE)):
        pm = 0.0
        pn = 0.0
        for i in range(p0, min(p0 + PIECE, start + n)):
            x = float(block[i, c])
            u = float(block[i, c + 1])
            if checked:
                if not math.isfinite(x):
                    x = 0.0
                    bad += 1
                if not math.isfinite(u):
                    u = 0.0
                    bad += 1
            m = (b0 * x + b1 * x1 + b2 * x2 - a2 * m2) - a1 * m1
            q = (b0 * u + b1 * u1 + b2 * u2 - a2 * n2) - a1 * n1
            y = ((m + m2) - 2.0 * m1 - e2 * y2) - e1 * y1
            v = ((q + n2) - 2.0 * n1 - e2 * v2) - e1 * v1
            acc += y * y
            acd += v * v
            pm = max(pm, abs(x))
            pn = max(pn, abs(u))
            x2, x1, m2, m1, y2, y1 = x1, x, m1, m, y1, y
            u2, u1, n2, n1, v2, v1 = u1, u, n1, q, v1, v
        pmax[j] = pm
        pmax[MAX_PIECES + j] = pn
        pk = max(pk, pm)
        pl = max(pl, pn)
    if not (checked or (math.isfinite(acc) and math.isfinite(acd))):
        return -1
    s[0], s[1], s[2], s[3], s[4], s[5] = x1, x2, m1, m2, y1, y2
    t[0], t[1], t[2], t[3], t[4], t[5] = u1, u2, n1, n2, v1, v2
    for k in range(6):
        if abs(s[k]) < FLUSH:
            s[k] = 0.0
        if abs(t[k]) < FLUSH:
            t[k] = 0.0
    s[C_SUM], t[C_SUM], s[C_PEAK], t[C_PEAK] = acc, acd, pk, pl
    return bad


@njit(nogil=True, cache=True, fastmath=True)
def _interpolated_max(line, taps, phases, ntaps, n, work):
    """Max |output| of the computed polyphase branches for ``n`` <= ``PIECE`` inputs.

    ``line`` holds T-1 samples of history then the ``n`` inputs (all finite). Branch ``r``'s
    output for input ``i`` is ``sum_k taps[r*T + k] * line[T-1+i-k]``. The loops run over ``i``
    innermost, four taps per pass, and keep an element-wise running max, so LLVM vectorises
    them (it will not vectorise a floating-point max reduction); ``fastmath`` is safe because
    the inputs are finite. ``T`` must be a multiple of 4.
    """
    out = work[:n]
    top = work[PIECE : PIECE + n]
    top[:] = 0.0
    for r in range(phases):
        for k in range(0, ntaps, 4):
            b = r * ntaps + k
            h0, h1, h2, h3 = taps[b], taps[b + 1], taps[b + 2], taps[b + 3]
            o = ntaps - 1 - k
            x0, x1 = line[o : o + n], line[o - 1 : o - 1 + n]
            x2, x3 = line[o - 2 : o - 2 + n], line[o - 3 : o - 3 + n]
            if k == 0:
                for i in range(n):
                    out[i] = h0 * x0[i] + h1 * x1[i] + h2 * x2[i] + h3 * x3[i]
            elif k + 4 < ntaps:
                for i in range(n):
                    out[i] += h0 * x0[i] + h1 * x1[i] + h2 * x2[i] + h3 * x3[i]
            else:
                for i in range(n):
                    v = abs(out[i] + h0 * x0[i] + h1 * x1[i] + h2 * x2[i] + h3 * x3[i])
                    top[i] = max(top[i], v)
    t0 = t1 = t2 = t3 = 0.0  # four independent maxima: a shorter dependency chain
    i = 0
    while i + 4 <= n:
        t0, t1 = max(t0, top[i]), max(t1, top[i + 1])
        t2, t3 = max(t2, top[i + 2]), max(t3, top[i + 3])
        i += 4
    while i < n:
        t0 = max(t0, top[i])
        i += 1
    return max(max(t0, t1), max(t2, t3))


@njit(nogil=True, cache=True)
def _true_peak_chunk(block, start, n, c, params, chan, scratch):
    """Raise channel ``c``'s true peak over ``block[start:start+n]``, skipping every piece whose
    bound (max |x| over its window times ``P_BOUND``) cannot beat the peak already seen. The
    skip is exact: the result equals computing every output."""
    ntaps = int(params[P_TAPS])
    phases = int(params[P_PHASES])
    bound = params[P_BOUND]
    f32 = scratch[:F32_WORDS].view(np.float32)
    taps = f32[:TAPS32]
    s = chan[c]
    past = s[C_COLS:]
    line = f32[TAPS32 : TAPS32 + LINE]
    work = f32[TAPS32 + LINE :]
    pmax = scratch[PMAX_AT + c * MAX_PIECES :]
    prev = s[C_TAIL_MAX]
    best = max(s[C_TRUE_PEAK], s[C_PEAK])  # samples are outputs too (identity branch)
    for j, p0 in enumerate(range(start, start + n, PIECE)):
        m = min(PIECE, start + n - p0)
        here = pmax[j]
        need = here * bound > best
        if not need and prev * bound > best:  # only the T-1 samples before could: look closer
            near = 0.0
            for idx in range(p0 - (ntaps - 1), p0):
                near = max(near, abs(_clean(block[idx, c]) if idx >= 0 else past[ntaps - 1 + idx]))
            need = near * bound > best
        if need:
            for k in range(ntaps - 1 + m):
                idx = p0 - (ntaps - 1) + k
                line[k] = _clean(block[idx, c]) if idx >= 0 else past[ntaps - 1 + idx]
            best = max(best, _interpolated_max(line, taps, phases, ntaps, m, work))
        prev = here if m >= ntaps - 1 else max(prev, here)
    s[C_TAIL_MAX] = prev
    s[C_TRUE_PEAK] = best


@njit(nogil=True, cache=True)
def _keep_history(block, c, ntaps, chan):
    """After a block: channel ``c``'s history becomes the last T-1 (clean) input samples."""
    hist = chan[c, C_COLS:]
    keep = ntaps - 1
    frames = block.shape[0]
    shift = min(frames, keep)
    for k in range(keep - shift):  # old samples slide left (forward copy is safe)
        hist[k] = hist[k + shift]
    for k in range(keep - shift, keep):
        hist[k] = _clean(block[frames - keep + k, c])


@njit(nogil=True, cache=True)
def _hist_add(hist, row, energy):
    """Count one block of mean-square ``energy`` if it passes the absolute gate (> -70 LUFS)."""
    if energy <= 0.0:
        return
    level = OFFSET + 10.0 * math.log10(energy)
    if not level > HIST_LOW:
        return
    b = min(int((level - HIST_LOW) * HIST_PER_LU), HIST_BINS - 1)
    hist[row, b] += 1.0
    hist[row + 1, b] += energy


@njit(nogil=True, cache=True)
def _close_subblock(params, chan, meter, hist):
    """A 100 ms sub-block is complete: update momentary, short-term and both histograms."""
    hop = params[P_HOP]
    gain = params[5] * params[5]  # the RLB numerator's scale (the filter loops run it at 1)
    e = 0.0
    for c in range(chan.shape[0]):
        e += params[P_WEIGHTS + c] * chan[c, C_SUM]
        chan[c, C_SUM] = 0.0
    e *= gain
    done = int(meter[M_SUBBLOCKS])
    meter[M_RING + done % RING] = e
    done += 1
    meter[M_SUBBLOCKS] = done
    meter[M_FILL] = 0.0
    if done >= MOMENTARY_SUBBLOCKS:
        s = 0.0
        for k in range(done - MOMENTARY_SUBBLOCKS, done):
            s += meter[M_RING + k % RING]
        mom = s / (MOMENTARY_SUBBLOCKS * hop)
        meter[M_MOMENTARY] = mom
        meter[M_MAX_MOMENTARY] = max(meter[M_MAX_MOMENTARY], mom)
        _hist_add(hist, 0, mom)
    if done >= RING:
        s = 0.0
        for k in range(RING):
            s += meter[M_RING + k]
        short = s / (RING * hop)
        meter[M_SHORT] = short
        _hist_add(hist, 2, short)


@njit(nogil=True, cache=True)
def views(state, channels):
    """``(params, chan, meter, hist, scratch)``: the views of a packed state."""
    a, b = int(state[P_CHAN]), int(state[P_METER])
    c, d = int(state[P_HIST]), int(state[P_SCRATCH])
    chan = state[a:b].reshape((channels, (b - a) // channels))
    return state[:a], chan, state[b:c], state[c:d].reshape((4, HIST_BINS)), state[d:]


@njit(nogil=True, cache=True)
def process_block(block, state, true_peak):
    """Feed one C-contiguous float32 block (frames x channels) of any length, even 0.

    Work is cut at 100 ms sub-block edges and at ``CHUNK`` frames, so readings depend only on
    the samples fed, never on how they were split into blocks.
    """
    frames, channels = block.shape
    params, chan, meter, hist, scratch = views(state, channels)
    hop = int(params[P_HOP])
    pos = 0
    while pos < frames:
        n = min(frames - pos, hop - int(meter[M_FILL]), CHUNK)
        bad = 0
        c = 0
        while c + 1 < channels:
            got = _filter_pair(block, pos, n, c, params, chan, scratch, False)
            if got < 0:
                got = _filter_pair(block, pos, n, c, params, chan, scratch, True)
            bad += got
            c += 2
        if c < channels:
            got = _filter_one(block, pos, n, c, params, chan, scratch, False)
            if got < 0:
                got = _filter_one(block, pos, n, c, params, chan, scratch, True)
            bad += got
        if true_peak:
            for c in range(channels):
                _true_peak_chunk(block, pos, n, c, params, chan, scratch)
        meter[M_NONFINITE] += bad
        meter[M_FRAMES] += n
        meter[M_FILL] += n
        if int(meter[M_FILL]) == hop:
            _close_subblock(params, chan, meter, hist)
        pos += n
    if true_peak:
        for c in range(channels):
            _keep_history(block, c, int(params[P_TAPS]), chan)


@njit(nogil=True, cache=True)
def _level(energy):
    return OFFSET + 10.0 * math.log10(energy) if energy > 0.0 else -math.inf


@njit(nogil=True, cache=True)
def _gate(hist, row, threshold, strict):
    """First bin that passes a relative gate; the bin the gate falls in passes if its mean does."""
    t = math.floor((threshold - HIST_LOW) * HIST_PER_LU)
    if t < 0:
        return 0
    if t >= HIST_BINS:
        t = HIST_BINS - 1
    if hist[row, t] > 0.0:
        level = _level(hist[row + 1, t] / hist[row, t])
        if level > threshold or (not strict and level == threshold):
            return t
    return t + 1


@njit(nogil=True, cache=True)
def _value_at(hist, first, rank):
    """Loudness of the ``rank``-th (0-based) short-term value at or above bin ``first``."""
    seen = 0.0
    for b in range(first, HIST_BINS):
        seen += hist[2, b]
        if seen > rank:
            return _level(hist[3, b] / hist[2, b])
    return -math.inf


@njit(nogil=True, cache=True)
def summarize(hist, out):
    """``out[0]`` = integrated loudness (BS.1770-4 gating), ``out[1]`` = loudness range
    (EBU Tech 3342); ``-inf`` where nothing passed the gates."""
    # Integrated: absolute gate already applied; relative gate at -10 LU under the gated mean.
    count = hist[0].sum()
    out[0] = -math.inf
    if count > 0.0:
        first = _gate(hist, 0, _level(hist[1].sum() / count) - 10.0, True)
        n = hist[0, first:].sum()
        if n > 0.0:
            out[0] = _level(hist[1, first:].sum() / n)
    # Loudness range: short-term values, relative gate -20 LU, 10th to 95th percentile.
    count = hist[2].sum()
    out[1] = -math.inf
    if count > 0.0:
        first = _gate(hist, 2, _level(hist[3].sum() / count) - 20.0, False)
        n = hist[2, first:].sum()
        if n > 0.0:
            lo_rank = 0.10 * (n - 1.0)
            hi_rank = 0.95 * (n - 1.0)
            lo = _lerp(hist, first, lo_rank)
            hi = _lerp(hist, first, hi_rank)
            out[1] = hi - lo


@njit(nogil=True, cache=True)
def _lerp(hist, first, rank):
    """Percentile by linear interpolation between neighbouring ranks (NumPy's default)."""
    below = math.floor(rank)
    a = _value_at(hist, first, below)
    if rank == below:
        return a
    return a + (rank - below) * (_value_at(hist, first, below + 1.0) - a)

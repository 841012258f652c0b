"""Numba kernels behind :mod:`audio.loudness` (ITU-R BS.1770-4, EBU Tech 3341/3342).

Everything here runs on memory that :class:`audio.loudness.LoudnessMeter` allocates once; a call
allocates nothing and releases the GIL (``nogil=True``). The kernels are pure number crunching and
know nothing of threads: the meter's thread contract (one worker thread) covers them.

State lives in one float64 array cut into five views, so feeding a block unboxes two arrays
instead of six (each costs ~0.1 µs per call, which shows at small blocks):

``params`` (read-only after construction)
    ``[0:5]`` pre-filter ``b0 b1 b2 a1 a2``; ``[5:10]`` RLB high-pass ``b0 b1 b2 a1 a2`` (its
    numerator is ``g * [1, -2, 1]``: the loops run it with ``g = 1`` and the energy is scaled by
    ``g**2``); ``P_HOP`` samples per 100 ms sub-block; ``P_PHASES`` computed polyphase branches
    (16 taps each); ``P_BOUND`` the largest sum of ``|tap|`` over a branch; ``P_TRUE_PEAK``
    1.0 to run the interpolator; ``P_CHAN`` .. ``P_SCRATCH`` where the other views start; then
    one weight per channel.
``chan`` (channels x ``C_COLS``)
    Per channel: the direct-form-I filter state, the running sum of squared K-weighted samples
    of the open sub-block, sample peak, true peak, a bound on ``|x|`` over the last 15 samples,
    and how many coming inputs' interpolated outputs still describe time before the last reset
    (they are not counted).
``meter``
    Counters, the latest momentary/short-term energies and a ring of the last 30 sub-block
    energies (``M_RING``).
``hist`` (4 x ``HIST_BINS``)
    Counts and energy sums of gating blocks (rows 0, 1) and of short-term values (rows 2, 3) in
    0.01 LU bins from -70 LUFS up; the last bin also takes everything louder. Constant memory for
    any duration, as in libebur128's histogram mode; the energy sums keep the means exact.
``scratch``
    The per-piece maxima of the open chunk (float64, ``MAX_PIECES`` per channel), then a float32
    area: the interpolator's taps, its running maxima and one lane per channel holding the last
    15 input samples followed by the open chunk's samples, de-interleaved by the filter loop.

Numerics: filters and sums run in float64 from float32 input; the interpolator in float32 (its
error, ~1e-6 dB, is far below what 4x oversampling itself can miss; next to absurd but finite
samples beyond ``HUGE`` the true peak reads its upper bound instead). Non-finite input samples
are replaced by 0.0 and counted (``M_NONFINITE``). Filter states below 1e-200 are flushed to zero
at chunk ends so long silences never reach (slow) subnormal arithmetic.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# params layout
P_HOP, P_PHASES, P_BOUND, P_TRUE_PEAK = 10, 11, 12, 13
P_CHAN, P_METER, P_HIST, P_SCRATCH = 14, 15, 16, 17
P_WEIGHTS = 18
# chan columns: x1 x2 m1 m2 y1 y2 (DF-I: the second stage's input history is the first's output)
C_SUM, C_PEAK, C_TRUE_PEAK, C_TAIL_MAX, C_SKIP = 6, 7, 8, 9, 10
C_COLS = 11
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
# the float32 area of scratch (in float32 elements)
TAPS = 16  # per polyphase branch: the interpolation loop is written out for 16
HISTORY = TAPS - 1
TAPS32 = 64  # room for the branches' taps
LANES_AT = TAPS32 + PIECE  # after the taps and the running maxima
LANE = CHUNK + 16  # per channel: HISTORY samples, then up to CHUNK (rounded up to 16)
FLUSH = 1e-200
HUGE = 1e36  # |x| above this (~ +720 dBFS) reads its true-peak bound: float32 sums stay finite

_FM = {"contract"}  # FMA contraction only: keeps NaN/inf checks meaningful


def scratch_words(channels: int) -> int:
    """float64 elements of ``scratch`` for ``channels``."""
    return channels * MAX_PIECES + (LANES_AT + channels * LANE) // 2


@njit(nogil=True, cache=True, fastmath=_FM)
def _filter_one(block, start, n, c, params, chan, pmax, lane, checked):
    """K-weight channel ``c`` over ``block[start:start+n]``; record each piece's max |x| and
    copy the samples (as float32) into ``lane[HISTORY:]`` for the interpolator.

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
    col = block[start : start + n, c]  # slices indexed from 0: no negative-index handling
    zero = np.float32(0.0)
    bad = 0
    for j, p0 in enumerate(range(0, n, PIECE)):
        seg, out = col[p0 : p0 + PIECE], lane[HISTORY + p0 : HISTORY + p0 + PIECE]
        pm = 0.0
        for i in range(seg.shape[0]):
            xv = seg[i]
            x = float(xv)
            if checked and not math.isfinite(x):
                x, xv = 0.0, zero
                bad += 1
            out[i] = xv
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
def _filter_pair(block, start, n, c, params, chan, pmax, pmax2, lane, lane2, checked):
    """:func:`_filter_one` for channels ``c`` and ``c + 1`` in one loop (two independent
    recursions keep the FPU busy while each waits on its own feedback)."""
    b0, b1, b2, a1, a2 = params[0], params[1], params[2], params[3], params[4]
    e1, e2 = params[8], params[9]
    s, t = chan[c], chan[c + 1]
    x1, x2, m1, m2, y1, y2 = s[0], s[1], s[2], s[3], s[4], s[5]
    u1, u2, n1, n2, v1, v2 = t[0], t[1], t[2], t[3], t[4], t[5]
    acc, acd = s[C_SUM], t[C_SUM]
    pk, pl = s[C_PEAK], t[C_PEAK]
    blk = block[start : start + n]  # slices indexed from 0: no negative-index handling
    col, col2 = blk[:, c], blk[:, c + 1]
    zero = np.float32(0.0)
    bad = 0
    for j, p0 in enumerate(range(0, n, PIECE)):
        seg, seg2 = col[p0 : p0 + PIECE], col2[p0 : p0 + PIECE]
        out = lane[HISTORY + p0 : HISTORY + p0 + PIECE]
        out2 = lane2[HISTORY + p0 : HISTORY + p0 + PIECE]
        pm = 0.0
        pn = 0.0
        for i in range(seg.shape[0]):
            xv, uv = seg[i], seg2[i]
            x, u = float(xv), float(uv)
            if checked:
                if not math.isfinite(x):
                    x, xv = 0.0, zero
                    bad += 1
                if not math.isfinite(u):
                    u, uv = 0.0, zero
                    bad += 1
            out[i], out2[i] = xv, uv
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
        pmax2[j] = pn
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
def _interpolated_max(line, taps, phases, n, top, first):
    """Max |output| of the computed polyphase branches for inputs ``first`` .. ``n - 1`` of a
    piece of ``n`` <= ``PIECE`` inputs.

    ``line`` holds 15 samples of history then the ``n`` inputs (all finite); branch ``r``'s
    output for input ``i`` is ``sum_k taps[16 r + k] * line[15 + i - k]``. Written out with the
    taps in registers, one source array and an element-wise running max (``top``), LLVM
    vectorises the loop over ``i`` (it will not vectorise a floating-point max reduction);
    ``fastmath`` is safe because the inputs are finite.
    """
    top = top[:n]
    top[:] = 0.0
    for r in range(phases):
        b = 16 * r
        h0, h1, h2, h3 = taps[b], taps[b + 1], taps[b + 2], taps[b + 3]
        h4, h5, h6, h7 = taps[b + 4], taps[b + 5], taps[b + 6], taps[b + 7]
        h8, h9, h10, h11 = taps[b + 8], taps[b + 9], taps[b + 10], taps[b + 11]
        h12, h13, h14, h15 = taps[b + 12], taps[b + 13], taps[b + 14], taps[b + 15]
        for i in range(n):
            near = (h0 * line[i + 15] + h1 * line[i + 14]) + (h2 * line[i + 13] + h3 * line[i + 12])
            near += (h4 * line[i + 11] + h5 * line[i + 10]) + (h6 * line[i + 9] + h7 * line[i + 8])
            far = (h8 * line[i + 7] + h9 * line[i + 6]) + (h10 * line[i + 5] + h11 * line[i + 4])
            far += (h12 * line[i + 3] + h13 * line[i + 2]) + (h14 * line[i + 1] + h15 * line[i])
            top[i] = max(top[i], abs(near + far))
    top[:first] = 0.0
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
def _true_peak_chunk(n, c, params, chan, pmax, lane, f32):
    """Raise channel ``c``'s true peak over the open chunk (``n`` samples in ``lane``), skipping
    every piece whose bound (max |x| over its window times ``P_BOUND``) cannot beat the peak
    already seen. The skip is exact: the result equals computing every output. Then keep the
    last 15 samples as the next chunk's history."""
    phases = int(params[P_PHASES])
    bound = params[P_BOUND]
    taps, top = f32[:TAPS32], f32[TAPS32:LANES_AT]
    s = chan[c]
    prev = s[C_TAIL_MAX]
    skip = int(s[C_SKIP])
    best = max(s[C_TRUE_PEAK], s[C_PEAK])  # samples are outputs too (identity branch)
    for j, o in enumerate(range(0, n, PIECE)):
        m = min(PIECE, n - o)
        first = min(skip, m)
        skip -= first
        here = pmax[j]
        need = here * bound > best
        if not need and prev * bound > best:  # only the 15 samples before could: look closer
            near = 0.0
            for k in range(o, o + HISTORY):
                near = max(near, abs(lane[k]))
            need = near * bound > best
        if need:
            window = max(here, prev)
            if window > HUGE:  # float32 sums could overflow (inf - inf = NaN): take the bound
                best = max(best, window * bound)
            else:
                line = lane[o : o + HISTORY + m]
                best = max(best, _interpolated_max(line, taps, phases, m, top, first))
        prev = here if m >= HISTORY else max(prev, here)
    s[C_TAIL_MAX] = prev
    s[C_SKIP] = skip
    s[C_TRUE_PEAK] = best
    for k in range(HISTORY):  # lane[0 : 15 + n] is contiguous: history, then the chunk
        lane[k] = lane[n + k]


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
    chan = state[a:b].reshape((channels, C_COLS))
    return state[:a], chan, state[b:c], state[c:d].reshape((4, HIST_BINS)), state[d:]


@njit(nogil=True, cache=True)
def process_block(block, state):
    """Feed one C-contiguous float32 block (frames x channels) of any length, even 0.

    Work is cut at 100 ms sub-block edges and at ``CHUNK`` frames, so readings depend only on
    the samples fed, never on how they were split into blocks.
    """
    frames, channels = block.shape
    params, chan, meter, hist, scratch = views(state, channels)
    f32 = scratch[channels * MAX_PIECES :].view(np.float32)
    hop = int(params[P_HOP])
    true_peak = params[P_TRUE_PEAK] != 0.0
    pos = 0
    while pos < frames:
        n = min(frames - pos, hop - int(meter[M_FILL]), CHUNK)
        bad = 0
        c = 0
        while c + 1 < channels:
            pm, pm2 = scratch[c * MAX_PIECES :], scratch[(c + 1) * MAX_PIECES :]
            ln, ln2 = f32[LANES_AT + c * LANE :], f32[LANES_AT + (c + 1) * LANE :]
            got = _filter_pair(block, pos, n, c, params, chan, pm, pm2, ln, ln2, False)
            if got < 0:
                got = _filter_pair(block, pos, n, c, params, chan, pm, pm2, ln, ln2, True)
            bad += got
            c += 2
        if c < channels:
            pm, ln = scratch[c * MAX_PIECES :], f32[LANES_AT + c * LANE :]
            got = _filter_one(block, pos, n, c, params, chan, pm, ln, False)
            if got < 0:
                got = _filter_one(block, pos, n, c, params, chan, pm, ln, True)
            bad += got
        if true_peak:
            for c in range(channels):
                pm, ln = scratch[c * MAX_PIECES :], f32[LANES_AT + c * LANE :]
                _true_peak_chunk(n, c, params, chan, pm, ln, f32)
        meter[M_NONFINITE] += bad
        meter[M_FRAMES] += n
        meter[M_FILL] += n
        if int(meter[M_FILL]) == hop:
            _close_subblock(params, chan, meter, hist)
        pos += n


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

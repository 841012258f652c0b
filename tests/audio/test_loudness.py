"""Loudness meter: EBU Tech 3341/3342-style cases, BS.1770-4 coefficients, agreement with
pyloudnorm and with an independent exact-gating reference, block-size independence, hostile input.

Expected values are derived in the comments (Tech 3341 states the results as "-23.0 +-0.1 LUFS"
and Tech 3342 as "LRA = 10 +-1 LU" etc.; a 1 kHz sine of peak level X dBFS in both channels of a
stereo pair reads X LUFS because the -0.691 dB constant cancels K-weighting's gain at 1 kHz).
"""

from __future__ import annotations

import math
import tracemalloc
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np
import pyloudnorm
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.signal import freqz, lfilter

from audio.loudness import (
    LoudnessMeter,
    LoudnessReading,
    channel_weights,
    integrated_loudness,
    k_weighting,
    loudness_range,
    true_peak,
    warm_up,
)

FS = 48_000
LOUDNESS_FIELDS = (
    "momentary_lufs",
    "short_term_lufs",
    "integrated_lufs",
    "loudness_range_lu",
    "max_momentary_lufs",
)
PEAK_FIELDS = ("true_peak_dbtp", "sample_peak_dbfs")


@pytest.fixture(scope="module", autouse=True)
def _compiled() -> None:
    warm_up()


def tone(
    dbfs: float, seconds: float, fs: int = FS, hz: float = 1000.0, phase: float = 0.0
) -> np.ndarray:
    """A float32 sine of peak level ``dbfs``."""
    t = np.arange(round(seconds * fs)) / fs
    return (10.0 ** (dbfs / 20.0) * np.sin(2 * np.pi * hz * t + phase)).astype(np.float32)


def tones(levels: Sequence[tuple[float, float]], fs: int = FS) -> np.ndarray:
    """Concatenated (dBFS, seconds) segments of one continuous 1 kHz sine, as stereo."""
    parts, start = [], 0
    for dbfs, seconds in levels:
        n = round(seconds * fs)
        t = (start + np.arange(n)) / fs
        parts.append(10.0 ** (dbfs / 20.0) * np.sin(2 * np.pi * 1000.0 * t))
        start += n
    mono = np.concatenate(parts).astype(np.float32)
    return np.stack([mono, mono], axis=1)


def pink(seconds: float, channels: int, fs: int, seed: int, peak: float = 0.25) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = round(seconds * fs)
    spectrum = np.fft.rfft(rng.standard_normal((n, channels)), axis=0)
    f = np.arange(spectrum.shape[0], dtype=float)
    f[0] = 1.0
    x = np.fft.irfft(spectrum / np.sqrt(f)[:, None], n, axis=0)
    return (peak * x / np.abs(x).max()).astype(np.float32)


def music(seconds: float, channels: int, fs: int, seed: int) -> np.ndarray:
    """Harmonic notes (a wavetable of 8 partials) with attack/decay envelopes and random levels,
    slightly different per channel, and a second of digital silence every five."""
    rng = np.random.default_rng(seed)
    n = round(seconds * fs)
    x = np.zeros((n, channels))
    cycle = np.arange(4096) / 4096
    table = np.zeros(cycle.size)
    for h in range(1, 9):
        table += np.sin(2 * np.pi * h * cycle + h) / h
    for start in np.arange(0.0, seconds, 0.75):
        a = round(start * fs)
        b = min(n, a + 3 * fs)
        age = np.arange(b - a) / fs
        note = 110.0 * 2.0 ** (rng.integers(0, 36) / 12.0)
        level = 10.0 ** (rng.uniform(-18.0, 0.0) / 20.0)
        env = np.minimum(age * 40.0, 1.0) * np.exp(-age * 1.5)
        voice = level * env * table[((note * age) % 1.0 * 4096).astype(np.int64)]
        for c in range(channels):
            x[a:b, c] += voice * (1.0 - 0.08 * c)
    x *= ((np.arange(n) / fs % 5.0) < 4.0)[:, None]
    return (0.5 * x / np.abs(x).max()).astype(np.float32)


def feed(meter: LoudnessMeter, x: np.ndarray, sizes: Iterable[int]) -> LoudnessReading:
    pos = 0
    for size in sizes:
        if pos >= len(x):
            break
        meter.process(x[pos : pos + size])
        pos += size
    meter.process(x[pos:])
    return meter.reading()


def measure(x: np.ndarray, fs: int = FS, block: int = 512) -> LoudnessReading:
    meter = LoudnessMeter(fs, 1 if x.ndim == 1 else x.shape[1])
    return feed(meter, x, iter(lambda: block, None))


def reference(x: np.ndarray, fs: int, weights: np.ndarray) -> tuple[float, float]:
    """(integrated, LRA) by the book with exact gating (no histogram): scipy filters on float64."""
    shelf, highpass = k_weighting(fs)
    y = lfilter(shelf[:3], [1.0, *shelf[3:]], x.astype(np.float64), axis=0)
    y = lfilter(highpass[:3], [1.0, *highpass[3:]], y, axis=0)
    hop = round(fs / 10)
    whole = len(y) // hop * hop
    sub = (y[:whole] ** 2).reshape(-1, hop, y.shape[1]).sum(axis=1) @ weights
    with np.errstate(divide="ignore"):
        blocks = np.convolve(sub, np.ones(4), "valid") / (4 * hop)
        level = -0.691 + 10 * np.log10(blocks)
        gated = blocks[level > -70]
        rel = -0.691 + 10 * np.log10(gated.mean()) - 10
        integrated = -0.691 + 10 * np.log10(blocks[(level > -70) & (level > rel)].mean())
        short = np.convolve(sub, np.ones(30), "valid") / (30 * hop)
        st_level = -0.691 + 10 * np.log10(short)
        kept = short[st_level > -70]
        rel = -0.691 + 10 * np.log10(kept.mean()) - 20
        values = st_level[(st_level > -70) & (st_level >= rel)]
    lra = float(np.percentile(values, 95) - np.percentile(values, 10))
    return float(integrated), lra


def no_nan(r: LoudnessReading) -> bool:
    """Every value is a finite number or -inf ("no data"): never NaN, never +inf."""
    values = [getattr(r, f) for f in LOUDNESS_FIELDS + PEAK_FIELDS]
    return all(v < math.inf for v in [*values, *r.true_peak_channels_dbtp])


# --- BS.1770-4 K-weighting --------------------------------------------------------------------


def test_k_weighting_matches_the_standard_table_at_48k() -> None:
    shelf, highpass = k_weighting(48_000)
    table_shelf = [
        1.53512485958697,
        -2.69169618940638,
        1.19839281085285,
        -1.69065929318241,
        0.73248077421585,
    ]
    table_highpass = [1.0, -2.0, 1.0, -1.99004745483398, 0.99007225036621]
    np.testing.assert_allclose(shelf, table_shelf, rtol=0, atol=1e-9)
    np.testing.assert_allclose(highpass, table_highpass, rtol=0, atol=1e-9)


@pytest.mark.parametrize("fs", [44_100, 88_200, 96_000, 176_400, 192_000])
def test_k_weighting_response_is_the_same_at_every_rate(fs: int) -> None:
    def response_db(rate: int, hz: np.ndarray) -> np.ndarray:
        shelf, highpass = k_weighting(rate)
        _, h1 = freqz(shelf[:3], [1.0, *shelf[3:]], worN=hz, fs=rate)
        _, h2 = freqz(highpass[:3], [1.0, *highpass[3:]], worN=hz, fs=rate)
        return np.asarray(20 * np.log10(np.abs(h1 * h2)))

    hz = np.array([20.0, 38.0, 100.0, 1000.0, 1682.0, 4000.0, 10000.0, 15000.0])
    np.testing.assert_allclose(response_db(fs, hz), response_db(48_000, hz), atol=0.05)


def test_channel_weights() -> None:
    assert channel_weights(1).tolist() == [1.0]
    assert channel_weights(2).tolist() == [1.0, 1.0]
    assert channel_weights(5).tolist() == [1.0, 1.0, 1.0, 1.41, 1.41]
    assert channel_weights(6).tolist() == [1.0, 1.0, 1.0, 0.0, 1.41, 1.41]  # LFE excluded


# --- EBU Tech 3341 ------------------------------------------------------------------------------


@pytest.mark.parametrize("dbfs", [-23.0, -33.0])
def test_tech3341_cases_1_and_2_steady_sine(dbfs: float) -> None:
    r = measure(tones([(dbfs, 20.0)]))
    for value in (r.momentary_lufs, r.short_term_lufs, r.integrated_lufs, r.max_momentary_lufs):
        assert value == pytest.approx(dbfs, abs=0.1)
    assert r.loudness_range_lu == pytest.approx(0.0, abs=0.1)
    assert r.frames == 20 * FS


@pytest.mark.parametrize(
    "segments",
    [
        # Case 3: the -36 dBFS parts fall under the relative gate (-23.3 - 10 LU): I = -23.0.
        [(-36.0, 10.0), (-23.0, 60.0), (-36.0, 10.0)],
        # Case 4: -72 dBFS is under the absolute gate, -36 under the relative one: I = -23.0.
        [(-72.0, 10.0), (-36.0, 10.0), (-23.0, 60.0), (-36.0, 10.0), (-72.0, 10.0)],
        # Case 5: all pass the gates; mean power (40 s at -26, 20.1 s at -20) / 60.1 s = -23.0.
        [(-26.0, 20.0), (-20.0, 20.1), (-26.0, 20.0)],
    ],
    ids=["case3", "case4", "case5"],
)
def test_tech3341_gating_cases(segments: list[tuple[float, float]]) -> None:
    x = tones(segments)
    assert integrated_loudness(x, FS) == pytest.approx(-23.0, abs=0.1)
    assert measure(x).integrated_lufs == pytest.approx(-23.0, abs=0.1)


def test_absolute_gate_alone_drops_near_silence() -> None:
    # 5 s at -65 dBFS between 20 s parts at -72: the relative gate (about -75 LUFS) would keep
    # the -72 LUFS blocks, so only the absolute gate (-70) can drop them. What is left: 47 blocks
    # wholly at -65 and, at each edge, blocks with 3/4, 1/2, 1/4 of their time at -65 (all above
    # -70, the quietest at -69.0): I = -65 + 10 log10((47 + 2 * sum(f + (1 - f) q)) / 53) with
    # q = 10^-0.7, which is -65.20 LUFS. Without the absolute gate it would read -70.4.
    q = 10.0**-0.7
    edges = sum(f + (1.0 - f) * q for f in (0.75, 0.5, 0.25))
    expected = -65.0 + 10.0 * math.log10((47.0 + 2.0 * edges) / 53.0)
    x = tones([(-72.0, 20.0), (-65.0, 5.0), (-72.0, 20.0)])
    assert integrated_loudness(x, FS) == pytest.approx(expected, abs=0.05)
    assert integrated_loudness(tones([(-72.0, 10.0)]), FS) == -math.inf


def test_tech3341_case6_five_channels() -> None:
    # L, R at -28 dBFS, C at -24, Ls, Rs at -30 with weights 1.41: 10 log10 of
    # (2 * 10^-2.8 + 10^-2.4 + 2 * 1.41 * 10^-3) / (2 * 10^-2.3) = -0.02 -> -23.0 LUFS.
    levels = [-28.0, -28.0, -24.0, -30.0, -30.0]
    x = np.stack([tone(db, 20.0) for db in levels], axis=1)
    assert integrated_loudness(x, FS) == pytest.approx(-23.0, abs=0.1)
    # As 5.1 the LFE (4th channel) is excluded, however loud it is.
    lfe = tone(0.0, 20.0, hz=60.0)
    x6 = np.stack([x[:, 0], x[:, 1], x[:, 2], lfe, x[:, 3], x[:, 4]], axis=1)
    assert integrated_loudness(x6, FS) == pytest.approx(-23.0, abs=0.1)
    assert measure(x6).integrated_lufs == pytest.approx(-23.0, abs=0.1)


def test_short_term_is_constant_when_each_3s_window_holds_the_same_mix() -> None:
    # Tech 3341 case 9's idea: 1.34 s at -20 dBFS then 1.66 s at -30, repeated: every 3 s window
    # has the energy (1.34 * 10^-2 + 1.66 * 10^-3) / 3 -> -23.0 LUFS short-term.
    x = tones([(-20.0, 1.34), (-30.0, 1.66)] * 5)
    meter = LoudnessMeter(FS, 2)
    seen = []
    for pos in range(0, len(x), 4_800):
        meter.process(x[pos : pos + 4_800])
        if pos >= 3 * FS:
            seen.append(meter.reading().short_term_lufs)
    assert len(seen) > 100
    assert max(seen) == pytest.approx(-23.0, abs=0.1)
    assert min(seen) == pytest.approx(-23.0, abs=0.1)


def test_momentary_window_is_400ms() -> None:
    # 0.18 s at -20 dBFS then 0.22 s at -30, repeated: every 400 ms window holds
    # (0.18 * 10^-2 + 0.22 * 10^-3) / 0.4 -> -22.97 LUFS momentary.
    x = tones([(-20.0, 0.18), (-30.0, 0.22)] * 20)
    meter = LoudnessMeter(FS, 2)
    seen = []
    for pos in range(0, len(x), 4_800):
        meter.process(x[pos : pos + 4_800])
        if pos >= FS:
            seen.append(meter.reading().momentary_lufs)
    expected = 10 * math.log10((0.18e-2 + 0.22e-3) / 0.4)
    assert min(seen) == pytest.approx(expected, abs=0.1)
    assert max(seen) == pytest.approx(expected, abs=0.1)
    assert meter.reading().max_momentary_lufs == pytest.approx(expected, abs=0.1)


@pytest.mark.parametrize("fs", [44_100, 88_200, 96_000, 192_000])
def test_sine_reads_its_level_at_other_rates(fs: int) -> None:
    x = tones([(-23.0, 5.0)], fs=fs)
    r = measure(x, fs)
    assert r.integrated_lufs == pytest.approx(-23.0, abs=0.1)
    assert r.momentary_lufs == pytest.approx(-23.0, abs=0.1)


# --- EBU Tech 3342 ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("segments", "lra"),
    [
        ([(-20.0, 20.0), (-30.0, 20.0)], 10.0),
        ([(-20.0, 20.0), (-15.0, 20.0)], 5.0),
        ([(-40.0, 20.0), (-20.0, 20.0)], 20.0),
        ([(-50.0, 20.0), (-35.0, 20.0), (-20.0, 20.0), (-35.0, 20.0), (-50.0, 20.0)], 15.0),
    ],
    ids=["10LU", "5LU", "20LU", "15LU"],
)
def test_tech3342_loudness_range(segments: list[tuple[float, float]], lra: float) -> None:
    # Short-term values sit at the segment levels apart from 3 s transitions (~15 % of them), so
    # the 10th and 95th percentiles land on the quietest and loudest level that survives the
    # -20 LU relative gate (in the 15 LU case the -50 dBFS parts are 21 LU under the mean).
    x = tones(segments)
    assert loudness_range(x, FS) == pytest.approx(lra, abs=1.0)
    assert measure(x).loudness_range_lu == pytest.approx(lra, abs=1.0)


# --- true peak ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("divisor", "phase_deg"),
    [(4, 0.0), (4, 45.0), (6, 60.0), (8, 67.5)],
)
@pytest.mark.parametrize("fs", [44_100, 48_000, 96_000])
def test_true_peak_of_tones_between_samples(fs: int, divisor: int, phase_deg: float) -> None:
    # Tech 3341 cases 15-18: sines at fs/4, fs/6, fs/8 whose samples miss the crest; peak -6 dBFS
    # must read -6.0 dBTP (+0.2 / -0.4 dB).
    # A 10 ms fade-in: a sine switched on at 0.87 of its crest is a real inter-sample over.
    x = tone(-6.0, 1.0, fs=fs, hz=fs / divisor, phase=math.radians(phase_deg))
    x[: fs // 100] *= np.linspace(0.0, 1.0, fs // 100, dtype=np.float32)
    r = measure(np.stack([x, x], axis=1), fs)
    assert -6.4 <= r.true_peak_dbtp <= -5.8
    assert r.true_peak_dbtp >= r.sample_peak_dbfs
    assert true_peak(x, fs) == pytest.approx(r.true_peak_dbtp, abs=1e-6)


def test_true_peak_sees_the_over_that_sample_peak_misses() -> None:
    # fs/4 at 45 degrees: samples at 0.707 A, crest at A (-9.01 dBFS sampled, -6.0 dBTP).
    x = tone(-6.0, 2.0, hz=FS / 4, phase=math.pi / 4)
    r = measure(x[:, None])
    assert r.sample_peak_dbfs == pytest.approx(-6.0 - 3.01, abs=0.01)
    assert r.true_peak_dbtp == pytest.approx(-6.0, abs=0.3)
    # The classic +1 +1 -1 -1 pattern: full-scale samples, +3.01 dBTP between them.
    square = np.tile(np.array([1, 1, -1, -1], dtype=np.float32), FS // 4)
    assert true_peak(square, FS) == pytest.approx(3.01, abs=0.3)


def test_true_peak_is_per_channel() -> None:
    left = tone(-6.0, 1.0, hz=FS / 4, phase=math.pi / 4)
    right = tone(-20.0, 1.0)
    r = measure(np.stack([left, right], axis=1))
    assert r.true_peak_channels_dbtp[0] == pytest.approx(-6.0, abs=0.3)
    assert r.true_peak_channels_dbtp[1] == pytest.approx(-20.0, abs=0.05)
    assert r.true_peak_dbtp == max(r.true_peak_channels_dbtp)


def test_true_peak_skipping_is_exact() -> None:
    # A fading-in signal makes nearly every piece a candidate; a fading-out one lets most be
    # skipped. Both must match brute force: upsample by 4 with the same design in NumPy.
    from audio.loudness import _interpolator

    taps, _, _ = _interpolator()
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(FS) * np.linspace(1.0, 0.01, FS) * 0.3).astype(np.float32)
    branches = taps.reshape(3, -1)
    brute = max(np.abs(np.convolve(x.astype(np.float64), b)[: len(x)]).max() for b in branches)
    brute = max(brute, np.abs(x).max())
    assert true_peak(x, FS) == pytest.approx(20 * math.log10(brute), abs=1e-4)
    assert true_peak(x[::-1].copy(), FS) == pytest.approx(20 * math.log10(brute), abs=1e-4)


# --- agreement with pyloudnorm and with an exact reference ----------------------------------


@pytest.mark.parametrize("fs", [44_100, 48_000, 96_000])
@pytest.mark.parametrize("kind", ["pink", "music", "pink-mono"])
def test_integrated_agrees_with_pyloudnorm(fs: int, kind: str) -> None:
    # pyloudnorm normalises the RLB high-pass to unit gain where BS.1770's table has +0.043 dB,
    # so it reads ~0.04 LU lower on everything; the target is 0.1 LU.
    if kind == "music":
        x = music(12.0, 2, fs, seed=fs)
    else:
        x = pink(12.0, 1 if kind == "pink-mono" else 2, fs, seed=fs)
    theirs = pyloudnorm.Meter(fs).integrated_loudness(x.astype(np.float64))
    ours = integrated_loudness(x, fs)
    assert ours == pytest.approx(theirs, abs=0.1)
    assert measure(x, fs).integrated_lufs == pytest.approx(ours, abs=1e-9)


@pytest.mark.parametrize("channels", [1, 2, 6])
def test_matches_exact_gating_reference(channels: int) -> None:
    x = music(40.0, channels, FS, seed=channels)
    x *= np.linspace(0.05, 1.0, len(x), dtype=np.float32)[:, None]  # a wide loudness range
    integrated, lra = reference(x, FS, channel_weights(channels))
    r = measure(x)
    assert r.integrated_lufs == pytest.approx(integrated, abs=0.01)  # 0.01 LU histogram bins
    assert r.loudness_range_lu == pytest.approx(lra, abs=0.05)
    assert lra > 5.0


def test_very_loud_blocks_land_in_the_top_bin_without_losing_energy() -> None:
    # Six full-scale 4 kHz squares: about +13 LUFS, above the histogram's +10 LUFS top.
    t = np.arange(5 * FS)
    square = np.where((t * 4000 // FS) % 2 == 0, 1.0, -1.0).astype(np.float32)
    x = np.repeat(square[:, None], 6, axis=1)
    integrated, _ = reference(x, FS, channel_weights(6))
    assert integrated > 10.0
    r = measure(x)
    assert r.integrated_lufs == pytest.approx(integrated, abs=1e-6)
    assert r.sample_peak_dbfs == 0.0


# --- block-size independence, hostile input -------------------------------------------------


def signal_12s() -> np.ndarray:
    x = pink(12.0, 2, FS, seed=11) + music(12.0, 2, FS, seed=12)
    x[3 * FS : 4 * FS] = 0.0  # a digital-silence hole
    return x


def assert_same(a: LoudnessReading, b: LoudnessReading, tol: float = 1e-6) -> None:
    for name in LOUDNESS_FIELDS + PEAK_FIELDS:
        va, vb = getattr(a, name), getattr(b, name)
        assert va == pytest.approx(vb, abs=tol) or (va == vb == -math.inf), name
    assert a.frames == b.frames
    assert a.nonfinite_samples == b.nonfinite_samples


def test_block_size_independence() -> None:
    x = signal_12s()
    ref = measure(x, block=len(x))
    assert_same(measure(x, block=64), ref)
    assert_same(measure(x, block=4096), ref)
    rng = np.random.default_rng(7)
    assert_same(feed(LoudnessMeter(FS, 2), x, rng.integers(0, 5000, 10_000).tolist()), ref)
    assert integrated_loudness(x, FS) == pytest.approx(ref.integrated_lufs, abs=1e-9)
    assert loudness_range(x, FS) == pytest.approx(ref.loudness_range_lu, abs=1e-9)
    assert true_peak(x, FS) == pytest.approx(ref.true_peak_dbtp, abs=1e-6)


@lru_cache(maxsize=1)
def partition_case() -> tuple[np.ndarray, LoudnessReading]:
    x = signal_12s()[: 4 * FS]
    return x, measure(x, block=len(x))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(0, 6000), min_size=1, max_size=200))
def test_random_partitions_give_identical_readings(sizes: list[int]) -> None:
    x, reference = partition_case()
    assert_same(feed(LoudnessMeter(FS, 2), x, sizes), reference)


_KINDS = [
    "silence",
    "square",
    "denormal",
    "noise",
    "nan",
    "inf",
    "huge",
    "huge-square",
    "tiny-noise",
]


def hostile_block(kind: str, frames: int, channels: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shape = (frames, channels)
    if kind == "silence":
        return np.zeros(shape, np.float32)
    if kind == "square":
        return (
            np.where(np.arange(frames) % 40 < 20, 1.0, -1.0)
            .astype(np.float32)[:, None]
            .repeat(channels, axis=1)
        )
    if kind == "denormal":
        return np.full(shape, 1e-40, np.float32) * rng.choice([-1, 1], shape).astype(np.float32)
    if kind == "huge":
        return np.full(shape, np.finfo(np.float32).max, np.float32)
    if kind == "huge-square":  # full float32 range, alternating sign: interpolation overflows
        sign = np.where(np.arange(frames) % 2 == 0, 1.0, -1.0)[:, None]
        return (sign * np.finfo(np.float32).max).astype(np.float32).repeat(channels, axis=1)
    if kind == "tiny-noise":
        return (rng.standard_normal(shape) * 1e-30).astype(np.float32)
    x = (rng.standard_normal(shape) * 0.3).astype(np.float32)
    if kind in ("nan", "inf"):
        bad = rng.random(shape) < 0.05
        x[bad] = np.nan if kind == "nan" else rng.choice([np.inf, -np.inf], int(bad.sum()))
    return x


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from([1, 2, 6]),
    st.lists(st.tuples(st.sampled_from(_KINDS), st.integers(0, 6000)), min_size=1, max_size=12),
)
def test_hostile_input_never_poisons_the_meter(
    channels: int, blocks: list[tuple[str, int]]
) -> None:
    # Policy: non-finite samples are treated as 0.0 and counted; every reading stays a number or
    # -inf; a second of silence lets the filters forget even float32-max input, and reset()
    # starts a clean measurement.
    meter = LoudnessMeter(FS, channels)
    expected_bad = 0
    for i, (kind, frames) in enumerate(blocks):
        block = hostile_block(kind, frames, channels, seed=i)
        expected_bad += int((~np.isfinite(block)).sum())
        meter.process(block)
        assert no_nan(meter.reading())
    r = meter.reading()
    assert r.nonfinite_samples == expected_bad
    meter.process(np.zeros((FS, channels), np.float32))
    meter.reset()
    assert meter.reading().frames == 0
    x = np.zeros((5 * FS, channels), np.float32)
    x[:, : min(channels, 2)] = tone(-23.0, 5.0)[:, None]
    r = feed(meter, x, iter(lambda: 1000, None))
    expected = -23.0 if channels > 1 else -23.0 - 10 * math.log10(2)
    for value in (r.momentary_lufs, r.short_term_lufs, r.integrated_lufs):
        assert value == pytest.approx(expected, abs=0.1)
    assert r.true_peak_dbtp == pytest.approx(-23.0, abs=0.05)
    assert r.nonfinite_samples == 0


# --- degenerate input and the API -----------------------------------------------------------


def test_nothing_measured_reads_minus_inf_never_nan() -> None:
    r = LoudnessMeter(FS, 2).reading()
    assert all(getattr(r, f) == -math.inf for f in LOUDNESS_FIELDS + PEAK_FIELDS)
    assert r.frames == 0 and r.nonfinite_samples == 0
    silent = measure(np.zeros((5 * FS, 2), np.float32))
    assert all(getattr(silent, f) == -math.inf for f in LOUDNESS_FIELDS + PEAK_FIELDS)
    assert silent.frames == 5 * FS
    short = measure(tones([(-23.0, 0.3)]))  # shorter than one momentary window
    assert short.momentary_lufs == -math.inf and short.integrated_lufs == -math.inf
    assert short.sample_peak_dbfs == pytest.approx(-23.0, abs=0.01)
    assert integrated_loudness(np.zeros((0, 2), np.float32), FS) == -math.inf
    assert loudness_range(np.zeros(100, np.float32), FS) == -math.inf


def test_zero_length_and_one_frame_blocks() -> None:
    x = tones([(-23.0, 4.0)])
    ref = measure(x, block=len(x))
    meter = LoudnessMeter(FS, 2)
    empty = np.zeros((0, 2), np.float32)
    for pos in range(0, FS):  # the first second one frame at a time, empty blocks between
        meter.process(x[pos : pos + 1])
        meter.process(empty)
    meter.process(x[FS:])
    assert_same(meter.reading(), ref)


def test_mono_accepts_1d_blocks_and_reads_3db_under_stereo() -> None:
    x = tone(-23.0, 5.0)
    meter = LoudnessMeter(FS, 1)
    for pos in range(0, len(x), 1000):
        meter.process(x[pos : pos + 1000])
    r = meter.reading()
    assert r.integrated_lufs == pytest.approx(-23.0 - 10 * math.log10(2), abs=0.1)
    assert integrated_loudness(x, FS) == pytest.approx(r.integrated_lufs, abs=1e-9)


def test_other_dtypes_and_layouts_are_copied_not_compiled() -> None:
    x = tones([(-23.0, 5.0)])
    ref = measure(x)
    meter = LoudnessMeter(FS, 2)
    meter.process(x.astype(np.float64)[: 2 * FS])  # float64
    meter.process(np.asfortranarray(x[2 * FS : 3 * FS]))  # Fortran order
    readonly = x[3 * FS :].copy()
    readonly.flags.writeable = False
    meter.process(readonly)
    assert_same(meter.reading(), ref)


def test_bad_input_is_refused() -> None:
    meter = LoudnessMeter(FS, 2)
    with pytest.raises(ValueError):
        meter.process(np.zeros((10, 3), np.float32))
    with pytest.raises(TypeError):
        meter.process(np.zeros((10, 2), np.int16))
    with pytest.raises(ValueError):
        LoudnessMeter(1_000, 2)
    with pytest.raises(ValueError):
        LoudnessMeter(FS, 0)
    with pytest.raises(ValueError):
        LoudnessMeter(FS, 2, weights=[1.0])


def test_reset_starts_a_new_measurement() -> None:
    meter = LoudnessMeter(FS, 2)
    meter.process(tones([(-10.0, 5.0)]))
    meter.reset()
    r = meter.reading()
    assert r.integrated_lufs == -math.inf and r.true_peak_dbtp == -math.inf
    assert r.momentary_lufs == -math.inf and r.frames == 0
    r = feed(meter, tones([(-30.0, 5.0)]), iter(lambda: 512, None))
    assert r.integrated_lufs == pytest.approx(-30.0, abs=0.1)
    assert r.max_momentary_lufs == pytest.approx(-30.0, abs=0.1)
    assert r.true_peak_dbtp == pytest.approx(-30.0, abs=0.05)


def test_process_allocates_nothing_in_the_steady_state() -> None:
    meter = LoudnessMeter(FS, 2)
    x = pink(2.0, 2, FS, seed=1)
    blocks = [x[i : i + 512] for i in range(0, len(x) - 512, 512)]
    meter.process(blocks[0])
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for block in blocks:
            meter.process(block)
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename") if s.size_diff > 0)
    assert grown < 4096


def test_warm_up_reports_its_time() -> None:
    assert 0.0 <= warm_up() < 60.0

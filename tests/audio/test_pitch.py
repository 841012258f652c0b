"""The tuner's pitch tracker on synthetic signals (pure arrays, no audio device)."""

from __future__ import annotations

import dataclasses
import math
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from audio.notes import frequency_from_midi
from audio.pitch import PitchTracker, TunerReading, tuner_reading, warm_up

REPO_ROOT = Path(__file__).resolve().parents[2]

E1, B6 = 28, 95  # MIDI notes: 41.2 Hz and 1975.5 Hz, the tuner's advertised range
NOTES = [*range(E1, B6 + 1, 3), B6]


@pytest.fixture(scope="module", autouse=True)
def compiled() -> None:
    warm_up(48000)


_TRACKERS: dict[int, PitchTracker] = {}


def tracker(rate: int) -> PitchTracker:
    if rate not in _TRACKERS:
        _TRACKERS[rate] = PitchTracker(rate)
    return _TRACKERS[rate]


def cents(estimate: float, truth: float) -> float:
    return 1200.0 * math.log2(estimate / truth) if estimate > 0 else math.inf


def tone(
    rate: int,
    n: int,
    f0: float,
    amplitudes: Callable[[int], float] = lambda k: float(k == 1),
    *,
    vibrato_cents: float = 0.0,
    vibrato_hz: float = 5.5,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """A band-limited harmonic tone (RMS 0.1) and its instantaneous frequency per sample."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / rate
    inst = f0 * 2.0 ** (
        vibrato_cents / 1200.0 * np.sin(2 * np.pi * vibrato_hz * t + rng.uniform(0, 6))
    )
    phase = 2 * np.pi * np.cumsum(inst) / rate + rng.uniform(0, 2 * np.pi)
    y = np.zeros(n)
    k = 1
    while k * f0 * 1.02 < 0.45 * rate and k <= 80:
        a = amplitudes(k)
        if a:
            y += a * np.sin(k * phase + rng.uniform(0, 2 * np.pi))
        k += 1
    return 0.1 * y / np.sqrt(np.mean(y**2)), inst


def saw(k: int) -> float:
    return 1.0 / k


def square(k: int) -> float:
    return 1.0 / k if k % 2 else 0.0


def bright(k: int) -> float:
    """Second and third harmonics louder than the fundamental (a brassy, nasal spectrum)."""
    return {1: 0.6, 2: 1.0, 3: 0.9}.get(k, 0.8 / k)


# --- accuracy ---------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [44100, 48000, 96000])
def test_sines_across_the_range_within_5_cents(rate: int) -> None:
    tr = tracker(rate)
    worst = 0.0
    for i, midi in enumerate(NOTES):
        f0 = frequency_from_midi(midi)
        frame, _ = tone(rate, tr.frame_size, f0, seed=i)
        freq, confidence = tr.estimate(frame)
        error = abs(cents(freq, f0))
        assert error <= 5.0, (rate, f0, freq)
        assert confidence > 0.9, (rate, f0, confidence)
        worst = max(worst, error)
    assert worst <= 1.0  # the "ideally" goal: clean sines within a cent


def test_sines_at_192_khz_and_off_grid_frequencies() -> None:
    tr = tracker(192000)
    for i, f0 in enumerate([40.0, 41.2, 73.3, 261.63, 1000.7, 1975.5, 2000.0]):
        frame, _ = tone(192000, tr.frame_size, f0, seed=i)
        assert abs(cents(tr.estimate(frame)[0], f0)) <= 1.0, f0


@pytest.mark.parametrize("spectrum", [saw, square, bright], ids=["saw", "square", "bright"])
@pytest.mark.parametrize("rate", [44100, 48000])
def test_harmonic_tones_keep_their_octave(spectrum: Callable[[int], float], rate: int) -> None:
    tr = tracker(rate)
    rng = np.random.default_rng(rate)
    for i, f0 in enumerate([*map(frequency_from_midi, NOTES), *(41.2 * 48 ** rng.random(20))]):
        frame, _ = tone(rate, tr.frame_size, f0, spectrum, seed=i)
        freq, confidence = tr.estimate(frame)
        assert abs(cents(freq, f0)) <= 5.0, (f0, freq)
        assert confidence > 0.8


@pytest.mark.parametrize("f0", [55.0, 110.0, 329.6, 880.0, 1760.0])
@pytest.mark.parametrize("spectrum", [None, saw], ids=["sine", "saw"])
def test_vibrato_is_tracked(f0: float, spectrum: Callable[[int], float] | None) -> None:
    """±30 cents at 5.5 Hz: every frame within 10 cents of the pitch at its centre."""
    rate, hop = 48000, 512
    tr = tracker(rate)
    signal, inst = tone(rate, rate, f0, spectrum or (lambda k: float(k == 1)), vibrato_cents=30.0)
    freqs, confidences = tr.track(signal, hop)
    centres = np.arange(len(freqs)) * hop + tr.frame_size // 2
    truth = inst[centres]
    errors = 1200 * np.log2(freqs / truth)
    assert np.all(np.abs(errors) <= 10.0), np.abs(errors).max()
    assert np.all(confidences > 0.8)
    # It follows the vibrato rather than averaging it away.
    deviation = 1200 * np.log2(truth / f0)
    assert np.corrcoef(1200 * np.log2(freqs / f0), deviation)[0, 1] > 0.95


@pytest.mark.parametrize("snr_db", [10.0, 15.0, 20.0])
@pytest.mark.parametrize("spectrum", [None, saw, bright], ids=["sine", "saw", "bright"])
def test_tones_in_white_noise(snr_db: float, spectrum: Callable[[int], float] | None) -> None:
    rate = 48000
    tr = tracker(rate)
    rng = np.random.default_rng(int(snr_db))
    errors = []
    for i, f0 in enumerate(41.2 * 48 ** rng.random(40)):
        clean, _ = tone(rate, tr.frame_size, f0, spectrum or (lambda k: float(k == 1)), seed=i)
        noise = rng.standard_normal(tr.frame_size) * 0.1 * 10 ** (-snr_db / 20)
        freq, confidence = tr.estimate(clean + noise)
        assert confidence >= 0.7, (f0, confidence)
        errors.append(abs(cents(freq, f0)))
    assert max(errors) <= 15.0  # no gross (octave or semitone) errors at all
    assert np.median(errors) <= 2.0


# --- voicing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [44100, 48000, 96000])
def test_silence_is_unvoiced(rate: int) -> None:
    tr = tracker(rate)
    assert tr.estimate(np.zeros(tr.frame_size)) == (0.0, 0.0)
    assert tr.estimate(np.full(tr.frame_size, 0.25, dtype=np.float32)) == (0.0, 0.0)  # DC only
    hiss = np.random.default_rng(1).standard_normal(tr.frame_size) * 1e-6  # -120 dBFS
    assert tr.estimate(hiss) == (0.0, 0.0)


@pytest.mark.parametrize("rate", [44100, 48000, 96000])
def test_white_noise_is_unvoiced_with_low_confidence(rate: int) -> None:
    tr = tracker(rate)
    rng = np.random.default_rng(rate)
    confidences = []
    for level in np.geomspace(1e-3, 1.0, 60):
        freq, confidence = tr.estimate(rng.standard_normal(tr.frame_size) * level)
        assert freq == 0.0
        confidences.append(confidence)
    assert max(confidences) < 0.5
    assert np.median(confidences) < 0.25


def test_level_dc_and_dtype_do_not_change_the_answer() -> None:
    tr = tracker(48000)
    frame, _ = tone(48000, tr.frame_size, 196.0, saw, seed=3)
    reference = tr.estimate(frame)[0]
    assert abs(cents(reference, 196.0)) < 1.0
    for variant in (
        frame * 1e-2,  # -60 dBFS (the silence threshold is -80 dBFS RMS)
        frame * 1e3,
        frame * 1e200,  # beyond float32 range: rescaled in float64
        frame + 0.5,
        frame.astype(np.float32),
        (frame * 3e4).astype(np.int16),  # copied into the float64 scratch buffer
        np.repeat(frame, 2)[::2],  # non-contiguous view
    ):
        assert abs(cents(tr.estimate(variant)[0], reference)) < 0.5


def test_longer_frames_use_the_latest_samples_and_short_ones_raise() -> None:
    tr = tracker(48000)
    low, _ = tone(48000, tr.frame_size, 110.0, seed=1)
    high, _ = tone(48000, tr.frame_size, 440.0, seed=2)
    assert abs(cents(tr.estimate(np.concatenate([low, high]))[0], 440.0)) < 1.0
    with pytest.raises(ValueError, match="at least"):
        tr.estimate(high[:-1])
    with pytest.raises(ValueError, match="1-D"):
        tr.estimate(np.stack([high, high]))


def test_track_matches_estimate_frame_by_frame() -> None:
    tr = tracker(48000)
    signal, _ = tone(48000, 3 * tr.frame_size, 233.0, bright, vibrato_cents=20.0)
    freqs, confidences = tr.track(signal.astype(np.float32), 700)
    assert len(freqs) == (len(signal) - tr.frame_size) // 700 + 1
    for i in range(len(freqs)):
        frame = signal[i * 700 : i * 700 + tr.frame_size].astype(np.float32)
        assert (freqs[i], confidences[i]) == tr.estimate(frame)
    empty = tr.track(signal[: tr.frame_size - 1], 512)
    assert empty[0].shape == (0,) and empty[1].shape == (0,)


# --- robustness -------------------------------------------------------------------------------

ROBUST = PitchTracker(44100)


def check_result(result: tuple[float, float], tr: PitchTracker) -> None:
    freq, confidence = result
    assert isinstance(freq, float) and isinstance(confidence, float)
    assert math.isfinite(confidence) and 0.0 <= confidence <= 1.0
    assert freq == 0.0 or tr.fmin / 1.03 <= freq <= tr.fmax * 1.03


@settings(max_examples=150, deadline=None)
@given(
    hnp.arrays(
        st.sampled_from([np.float64, np.float32]),
        ROBUST.frame_size,
        elements=st.floats(allow_nan=False, allow_infinity=False, width=32),
        fill=st.floats(allow_nan=False, allow_infinity=False, width=32),
    )
)
def test_arbitrary_finite_frames_never_crash(frame: np.ndarray) -> None:
    check_result(ROBUST.estimate(frame), ROBUST)


@settings(max_examples=150, deadline=None)
@given(
    pattern=hnp.arrays(
        np.float64,
        st.integers(1, 300),
        elements=st.floats(allow_nan=False, allow_infinity=False),
    ),
    scale=st.sampled_from([1.0, 1e-300, 1e-30, 1e30, 1e300]),
)
def test_arbitrary_periodic_and_extreme_frames_never_crash(
    pattern: np.ndarray, scale: float
) -> None:
    with np.errstate(over="ignore"):
        frame = np.resize(pattern, ROBUST.frame_size) * scale
    frame[~np.isfinite(frame)] = 0.0  # scaling may overflow; the input must stay finite
    check_result(ROBUST.estimate(frame), ROBUST)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", [0, 1234, -1])
def test_non_finite_samples_make_the_frame_unvoiced(bad: float, where: int) -> None:
    """Policy: any NaN or infinity in the analysed frame gives (0.0, 0.0)."""
    tr = tracker(48000)
    for dtype in (np.float32, np.float64):
        frame, _ = tone(48000, tr.frame_size, 440.0)
        frame = frame.astype(dtype)
        frame[where] = bad
        assert tr.estimate(frame) == (0.0, 0.0)
    # Outside the analysed (latest) frame_size samples, it does not matter.
    frame, _ = tone(48000, tr.frame_size + 10, 440.0)
    frame[3] = np.nan
    assert abs(cents(tr.estimate(frame)[0], 440.0)) < 1.0


def test_track_confines_non_finite_samples_to_their_frames() -> None:
    tr = tracker(48000)
    signal, _ = tone(48000, 6 * tr.frame_size, 110.0, saw)
    for scale in (1.0, 1e200):  # float64 beyond float32 range is rescaled, not lost
        dirty = signal * scale
        dirty[tr.frame_size // 2] = np.inf
        dirty[-tr.frame_size // 2] = np.nan
        freqs, confidences = tr.track(dirty, tr.frame_size // 2)
        hit = [0, 1, len(freqs) - 1]  # the frames that contain a bad sample
        assert np.all(freqs[hit] == 0.0) and np.all(confidences[hit] == 0.0)
        clean = np.delete(freqs, hit)
        assert np.all(np.abs(1200 * np.log2(clean / 110.0)) < 1.0), clean


def test_constructor_validates() -> None:
    for bad in (
        dict(sample_rate=44100.5),
        dict(sample_rate=4000),
        dict(sample_rate=48000, fmin=10.0),
        dict(sample_rate=48000, fmin=500.0, fmax=400.0),
        dict(sample_rate=8000, fmax=2000.0),
        dict(sample_rate=48000, voicing_threshold=1.5),
    ):
        with pytest.raises(ValueError):
            PitchTracker(**bad)
    tr = PitchTracker(48000)
    assert (tr.sample_rate, tr.fmin, tr.fmax, tr.decimation_factor) == (48000, 40.0, 2000.0, 8)
    assert tr.frame_size >= 2 * 48000 / 40.0  # two periods of the lowest note


def test_the_kernel_allocates_nothing_per_frame() -> None:
    """Numba's allocation counters: a longer signal costs no extra allocation (subprocess, as
    the counters must be switched on before Numba starts)."""
    script = textwrap.dedent(
        """
        import numpy as np
        from numba.core.runtime import rtsys
        from audio.pitch import PitchTracker, warm_up
        warm_up(48000)
        tr = PitchTracker(48000)
        rng = np.random.default_rng(0)
        signal = rng.standard_normal(48000).astype(np.float32)
        signal[:24000] += np.sin(2 * np.pi * 220 * np.arange(24000) / 48000).astype(np.float32)
        counts = []
        for length in (10000, 48000):
            before = rtsys.get_allocation_stats().alloc
            tr.track(signal[:length], 256)
            counts.append(rtsys.get_allocation_stats().alloc - before)
        print(counts[0], counts[1])
        """
    )
    env = dict(os.environ, NUMBA_NRT_STATS="1")
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout.split()
    assert out[0] == out[1], out


# --- tuner readings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("freq", "reference", "name", "octave", "cents_"),
    [
        (440.0, 440.0, "A", 4, 0.0),
        (432.0, 432.0, "A", 4, 0.0),
        (415.0, 415.0, "A", 4, 0.0),
        (466.0, 466.0, "A", 4, 0.0),
        (432.0, 440.0, "A", 4, -31.767),
        (440.0, 432.0, "A", 4, 31.767),
        (440.0, 415.0, "A#", 4, 1.270),
        (261.6256, 440.0, "C", 4, 0.0),
        (256.87, 432.0, "C", 4, 0.0),
        (41.2034, 440.0, "E", 1, 0.0),
        (1975.533, 440.0, "B", 6, 0.0),
        (27.5, 440.0, "A", 0, 0.0),
        (16.3516, 440.0, "C", 0, 0.0),
        (277.18, 440.0, "C#", 4, 0.0),
        (246.94, 440.0, "B", 3, 0.0),
        (452.89, 440.0, "A", 4, 49.99),
        (453.0, 440.0, "A#", 4, -49.6),
    ],
)
def test_note_names_octaves_and_cents(
    freq: float, reference: float, name: str, octave: int, cents_: float
) -> None:
    reading = tuner_reading(freq, 0.9, reference)
    assert reading is not None
    assert (reading.note_name, reading.octave) == (name, octave)
    assert reading.cents == pytest.approx(cents_, abs=0.02)
    assert -50.0 <= reading.cents < 50.0
    assert (reading.frequency_hz, reading.confidence, reading.reference_a) == (freq, 0.9, reference)


def test_cents_stay_in_range_and_names_use_sharps() -> None:
    names = set()
    for freq in np.geomspace(30.0, 5000.0, 2000):
        for reference in (415.0, 432.0, 440.0, 466.0):
            reading = tuner_reading(float(freq), 1.0, reference)
            assert reading is not None and -50.0 <= reading.cents < 50.0
            names.add(reading.note_name)
    assert names == {"C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"}


@pytest.mark.parametrize("reference", [414.99, 466.01, 0.0, -440.0, math.nan, math.inf])
def test_invalid_reference_raises(reference: float) -> None:
    with pytest.raises(ValueError, match="reference A"):
        tuner_reading(440.0, 1.0, reference)
    with pytest.raises(ValueError, match="reference A"):
        tuner_reading(0.0, 0.0, reference)  # validated even for unvoiced frames


def test_unvoiced_and_invalid_readings() -> None:
    for freq in (0.0, -1.0, math.nan, math.inf):
        assert tuner_reading(freq, 0.0) is None
    for confidence in (-0.1, 1.1, math.nan):
        with pytest.raises(ValueError, match="confidence"):
            tuner_reading(440.0, confidence)
    reading = tuner_reading(440.0, 1.0)
    assert isinstance(reading, TunerReading)
    with pytest.raises(dataclasses.FrozenInstanceError):
        reading.cents = 0.0  # type: ignore[misc]


def test_tracker_to_reading_end_to_end() -> None:
    tr = tracker(48000)
    frame, _ = tone(48000, tr.frame_size, 432.0 * 2 ** (7 / 12), saw)  # E5 at A = 432
    reading = tuner_reading(*tr.estimate(frame), reference_a=432.0)
    assert reading is not None
    assert (reading.note_name, reading.octave) == ("E", 5)
    assert abs(reading.cents) < 1.0 and reading.confidence > 0.9
    assert tuner_reading(*tr.estimate(np.zeros(tr.frame_size))) is None

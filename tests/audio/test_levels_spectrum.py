from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from audio.levels import SILENCE_DB, LevelMeter
from audio.spectrum import FLOOR_DB, SpectrumAnalyzer
from audio.stream import ChannelSelection

RATE = 48000


def _sine(freq: float, n: int, amp: float = 1.0) -> np.ndarray:
    return (amp * np.sin(2 * np.pi * freq * np.arange(n) / RATE)).astype(np.float32)


def test_levels_of_a_sine_per_channel() -> None:
    meter = LevelMeter(RATE, 2, 480)
    x = _sine(1000.0, RATE)
    stereo = np.stack([x, 0.5 * x], axis=1)
    for i in range(0, RATE, 480):
        meter.process(stereo[i : i + 480])
    r = meter.reading()
    assert r.peak_dbfs[0] == pytest.approx(0.0, abs=0.05)
    assert r.peak_dbfs[1] == pytest.approx(-6.02, abs=0.05)
    assert r.rms_dbfs[0] == pytest.approx(-3.01, abs=0.05)
    assert r.rms_dbfs[1] == pytest.approx(-9.03, abs=0.05)


def test_peak_hold_holds_then_falls_back() -> None:
    meter = LevelMeter(RATE, 1, 480, hold_seconds=0.5)
    meter.process(np.full((480, 1), 0.9, dtype=np.float32))
    for _ in range(10):  # 0.1 s of quiet: the hold stays
        meter.process(np.full((480, 1), 0.1, dtype=np.float32))
    assert meter.reading().peak_hold_dbfs[0] == pytest.approx(20 * np.log10(0.9), abs=0.01)
    for _ in range(60):  # past the hold time it follows the signal again
        meter.process(np.full((480, 1), 0.1, dtype=np.float32))
    assert meter.reading().peak_hold_dbfs[0] == pytest.approx(-20.0, abs=0.01)


def test_silence_and_non_finite_samples_read_the_floor() -> None:
    meter = LevelMeter(RATE, 1, 64)
    meter.process(np.array([[np.nan]] * 32 + [[np.inf]] * 32, dtype=np.float32))
    r = meter.reading()
    assert r.peak_dbfs == (SILENCE_DB,) and r.rms_dbfs == (SILENCE_DB,)


@settings(max_examples=50, deadline=None)
@given(arrays(np.float32, (256, 2), elements=st.floats(-4.0, 4.0, width=32)))
def test_levels_never_crash_and_stay_finite(block: np.ndarray) -> None:
    meter = LevelMeter(RATE, 2, 256)
    meter.process(block)
    r = meter.reading()
    assert all(np.isfinite(v) for v in (*r.peak_dbfs, *r.rms_dbfs, *r.peak_hold_dbfs))


@pytest.mark.parametrize("freq", [55.0, 440.0, 1000.0, 8000.0])
def test_spectrum_peak_is_at_the_tone_and_reads_its_level(freq: float) -> None:
    analyzer = SpectrumAnalyzer(RATE)
    reading = analyzer.process(_sine(freq, analyzer.fft_size, amp=0.5), 0.01)
    peak = int(np.argmax(reading.level_db))
    assert reading.frequencies[peak] == pytest.approx(freq, rel=0.06)
    assert reading.level_db[peak] == pytest.approx(-6.0, abs=1.6)  # Hann scalloping ≤ 1.4 dB
    assert not reading.level_db.flags.writeable  # readings are immutable once published


def test_spectrum_peak_hold_decays_after_the_hold_time() -> None:
    analyzer = SpectrumAnalyzer(RATE, hold_seconds=0.2, fall_db_per_second=20.0)
    tone = _sine(1000.0, analyzer.fft_size)
    silence = np.zeros(analyzer.fft_size, dtype=np.float32)
    first = analyzer.process(tone, 0.01)
    band = int(np.argmax(first.level_db))
    held = analyzer.process(silence, 0.1).peak_hold_db[band]
    assert held == pytest.approx(first.level_db[band], abs=1e-9)
    for _ in range(10):
        later = analyzer.process(silence, 0.1)
    assert later.peak_hold_db[band] < held - 10
    assert later.level_db.min() >= FLOOR_DB


@pytest.mark.parametrize(
    ("text", "mix", "channels"),
    [("1", "pick", (0,)), ("1,2", "pick", (0, 1)), ("3, 4", "pick", (2, 3)), ("sum", "sum", ())],
)
def test_channel_selection_parses(text: str, mix: str, channels: tuple[int, ...]) -> None:
    assert ChannelSelection.parse(text) == ChannelSelection(mix, channels)


@pytest.mark.parametrize("text", ["", "0", "-1", "a", "1,2,3", "1,,2", "x,1"])
def test_bad_channel_selection_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        ChannelSelection.parse(text)

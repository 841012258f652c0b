"""Downbeats and beats per bar (audio.meter): on synthetic bars with a kick on the downbeat or a
bass note and a chord change per bar, through the same chain the whole-track analysis uses."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from audio import chroma as chroma_mod
from audio import meter, tempo

SR = 22050
# I  IV  V  vi in C: a new chord every bar
CHORDS = ((48, 64, 67, 72), (53, 65, 69, 72), (55, 67, 71, 74), (57, 64, 69, 72))


def _hz(midi: int) -> float:
    return 440.0 * 2 ** ((midi - 69) / 12)


def _tone(midi: int, seconds: float, level: float) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    decay = np.exp(-t * 3.0)
    partials = sum(0.5**h * np.sin(2 * np.pi * _hz(midi) * (h + 1) * t) for h in range(3))
    return level * decay * partials


def _kick(level: float = 0.8) -> np.ndarray:
    t = np.arange(int(0.25 * SR)) / SR
    sweep = 2 * np.pi * (50 * t + 60 * (1 - np.exp(-t * 30)) / 30)
    return level * np.exp(-t * 18) * np.sin(sweep)


def _snare(rng: np.random.Generator, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(0.15 * SR)) / SR
    noise = rng.standard_normal(len(t))
    noise = np.diff(noise, prepend=0.0)  # brighter: above the low band
    return level * np.exp(-t * 30) * noise


def _add(y: np.ndarray, at_s: float, sound: np.ndarray) -> None:
    i = round(at_s * SR)
    n = min(len(sound), len(y) - i)
    if n > 0:
        y[i : i + n] += sound[:n]


def render(beats_per_bar: int, bars: int, bpm: float, drums: bool, pickup: int = 0) -> tuple:
    """Mono audio, the true beats and the true downbeats (the first ``pickup`` beats come
    before the first bar)."""
    rng = np.random.default_rng(7)
    period = 60.0 / bpm
    n_beats = pickup + beats_per_bar * bars
    y = np.zeros(int((n_beats + 2) * period * SR))
    beats = np.arange(n_beats) * period
    downbeats = []
    for k, t in enumerate(beats):
        pos = (k - pickup) % beats_per_bar
        bar = (k - pickup) // beats_per_bar
        chord = CHORDS[bar % len(CHORDS)]
        if pos == 0:
            downbeats.append(t)
            _add(y, t, _tone(chord[0] - 12, beats_per_bar * period, 0.25))  # bass note
        for note in chord[1:]:
            _add(y, t, _tone(note, period, 0.08))
        if drums:
            _add(y, t, _kick() if pos == 0 else _snare(rng))
    return (y / np.max(np.abs(y))).astype(np.float32), beats, np.array(downbeats)


def analyse(y: np.ndarray, beats: np.ndarray | None = None) -> meter.Meter:
    env, low, rate = tempo.onset_envelopes(y, SR)
    if beats is None:
        beats = tempo.rhythm_from_envelope(env, rate).beats_s
    ch = chroma_mod.analyse(y, SR)
    return meter.analyze_meter(beats, env, low, rate, ch.chroma, ch.frame_rate)


def _hits(found: np.ndarray, truth: np.ndarray, tolerance: float = 0.07) -> float:
    """Share of found downbeats within ``tolerance`` of a true one."""
    if len(found) == 0:
        return 0.0
    return float(np.mean([np.min(np.abs(truth - t)) <= tolerance for t in found]))


@pytest.mark.parametrize(("beats_per_bar", "drums"), [(4, True), (3, True), (4, False), (3, False)])
def test_bars_are_found_with_the_true_beats(beats_per_bar: int, drums: bool) -> None:
    y, beats, downbeats = render(beats_per_bar, 16, 110.0, drums, pickup=1)
    result = analyse(y, beats)
    assert result.beats_per_bar == beats_per_bar
    assert _hits(result.downbeats_s, downbeats) == 1.0
    assert len(result.downbeats_s) >= len(downbeats) - 1
    assert 0.0 < result.confidence <= 1.0


@pytest.mark.parametrize("beats_per_bar", [3, 4])
def test_bars_are_found_from_the_audio_alone(beats_per_bar: int) -> None:
    y, _, downbeats = render(beats_per_bar, 16, 126.0, drums=True)
    result = analyse(y)
    assert result.beats_per_bar == beats_per_bar
    assert _hits(result.downbeats_s, downbeats) >= 0.9
    assert len(result.downbeats_s) >= 0.8 * len(downbeats)


def test_the_bar_follows_a_beat_the_tracker_added() -> None:
    y, beats, downbeats = render(4, 24, 100.0, drums=True)
    # The tracker put in one beat too many, half-way: every later beat's bar position moves.
    extra = (beats[47] + beats[48]) / 2
    with_extra = np.sort(np.append(beats, extra))
    result = analyse(y, with_extra)
    late = result.downbeats_s[result.downbeats_s > beats[60]]
    assert len(late) >= 8
    assert _hits(late, downbeats) == 1.0


def test_too_few_beats_give_no_meter() -> None:
    y, beats, _ = render(4, 1, 120.0, drums=True)
    result = analyse(y, beats[:5])
    assert result.beats_per_bar == 0 and len(result.downbeats_s) == 0
    assert result.confidence == 0.0


def test_silence_gives_no_meter() -> None:
    y = np.zeros(SR * 10, dtype=np.float32)
    result = analyse(y, np.arange(0.0, 10.0, 0.5))
    assert len(result.downbeats_s) in (0, 5)  # flat salience: the start prior, one bar of 4
    assert result.confidence == 0.0 or result.beats_per_bar in (3, 4)


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.float64, st.integers(8, 300), elements=st.floats(-5, 5, allow_nan=False)),
)
def test_downbeats_are_beats_and_advance_bar_by_bar(salience: np.ndarray) -> None:
    beats = np.arange(len(salience)) * 0.5
    result = meter.estimate_meter(meter._zscore(salience), beats)
    m = result.beats_per_bar
    assert m in (3, 4)
    assert set(result.downbeats_s) <= set(beats)
    idx = np.round(result.downbeats_s / 0.5).astype(int)
    gaps = np.diff(idx)
    # Between jumps the downbeats are exactly one bar apart; a jump costs more than a bar of
    # any salience can repay, so jumps stay rare.
    assert np.all(gaps >= 1)
    assert np.mean(gaps == m) >= 0.5 if len(gaps) >= 4 else True


def test_the_meter_scores_are_standardised() -> None:
    rng = np.random.default_rng(3)
    noise = meter._zscore(rng.standard_normal(4000))
    scores = meter.meter_scores(noise)
    assert set(scores) == {3, 4}
    # Noise: the best phase's contrast is a few standard deviations at most, for either meter.
    assert all(abs(z) < 4.0 for z, _ in scores.values())
    periodic = meter._zscore(np.tile([3.0, 0.0, 0.0], 400) + rng.standard_normal(1200) * 0.1)
    z3, phase3 = meter.meter_scores(periodic)[3]
    assert phase3 == 0 and z3 > 20

"""LiveMusic on synthetic signals, fed hop by hop as the engine's worker feeds it."""

from __future__ import annotations

import time

import numpy as np
import pytest

from audio.demo import render_loop
from audio.live_music import LiveMusic, MusicReading, warm_up

RATE = 48000
HOP = 480
BPM = 120.0
# I–IV–V–I in A major, one chord per bar (2 s at 120 BPM).
PROGRESSION = (("A", (57, 61, 64)), ("D", (62, 66, 69)), ("E", (64, 68, 71)), ("A", (57, 61, 64)))


def _tone(midi: int, n: int) -> np.ndarray:
    f = 440.0 * 2.0 ** ((midi - 69) / 12.0)
    t = np.arange(n) / RATE
    wave = sum(np.sin(2 * np.pi * f * h * t) / h for h in range(1, 5))
    return np.asarray(wave) * np.exp(-t)


def a_major_with_clicks(seconds: float) -> np.ndarray:
    """A click on every beat at 120 BPM over harmonic-tone chords I–IV–V–I in A major."""
    n = int(seconds * RATE)
    y = np.zeros(n)
    bar = int(4 * 60.0 / BPM * RATE)
    for k, start in enumerate(range(0, n, bar)):
        length = min(bar, n - start)
        for note in PROGRESSION[k % 4][1]:
            y[start : start + length] += 0.1 * _tone(note, length)
    m = int(0.02 * RATE)
    click = np.sin(2 * np.pi * 1500 * np.arange(m) / RATE) * np.exp(-np.arange(m) / (0.004 * RATE))
    for beat in np.arange(0.0, seconds, 60.0 / BPM):
        i = int(beat * RATE)
        y[i : i + m] += 0.3 * click[: n - i]
    return y.astype(np.float32)


def expected_chord(t: float) -> str:
    """The chord sounding at stream time ``t``."""
    return PROGRESSION[int(t // 2.0) % 4][0]


def feed(music: LiveMusic, y: np.ndarray) -> list[MusicReading]:
    """Feed ``y`` hop by hop; every new reading, in order."""
    readings: list[MusicReading] = []
    for i in range(0, len(y) - HOP + 1, HOP):
        music.feed(y[i : i + HOP])
        r = music.latest()
        if r is not None and (not readings or r is not readings[-1]):
            readings.append(r)
    return readings


@pytest.fixture(scope="module", autouse=True)
def kernels() -> None:
    warm_up()


def test_click_track_in_a_major_reads_tempo_key_and_chords() -> None:
    music = LiveMusic(RATE, threaded=False)
    readings = feed(music, a_major_with_clicks(20.0))
    assert music.rate == 12000 and music.analyses == len(readings) == 40  # every 0.5 s
    settled = [r for r in readings if r.t >= 8.0]
    for r in settled:
        assert r.tempo_bpm == pytest.approx(BPM, rel=0.02), r
        assert (r.key, r.key_mode, r.camelot) == ("A", "major", "11B"), r
        assert r.key_confidence > 0.5
        assert r.beat_period_s == pytest.approx(0.5, rel=0.02)
        # the last tracked beat sits on the click grid (within ±40 ms: onset frames are 21 ms)
        # and is recent
        assert r.beat_s is not None and 0.0 <= r.t - r.beat_s < 2.0
        assert abs(r.beat_s - round(r.beat_s / 0.5) * 0.5) < 0.04, r.beat_s
        assert r.beat_clock is not None and r.beat_clock <= r.published_at
    assert {r.chord for r in settled} == {"A", "D", "E"}
    # The chord is of the last ~0.7 s: right whenever the chord has sounded that long already.
    steady = [r for r in settled if (r.t % 2.0) >= 1.0]
    right = [r for r in steady if r.chord == expected_chord(r.t - 0.2)]
    assert len(right) >= 0.9 * len(steady), [(r.t, r.chord) for r in steady]


def test_silence_reads_nothing() -> None:
    music = LiveMusic(RATE, threaded=False)
    readings = feed(music, np.zeros(6 * RATE, dtype=np.float32))
    assert len(readings) == 12
    for r in readings:
        assert r.silent and r.tempo_bpm is None and r.key is None and r.chord is None
        assert r.camelot is None and r.beat_clock is None
        assert r.tempo_confidence == 0.0 and r.key_confidence == 0.0
    # Music, then quiet: the readings go blank as soon as the last second is quiet.
    readings = feed(music, a_major_with_clicks(10.0))
    assert readings[-1].key == "A" and readings[-1].tempo_bpm is not None
    quiet = feed(music, np.full(3 * RATE, 1e-4, dtype=np.float32))  # −80 dBFS hiss floor
    assert all(r.silent for r in quiet[3:])


def test_the_demo_reads_its_tempo_and_a_minor_or_its_relative() -> None:
    """The demo plays Am–F–C–G at 96 BPM; its pitch content reads as A minor or C major (the
    relative major, Camelot 8A/8B), as :func:`audio.key_audio.estimate_key` reads the file."""
    music = LiveMusic(RATE, threaded=False)
    loop = render_loop(RATE).mean(axis=1)
    readings = feed(music, np.tile(loop, 2)[: 20 * RATE])
    settled = [r for r in readings if r.t >= 8.0]
    assert all(r.tempo_bpm == pytest.approx(96.0, rel=0.02) for r in settled)
    assert all(r.camelot in ("8A", "8B") for r in settled)
    assert {r.chord for r in settled} >= {"Am", "F", "C", "G"}


def test_the_music_thread_keeps_the_feed_cheap() -> None:
    """Threaded, the heavy part runs on ``live-music``: a hop's feed stays well under the 10 ms
    hop even on the hops that hand a window over."""
    music = LiveMusic(RATE)
    try:
        y = a_major_with_clicks(8.0)
        worst = 0.0
        for i in range(0, len(y) - HOP + 1, HOP):
            started = time.perf_counter()
            music.feed(y[i : i + HOP])
            worst = max(worst, time.perf_counter() - started)
            time.sleep(0.0005)  # give the music thread time, as real-time pacing would
        # Every window handed over is analysed or skipped (replaced by a newer one) once the
        # music thread catches up; on a loaded machine that can take a few seconds.
        deadline = time.monotonic() + 20
        while music.analyses + music.skipped < 16 and time.monotonic() < deadline:
            time.sleep(0.01)
        reading = music.latest()
    finally:
        music.close()
    assert reading is not None and reading.tempo_bpm == pytest.approx(BPM, rel=0.02)
    assert music.analyses + music.skipped == 16
    assert worst < 0.005, worst

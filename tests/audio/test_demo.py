from __future__ import annotations

import time

import numpy as np
import pyloudnorm

from audio.demo import DemoInput, render_loop
from audio.ring import FrameRing, ring_read


def test_the_demo_loop_is_music_at_a_comfortable_level() -> None:
    loop = render_loop(48000)
    assert loop.dtype == np.float32 and loop.shape[1] == 2
    assert np.abs(loop).max() < 0.9
    lufs = pyloudnorm.Meter(48000).integrated_loudness(loop.astype(np.float64))
    assert -20.0 < lufs < -16.0


def test_the_demo_plays_in_real_time_and_wraps_seamlessly() -> None:
    rate, block = 48000, 1000  # a block size that does not divide the loop: blocks cross the end
    ring = FrameRing(rate * 4, 2)
    demo = DemoInput(ring, rate, block)
    demo._audio = demo._audio[:10_500]  # a short loop, so the test sees several wraps quickly
    demo._loop_frames = 10_500
    demo.start()
    started = time.monotonic()
    time.sleep(0.6)
    demo.stop()
    elapsed = time.monotonic() - started
    written = ring.counters()["written"]
    assert abs(written / rate - elapsed) < 0.1  # paced at the sample rate, not as fast as it can
    out = np.zeros((written, 2), dtype=np.float32)
    assert ring_read(ring.buffer, ring.state, out, written)
    expected = np.tile(demo._audio, (written // 10_500 + 1, 1))[:written]
    assert np.array_equal(out, expected)

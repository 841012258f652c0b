from __future__ import annotations

import itertools
import tracemalloc

import numpy as np
import pytest
import sounddevice

from audio.ring import MIX_PICK, MIX_SUM, FrameRing, ring_read, ring_write, warm_up
from audio.stream import make_callback


def _write(
    ring: FrameRing,
    block: np.ndarray,
    picks: tuple[int, ...] = (0, 1),
    mix: int = MIX_PICK,
    flags: int = 0,
) -> None:
    ring_write(ring.buffer, block, ring.state, np.array(picks, dtype=np.int64), mix, flags)


def test_frames_come_out_in_order_across_the_wrap() -> None:
    ring = FrameRing(1000, 2)
    out = np.zeros((300, 2), dtype=np.float32)
    seen = []
    for k in range(20):
        block = np.arange(k * 256, (k + 1) * 256, dtype=np.float32)
        _write(ring, np.stack([block, -block], axis=1))
        while ring_read(ring.buffer, ring.state, out, 300):
            seen.append(out[:, 0].copy())
            assert np.array_equal(out[:, 1], -out[:, 0])
    got = np.concatenate(seen)
    assert np.array_equal(got, np.arange(len(got), dtype=np.float32))
    assert ring.counters()["overflows"] == 0


def test_overlapping_reads_consume_only_the_hop() -> None:
    ring = FrameRing(64, 1)
    _write(ring, np.arange(32, dtype=np.float32)[:, None], picks=(0,))
    out = np.zeros((16, 1), dtype=np.float32)
    assert ring_read(ring.buffer, ring.state, out, 8)
    assert ring_read(ring.buffer, ring.state, out, 8)
    assert out[0, 0] == 8 and ring.available() == 16


def test_full_ring_drops_the_block_and_counts_it() -> None:
    ring = FrameRing(512, 2)
    block = np.ones((256, 2), dtype=np.float32)
    for _ in range(3):
        _write(ring, block)
    assert ring.counters() | {} == {
        "written": 512,
        "read": 0,
        "overflows": 1,
        "flagged": 0,
        "callbacks": 3,
    }


def test_status_flags_are_counted() -> None:
    ring = FrameRing(1024, 1)
    _write(ring, np.zeros((64, 1), dtype=np.float32), picks=(0,), flags=2)
    _write(ring, np.zeros((64, 1), dtype=np.float32), picks=(0,), flags=0)
    assert ring.counters()["flagged"] == 1


def test_channel_pick_and_sum() -> None:
    block = np.array([[1.0, 2.0, 4.0]] * 4, dtype=np.float32)
    pick = FrameRing(16, 2)
    _write(pick, block, picks=(2, 0))
    assert pick.buffer[0].tolist() == [4.0, 1.0]
    mono = FrameRing(16, 1)
    _write(mono, block, picks=(0,), mix=MIX_SUM)
    assert mono.buffer[0, 0] == pytest.approx(7.0 / 3.0)


def test_shared_ring_is_seen_by_an_attached_view() -> None:
    owner = FrameRing(128, 2, shared=True)
    try:
        other = FrameRing.attach(owner.shm_name or "", 128, 2, other_process=False)
        _write(owner, np.full((10, 2), 0.5, dtype=np.float32))
        assert other.available() == 10 and other.buffer[9, 1] == 0.5
        other.close()
    finally:
        owner.close()


def test_the_audio_callback_allocates_nothing() -> None:
    """The real callback body, driven like PortAudio drives it, over thousands of calls:
    tracemalloc's peak must not move (a single new Python object per call would)."""
    warm_up()
    ring = FrameRing(48000, 2)
    callback = make_callback(ring, np.array([0, 1], dtype=np.int64), MIX_PICK)
    indata = np.random.default_rng(1).standard_normal((128, 2)).astype(np.float32)
    flags = sounddevice.CallbackFlags()
    reader = np.zeros((128, 2), dtype=np.float32)
    for _ in range(10):  # first calls may specialise dispatch caches
        callback(indata, 128, None, flags)
        ring_read(ring.buffer, ring.state, reader, 128)
    calls = 5000
    driver = itertools.repeat(None, calls)  # a loop that creates no objects itself
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        for _ in driver:
            callback(indata, 128, None, flags)
            ring.state[1] = ring.state[0]  # stand-in consumer: never let the ring fill
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert ring.counters()["callbacks"] == calls + 10
    assert ring.counters()["overflows"] == 0
    # `ring.state[1] = ring.state[0]` makes one short-lived numpy scalar (the consumer's, not
    # the callback's); it is freed at once, so the peak may rise by that one object only.
    assert peak - base <= 64, (base, current, peak)
    assert current - base <= 64


def test_the_callback_measure_would_catch_an_allocation() -> None:
    """The same harness on a callback that allocates one small object per call fails."""
    ring = FrameRing(48000, 2)
    inner = make_callback(ring, np.array([0, 1], dtype=np.int64), MIX_PICK)
    kept = []

    def leaky(indata, frames, time, status):  # type: ignore[no-untyped-def]
        kept.append(frames * 1000)  # one int object per call, kept
        inner(indata, frames, time, status)

    indata = np.zeros((128, 2), dtype=np.float32)
    flags = sounddevice.CallbackFlags()
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        for _ in itertools.repeat(None, 1000):
            leaky(indata, 128, None, flags)
            ring.state[1] = ring.state[0]
        current, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert current - base > 64 * 10

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest

from audio.ring import (
    HAS_EVENTFD,
    MIX_PICK,
    MIX_SUM,
    NO_WAKE,
    READ,
    WAKE_AT,
    WRITTEN,
    FrameRing,
    arm_wake,
    ring_read,
    ring_write,
)


def _write(
    ring: FrameRing,
    block: np.ndarray,
    picks: tuple[int, ...] = (0, 1),
    mix: int = MIX_PICK,
    flags: int = 0,
) -> None:
    ring_write(ring.buffer, block, ring.state, np.array(picks, dtype=np.int64), mix, flags, -1)


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


needs_eventfd = pytest.mark.skipif(not HAS_EVENTFD, reason="eventfd is Linux's")


@needs_eventfd
def test_the_producer_signals_only_the_block_that_reaches_the_wish() -> None:
    ring = FrameRing(1024, 2, wake=True)
    try:
        block = np.zeros((64, 2), dtype=np.float32)
        assert not arm_wake(ring.state, 150)  # nothing written yet
        for _ in range(2):  # 128 frames: short of the wish
            ring_write(ring.buffer, block, ring.state, np.array([0, 1]), MIX_PICK, 0, ring.wake_fd)
        with pytest.raises(BlockingIOError):
            os.eventfd_read(ring.wake_fd)
        ring_write(ring.buffer, block, ring.state, np.array([0, 1]), MIX_PICK, 0, ring.wake_fd)
        assert os.eventfd_read(ring.wake_fd) == 1  # the block carrying frame 150
        ring_write(ring.buffer, block, ring.state, np.array([0, 1]), MIX_PICK, 0, ring.wake_fd)
        with pytest.raises(BlockingIOError):  # once per wish, not once per block
            os.eventfd_read(ring.wake_fd)
        assert arm_wake(ring.state, 200)  # already there: the consumer must not sleep
        assert ring.state[WAKE_AT] == 200
    finally:
        ring.close()


@needs_eventfd
def test_the_consumer_sleeps_until_its_hop_lands() -> None:
    """A producer thread writes a 64-frame block every 5 ms; the consumer asks for 256 frames
    with a 2 s timeout and must be back within a few blocks of the 20 ms it takes."""
    ring = FrameRing(4096, 1, wake=True)
    stop = threading.Event()

    def produce() -> None:
        block = np.ones((64, 1), dtype=np.float32)
        while not stop.is_set():
            ring_write(ring.buffer, block, ring.state, np.array([0]), MIX_PICK, 0, ring.wake_fd)
            time.sleep(0.005)

    out = np.zeros((256, 1), dtype=np.float32)
    producer = threading.Thread(target=produce, daemon=True)
    try:
        producer.start()
        for _ in range(5):
            started = time.monotonic()
            waits = 0
            while not ring_read(ring.buffer, ring.state, out, 256):
                ring.wait_for(int(ring.state[READ]) + 256, 2.0)
                waits += 1
            elapsed = time.monotonic() - started
            assert elapsed < 0.5, elapsed  # a lost wake would have cost the 2 s timeout
            assert waits <= 3
            assert ring.state[WRITTEN] - ring.state[READ] < 256
    finally:
        stop.set()
        producer.join()
        ring.close()


def test_a_ring_without_wake_polls() -> None:
    ring = FrameRing(256, 1)
    assert ring.wake_fd == NO_WAKE
    started = time.monotonic()
    ring.wait_for(10_000, 1.0)  # nothing will come: one short poll, not the timeout
    assert time.monotonic() - started < 0.5
    ring.close()


@needs_eventfd
def test_an_attached_ring_never_signals_a_file_that_is_not_its_eventfd() -> None:
    owner = FrameRing(256, 1, shared=True, wake=True)
    read_end, write_end = os.pipe()
    try:
        assert owner.shm_name is not None
        view = FrameRing.attach(owner.shm_name, 256, 1, other_process=False, wake_fd=write_end)
        assert view.wake_fd == NO_WAKE  # a pipe that happens to have the number
        view.close()
        view = FrameRing.attach(owner.shm_name, 256, 1, other_process=False, wake_fd=owner.wake_fd)
        assert view.wake_fd == owner.wake_fd
        view.close()
    finally:
        os.close(read_end)
        os.close(write_end)
        owner.close()

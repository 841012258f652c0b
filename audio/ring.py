"""A single-producer/single-consumer ring buffer of audio frames.

The producer is the audio callback; the consumer is the analysis worker. Both sides run compiled
Numba code on memory allocated once in :class:`FrameRing`'s constructor, so a call allocates no
Python object and takes no lock. The kernels keep the GIL (they are a few microseconds of copying),
which also orders the producer's stores before the consumer's loads: the callback runs Python and
therefore holds the GIL for its whole body.

Counters live in one int64 array (``state``) so the callback never creates a Python int:

==============  ==========================================================================
``WRITTEN``     frames written since start (monotonic)
``READ``        frames consumed since start (monotonic)
``OVERFLOWS``   blocks dropped because the consumer fell behind (the ring was full)
``FLAGGED``     callbacks whose PortAudio status flags were non-zero (xruns and friends)
``CALLBACKS``   callbacks seen
``LAST_FLAGS``  the last non-zero status flags word
``WAKE_AT``     the consumer's wish: signal me when ``WRITTEN`` reaches this count
==============  ==========================================================================

Waking the consumer: polling the ring cost the worker up to a poll period of latency per
reading. Instead the consumer arms ``WAKE_AT`` (:func:`arm_wake`) and sleeps on an eventfd; the
producer signals it from compiled code (``eventfd_write``: one non-blocking system call, no
Python object, no lock in user space) in the one block that carries ``WRITTEN`` across
``WAKE_AT``. Store, full fence, load on both sides: either the consumer sees the frames or the
producer sees the wish, so no wake is lost; a stale signal only costs the consumer one extra
look at the ring. Without eventfd (not Linux) the consumer polls.
"""

from __future__ import annotations

import contextlib
import os
import select
import time
from multiprocessing import resource_tracker, shared_memory
from typing import Any

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

from audio import numba_runtime

numba_runtime.prepare()  # before the intrinsic and external function below touch Numba's target

# Without the Numba runtime, array arguments are passed without a per-call meminfo allocation.
_NO_NRT: dict[str, Any] = {"_nrt": False}

WRITTEN, READ, OVERFLOWS, FLAGGED, CALLBACKS, LAST_FLAGS, WAKE_AT = range(7)
STATE_SIZE = 8
NO_WAKE = -1  # the wake_fd of a ring whose consumer polls

HAS_EVENTFD = hasattr(os, "eventfd")
POLL_SECONDS = 0.002  # the consumer's poll where there is no eventfd


def _fence_typer(typingctx):
    """A sequentially consistent fence: no store before it is ordered after a load behind it."""

    def codegen(context, builder, signature, args):
        builder.fence("seq_cst")
        return context.get_dummy_value()

    return types.void(), codegen


_full_fence: Any = intrinsic(_fence_typer)


if HAS_EVENTFD:
    # glibc's eventfd_write, linked by name (so the kernels stay cacheable)
    _int: Any = types.intc
    _eventfd_write: Any = types.ExternalFunction("eventfd_write", _int(types.intc, types.uint64))

    @njit(cache=True, **_NO_NRT)
    def _signal(fd):
        _eventfd_write(np.intc(fd), np.uint64(1))

else:

    @njit(cache=True, **_NO_NRT)
    def _signal(fd):
        pass


# How the callback maps device channels onto the ring's channels.
MIX_PICK = 0  # copy channels[c] to ring channel c (mono pick, stereo pair, any subset)
MIX_SUM = 1  # sum all device channels (scaled by 1/n) into ring channel 0


# error_model="numpy": no division-by-zero checks (capacity and channels are never zero), so the
# copy has no exception path: the compiled PortAudio callback must never reach Python.
@njit(cache=True, error_model="numpy", **_NO_NRT)
def ring_write(ring, block, state, channels, mix, flags, wake_fd):
    """Producer side: copy ``block`` (frames x device channels) into ``ring``; never blocks.
    Signals ``wake_fd`` (unless it is ``NO_WAKE``) when the block reaches the consumer's
    ``WAKE_AT``."""
    state[CALLBACKS] += 1
    if flags != 0:
        state[FLAGGED] += 1
        state[LAST_FLAGS] = flags
    capacity = ring.shape[0]
    n = block.shape[0]
    written = state[WRITTEN]
    if written - state[READ] + n > capacity:
        state[OVERFLOWS] += 1
        return
    start = written % capacity
    if mix == MIX_SUM:
        scale = 1.0 / block.shape[1]
        for i in range(n):
            acc = 0.0
            for c in range(block.shape[1]):
                acc += block[i, c]
            ring[(start + i) % capacity, 0] = acc * scale
    else:
        for i in range(n):
            j = (start + i) % capacity
            for c in range(channels.shape[0]):
                ring[j, c] = block[i, channels[c]]
    state[WRITTEN] = written + n
    if wake_fd >= 0:
        _full_fence()  # the other half of arm_wake's store-fence-load
        wake = state[WAKE_AT]
        if written < wake <= written + n:
            _signal(wake_fd)


@njit(cache=True, **_NO_NRT)
def arm_wake(state, frames):
    """Consumer side: ask for a signal when ``WRITTEN`` reaches ``frames``. Returns True when it
    already has (then no signal will come for it)."""
    state[WAKE_AT] = frames
    _full_fence()
    return state[WRITTEN] >= frames


@njit(cache=True, **_NO_NRT)
def ring_read(ring, state, out, advance):
    """Consumer side: copy the oldest ``len(out)`` frames into ``out`` and consume ``advance``.

    Reading more than is consumed lets the worker analyse overlapping frames (frame > hop).
    Returns False, touching nothing, when fewer than ``len(out)`` frames are waiting.
    """
    capacity = ring.shape[0]
    read = state[READ]
    n = out.shape[0]
    if state[WRITTEN] - read < n:
        return False
    start = read % capacity
    for i in range(n):
        j = (start + i) % capacity
        for c in range(out.shape[1]):
            out[i, c] = ring[j, c]
    state[READ] = read + advance
    return True


@njit(cache=True, error_model="numpy", **_NO_NRT)
def monitor_copy(block, outdata, channels, mix):
    """Copy what is analysed to the monitor output: the picked channels (repeated if the output
    has more channels than were picked), or the mean of all inputs for a sum."""
    n_out = outdata.shape[1]
    for i in range(block.shape[0]):
        if mix == MIX_SUM:
            acc = 0.0
            for c in range(block.shape[1]):
                acc += block[i, c]
            value = acc / block.shape[1]
            for o in range(n_out):
                outdata[i, o] = value
        else:
            for o in range(n_out):
                outdata[i, o] = block[i, channels[o % channels.shape[0]]]


class FrameRing:
    """Preallocated frames for one stream. Build and warm it before the stream starts.

    ``shared=True`` puts the counters and frames in one named shared-memory block, so that a
    capture process (:mod:`audio.capture`) can be the producer; :meth:`attach` opens it there.
    Across processes the GIL no longer orders the two sides: the producer stores the frames
    before it stores ``WRITTEN``, and x86-64 and the kernels' aliasing keep that order.
    """

    def __init__(
        self, capacity: int, channels: int, shared: bool = False, wake: bool = False
    ) -> None:
        """``wake=True`` makes an eventfd (where there is one) for :meth:`wait_for`; the
        producer, here or in a process that inherited it, signals it through ``wake_fd``."""
        if capacity <= 0 or channels <= 0:
            raise ValueError("capacity and channels must be positive")
        self._shm: shared_memory.SharedMemory | None = None
        self.wake_fd = NO_WAKE
        self._owns_wake = False
        self._poller: Any = None
        size = STATE_SIZE * 8 + capacity * channels * 4
        if shared:
            self._shm = shared_memory.SharedMemory(create=True, size=size)
            memory = self._shm.buf
            assert memory is not None
        else:
            memory = memoryview(bytearray(size))
        self._map(memory, capacity, channels)
        self.state[:] = 0
        self._owner = True
        if wake and HAS_EVENTFD:
            self.wake_fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
            self._owns_wake = True
            self._poller = select.poll()
            self._poller.register(self.wake_fd, select.POLLIN)

    def _map(self, memory: memoryview, capacity: int, channels: int) -> None:
        self.state = np.ndarray((STATE_SIZE,), dtype=np.int64, buffer=memory)
        self.buffer = np.ndarray(
            (capacity, channels), dtype=np.float32, buffer=memory, offset=STATE_SIZE * 8
        )

    @property
    def shm_name(self) -> str | None:
        return self._shm.name if self._shm is not None else None

    @classmethod
    def attach(
        cls,
        name: str,
        capacity: int,
        channels: int,
        other_process: bool = True,
        wake_fd: int = NO_WAKE,
    ) -> FrameRing:
        """Open a shared ring made by another process (which owns and removes it). ``wake_fd``:
        the owner's eventfd as inherited here, for the producer to signal."""
        ring = cls.__new__(cls)
        ring.wake_fd = wake_fd if wake_fd >= 0 and _is_eventfd(wake_fd) else NO_WAKE
        ring._owns_wake = False
        ring._poller = None
        ring._shm = shared_memory.SharedMemory(name=name)
        if other_process:
            # Python 3.11 registers every attached block for removal at this process's exit;
            # only the owner may remove it.
            resource_tracker.unregister(ring._shm._name, "shared_memory")  # type: ignore[attr-defined]
        assert ring._shm.buf is not None
        ring._map(ring._shm.buf, capacity, channels)
        ring._owner = False
        return ring

    def close(self) -> None:
        """Release the shared block (and remove it, in the owning process)."""
        if self._owns_wake and self.wake_fd >= 0:
            os.close(self.wake_fd)
            self.wake_fd = NO_WAKE
            self._owns_wake = False
        if self._shm is None:
            return
        del self.state, self.buffer
        self._shm.close()
        if self._owner:
            self._shm.unlink()
        self._shm = None

    @property
    def capacity(self) -> int:
        return int(self.buffer.shape[0])

    @property
    def channels(self) -> int:
        return int(self.buffer.shape[1])

    def available(self) -> int:
        """Frames waiting to be read (consumer side)."""
        return int(self.state[WRITTEN] - self.state[READ])

    def counters(self) -> dict[str, int]:
        s = self.state
        return {
            "written": int(s[WRITTEN]),
            "read": int(s[READ]),
            "overflows": int(s[OVERFLOWS]),
            "flagged": int(s[FLAGGED]),
            "callbacks": int(s[CALLBACKS]),
        }

    def reset(self) -> None:
        """Forget everything; only while no stream writes."""
        self.state[:] = 0

    def wait_for(self, frames: int, timeout: float) -> None:
        """Consumer side: return when ``WRITTEN`` may have reached ``frames``, or after
        ``timeout`` seconds at most (a stream that stalls is the caller's watchdog's business).
        Polls every POLL_SECONDS where there is no eventfd."""
        if self._poller is None:
            time.sleep(min(timeout, POLL_SECONDS))
            return
        if arm_wake(self.state, frames):
            return
        self._poller.poll(max(1, round(timeout * 1000)))
        with contextlib.suppress(BlockingIOError):
            os.eventfd_read(self.wake_fd)  # take the signal (and any stale one) down


def _is_eventfd(fd: int) -> bool:
    """Whether ``fd`` is an open eventfd here: a producer must never write 8 bytes into some
    other file that happens to have the number."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}") == "anon_inode:[eventfd]"
    except OSError:
        return False


def warm_up() -> None:
    """Compile (or load from cache) both kernels for float32 blocks before any stream starts."""
    numba_runtime.prepare()
    ring = FrameRing(64, 2)
    block = np.zeros((8, 2), dtype=np.float32)
    picks = np.array([0, 1], dtype=np.int64)
    ring_write(ring.buffer, block, ring.state, picks, MIX_PICK, 0, NO_WAKE)
    ring_read(ring.buffer, ring.state, np.zeros((8, 2), dtype=np.float32), 8)
    arm_wake(ring.state, 0)
    monitor_copy(block, np.zeros((8, 2), dtype=np.float32), picks, MIX_PICK)
    mono = FrameRing(64, 1)
    ring_write(mono.buffer, block, mono.state, picks[:1], MIX_SUM, 0, NO_WAKE)

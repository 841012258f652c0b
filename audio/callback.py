"""The PortAudio stream callback, compiled to C: PortAudio calls it with no Python in between.

A Python callback, however lean, costs the audio thread the GIL and sounddevice's wrapping of
each block in new NumPy and CFFI objects. This one is a Numba ``cfunc`` with PortAudio's
``PaStreamCallback`` signature: it views the block in place, copies it into the ring with
:func:`audio.ring.ring_write` (which may signal the consumer's eventfd) and, for a duplex stream,
copies what is analysed to the monitor output. It never touches a Python object, so it cannot
allocate one, take the GIL or log.

Everything it needs comes through PortAudio's ``userData`` pointer: one preallocated int64
array (:class:`CallbackParams`) holding the addresses and sizes of the ring, its counters and the
channel picks, which the owner keeps alive as long as the stream. sounddevice's ``_StreamBase``
opens the stream with the C function pointer (``wrap_callback=None``), as python-rtmixer does.

Benchmarks can ask for timings (``HOOKLINE_CALLBACK_TIMING``, see :mod:`audio.capture`): the
callback then reads CLOCK_MONOTONIC (a vDSO call) at its start and end into preallocated arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import carray as _carray
from numba import cfunc, njit, types
from numba.extending import intrinsic

from audio import numba_runtime
from audio.ring import WRITTEN, FrameRing, monitor_copy, ring_write

carray: Any = _carray  # shapes of compiled integers, which NumPy's stubs do not describe

# The slots of the parameter array behind userData.
(
    P_BUFFER,  # address of the ring's frames (float32, capacity x ring channels)
    P_STATE,  # address of the ring's counters (int64 x STATE_SIZE)
    P_PICKS,  # address of the device channels to copy (int64 x P_NPICKS)
    P_NPICKS,
    P_MIX,  # MIX_PICK or MIX_SUM
    P_WAKE,  # the consumer's eventfd, or NO_WAKE
    P_CAPACITY,
    P_RING_CHANNELS,
    P_IN_CHANNELS,  # channels of the input stream (its interleaved block width)
    P_OUT_CHANNELS,  # channels of the monitor output (duplex only)
    P_TIMING,  # address of the timing table (int64, 3 x P_TIMING_CAPACITY), or 0
    P_TIMING_CAPACITY,
    P_TIMING_COUNT,  # callbacks timed so far
    P_STATE_SIZE,
    P_CLOCK,  # two slots: a struct timespec for clock_gettime
    _P_CLOCK_NSEC,
) = range(16)
PARAMS_SIZE = 16
PA_CONTINUE = 0
CLOCK_MONOTONIC = 1  # Linux; time.perf_counter_ns() reads the same clock


def _pointer_typer(target: Any) -> Any:
    def typer(typingctx, value):
        result = types.CPointer(target)

        def codegen(context, builder, signature, args):
            ll = context.get_value_type(result)
            if isinstance(signature.args[0], types.Integer):
                return builder.inttoptr(args[0], ll)
            return builder.bitcast(args[0], ll)

        return result(value), codegen

    return typer


# An address (an integer, or PortAudio's void*) seen as a typed pointer.
_as_f32: Any = intrinsic(_pointer_typer(types.float32))
_as_i64: Any = intrinsic(_pointer_typer(types.int64))

_int: Any = types.intc
_clock_gettime: Any = types.ExternalFunction(
    "clock_gettime", _int(types.intc, types.CPointer(types.int64))
)


def _address_typer(typingctx, pointer):
    def codegen(context, builder, signature, args):
        return builder.ptrtoint(args[0], context.get_value_type(types.int64))

    return types.int64(pointer), codegen


# A pointer's address as an integer.
_address: Any = intrinsic(_address_typer)


@njit(cache=True)
def _now_ns(params, params_address):
    """CLOCK_MONOTONIC in ns, through the timespec kept in the parameter array."""
    _clock_gettime(np.intc(CLOCK_MONOTONIC), _as_i64(params_address + P_CLOCK * 8))
    return params[P_CLOCK] * 1_000_000_000 + params[_P_CLOCK_NSEC]


SIGNATURE = types.intc(
    types.voidptr,  # const void *input
    types.voidptr,  # void *output
    types.uintp,  # unsigned long frameCount
    types.voidptr,  # const PaStreamCallbackTimeInfo *timeInfo
    types.uintp,  # PaStreamCallbackFlags statusFlags
    types.voidptr,  # void *userData
)


def _input_callback(input_, output, frame_count, time_info, status_flags, user_data):
    params = carray(_as_i64(user_data), PARAMS_SIZE)
    timing_address = params[P_TIMING]
    started = 0
    if timing_address != 0:
        started = _now_ns(params, _address(user_data))
    frames = np.intp(frame_count)
    ring = carray(_as_f32(params[P_BUFFER]), (params[P_CAPACITY], params[P_RING_CHANNELS]))
    state = carray(_as_i64(params[P_STATE]), params[P_STATE_SIZE])
    picks = carray(_as_i64(params[P_PICKS]), params[P_NPICKS])
    block = carray(_as_f32(input_), (frames, params[P_IN_CHANNELS]))
    ring_write(ring, block, state, picks, params[P_MIX], np.int64(status_flags), params[P_WAKE])
    if params[P_OUT_CHANNELS] > 0:
        out = carray(_as_f32(output), (frames, params[P_OUT_CHANNELS]))
        monitor_copy(block, out, picks, params[P_MIX])
    if timing_address != 0:
        i = params[P_TIMING_COUNT]
        capacity = params[P_TIMING_CAPACITY]
        if i < capacity:
            table = carray(_as_i64(timing_address), (3, capacity))
            table[0, i] = started
            table[1, i] = _now_ns(params, _address(user_data))
            table[2, i] = state[WRITTEN]
            params[P_TIMING_COUNT] = i + 1
    return PA_CONTINUE


_compiled: list[Any] = []  # the cfunc, built (or loaded from the cache) on first use


def input_callback() -> Any:
    """The compiled callback (a Numba ``cfunc``): loaded from the cache, or compiled, on the
    first call, so that importing this module costs nothing."""
    if not _compiled:
        numba_runtime.prepare()
        _compiled.append(cfunc(SIGNATURE, cache=True, error_model="numpy")(_input_callback))
    return _compiled[0]


class CallbackParams:
    """What the compiled callback reads through ``userData``; keep it alive with the stream.

    ``out_channels`` > 0 makes the callback also copy the analysed channels to the output
    (a duplex stream with a monitor).
    """

    def __init__(
        self,
        ring: FrameRing,
        picks: np.ndarray,
        mix: int,
        in_channels: int,
        out_channels: int = 0,
        timing_capacity: int = 0,
    ) -> None:
        self.ring = ring  # kept: the callback reads its memory
        self.picks = np.ascontiguousarray(picks, dtype=np.int64)
        self.params = np.zeros(PARAMS_SIZE, dtype=np.int64)
        self.timing = np.zeros((3, timing_capacity), dtype=np.int64) if timing_capacity else None
        p = self.params
        p[P_BUFFER] = ring.buffer.ctypes.data
        p[P_STATE] = ring.state.ctypes.data
        p[P_STATE_SIZE] = ring.state.shape[0]
        p[P_PICKS] = self.picks.ctypes.data
        p[P_NPICKS] = self.picks.shape[0]
        p[P_MIX] = mix
        p[P_WAKE] = ring.wake_fd
        p[P_CAPACITY] = ring.capacity
        p[P_RING_CHANNELS] = ring.channels
        p[P_IN_CHANNELS] = in_channels
        p[P_OUT_CHANNELS] = out_channels
        if self.timing is not None:
            p[P_TIMING] = self.timing.ctypes.data
            p[P_TIMING_CAPACITY] = timing_capacity

    @property
    def address(self) -> int:
        """The ``userData`` pointer for PortAudio."""
        return int(self.params.ctypes.data)

    def timings(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(start ns, end ns, frames written after the call) of each timed callback."""
        if self.timing is None:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        n = int(self.params[P_TIMING_COUNT])
        return self.timing[0, :n].copy(), self.timing[1, :n].copy(), self.timing[2, :n].copy()

    def call(self, block: np.ndarray, output: np.ndarray | None = None, flags: int = 0) -> int:
        """Run the compiled callback on ``block`` as PortAudio would (tests and warm-up)."""
        block = np.ascontiguousarray(block, dtype=np.float32)
        out = 0 if output is None else output.ctypes.data
        function = input_callback().ctypes
        return int(function(block.ctypes.data, out, block.shape[0], None, flags, self.address))


def function_address() -> int:
    """The C function pointer of the compiled callback."""
    return int(input_callback().address)


def warm_up() -> None:
    """Load (or compile) the callback before a stream opens."""
    numba_runtime.prepare()
    ring = FrameRing(64, 2)
    params = CallbackParams(ring, np.array([0, 1]), 0, 2, timing_capacity=4)
    params.call(np.zeros((8, 2), dtype=np.float32))
    ring.close()

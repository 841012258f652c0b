"""The compiled PortAudio callback: what it copies, and proof that it cannot allocate."""

from __future__ import annotations

import ctypes
import itertools
import os
import re
import tracemalloc

import numpy as np
import pytest
from numba import cfunc

from audio import callback as callback_module
from audio.callback import (
    SIGNATURE,
    CallbackParams,
    function_address,
    input_callback,
    warm_up,
)
from audio.ring import HAS_EVENTFD, MIX_PICK, MIX_SUM, WAKE_AT, FrameRing, ring_read

# What an allocating or Python-touching body would call: the Numba runtime's allocators,
# malloc, or anything of the CPython API (the GIL, object creation, reference counts).
FORBIDDEN = re.compile(r"@(NRT_MemInfo_alloc\w*|NRT_Allocate\w*|malloc|calloc|realloc|Py\w+)\(")


def _functions(llvm_ir: str) -> dict[str, str]:
    """Each function defined in a module's IR, by name."""
    out = {}
    for chunk in llvm_ir.split("\ndefine ")[1:]:
        name = re.match(r'[^@]*@"?([^"(]+)', chunk)
        assert name is not None
        out[name.group(1)] = chunk
    return out


def _forbidden_calls(body: str) -> set[str]:
    return {m.group(1) for m in FORBIDDEN.finditer(body)}


def _fresh_ir(function) -> str:  # type: ignore[no-untyped-def]
    # cached code cannot be inspected: compile the same Python function again, uncached
    return cfunc(SIGNATURE, error_model="numpy")(function).inspect_llvm()


def test_the_callback_body_cannot_allocate_raise_or_reach_python() -> None:
    """The body and everything it calls: no allocator, no CPython API, and no failure status,
    so the wrapper Numba puts around a cfunc never takes its path that reports an exception
    under the GIL."""
    functions = _functions(_fresh_ir(callback_module._input_callback))
    wrapper = [name for name in functions if name.startswith("cfunc.")]
    assert len(wrapper) == 1
    body_and_callees = {n: f for n, f in functions.items() if n not in wrapper}
    assert any("input_callback" in n for n in body_and_callees)
    for name, body in body_and_callees.items():
        assert _forbidden_calls(body) == set(), name
        for ret in re.findall(r"ret i32 ([^\n]+)", body):
            if ret.strip() == "0":
                continue
            phi = re.search(rf"{re.escape(ret.strip())} = phi i32 ([^\n]+)", body)
            assert phi is not None, (name, ret)
            constants = re.findall(r"\[ (-?\d+),", phi.group(1))
            assert set(constants) <= {"0"}, (name, phi.group(0))
    for name, body in body_and_callees.items():
        if "ring_write" in name or "monitor_copy" in name:
            assert set(re.findall(r"ret i32 ([^\n]+)", body)) == {"0"}, name


def test_that_inspection_would_catch_an_allocating_callback() -> None:
    def allocating(input_, output, frames, time_info, flags, user):  # type: ignore[no-untyped-def]
        scratch = np.empty(int(frames), dtype=np.float32)  # a new array per block
        return np.intc(scratch.shape[0] > 0)

    calls = set().union(*(_forbidden_calls(f) for f in _functions(_fresh_ir(allocating)).values()))
    assert calls & {"NRT_MemInfo_alloc_aligned", "NRT_Allocate", "NRT_MemInfo_alloc_safe_aligned"}


def test_blocks_land_in_the_ring_picked_or_summed() -> None:
    warm_up()
    block = np.arange(30, dtype=np.float32).reshape(10, 3)  # 3 device channels
    ring = FrameRing(64, 2)
    assert CallbackParams(ring, np.array([2, 0]), MIX_PICK, 3).call(block) == 0  # paContinue
    out = np.zeros((10, 2), dtype=np.float32)
    assert ring_read(ring.buffer, ring.state, out, 10)
    np.testing.assert_array_equal(out, block[:, [2, 0]])
    mono = FrameRing(64, 1)
    CallbackParams(mono, np.array([0]), MIX_SUM, 3).call(block)
    out1 = np.zeros((10, 1), dtype=np.float32)
    assert ring_read(mono.buffer, mono.state, out1, 10)
    np.testing.assert_allclose(out1[:, 0], block.mean(axis=1), rtol=1e-6)
    ring.close()
    mono.close()


def test_status_flags_are_counted_and_the_monitor_gets_the_analysed_channels() -> None:
    ring = FrameRing(64, 1)
    params = CallbackParams(ring, np.array([1]), MIX_PICK, 2, out_channels=2)
    block = np.stack([np.zeros(8), np.arange(8)], axis=1).astype(np.float32)
    monitor = np.full((8, 2), -1.0, dtype=np.float32)
    params.call(block, monitor, flags=2)  # paInputOverflow
    np.testing.assert_array_equal(monitor, np.stack([np.arange(8)] * 2, axis=1))
    counters = ring.counters()
    assert counters["callbacks"] == 1 and counters["flagged"] == 1
    ring.close()


def test_timings_use_the_clock_of_perf_counter() -> None:
    import time

    ring = FrameRing(256, 1)
    params = CallbackParams(ring, np.array([0]), MIX_PICK, 1, timing_capacity=3)
    before = time.perf_counter_ns()
    for _ in range(5):  # more calls than slots: the table stops, the callback goes on
        params.call(np.zeros((16, 1), dtype=np.float32))
    after = time.perf_counter_ns()
    starts, ends, written = params.timings()
    assert len(starts) == 3 and ring.counters()["callbacks"] == 5
    assert np.all(before <= starts) and np.all(starts <= ends) and np.all(ends <= after)
    np.testing.assert_array_equal(written, [16, 32, 48])
    ring.close()


@pytest.mark.parametrize("wake", [False, True])
def test_thousands_of_calls_leave_no_python_memory_behind(wake: bool) -> None:
    """Driven through its C pointer like PortAudio drives it (and, with ``wake``, signalling the
    consumer each time): tracemalloc sees nothing kept."""
    if wake and not HAS_EVENTFD:
        pytest.skip("eventfd is Linux's")
    warm_up()
    ring = FrameRing(48000, 2, wake=wake)
    params = CallbackParams(ring, np.array([0, 1]), MIX_PICK, 2)
    prototype = ctypes.CFUNCTYPE(
        ctypes.c_int,
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_ulong,
        ctypes.c_void_p,
        ctypes.c_ulong,
        ctypes.c_void_p,
    )
    call = prototype(function_address())
    block = np.random.default_rng(1).standard_normal((128, 2)).astype(np.float32)
    args = (block.ctypes.data, None, 128, None, 0, params.address)
    state = ring.state
    for _ in range(10):
        call(*args)
    calls = 5000
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        for _ in itertools.repeat(None, calls):
            call(*args)
            state[1] = state[0]  # stand-in consumer: never let the ring fill
            state[WAKE_AT] = state[0] + 1  # and always wishing for the next block
        current, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert ring.counters()["callbacks"] == calls + 10
    assert ring.counters()["overflows"] == 0
    assert current - base <= 256, (base, current)
    if wake:
        assert os.eventfd_read(ring.wake_fd) >= 1
    ring.close()


def test_the_parameter_block_names_the_ring() -> None:
    ring = FrameRing(128, 2)
    params = CallbackParams(ring, np.array([0, 1]), MIX_PICK, 2)
    assert params.params[0] == ring.buffer.ctypes.data
    assert params.params[1] == ring.state.ctypes.data
    assert function_address() == input_callback().address
    ring.close()

"""Faults on the real stack: the JACK server dies mid-stream and comes back; a rate the device
cannot do is refused with the rates it can."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest

from app.live import describe_stream_error
from audio.engine import EngineConfig, EngineEvent, LiveEngine
from audio.stream import ChannelSelection, InputSpec
from tests.support.jack import JackServer, unique_server_name

pytestmark = pytest.mark.jack


@pytest.fixture
def own_server(tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator[JackServer]:  # type: ignore[no-untyped-def]
    server = JackServer(unique_server_name(), log_path=tmp_path / "jackd.log").start()
    for key, value in server.env.items():
        if key.startswith("JACK_"):
            monkeypatch.setenv(key, value)
    try:
        yield server
    finally:
        server.stop()


def _events_until(engine: LiveEngine, kind: str, timeout: float) -> list[EngineEvent]:
    seen: list[EngineEvent] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen.extend(engine.events.drain())
        if any(e.kind == kind for e in seen):
            return seen
        time.sleep(0.05)
    raise AssertionError(f"no {kind!r} event; saw {[e.kind for e in seen]}")


def test_engine_survives_the_jack_server_dying_and_returning(own_server: JackServer) -> None:
    spec = InputSpec("system", 48000, 256, ChannelSelection("pick", (0, 1)))
    engine = LiveEngine(EngineConfig(input=spec, fall_back_to_demo=False))
    engine.start()
    try:
        _events_until(engine, "started", 30)
        time.sleep(0.5)
        before = engine.latest()
        assert before is not None

        assert own_server.process is not None
        os.kill(own_server.process.pid, signal.SIGKILL)  # as abrupt as an unplugged interface
        own_server.process.wait()
        lost = _events_until(engine, "device-lost", 10)
        assert not engine.device_ok
        assert engine._thread is not None and engine._thread.is_alive()

        own_server.stop()  # clears the dead server's shared memory
        own_server.start()
        _events_until(engine, "device-restored", 20)
        assert engine.device_ok
        after_restore = engine.latest()
        assert after_restore is not None
        time.sleep(0.5)
        later = engine.latest()
        assert later is not None and later.t > after_restore.t >= before.t
        assert [e.kind for e in lost].count("device-lost") == 1
    finally:
        engine.stop()


def test_unsupported_rate_names_what_the_device_supports(own_server: JackServer) -> None:
    spec = InputSpec("system", 96000, 256, ChannelSelection("pick", (0, 1)))
    engine = LiveEngine(EngineConfig(input=spec, fall_back_to_demo=False))
    engine.start()
    try:
        events = _events_until(engine, "open-failed", 30)
        failed = next(e for e in events if e.kind == "open-failed")
        assert failed.error is not None and failed.error.reason == "unsupported-rate"
        assert 48000 in failed.error.details["supported"]
        message = describe_stream_error(failed.error)
        assert "96000" in message and "48000" in message
    finally:
        engine.stop()


def test_block_size_outside_the_range_is_refused_before_opening() -> None:
    from audio.stream import StreamError

    with pytest.raises(StreamError) as caught:
        LiveEngine(EngineConfig(input=InputSpec("demo", 48000, 32)))
    assert "32" in describe_stream_error(caught.value)
    assert "64" in describe_stream_error(caught.value)

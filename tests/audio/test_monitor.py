"""The monitor output plays what is analysed: a real duplex PortAudio stream on JACK, heard by a
separate JACK client."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import jack
import numpy as np
import pytest

from audio.engine import EngineConfig, LiveEngine
from audio.stream import ChannelSelection, InputSpec
from tests.support.jack import JackServer, Player

pytestmark = pytest.mark.jack


class Recorder:
    """A JACK client with two inputs that keeps the peak level it hears per channel."""

    def __init__(self) -> None:
        self.client = jack.Client("hookline-recorder", no_start_server=True)
        self.inputs = [self.client.inports.register(f"in_{i + 1}") for i in range(2)]
        self.peaks = np.zeros(2)
        self.lock = threading.Lock()
        self.client.set_process_callback(self._process)

    def _process(self, frames: int) -> None:
        with self.lock:
            for i, port in enumerate(self.inputs):
                self.peaks[i] = max(self.peaks[i], float(np.abs(port.get_array()).max()))

    def reset(self) -> None:
        with self.lock:
            self.peaks[:] = 0.0


@pytest.fixture
def jack_env(jack_server: JackServer, monkeypatch: pytest.MonkeyPatch) -> JackServer:
    for key, value in jack_server.env.items():
        if key.startswith("JACK_"):
            monkeypatch.setenv(key, value)
    return jack_server


@pytest.fixture
def player(jack_env: JackServer) -> Iterator[Player]:
    p = Player(jack_env, name="monitor-player")
    yield p
    p.close()


def test_monitor_output_plays_the_analysed_input(jack_env: JackServer, player: Player) -> None:
    player.play("sine 330 -12")
    recorder = Recorder()
    recorder.client.activate()
    before = {p.name for p in recorder.client.get_ports(is_audio=True, is_output=True)}
    spec = InputSpec(player.ports, 48000, 256, ChannelSelection("pick", (0, 1)), monitor="system")
    engine = LiveEngine(EngineConfig(input=spec, fall_back_to_demo=False))
    engine.start()
    try:
        deadline = time.monotonic() + 30
        while not engine.device_ok and time.monotonic() < deadline:
            time.sleep(0.05)
        assert engine.device_ok, engine.events.drain()
        ours = sorted(
            {p.name for p in recorder.client.get_ports(is_audio=True, is_output=True)} - before
        )
        assert len(ours) == 2, ours  # the monitor stream's two output ports
        for source, sink in zip(ours, recorder.inputs, strict=True):
            recorder.client.connect(source, sink)
        time.sleep(0.3)
        recorder.reset()
        time.sleep(0.5)
        expected = 10 ** (-12 / 20)
        assert recorder.peaks == pytest.approx([expected, expected], rel=0.05)
        reading = engine.latest()
        assert reading is not None and reading.tuner is not None
        assert reading.tuner.note_name == "E" and reading.tuner.octave == 4

        player.play("silence")
        time.sleep(0.3)
        recorder.reset()
        time.sleep(0.3)
        assert recorder.peaks.max() < 1e-4
    finally:
        engine.stop()
        recorder.client.deactivate()
        recorder.client.close()

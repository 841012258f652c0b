"""Key, chord and tempo through the real stack: a JACK dummy server, a player process looping a
click track over I–IV–V–I in A major into Hookline's input, PortAudio in the capture process,
the analysis worker and the live-music thread."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from audio.engine import EngineConfig, LiveEngine
from audio.live_music import MusicReading
from audio.stream import ChannelSelection, InputSpec
from tests.audio.test_live_music import BPM, a_major_with_clicks
from tests.support.jack import JackServer

pytestmark = pytest.mark.jack
RATE = 48000
NAME = "hookline-music-player"

# A JACK client that loops a stereo .npy file from two output ports (prints "ready").
PLAYER = """
import sys, jack, numpy as np
audio = np.load(sys.argv[2])
client = jack.Client(sys.argv[1], no_start_server=True)
outs = [client.outports.register(f"out_{i + 1}") for i in range(2)]
pos = [0]
@client.set_process_callback
def process(frames):
    idx = (pos[0] + np.arange(frames)) % len(audio)
    for c, port in enumerate(outs):
        port.get_array()[:] = audio[idx, c]
    pos[0] = (pos[0] + frames) % len(audio)
with client:
    print("ready", flush=True)
    sys.stdin.read()
"""


@pytest.fixture
def player(jack_server: JackServer, tmp_path: Path) -> Iterator[str]:
    mono = a_major_with_clicks(16.0)  # whole bars: the loop joins without a break
    path = tmp_path / "music.npy"
    np.save(path, np.stack([mono, mono], axis=1))
    process = subprocess.Popen(
        [sys.executable, "-c", PLAYER, NAME, str(path)],
        env=jack_server.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        yield f"jack:{NAME}:out_1,{NAME}:out_2"
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_the_engine_reads_tempo_key_and_chords_from_jack(
    jack_server: JackServer, player: str
) -> None:
    saved = {k: os.environ.get(k) for k in jack_server.env if k.startswith("JACK_")}
    os.environ.update({k: v for k, v in jack_server.env.items() if k.startswith("JACK_")})
    spec = InputSpec(player, RATE, 256, ChannelSelection("pick", (0, 1)))
    engine = LiveEngine(EngineConfig(input=spec, fall_back_to_demo=False))
    engine.start()
    readings: list[MusicReading] = []
    try:
        deadline = time.monotonic() + 60  # a cold kernel cache compiles first
        while time.monotonic() < deadline:
            music = engine.music()
            if music is not None and (not readings or music is not readings[-1]):
                readings.append(music)
                if music.t >= 12.0:
                    break
            time.sleep(0.05)
        live = engine.latest()
        analyser = engine.live_music
    finally:
        engine.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    assert readings and readings[-1].t >= 12.0, "no music readings for 12 s of audio"
    assert live is not None and live.music is not None  # LiveReading carries it for the CLI
    assert analyser is not None and analyser.skipped <= 2
    settled = [r for r in readings if r.t >= 9.0]
    assert len(settled) >= 5
    for r in settled:
        assert r.tempo_bpm == pytest.approx(BPM, rel=0.02), r
        assert (r.key, r.key_mode, r.camelot) == ("A", "major", "11B"), r
        assert r.beat_period_s == pytest.approx(60.0 / BPM, rel=0.02)
    assert {r.chord for r in settled} <= {"A", "D", "E", "A7", "E7", "Amaj7", "Dmaj7", None}
    assert len({r.chord for r in settled} & {"A", "D", "E"}) >= 2

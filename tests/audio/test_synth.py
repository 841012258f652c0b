"""The preview synth: the rendering kernel on arrays, then a preview played through a real JACK
graph into Hookline's own live engine, whose tuner must hear the notes."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audio.engine import EngineConfig, LiveEngine
from audio.stream import ChannelSelection, InputSpec
from audio.synth import (
    CEILING,
    MAX_SECONDS,
    RELEASE_S,
    PreviewError,
    PreviewOutput,
    SynthNote,
    render,
)
from tests.support.jack import JackServer, Player

RATE = 48000


def _peak_hz(block: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(block * np.hanning(len(block)), 8 * len(block)))
    return float(np.argmax(spectrum) * rate / (8 * len(block)))


def test_a_note_sounds_at_its_pitch_only_while_it_should() -> None:
    out = render([SynthNote(0.5, 1.5, 69.0, 127)], RATE)
    assert out.dtype == np.float32
    assert len(out) == pytest.approx((1.5 + RELEASE_S + 0.02) * RATE, abs=2)
    assert np.all(out[: int(0.5 * RATE)] == 0.0)  # nothing before the start
    assert _peak_hz(out[int(0.7 * RATE) : int(1.3 * RATE)], RATE) == pytest.approx(440.0, abs=1.0)
    tail = out[int((1.5 + RELEASE_S) * RATE) + 1 :]
    assert np.max(np.abs(tail)) < 1e-6  # silent once released
    # the decay: louder just after the attack than at the end of the note
    early = np.max(np.abs(out[int(0.51 * RATE) : int(0.56 * RATE)]))
    late = np.max(np.abs(out[int(1.40 * RATE) : int(1.45 * RATE)]))
    assert 1.4 < early / late < 2.2


def test_velocity_scales_the_level_and_loud_chords_stay_under_the_ceiling() -> None:
    soft = render([SynthNote(0.0, 1.0, 60.0, 32)], RATE)
    loud = render([SynthNote(0.0, 1.0, 60.0, 127)], RATE)
    assert np.max(np.abs(loud)) / np.max(np.abs(soft)) == pytest.approx(127 / 32, rel=0.01)
    cluster = render([SynthNote(0.0, 1.0, 48.0 + i, 127) for i in range(24)], RATE)
    assert np.max(np.abs(cluster)) == pytest.approx(CEILING, rel=1e-4)


def test_high_notes_leave_out_harmonics_that_would_alias() -> None:
    out = render([SynthNote(0.0, 0.5, 100.0, 127)], 8000)  # 2637 Hz: only the fundamental fits
    spectrum = np.abs(np.fft.rfft(out[400:3600]))
    freqs = np.fft.rfftfreq(3200, 1 / 8000)
    peak = freqs[np.argmax(spectrum)]
    assert peak == pytest.approx(2637.0, abs=5.0)
    elsewhere = spectrum[np.abs(freqs - peak) > 100]
    assert elsewhere.max() < 0.05 * spectrum.max()


def test_bad_notes_are_skipped_and_impossible_requests_refused() -> None:
    out = render(
        [SynthNote(math.nan, 1.0, 60.0), SynthNote(0.0, math.inf, 60.0),
         SynthNote(0.0, 0.2, math.nan), SynthNote(0.0, 0.2, 60.0)],
        RATE,
    )  # fmt: skip
    assert np.isfinite(out).all() and len(out) < RATE
    assert len(render([], RATE)) < 0.1 * RATE
    with pytest.raises(ValueError, match="minutes"):
        render([SynthNote(0.0, MAX_SECONDS + 1.0, 60.0)], RATE)
    with pytest.raises(ValueError, match="sample rate"):
        render([SynthNote(0.0, 1.0, 60.0)], 100)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(-5.0, 30.0, allow_nan=False),
            st.floats(0.0, 5.0, allow_nan=False),
            st.floats(-20.0, 200.0, allow_nan=False),
            st.integers(-10, 300),
        ),
        max_size=40,
    )
)
def test_any_notes_render_finite_audio_under_the_ceiling(raw) -> None:  # type: ignore[no-untyped-def]
    notes = [SynthNote(start, start + length, pitch, vel) for start, length, pitch, vel in raw]
    out = render(notes, 22050)
    assert out.dtype == np.float32 and np.isfinite(out).all()
    assert float(np.max(np.abs(out), initial=0.0)) <= CEILING + 1e-6


# -- through JACK ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def jack_env(jack_server: JackServer) -> Iterator[JackServer]:
    saved = {k: os.environ.get(k) for k in jack_server.env if k.startswith("JACK_")}
    os.environ.update({k: v for k, v in jack_server.env.items() if k.startswith("JACK_")})
    # PortAudio sees JACK only if the server was up when it initialised: an earlier test may
    # have imported sounddevice first. No stream of this process is open here.
    from audio.devices import reinitialize

    reinitialize()
    try:
        yield jack_server
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="module")
def listening(jack_env: JackServer) -> Iterator[tuple[LiveEngine, list[str]]]:
    """Hookline's live engine listening to a silent player; returns the engine and the JACK
    input ports it reads, for the preview to play into."""
    player = Player(jack_env, name="hookline-silent")
    player.play("silence")
    spec = InputSpec(player.ports, RATE, 256, ChannelSelection("pick", (0, 1)))
    engine = LiveEngine(EngineConfig(input=spec, fall_back_to_demo=False))
    engine.start()
    try:
        deadline = time.monotonic() + 30
        while not engine.device_ok and time.monotonic() < deadline:
            time.sleep(0.05)
        assert engine.device_ok, "the JACK input did not start"
        import jack

        client = jack.Client("hookline-test-lookup", no_start_server=True)
        ours = [p.name for p in client.get_all_connections(f"{player.name}:out_1")] + [
            p.name for p in client.get_all_connections(f"{player.name}:out_2")
        ]
        client.close()
        assert len(ours) == 2, ours
        yield engine, ours
    finally:
        engine.stop()
        player.close()


def _readings(engine: LiveEngine, seconds: float) -> list:  # type: ignore[type-arg]
    out, version = [], 0
    first = engine.latest()
    start_t = first.t if first is not None else 0.0
    deadline = time.monotonic() + seconds + 10
    while time.monotonic() < deadline:
        reading, version = engine.wait_reading(version, 0.5)
        if reading is not None:
            out.append(reading)
            if reading.t - start_t >= seconds:
                break
    return out


def test_a_preview_played_into_hookline_is_heard_at_its_pitch(listening) -> None:  # type: ignore[no-untyped-def]
    engine, ports = listening
    preview = PreviewOutput("jack:" + ",".join(ports), rate=RATE)
    try:
        buffer = render([SynthNote(0.0, 1.6, 69.0, 110), SynthNote(1.6, 3.2, 64.0, 110)], RATE)
        preview.play(buffer)
        assert preview.playing
        readings = _readings(engine, 3.4)
        names = [f"{r.tuner.note_name}{r.tuner.octave}" for r in readings if r.tuner]
        a4 = [r.pitch_hz for r in readings if r.tuner and r.tuner.note_name == "A"]
        e4 = [r.pitch_hz for r in readings if r.tuner and r.tuner.note_name == "E"]
        assert len(a4) >= 40 and len(e4) >= 40, names
        assert abs(1200 * math.log2(float(np.median(a4)) / 440.0)) < 5, a4
        assert abs(1200 * math.log2(float(np.median(e4)) / 329.628)) < 5, e4
        assert names.index("E4") > names.index("A4")  # in the order played
        deadline = time.monotonic() + 5
        while preview.playing and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not preview.playing and preview.position_s == pytest.approx(preview.length_s)
    finally:
        preview.stop()


def test_stop_silences_the_preview_at_once(listening) -> None:  # type: ignore[no-untyped-def]
    engine, ports = listening
    preview = PreviewOutput("jack:" + ",".join(ports), rate=RATE)
    try:
        preview.play(render([SynthNote(0.0, 10.0, 57.0, 120)], RATE))
        loud = _readings(engine, 1.0)
        assert max(loud[-1].levels.peak_dbfs) > -20
        stopped = time.monotonic()
        preview.stop()
        assert not preview.playing
        quiet = None
        while time.monotonic() < stopped + 3:
            reading, _ = engine.wait_reading(0, 0.5)
            if reading is not None and max(reading.levels.rms_dbfs) < -80:
                quiet = time.monotonic() - stopped
                break
        assert quiet is not None and quiet < 0.5, quiet
    finally:
        preview.stop()


def test_an_output_setting_naming_no_port_is_refused_clearly(jack_env: JackServer) -> None:
    preview = PreviewOutput("jack:nobody:in_1", rate=RATE)
    with pytest.raises(PreviewError) as caught:
        preview.play(render([SynthNote(0.0, 0.5, 60.0)], RATE))
    assert caught.value.reason == "bad-port" and "nobody:in_1" in caught.value.detail
    assert not preview.playing
    with pytest.raises(PreviewError) as caught:
        PreviewOutput("jack:")
    assert caught.value.reason == "bad-port"

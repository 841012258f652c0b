"""The built-in preview synth: hear a melody idea on the audio output without a DAW.

Two halves, so that the audio thread does nothing but copy:

* :func:`render` turns notes into a mono float32 buffer, ahead of time, in a worker or the
  caller's thread (a Numba ``nogil`` kernel: eight bars take a few milliseconds). The voice is
  three harmonics (1, 0.35, 0.15; those above 0.45 × the rate left out) under a 5 ms attack, a
  decay from full level to 55 % over about 0.2 s, and a 60 ms linear release after the note's
  end: a soft electric-piano-like tone that makes pitch and rhythm plain. The mix is scaled
  down only if it would pass −1 dBFS.
* :class:`PreviewOutput` plays such a buffer on an output device through a PortAudio stream
  whose callback is a Numba ``cfunc`` (as :mod:`audio.callback` does for input): it copies the
  next frames of the buffer to every output channel and writes silence after the end, touching
  no Python object. ``stop()`` is heard within one block: the callback reads a stop flag.

The output setting is "" (the system's default output), a device index or name, or
``jack:PORT[,PORT]``: the JACK host API, with the stream's ports connected to the named JACK
input ports instead of the physical outputs (a DAW's input, or, in the tests, Hookline's own).
Main thread (or one owner thread) for :class:`PreviewOutput`; never the audio callback.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import carray as _carray
from numba import cfunc, njit

from audio import numba_runtime
from audio.callback import SIGNATURE, _as_f32, _as_i64
from audio.devices import (
    PORTAUDIO_LOCK,
    AudioUnavailable,
    _sounddevice,
    find_jack_device,
    find_output_device,
)
from audio.jack_ports import JackRouter, JackRoutingError, parse_ports

log = logging.getLogger(__name__)
carray: Any = _carray

ATTACK_S = 0.005
DECAY_S = 0.2
SUSTAIN = 0.55
RELEASE_S = 0.06
HARMONICS = (1.0, 0.35, 0.15)
NOTE_GAIN = 0.3
CEILING = 10 ** (-1 / 20)  # −1 dBFS
MAX_SECONDS = 20 * 60  # a preview longer than twenty minutes is refused
PA_CONTINUE, PA_COMPLETE = 0, 1

# Slots of the parameter array behind userData.
P_BUFFER, P_LENGTH, P_POSITION, P_CHANNELS, P_STOP = range(5)
PARAMS_SIZE = 5


class PreviewError(RuntimeError):
    """The preview cannot play. ``reason`` is one of ``no-output`` (no such device, or none),
    ``bad-port`` (a ``jack:`` setting naming no JACK input port), ``open-failed`` (the device
    refused) or ``empty``; ``detail`` is for the log. The app words the message."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class SynthNote:
    start_s: float
    end_s: float
    pitch: float  # MIDI note number (fractional: a detuned note)
    velocity: int = 100  # 1..127


@njit(nogil=True, cache=True)
def _render_into(out, starts, ends, pitches, gains, rate):
    attack = max(1, int(ATTACK_S * rate))
    release = max(1, int(RELEASE_S * rate))
    decay = DECAY_S * rate / 3.0  # e-folding time: ~95 % of the way to SUSTAIN at DECAY_S
    n_out = out.shape[0]
    for k in range(starts.shape[0]):
        a = int(starts[k] * rate)
        b = max(a + 1, int(ends[k] * rate))
        stop = min(n_out, b + release)
        if a < 0 or a >= stop:
            continue
        freq = 440.0 * 2.0 ** ((pitches[k] - 69.0) / 12.0)
        w = 2.0 * math.pi * freq / rate
        for n in range(a, stop):
            t = n - a
            env = SUSTAIN + (1.0 - SUSTAIN) * math.exp(-t / decay)
            if t < attack:
                env *= t / attack
            if n >= b:
                env *= 1.0 - (n - b) / release
            x = w * t
            s = 0.0
            for h in range(len(HARMONICS)):
                if (h + 1) * freq < 0.45 * rate:
                    s += HARMONICS[h] * math.sin((h + 1) * x)
            out[n] += gains[k] * env * s


def render(notes: Sequence[SynthNote], rate: int) -> np.ndarray:
    """The notes as a mono float32 buffer at ``rate``, ending with the last release."""
    if rate < 8000:
        raise ValueError("the sample rate must be at least 8000 Hz")
    good = [
        n
        for n in notes
        if math.isfinite(n.start_s) and math.isfinite(n.end_s) and math.isfinite(n.pitch)
    ]
    end = max(0.0, max((n.end_s for n in good), default=0.0)) + RELEASE_S + 0.02
    if end > MAX_SECONDS:
        raise ValueError(f"a preview is at most {MAX_SECONDS // 60} minutes long")
    out = np.zeros(math.ceil(end * rate), dtype=np.float64)
    if good:
        starts = np.array([max(0.0, n.start_s) for n in good])
        ends = np.array([max(0.0, n.end_s) for n in good])
        pitches = np.clip(np.array([n.pitch for n in good]), 0.0, 127.0)
        gains = NOTE_GAIN * np.clip(np.array([n.velocity for n in good]), 1, 127) / 127.0
        _render_into(out, starts, ends, pitches, gains, float(rate))
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    if peak > CEILING:
        out *= CEILING / peak
    return out.astype(np.float32)


def _play_callback(input_, output, frame_count, time_info, status_flags, user_data):
    params = carray(_as_i64(user_data), PARAMS_SIZE)
    frames = np.intp(frame_count)
    channels = params[P_CHANNELS]
    out = carray(_as_f32(output), (frames, channels))
    length = params[P_LENGTH]
    source = carray(_as_f32(params[P_BUFFER]), length)
    position = params[P_POSITION]
    stopped = params[P_STOP] != 0
    for i in range(frames):
        value = np.float32(0.0)
        if not stopped and position + i < length:
            value = source[position + i]
        for c in range(channels):
            out[i, c] = value
    if stopped or position + frames >= length:
        params[P_POSITION] = length
        return PA_COMPLETE
    params[P_POSITION] = position + frames
    return PA_CONTINUE


_compiled: list[Any] = []


def play_callback() -> Any:
    """The compiled output callback (loaded from Numba's cache, or compiled, on first use)."""
    if not _compiled:
        numba_runtime.prepare()
        _compiled.append(cfunc(SIGNATURE, cache=True, error_model="numpy")(_play_callback))
    return _compiled[0]


class PreviewOutput:
    """Plays rendered buffers on one output device; one buffer at a time."""

    def __init__(self, device: str = "", rate: int | None = None, block_size: int = 512) -> None:
        self.device_setting = device
        self.block_size = block_size
        self._stream: Any = None
        self._router: JackRouter | None = None
        self._params = np.zeros(PARAMS_SIZE, dtype=np.int64)
        self._buffer = np.zeros(1, dtype=np.float32)  # kept alive while the stream reads it
        try:
            self._jack_targets = parse_ports(device)
        except JackRoutingError as exc:
            raise PreviewError("bad-port", str(exc)) from exc
        with PORTAUDIO_LOCK:
            try:
                if self._jack_targets is not None:
                    found = find_jack_device(output=True)
                else:
                    found = find_output_device(device)
            except AudioUnavailable as exc:
                raise PreviewError(str(exc)) from exc
        if found is None:
            raise PreviewError(
                f"no audio output device {device!r}" if device else "no audio output"
            )
        self.output = found
        self.rate = int(rate or found.default_samplerate or 48000)
        self.channels = min(2, found.max_output_channels)

    @property
    def playing(self) -> bool:
        return self._stream is not None and self.position_s < self.length_s

    @property
    def length_s(self) -> float:
        return int(self._params[P_LENGTH]) / self.rate

    @property
    def position_s(self) -> float:
        """How far the callback has read (the playhead, give or take the output latency)."""
        return int(self._params[P_POSITION]) / self.rate

    def play(self, buffer: np.ndarray) -> None:
        """Play ``buffer`` (mono float32 at :attr:`rate`) from its start, replacing whatever
        was playing."""
        self.stop()
        self._buffer = np.ascontiguousarray(buffer, dtype=np.float32)
        if self._buffer.ndim != 1 or self._buffer.size == 0:
            raise PreviewError("empty")
        p = self._params
        p[P_BUFFER] = self._buffer.ctypes.data
        p[P_LENGTH] = self._buffer.shape[0]
        p[P_POSITION] = 0
        p[P_CHANNELS] = self.channels
        p[P_STOP] = 0
        sd = _sounddevice()
        function = sd._ffi.cast("PaStreamCallback*", play_callback().address)
        with PORTAUDIO_LOCK:
            before: set[str] = set()
            if self._jack_targets is not None:
                try:
                    self._router = JackRouter("hookline-preview-router")
                    before = self._router.audio_outputs()
                except JackRoutingError as exc:
                    raise PreviewError("bad-port", str(exc)) from exc
            try:
                self._stream = sd._StreamBase(
                    kind="output",
                    samplerate=self.rate,
                    blocksize=self.block_size,
                    device=self.output.index,
                    channels=self.channels,
                    dtype="float32",
                    latency="low",
                    callback=function,
                    userdata=sd._ffi.cast("void*", int(p.ctypes.data)),
                    wrap_callback=None,
                )
                self._stream.start()
            except Exception as exc:
                self._stream = None
                self._close_router()
                raise PreviewError("open-failed", f"{self.output.name}: {exc}") from exc
        if self._router is not None and self._jack_targets is not None:
            ours = sorted(self._router.audio_outputs() - before)
            try:
                self._router.route_out(ours, self._jack_targets)
            except JackRoutingError as exc:
                self.stop()
                raise PreviewError("bad-port", str(exc)) from exc
        log.info("preview of %.1f s started on %s", self.length_s, self.output.name)

    def stop(self) -> None:
        """Silence within one block and close the stream; safe to call at any time."""
        self._params[P_STOP] = 1
        if self._stream is not None:
            with PORTAUDIO_LOCK:
                try:
                    self._stream.abort(ignore_errors=True)
                    self._stream.close(ignore_errors=True)
                except Exception:
                    log.exception("closing the preview stream failed")
            self._stream = None
        self._close_router()

    def _close_router(self) -> None:
        if self._router is not None:
            try:
                self._router.close()
            except Exception:
                log.debug("closing the JACK router failed", exc_info=True)
            self._router = None

"""Audio input streams: a PortAudio device, or the built-in demo, feeding a :class:`FrameRing`.

The PortAudio callback is the only code that runs on the audio thread, and it is C: a Numba
``cfunc`` (:mod:`audio.callback`) that PortAudio calls directly with a parameter block prepared
when the stream was opened. No allocation, no lock, no logging, no Python object, no GIL.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from audio.callback import CallbackParams, function_address
from audio.devices import (
    PORTAUDIO_LOCK,
    AudioUnavailable,
    _sounddevice,
    find_input_device,
    find_jack_device,
    find_output_device,
)
from audio.jack_ports import JackRouter, JackRoutingError, parse_ports
from audio.ring import MIX_PICK, MIX_SUM, FrameRing

log = logging.getLogger(__name__)

SAMPLE_RATES = (44100, 48000, 88200, 96000, 176400, 192000)
MIN_BLOCK, MAX_BLOCK = 64, 2048


class StreamError(Exception):
    """A stream could not be opened; ``str()`` is a message for the user (not translated here:
    ``audio/`` has no catalogs; ``reason`` and ``details`` let the app phrase it)."""

    def __init__(self, reason: str, **details: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


@dataclass(frozen=True)
class ChannelSelection:
    """Which device channels to analyse: a pick of one or more channels, or the sum of all."""

    mix: str = "pick"  # "pick" or "sum"
    channels: tuple[int, ...] = (0,)

    @classmethod
    def parse(cls, text: str) -> ChannelSelection:
        """ "1" (mono pick, 1-based), "1,2" (stereo pair), "sum" (all channels summed)."""
        text = text.strip().lower()
        if text == "sum":
            return cls("sum", ())
        try:
            picks = tuple(int(part) - 1 for part in text.split(","))
        except ValueError as exc:
            raise ValueError(f"not a channel selection: {text!r}") from exc
        if not picks or min(picks) < 0 or len(picks) > 2:
            raise ValueError(f"not a channel selection: {text!r}")
        return cls("pick", picks)

    def analysed_channels(self) -> int:
        return 1 if self.mix == "sum" else len(self.channels)

    def device_channels_needed(self, device_max: int) -> int:
        return device_max if self.mix == "sum" else max(self.channels) + 1


@dataclass(frozen=True)
class InputSpec:
    device: str = ""  # "" = system default, "demo", an index, a name, or "jack:PORT[,PORT]"
    sample_rate: int = 48000
    block_size: int = 256
    selection: ChannelSelection = ChannelSelection("pick", (0, 1))
    monitor: str = ""  # output device that plays what is analysed; "" for no monitor

    def validate(self) -> None:
        if self.sample_rate not in SAMPLE_RATES:
            raise StreamError("unsupported-rate", rate=self.sample_rate, supported=SAMPLE_RATES)
        if not MIN_BLOCK <= self.block_size <= MAX_BLOCK:
            raise StreamError(
                "unsupported-block", block=self.block_size, minimum=MIN_BLOCK, maximum=MAX_BLOCK
            )


class InputSource(Protocol):
    """Something that writes frames into a ring in real time."""

    name: str

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def alive(self) -> bool: ...


class DeviceInput:
    """A PortAudio input stream on a device; the stream thread fills ``ring``."""

    def __init__(
        self,
        spec: InputSpec,
        ring: FrameRing,
        on_finished: Callable[[], None] | None = None,
        timing_capacity: int = 0,
    ) -> None:
        """``timing_capacity`` > 0: the callback records that many (start, end) times, for
        benchmarks (:meth:`callback_timings`)."""
        spec.validate()
        self.spec = spec
        self.ring = ring
        self._stream: Any = None
        self.params: CallbackParams | None = None  # what the callback reads: kept with the stream
        self._finished = False
        self._on_finished_hook = on_finished
        self._router: JackRouter | None = None
        try:
            self._jack_sources = parse_ports(spec.device)
        except JackRoutingError as exc:
            raise StreamError("no-device", device=spec.device) from exc
        sd = _sounddevice()
        with PORTAUDIO_LOCK:
            try:
                if self._jack_sources is not None:
                    device = find_jack_device(output=False)
                else:
                    device = find_input_device(spec.device)
            except AudioUnavailable as exc:
                raise StreamError("no-audio", error=str(exc)) from exc
            if device is None:
                raise StreamError("no-device", device=spec.device)
            self.device = device
            self.name = spec.device if self._jack_sources else device.name
            selection = spec.selection
            if (
                len(selection.channels) == 2
                and device.max_input_channels == 1
                and selection.channels == (0, 1)
            ):
                selection = ChannelSelection("pick", (0, 0))  # a mono device feeds both sides
            needed = selection.device_channels_needed(device.max_input_channels)
            if needed > device.max_input_channels:
                raise StreamError(
                    "too-few-channels",
                    device=device.name,
                    needed=needed,
                    available=device.max_input_channels,
                )
            try:
                sd.check_input_settings(
                    device=device.index,
                    channels=needed,
                    dtype="float32",
                    samplerate=spec.sample_rate,
                )
            except Exception as exc:
                raise StreamError(
                    "unsupported-rate",
                    device=device.name,
                    rate=spec.sample_rate,
                    supported=self._supported_rates(sd, device.index, needed),
                ) from exc
            self._ports_before: set[str] = set()
            if self._jack_sources is not None:
                try:  # PortAudio registers its JACK ports when the stream is opened
                    self._router = JackRouter()
                    self._ports_before = self._router.audio_inputs()
                except JackRoutingError as exc:
                    raise StreamError("open-failed", device=self.name, error=str(exc)) from exc
            picks = np.array(selection.channels or (0,), dtype=np.int64)
            mix = MIX_SUM if selection.mix == "sum" else MIX_PICK
            try:
                function = sd._ffi.cast("PaStreamCallback*", function_address())
                if spec.monitor:
                    output = find_output_device(spec.monitor)
                    if output is None:
                        raise StreamError("no-device", device=spec.monitor)
                    out_channels = min(2, output.max_output_channels)
                    self.params = CallbackParams(
                        ring, picks, mix, needed, out_channels, timing_capacity
                    )
                    self._stream = sd._StreamBase(
                        kind="duplex",
                        samplerate=spec.sample_rate,
                        blocksize=spec.block_size,
                        device=(device.index, output.index),
                        channels=(needed, out_channels),
                        dtype="float32",
                        latency="low",
                        callback=function,
                        finished_callback=self._on_finished,
                        userdata=sd._ffi.cast("void*", self.params.address),
                        wrap_callback=None,
                    )
                else:
                    self.params = CallbackParams(ring, picks, mix, needed, 0, timing_capacity)
                    self._stream = sd._StreamBase(
                        kind="input",
                        samplerate=spec.sample_rate,
                        blocksize=spec.block_size,
                        device=device.index,
                        channels=needed,
                        dtype="float32",
                        latency="low",
                        callback=function,
                        finished_callback=self._on_finished,
                        userdata=sd._ffi.cast("void*", self.params.address),
                        wrap_callback=None,
                    )
            except StreamError:
                raise
            except Exception as exc:
                raise StreamError("open-failed", device=device.name, error=str(exc)) from exc

    @staticmethod
    def _supported_rates(sd: Any, index: int, channels: int) -> tuple[int, ...]:
        ok = []
        for rate in SAMPLE_RATES:
            try:
                sd.check_input_settings(
                    device=index, channels=channels, dtype="float32", samplerate=rate
                )
                ok.append(rate)
            except Exception:
                continue
        return tuple(ok)

    def _on_finished(self) -> None:
        self._finished = True
        if self._on_finished_hook is not None:
            self._on_finished_hook()

    def start(self) -> None:
        with PORTAUDIO_LOCK:
            self._stream.start()
        if self._router is not None and self._jack_sources is not None:
            ours = sorted(self._router.audio_inputs() - self._ports_before)
            try:
                self._router.route(self._jack_sources, ours)
            except Exception as exc:
                self.stop()
                raise StreamError("open-failed", device=self.name, error=str(exc)) from exc
        log.info(
            "input stream started on %s at %d Hz, block %d",
            self.name,
            self.spec.sample_rate,
            self.spec.block_size,
        )

    def stop(self) -> None:
        if self._stream is None:
            return
        with PORTAUDIO_LOCK:
            try:
                self._stream.abort(ignore_errors=True)
                self._stream.close(ignore_errors=True)
            except Exception:
                log.exception("closing the input stream failed")
        self._stream = None
        if self._router is not None:
            try:
                self._router.close()
            except Exception:
                log.debug("closing the JACK router failed", exc_info=True)
            self._router = None

    def alive(self) -> bool:
        return self._stream is not None and not self._finished and bool(self._stream.active)

    @property
    def latency(self) -> float:
        """Input latency in seconds (a duplex stream reports (input, output))."""
        if self._stream is None:
            return 0.0
        latency = self._stream.latency
        return float(latency[0] if isinstance(latency, tuple) else latency)

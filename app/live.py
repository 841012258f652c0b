"""The live session service: turns settings into an engine config and messages into words.

Used by the Live view (through a display-rate timer) and by ``hookline listen``. No Qt here.
"""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING, Any

import numpy as np

from app.i18n import _
from app.settings import Settings
from audio.engine import EngineConfig, EngineEvent, LiveReading
from audio.live_music import MusicReading
from audio.stream import ChannelSelection, InputSpec, StreamError

if TYPE_CHECKING:
    from audio.engine import LiveEngine


def engine_config(
    settings: Settings,
    device: str | None = None,
    rate: int | None = None,
    block: int | None = None,
    channels: str | None = None,
    monitor: str | None = None,
) -> EngineConfig:
    """The engine configuration the settings (and any command-line overrides) ask for."""
    device = str(settings.get("audio.input_device")) if device is None else device
    if device.startswith("jack:") and channels is None:  # one analysed channel per JACK port
        channels = ",".join(str(i + 1) for i in range(len(device[5:].split(","))))
    spec = InputSpec(
        device=device,
        sample_rate=int(settings.get("audio.sample_rate")) if rate is None else rate,
        block_size=int(settings.get("audio.block_size")) if block is None else block,
        selection=ChannelSelection.parse(channels or str(settings.get("audio.channels"))),
        monitor=str(settings.get("audio.monitor_device")) if monitor is None else monitor,
    )
    return EngineConfig(input=spec, reference_a=float(settings.get("audio.reference_a")))


def describe_stream_error(error: StreamError) -> str:
    """A stream error in the user's language."""
    d = error.details
    rates = ", ".join(str(r) for r in d.get("supported", ()))
    messages = {
        "no-audio": _("Audio is unavailable on this computer ({error}).").format(
            error=d.get("error", "")
        ),
        "no-device": _("The audio input “{device}” was not found.").format(
            device=d.get("device", "")
        ),
        "too-few-channels": _(
            "“{device}” has {available} input channels; the selection needs {needed}."
        ).format(
            device=d.get("device", ""), available=d.get("available", 0), needed=d.get("needed", 0)
        ),
        "unsupported-rate": _(
            "{rate} Hz is not supported by “{device}”. It supports: {rates} Hz."
        ).format(
            rate=d.get("rate", 0),
            device=d.get("device", _("this device")),
            rates=rates or _("none of the usual rates"),
        ),
        "unsupported-block": _(
            "A block size of {block} frames is not possible; choose {minimum} to {maximum}."
        ).format(block=d.get("block", 0), minimum=d.get("minimum", 0), maximum=d.get("maximum", 0)),
        "open-failed": _("“{device}” could not be opened: {error}").format(
            device=d.get("device", ""), error=d.get("error", "")
        ),
    }
    return messages.get(error.reason, _("The audio input could not be opened."))


def describe_event(event: EngineEvent) -> str:
    if event.kind == "started":
        return _("Listening to {source}.").format(source=source_label(event.source))
    if event.kind == "device-lost":
        return _(
            "The audio input {source} stopped. Hookline will reconnect when it is back."
        ).format(source=source_label(event.source))
    if event.kind == "device-restored":
        return _("The audio input {source} is back.").format(source=source_label(event.source))
    if event.kind == "open-failed" and event.error is not None:
        return describe_stream_error(event.error)
    return _("The live analysis stopped.")


def source_label(name: str) -> str:
    return _("Demo input") if name == "demo" else name


def _finite(value: float, digits: int) -> float | None:
    return round(value, digits) if math.isfinite(value) else None


def reading_json(reading: LiveReading) -> dict[str, Any]:
    """One line of ``hookline listen --json``."""
    tuner = reading.tuner
    lv, loud = reading.levels, reading.loudness
    return {
        "t": round(reading.t, 3),
        "pitch_hz": _finite(reading.pitch_hz, 2) if tuner else None,
        "note": f"{tuner.note_name}{tuner.octave}" if tuner else None,
        "cents": _finite(tuner.cents, 1) if tuner else None,
        "confidence": round(reading.confidence, 3),
        "peak_dbfs": [_finite(v, 2) for v in lv.peak_dbfs],
        "rms_dbfs": [_finite(v, 2) for v in lv.rms_dbfs],
        "lufs_momentary": _finite(loud.momentary_lufs, 2),
        "lufs_short_term": _finite(loud.short_term_lufs, 2),
        "lufs_integrated": _finite(loud.integrated_lufs, 2),
        "true_peak_dbtp": _finite(loud.true_peak_dbtp, 2),
        "xruns": reading.xruns,
        "overflows": reading.overflows,
        **music_json(reading.music),
    }


def music_json(music: MusicReading | None) -> dict[str, Any]:
    """Key, chord and tempo fields of ``hookline listen --json`` (None when unknown)."""
    known = music is not None and music.key_tonic is not None
    tempo = music.tempo_bpm if music is not None else None
    return {
        "key": music.key if music is not None and known else None,
        "mode": music.key_mode if music is not None and known else None,
        "camelot": music.camelot if music is not None and known else None,
        "key_confidence": round(music.key_confidence, 3) if music is not None and known else None,
        "chord": music.chord if music is not None else None,
        "tempo_bpm": _finite(tempo, 2) if tempo is not None else None,
        "tempo_confidence": (
            round(music.tempo_confidence, 3) if music is not None and tempo is not None else None
        ),
    }


class LiveSession:
    """Owns the live engine for the GUI: start, stop, switch input, and poll for display.

    Main thread only. The view calls :meth:`poll` from a display-rate timer; nothing here blocks
    on the analysis worker.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine: LiveEngine | None = None
        self.messages: list[str] = []
        self._starter: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.engine is not None or self.starting

    def start(self, device: str | None = None) -> None:
        """Start (or restart) on the input the settings name, or on ``device``.

        Returns at once: importing the engine and building it happen on a helper thread, so the
        window stays responsive; :meth:`poll` shows the engine once it runs.
        """
        self.stop()
        config_args = {"device": device}
        starter = threading.Thread(
            target=self._start_engine, args=(config_args,), name="live-start", daemon=True
        )
        self._starter = starter
        starter.start()

    def _start_engine(self, config_args: dict[str, Any]) -> None:
        try:
            from audio.engine import LiveEngine

            engine = LiveEngine(engine_config(self.settings, **config_args))
            engine.start()
        except StreamError as exc:
            self.messages.append(describe_stream_error(exc))
            return
        except ValueError as exc:
            self.messages.append(
                _("The input settings are not valid: {error}").format(error=str(exc))
            )
            return
        if self._starter is threading.current_thread():
            self.engine = engine
        else:  # stopped or restarted meanwhile
            engine.stop()

    @property
    def starting(self) -> bool:
        return self._starter is not None and self._starter.is_alive()

    def stop(self) -> None:
        starter, self._starter = self._starter, None
        if starter is not None and starter.is_alive():
            starter.join(timeout=30)
        if self.engine is not None:
            self.engine.stop()
            self.engine = None

    def reset_loudness(self) -> None:
        if self.engine is not None:
            self.engine.reset_loudness()

    def set_reference_a(self, hz: float) -> None:
        """Change the reference pitch now and remember it in the settings."""
        self.settings.set("audio.reference_a", float(hz))
        self.settings.save()
        if self.engine is not None:
            self.engine.set_reference_a(float(hz))

    def poll(self) -> tuple[LiveReading | None, list[str], list[np.ndarray]]:
        """The newest reading, new status messages, and new spectrogram columns (oldest first)."""
        messages, self.messages = self.messages, []
        if self.engine is None:
            return None, messages, []
        messages.extend(describe_event(e) for e in self.engine.events.drain())
        return self.engine.latest(), messages, self.engine.spectrogram.drain()

    @property
    def column_seconds(self) -> float:
        """Seconds of audio per spectrogram column (one analysis hop), 0.0 while stopped."""
        engine = self.engine
        return engine.hop / engine.sample_rate if engine is not None else 0.0

    def music(self) -> MusicReading | None:
        """The newest key, chord, tempo and beat reading (never waits), or None."""
        return self.engine.music() if self.engine is not None else None

    @property
    def source_name(self) -> str:
        return self.engine.source_name if self.engine is not None else ""

    @property
    def device_ok(self) -> bool:
        return self.engine is not None and self.engine.device_ok

"""What audio devices PortAudio sees. Importing sounddevice initialises PortAudio, so this module
imports it lazily: a machine without libportaudio can still start the app on the demo input.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any


class AudioUnavailable(RuntimeError):
    """PortAudio could not be loaded or initialised."""


@dataclass(frozen=True)
class AudioDevice:
    index: int
    name: str
    host_api: str
    max_input_channels: int
    max_output_channels: int
    default_samplerate: float
    is_default_input: bool
    is_default_output: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _sounddevice() -> Any:
    try:
        import sounddevice
    except OSError as exc:  # libportaudio missing
        raise AudioUnavailable(str(exc)) from exc
    return sounddevice


def list_audio_devices() -> list[AudioDevice]:
    sd = _sounddevice()
    try:
        with PORTAUDIO_LOCK:
            devices = sd.query_devices()
            host_apis = sd.query_hostapis()
            default_in, default_out = sd.default.device
    except sd.PortAudioError as exc:
        raise AudioUnavailable(str(exc)) from exc
    result = []
    for index, info in enumerate(devices):
        result.append(
            AudioDevice(
                index=index,
                name=str(info["name"]),
                host_api=str(host_apis[info["hostapi"]]["name"]),
                max_input_channels=int(info["max_input_channels"]),
                max_output_channels=int(info["max_output_channels"]),
                default_samplerate=float(info["default_samplerate"]),
                is_default_input=index == default_in,
                is_default_output=index == default_out,
            )
        )
    return result


def has_input_device() -> bool:
    try:
        return any(d.max_input_channels > 0 for d in list_audio_devices())
    except AudioUnavailable:
        return False


# PortAudio's set-up calls (initialise, terminate, open, query) are not thread-safe; every caller
# outside the audio callback takes this lock. The callback itself never does.
PORTAUDIO_LOCK = threading.RLock()


def reinitialize() -> None:
    """Re-scan the host APIs (after a device or a JACK server appears or goes away).

    Only when no stream of this process is open: PortAudio closes them all.
    """
    sd = _sounddevice()
    with PORTAUDIO_LOCK:
        try:
            while sd._initialized > 0:
                sd._terminate()
            sd._initialize()
        except sd.PortAudioError as exc:
            raise AudioUnavailable(str(exc)) from exc


def terminate() -> None:
    """Shut PortAudio down (before a JACK server this process used goes away)."""
    sd = _sounddevice()
    with PORTAUDIO_LOCK:
        while sd._initialized > 0:
            sd._terminate()


def find_input_device(name_or_index: str | int | None) -> AudioDevice | None:
    """The input device a setting names: an index, an exact name, or a unique name fragment.

    ``None`` or "" is the system default input. Returns None when nothing matches.
    """
    return _find_device(name_or_index, output=False)


def find_output_device(name_or_index: str | int | None) -> AudioDevice | None:
    """Like :func:`find_input_device`, for devices that can play (the monitor output)."""
    return _find_device(name_or_index, output=True)


def find_jack_device(output: bool) -> AudioDevice | None:
    """PortAudio's JACK device that can play (``output``) or record, or None without JACK."""
    from audio.jack_ports import JACK_HOST_API

    channels = (lambda d: d.max_output_channels) if output else (lambda d: d.max_input_channels)
    return next(
        (d for d in list_audio_devices() if d.host_api == JACK_HOST_API and channels(d) > 0), None
    )


def _find_device(name_or_index: str | int | None, output: bool) -> AudioDevice | None:
    devices = [
        d
        for d in list_audio_devices()
        if (d.max_output_channels if output else d.max_input_channels) > 0
    ]
    if name_or_index in (None, ""):
        default = next(
            (d for d in devices if (d.is_default_output if output else d.is_default_input)), None
        )
        return default or (devices[0] if devices else None)
    if isinstance(name_or_index, int) or str(name_or_index).isdigit():
        index = int(name_or_index)
        return next((d for d in devices if d.index == index), None)
    exact = [d for d in devices if d.name == name_or_index]
    if exact:
        return exact[0]
    fragment = [d for d in devices if str(name_or_index).lower() in d.name.lower()]
    return fragment[0] if len(fragment) == 1 else None

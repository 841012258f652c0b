"""MIDI ports through mido's rtmidi back end, on the platform's usual MIDI system.

Linux desktops use ALSA; where the ALSA sequencer is missing (containers, JACK-only studios) we use
JACK MIDI. rtmidi does not fall back by itself, so the choice is made here, once.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Any

RTMIDI_APIS = {
    "alsa": "LINUX_ALSA",
    "jack": "UNIX_JACK",
    "coremidi": "MACOSX_CORE",
    "winmm": "WINDOWS_MM",
}


def resolve_midi_api(choice: str = "auto") -> str:
    """Turn a settings choice ("auto", "alsa", ...) into one of :data:`RTMIDI_APIS`' keys."""
    if choice in RTMIDI_APIS:
        return choice
    if sys.platform == "darwin":
        return "coremidi"
    if sys.platform.startswith("win"):
        return "winmm"
    return "alsa" if os.path.exists("/dev/snd/seq") else "jack"


def midi_backend(api: str) -> Any:
    import mido

    return mido.Backend(f"mido.backends.rtmidi/{RTMIDI_APIS[api]}", load=True)


@dataclass(frozen=True)
class MidiPorts:
    api: str
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    error: str | None = None


def list_midi_ports(choice: str = "auto") -> MidiPorts:
    api = resolve_midi_api(choice)
    try:
        backend = midi_backend(api)
        return MidiPorts(api, list(backend.get_input_names()), list(backend.get_output_names()))
    except Exception as exc:  # rtmidi raises plain SystemError/RuntimeError on a missing server
        return MidiPorts(api, error=f"{type(exc).__name__}: {exc}")

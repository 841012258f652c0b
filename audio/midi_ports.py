"""MIDI ports through mido's rtmidi back end, on the platform's usual MIDI system.

Linux desktops use ALSA; where the ALSA sequencer is missing (containers, JACK-only studios) we use
JACK MIDI. rtmidi does not fall back by itself, so the choice is made here, once.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
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


_quiet = False


def quiet_libjack() -> None:
    """Silence libjack's messages (for every JACK client in the process, rtmidi's too): without
    a server it prints several lines to stderr per connection attempt.

    The hook must not be Python: libjack calls it from its own threads, also while another
    thread holds the GIL inside a libjack call that waits for them (closing a client of a dead
    server), which deadlocks. So it is a C function that ignores its argument: libc's
    ``strlen`` (``void (*)(const char *)`` in libjack's eyes; the result is dropped).
    """
    global _quiet
    if _quiet:
        return
    _quiet = True
    libc = ctypes.CDLL(None)
    import rtmidi

    # python-rtmidi's wheel carries its own copy of libjack, with its own hooks; the system's
    # is the one JACK-Client uses.
    bundled = Path(rtmidi.__file__).resolve().parent.parent.glob("python_rtmidi*/libjack*.so*")
    for path in [*map(str, bundled), ctypes.util.find_library("jack")]:
        if not path:
            continue
        with contextlib.suppress(OSError, AttributeError):
            lib = ctypes.CDLL(path)
            for setter in (lib.jack_set_error_function, lib.jack_set_info_function):
                setter.argtypes = [ctypes.c_void_p]
                setter(ctypes.cast(libc.strlen, ctypes.c_void_p))


def midi_backend(api: str) -> Any:
    import mido

    if api == "jack":
        quiet_libjack()
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

"""What the views may ask about sound cards and MIDI ports.

Turns the device lists of ``audio/`` into plain data for combo boxes and status labels, so the
views stay free of PortAudio and rtmidi details and tests can swap these functions for fakes.
The device lists are re-scanned each time (the app's own process never holds a stream; see
``audio/capture.py``), so a device plugged in or a JACK server started later shows up.

Thread contract: main thread only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from audio import devices, midi_ports

log = logging.getLogger(__name__)

DEMO_INPUT = "demo"  # the value of ``audio.input_device`` that selects the built-in demo input


@dataclass(frozen=True)
class AudioInputs:
    """Names of devices that can record, plus the reason if PortAudio is unavailable."""

    names: list[str] = field(default_factory=list)
    default_name: str | None = None
    error: str | None = None
    output_names: list[str] = field(default_factory=list)  # devices that can play (monitor)


def audio_inputs() -> AudioInputs:
    try:
        devices.reinitialize()
        found = devices.list_audio_devices()
    except devices.AudioUnavailable as exc:
        log.warning("audio devices unavailable: %s", exc)
        return AudioInputs(error=str(exc))
    inputs = [d for d in found if d.max_input_channels > 0]
    default = next((d.name for d in inputs if d.is_default_input), None)
    outputs = [d.name for d in found if d.max_output_channels > 0]
    return AudioInputs([d.name for d in inputs], default, output_names=outputs)


def has_audio_input() -> bool:
    return devices.has_input_device()


def uses_demo_input(input_device: str) -> bool:
    """Whether the live pipeline will run from the demo source for this setting."""
    return input_device == DEMO_INPUT or not has_audio_input()


def list_midi(api_choice: str) -> midi_ports.MidiPorts:
    return midi_ports.list_midi_ports(api_choice)

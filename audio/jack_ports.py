"""Routing JACK ports into Hookline's input, so a DAW's output (or any JACK client) can be
analysed: ``--input jack:Ardour:master/audio_out 1,Ardour:master/audio_out 2``; and the
preview synth's output into named input ports (:mod:`audio.synth`).

PortAudio's JACK host connects a new stream to the physical capture ports; we take note of which
input ports the stream added, cut those connections and connect the requested ports instead.
Main/worker thread only (never the audio callback).
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

PREFIX = "jack:"
JACK_HOST_API = "JACK Audio Connection Kit"


class JackRoutingError(RuntimeError):
    pass


def parse_ports(device: str) -> list[str] | None:
    """The source ports a ``jack:`` device setting names, or None for other settings."""
    if not device.startswith(PREFIX):
        return None
    ports = [p.strip() for p in device[len(PREFIX) :].split(",") if p.strip()]
    if not ports or len(ports) > 2:
        raise JackRoutingError("name one or two JACK ports after 'jack:'")
    return ports


class JackRouter:
    """A small JACK client used only to look at and change connections."""

    def __init__(self, name: str = "hookline-router") -> None:
        try:
            import jack
        except (ImportError, OSError) as exc:
            raise JackRoutingError(f"JACK is not available: {exc}") from exc
        try:
            self._client: Any = jack.Client(name, no_start_server=True)
        except jack.JackError as exc:
            raise JackRoutingError(f"no JACK server is running: {exc}") from exc

    def audio_inputs(self) -> set[str]:
        return {p.name for p in self._client.get_ports(is_audio=True, is_input=True)}

    def route(self, sources: list[str], inputs: list[str]) -> None:
        """Feed ``sources[i]`` into ``inputs[i]``, replacing their other connections."""
        known = {p.name for p in self._client.get_ports(is_audio=True, is_output=True)}
        missing = [s for s in sources if s not in known]
        if missing:
            raise JackRoutingError(f"no such JACK output port: {', '.join(missing)}")
        for port in inputs:
            for other in self._client.get_all_connections(port):
                self._client.disconnect(other, port)
        for source, port in zip(sources, inputs, strict=False):
            self._client.connect(source, port)
            log.info("routed JACK port %s into %s", source, port)

    def audio_outputs(self) -> set[str]:
        return {p.name for p in self._client.get_ports(is_audio=True, is_output=True)}

    def route_out(self, outputs: list[str], targets: list[str]) -> None:
        """Feed ``outputs[i]`` (ours) into the input port ``targets[i]`` instead of wherever
        PortAudio connected it; with one target, only the first output is connected (the
        preview's channels carry the same signal)."""
        known = self.audio_inputs()
        missing = [t for t in targets if t not in known]
        if missing:
            raise JackRoutingError(f"no such JACK input port: {', '.join(missing)}")
        for port in outputs:
            for other in self._client.get_all_connections(port):
                self._client.disconnect(port, other)
        for port, target in zip(outputs, targets, strict=False):
            self._client.connect(port, target)
            log.info("routed JACK port %s into %s", port, target)

    def close(self) -> None:
        self._client.deactivate()
        self._client.close()

"""A JACK client in its own process that plays known signals from two output ports.

    python -m tests.support.player NAME

prints ``ready`` once its ports exist. Then each line on stdin is a command, answered with
``ok`` once the new signal plays (looped): ``sine FREQ [LEVEL_DBFS]``, ``vibrato FREQ``,
``pink RMS_DBFS``, ``ebu``, ``silence``. It exits when stdin closes.
"""

from __future__ import annotations

import sys

import jack
import numpy as np

from tests.support import signals


def make_signal(command: str, rate: int) -> np.ndarray:
    kind, *args = command.split()
    if kind == "sine":
        return signals.sine(float(args[0]), 4.0, rate, float(args[1]) if len(args) > 1 else -6.0)
    if kind == "vibrato":
        return signals.vibrato(float(args[0]), 4.0, rate)
    if kind == "pink":
        return signals.pink_noise(8.0, rate, float(args[0]))
    if kind == "ebu":
        return signals.ebu_tone(4.0, rate)
    if kind == "silence":
        return np.zeros((rate, 2), dtype=np.float32)
    raise ValueError(f"unknown signal {command!r}")


def _doubled(audio: np.ndarray) -> list[np.ndarray]:
    """Per channel, the loop written twice in a row (contiguous float32)."""
    return [np.ascontiguousarray(np.tile(audio[:, c], 2), dtype=np.float32) for c in range(2)]


def main(name: str) -> None:
    client = jack.Client(name, no_start_server=True)
    outs = [client.outports.register(f"out_{i + 1}") for i in range(2)]
    # (channels, position) swapped as one tuple, so the process thread never sees a mixed state.
    # Each channel holds the loop twice over, so a block is one slice copy: the callback
    # allocates nothing and stays short, which keeps this Python client from missing its cycle.
    playing = [(_doubled(np.zeros((client.samplerate, 2), dtype=np.float32)), 0)]

    @client.set_process_callback
    def process(frames: int) -> None:
        channels, start = playing[0]
        for port, channel in zip(outs, channels, strict=True):
            port.get_array()[:] = channel[start : start + frames]
        if playing[0][0] is channels:
            playing[0] = (channels, (start + frames) % (len(channels[0]) // 2))

    with client:
        print("ready", flush=True)
        for line in sys.stdin:
            if line.strip():
                playing[0] = (_doubled(make_signal(line, client.samplerate)), 0)
                print("ok", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])

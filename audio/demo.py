"""The built-in demo input: a generated piece of music played into the ring in real time.

With no audio device (or when the user picks it) the whole live pipeline runs from this source,
so a newcomer sees the tuner, meters and spectrum move at once. The loop is rendered once when
the source is built; the pacing thread then copies one block per block period through the same
kernel the PortAudio callback uses.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from audio.ring import MIX_PICK, FrameRing, ring_write

TEMPO_BPM = 96.0
# (beat, length in beats, MIDI note) — a short tune in A minor over i–VI–III–VII.
MELODY = [
    (0, 1, 69),
    (1, 1, 72),
    (2, 1.5, 76),
    (3.5, 0.5, 74),
    (4, 2, 72),
    (6, 2, 71),
    (8, 1, 72),
    (9, 1, 76),
    (10, 1.5, 79),
    (11.5, 0.5, 77),
    (12, 2, 76),
    (14, 2, 74),
]
CHORDS = [(0, [57, 60, 64]), (4, [53, 57, 60]), (8, [48, 52, 55]), (12, [55, 59, 62])]
LOOP_BEATS = 16


def midi_to_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69) / 12.0)


def _tone(freq: float, seconds: float, rate: int, harmonics: int, decay: float) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    wave = np.zeros_like(t)
    for h in range(1, harmonics + 1):
        if freq * h < rate / 2.2:
            wave += np.sin(2 * np.pi * freq * h * t) / h**1.3
    attack = np.minimum(1.0, t / 0.01)
    release = np.minimum(1.0, (seconds - t) / 0.05).clip(0.0)
    return wave * attack * release * np.exp(-t * decay)


def render_loop(rate: int, seed: int = 7) -> np.ndarray:
    """The demo loop as float32 stereo frames (about −18 LUFS)."""
    beat = 60.0 / TEMPO_BPM
    total = int(LOOP_BEATS * beat * rate)
    mix = np.zeros((total, 2))
    for start, length, note in MELODY:
        tone = _tone(midi_to_hz(note), length * beat, rate, harmonics=6, decay=0.8)
        i = int(start * beat * rate)
        mix[i : i + len(tone), 0] += 0.30 * tone
        mix[i : i + len(tone), 1] += 0.24 * tone
    for start, notes in CHORDS:
        for note in notes:
            tone = _tone(midi_to_hz(note), 4 * beat, rate, harmonics=3, decay=0.3)
            i = int(start * beat * rate)
            mix[i : i + len(tone), 0] += 0.07 * tone
            mix[i : i + len(tone), 1] += 0.09 * tone
        bass = _tone(midi_to_hz(notes[0] - 12), 4 * beat, rate, harmonics=4, decay=0.5)
        mix[i : i + len(bass)] += 0.18 * bass[:, None]
    rng = np.random.default_rng(seed)
    hat = rng.standard_normal(int(0.04 * rate)) * np.exp(
        -np.arange(int(0.04 * rate)) / (0.008 * rate)
    )
    hat = np.diff(hat, prepend=0.0)  # brighter
    for k in range(LOOP_BEATS * 2):
        i = int(k * beat / 2 * rate)
        mix[i : i + len(hat)] += 0.04 * hat[: total - i, None]
    mix *= 0.46  # to about −18 LUFS, a comfortable monitoring level
    return np.clip(mix, -1.0, 1.0).astype(np.float32)


class DemoInput:
    """Plays :func:`render_loop` into ``ring`` in real time, one block per block period."""

    name = "demo"

    def __init__(self, ring: FrameRing, sample_rate: int, block_size: int) -> None:
        self.ring = ring
        self.sample_rate = sample_rate
        self.block_size = block_size
        self._audio = render_loop(sample_rate)
        self._loop_frames = len(self._audio)
        self._wrap = np.zeros((block_size, 2), dtype=np.float32)  # a block across the loop end
        self._picks = np.arange(ring.channels, dtype=np.int64)
        self._running = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._running.set()
        self._thread = threading.Thread(target=self._run, name="demo-input", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._running.clear()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        period = self.block_size / self.sample_rate
        position = 0
        deadline = time.monotonic()
        buffer, state, picks = self.ring.buffer, self.ring.state, self._picks
        wake = self.ring.wake_fd
        audio, wrap, n = self._audio, self._wrap, self.block_size
        while self._running.is_set():
            end = position + n
            if end <= self._loop_frames:
                block = audio[position:end]
            else:  # the block crosses the loop's end: join its two pieces
                head = self._loop_frames - position
                wrap[:head] = audio[position:]
                wrap[head:] = audio[: n - head]
                block = wrap
            ring_write(buffer, block, state, picks, MIX_PICK, 0, wake)
            position = (position + self.block_size) % self._loop_frames
            deadline += period
            delay = deadline - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -0.5:  # the machine stalled: do not try to catch up a backlog
                deadline = time.monotonic()

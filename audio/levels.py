"""Peak and RMS level per channel, with peak hold. Worker thread only."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from audio import numba_runtime

SILENCE_DB = -120.0


@njit(nogil=True, cache=True)
def _block_stats(block, peaks, sums):
    """Per channel: max |x| into ``peaks`` and sum of x² into ``sums`` (both overwritten)."""
    for c in range(block.shape[1]):
        peak = 0.0
        acc = 0.0
        for i in range(block.shape[0]):
            v = block[i, c]
            if not math.isfinite(v):
                continue
            a = abs(v)
            if a > peak:
                peak = a
            acc += v * v
        peaks[c] = peak
        sums[c] = acc


def to_db(amplitude: float) -> float:
    return 20.0 * math.log10(amplitude) if amplitude > 1e-6 else SILENCE_DB


@dataclass(frozen=True, slots=True)
class LevelReading:
    """Levels in dBFS, one value per analysed channel."""

    peak_dbfs: tuple[float, ...]
    rms_dbfs: tuple[float, ...]
    peak_hold_dbfs: tuple[float, ...]


class LevelMeter:
    """Peak of the newest block, RMS over a sliding window (about 300 ms, whole blocks), and a
    held peak that falls back after ``hold_seconds``. The engine feeds blocks of ``block_frames``.
    """

    def __init__(
        self,
        sample_rate: int,
        channels: int,
        block_frames: int,
        rms_seconds: float = 0.3,
        hold_seconds: float = 1.5,
    ) -> None:
        self.sample_rate = sample_rate
        self.channels = channels
        slots = max(1, round(rms_seconds * sample_rate / block_frames))
        self._sums = np.zeros((slots, channels))
        self._frames = np.zeros(slots)
        self._slot = 0
        self._peaks = np.zeros(channels)
        self._rms = np.zeros(channels)
        self._hold = np.zeros(channels)
        self._hold_age = np.zeros(channels)
        self._hold_frames = int(hold_seconds * sample_rate)

    def process(self, block: np.ndarray) -> None:
        n = block.shape[0]
        if n == 0:
            return
        slot = self._slot
        _block_stats(block, self._peaks, self._sums[slot])
        self._frames[slot] = n
        self._slot = (slot + 1) % self._frames.shape[0]
        np.sqrt(self._sums.sum(axis=0) / self._frames.sum(), out=self._rms)
        self._hold_age += n
        renew = (self._peaks >= self._hold) | (self._hold_age > self._hold_frames)
        self._hold[renew] = self._peaks[renew]
        self._hold_age[renew] = 0

    def reset(self) -> None:
        for array in (self._sums, self._frames, self._peaks, self._rms, self._hold, self._hold_age):
            array[...] = 0.0

    def reading(self) -> LevelReading:
        return LevelReading(
            peak_dbfs=tuple(to_db(float(v)) for v in self._peaks),
            rms_dbfs=tuple(to_db(float(v)) for v in self._rms),
            peak_hold_dbfs=tuple(to_db(float(v)) for v in self._hold),
        )


def warm_up() -> None:
    numba_runtime.prepare()
    _block_stats(np.zeros((4, 1), dtype=np.float32), np.zeros(1), np.zeros(1))

"""Spectrum on a log-frequency axis, with peak hold, and spectrogram columns. Worker thread only."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from audio import numba_runtime

FLOOR_DB = -120.0


@njit(nogil=True, cache=True)
def _to_bands(power, edges, out):
    """Max power of the FFT bins inside each band; bands narrower than a bin read the bin."""
    for b in range(out.shape[0]):
        lo = edges[b]
        hi = edges[b + 1]
        if hi <= lo:
            hi = lo + 1
        best = 0.0
        for k in range(lo, hi):
            if power[k] > best:
                best = power[k]
        out[b] = 10.0 * np.log10(best + 1e-14)
        if out[b] < FLOOR_DB:
            out[b] = FLOOR_DB


@dataclass(frozen=True, slots=True)
class SpectrumReading:
    """Band centre frequencies (Hz) and levels (dBFS, a full-scale sine reads about 0 dB)."""

    frequencies: np.ndarray
    level_db: np.ndarray
    peak_hold_db: np.ndarray


class SpectrumAnalyzer:
    """Hann-windowed FFT of the newest ``fft_size`` samples, mapped onto ``bands`` log bands."""

    def __init__(
        self,
        sample_rate: int,
        fft_size: int = 4096,
        bands: int = 256,
        fmin: float = 20.0,
        fmax: float = 20000.0,
        hold_seconds: float = 1.0,
        fall_db_per_second: float = 20.0,
    ) -> None:
        self.sample_rate = sample_rate
        self.fft_size = fft_size
        fmax = min(fmax, sample_rate / 2.0)
        edges_hz = np.geomspace(fmin, fmax, bands + 1)
        self.edges = np.clip(np.round(edges_hz * fft_size / sample_rate), 0, fft_size // 2).astype(
            np.int64
        )
        self.frequencies = np.sqrt(edges_hz[:-1] * edges_hz[1:])
        self.frequencies.setflags(write=False)
        self._window = np.hanning(fft_size).astype(np.float64)
        # Scale so a full-scale sine reads 0 dB: amplitude sum(w)/2 in its bin.
        self._scale = 2.0 / self._window.sum()
        self._windowed = np.zeros(fft_size)
        self._power = np.zeros(fft_size // 2 + 1)
        self._levels = np.full(bands, FLOOR_DB)
        self._hold = np.full(bands, FLOOR_DB)
        self._hold_age = np.zeros(bands)
        self._hold_seconds = hold_seconds
        self._fall = fall_db_per_second

    def process(self, newest: np.ndarray, elapsed_seconds: float) -> SpectrumReading:
        """Analyse ``newest`` (the last ``fft_size`` mono samples)."""
        np.multiply(newest[-self.fft_size :], self._window, out=self._windowed)
        spectrum = np.fft.rfft(self._windowed)
        np.multiply(spectrum.real, spectrum.real, out=self._power)
        self._power += spectrum.imag * spectrum.imag
        self._power *= self._scale * self._scale
        _to_bands(self._power, self.edges, self._levels)
        self._hold_age += elapsed_seconds
        falling = self._hold_age > self._hold_seconds
        self._hold[falling] -= self._fall * elapsed_seconds
        renew = self._levels >= self._hold
        self._hold[renew] = self._levels[renew]
        self._hold_age[renew] = 0.0
        np.maximum(self._hold, FLOOR_DB, out=self._hold)
        levels = self._levels.copy()
        hold = self._hold.copy()
        levels.setflags(write=False)
        hold.setflags(write=False)
        return SpectrumReading(self.frequencies, levels, hold)

    def reset(self) -> None:
        self._hold[:] = FLOOR_DB
        self._hold_age[:] = 0.0


def warm_up() -> None:
    numba_runtime.prepare()
    _to_bands(np.zeros(16), np.arange(5, dtype=np.int64), np.zeros(4))

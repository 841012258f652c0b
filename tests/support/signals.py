"""Known test signals (pure numpy, float32 stereo frames)."""

from __future__ import annotations

import numpy as np


def db_to_amplitude(db: float) -> float:
    return float(10.0 ** (db / 20.0))


def sine(freq: float, seconds: float, rate: int, level_dbfs: float = -6.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    x = db_to_amplitude(level_dbfs) * np.sin(2 * np.pi * freq * t)
    return np.stack([x, x], axis=1).astype(np.float32)


def vibrato(
    freq: float,
    seconds: float,
    rate: int,
    depth_cents: float = 30.0,
    vibrato_hz: float = 5.5,
    level_dbfs: float = -6.0,
) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    inst = freq * 2.0 ** (depth_cents / 1200.0 * np.sin(2 * np.pi * vibrato_hz * t))
    phase = 2 * np.pi * np.cumsum(inst) / rate
    x = db_to_amplitude(level_dbfs) * np.sin(phase)
    return np.stack([x, x], axis=1).astype(np.float32)


def pink_noise(seconds: float, rate: int, rms_dbfs: float = -20.0, seed: int = 3) -> np.ndarray:
    n = int(seconds * rate)
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal((2, n)), axis=1)
    f = np.fft.rfftfreq(n, 1.0 / rate)
    f[0] = f[1]
    spectrum /= np.sqrt(f)
    x = np.fft.irfft(spectrum, n, axis=1).T
    x *= db_to_amplitude(rms_dbfs) / np.sqrt(np.mean(x**2))
    return x.astype(np.float32)


def ebu_tone(seconds: float, rate: int) -> np.ndarray:
    """EBU Tech 3341 case 1: a 1 kHz sine at −23 dBFS (peak) in both channels: −23.0 LUFS."""
    return sine(1000.0, seconds, rate, level_dbfs=-23.0)

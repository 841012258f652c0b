"""The real FFT the analysis kernels share, from SciPy when it is worth its memory.

``scipy.fft`` is 5–10× faster than ``numpy.fft`` on float32 frames here (pocketfft with SIMD
and worker threads), but importing it brings ``scipy.special`` along: about 15 MB that a
window which only listens live never needs. So :func:`rfft` uses NumPy until
:func:`use_scipy` is called — by whole-track analysis, where speed matters — and SciPy from
then on. Results agree to float32 rounding either way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_scipy_fft: Any = None


def use_scipy() -> None:
    """Switch this process to ``scipy.fft`` (imports it once)."""
    global _scipy_fft
    if _scipy_fft is None:
        import scipy.fft

        _scipy_fft = scipy.fft


def rfft(x: np.ndarray, axis: int = -1, threads: int = -1) -> np.ndarray:
    """Real FFT along ``axis``; ``threads`` workers with SciPy (-1: all cores)."""
    if _scipy_fft is not None:
        return np.asarray(_scipy_fft.rfft(x, axis=axis, workers=threads))
    return np.fft.rfft(x, axis=axis)

"""Reading audio files in blocks, so an hour-long file never sits in memory whole.

soundfile (libsndfile 1.2) reads WAV, FLAC, OGG/Vorbis, MP3, AIFF and more; the container is
recognised from the file's contents, not its name, so a mislabelled extension still reads.
Every failure is an :class:`AudioFileError` with a ``problem`` code (no sentences here: the app
translates) and the library's own detail.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numba import njit

BLOCK_FRAMES = 1 << 16
MAX_CHANNELS = 64
MAX_SECONDS = 6 * 3600  # longer files are refused, not read for an hour


def rms(x: np.ndarray, chunk: int = 1 << 20) -> float:
    """RMS in float64 a chunk at a time: no full-length temporary for a long signal (NaN or inf
    when a sample is not finite)."""
    if len(x) == 0:
        return 0.0
    total = 0.0
    for i in range(0, len(x), chunk):
        part = x[i : i + chunk].astype(np.float64)
        total += float(part @ part)
    return float(np.sqrt(total / len(x)))


class AudioFileError(Exception):
    """``problem``: "missing", "unreadable", "not_audio", "empty", "too_long", "too_many_channels"
    or "damaged"; ``detail``: what the library said."""

    def __init__(self, path: Path, problem: str, detail: str = "") -> None:
        super().__init__(f"{path}: {problem}{': ' + detail if detail else ''}")
        self.path = path
        self.problem = problem
        self.detail = detail


@dataclass(frozen=True)
class AudioInfo:
    path: Path
    sample_rate: int
    channels: int
    frames: int
    format: str

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate


def warm_up() -> None:
    """Compile (or load) the decimation kernel."""
    from audio import numba_runtime

    numba_runtime.prepare()
    MonoDecimator(44_100).add(np.zeros((256, 2), dtype=np.float32))


def open_info(path: Path) -> AudioInfo:
    """What the file holds, checked against the limits; raises :class:`AudioFileError`."""
    import soundfile as sf

    path = Path(path)
    if not path.exists():
        raise AudioFileError(path, "missing")
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioFileError(path, "not_audio", str(exc)) from exc
    except OSError as exc:
        raise AudioFileError(path, "unreadable", exc.strerror or str(exc)) from exc
    if info.frames <= 0 or info.samplerate <= 0:
        raise AudioFileError(path, "empty")
    if info.channels > MAX_CHANNELS:
        raise AudioFileError(path, "too_many_channels", str(info.channels))
    if info.frames / info.samplerate > MAX_SECONDS:
        raise AudioFileError(path, "too_long", f"{info.frames / info.samplerate:.0f} s")
    return AudioInfo(path, int(info.samplerate), int(info.channels), int(info.frames), info.format)


def blocks(info: AudioInfo, frames: int = BLOCK_FRAMES) -> Iterator[np.ndarray]:
    """The file as float32 blocks of shape (frames, channels), in order."""
    import soundfile as sf

    try:
        with sf.SoundFile(str(info.path)) as f:
            while True:
                block = f.read(frames, dtype="float32", always_2d=True)
                if len(block) == 0:
                    return
                if not np.all(np.isfinite(block)):
                    block = np.nan_to_num(block, nan=0.0, posinf=1.0, neginf=-1.0)
                yield block
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioFileError(info.path, "damaged", str(exc)) from exc
    except OSError as exc:
        raise AudioFileError(info.path, "unreadable", exc.strerror or str(exc)) from exc


ANALYSIS_RATE = 11_025  # whole-track analysis runs near this rate (the kernels need ≤ 5 kHz)


@njit(nogil=True, cache=True)
def _fir_decimate(x, taps, factor, history, phase, out):  # pragma: no cover - compiled
    """Low-pass and keep every ``factor``-th sample of ``x``, carrying state between calls.

    ``history`` holds the last ``len(taps) - 1`` input samples before ``x`` (updated here);
    ``phase`` is the index in ``x`` of the next kept sample. Returns (kept count, next phase).
    """
    n_taps = taps.shape[0]
    keep = history.shape[0]
    n = x.shape[0]
    count = 0
    i = phase
    while i < n:
        acc = 0.0
        for j in range(n_taps):
            k = i - j
            acc += taps[j] * (x[k] if k >= 0 else history[keep + k])
        out[count] = acc
        count += 1
        i += factor
    if n >= keep:
        for j in range(keep):
            history[j] = x[n - keep + j]
    else:
        for j in range(keep - n):
            history[j] = history[j + n]
        for j in range(n):
            history[keep - n + j] = x[j]
    return count, i - n


class MonoDecimator:
    """Down-mixes blocks to mono and decimates them by an integer factor as they stream by, so
    the analysis rate is a whole ``source_rate / factor`` close to :data:`ANALYSIS_RATE` (44.1
    and 88.2 kHz → 11,025 Hz, 48, 96 and 192 kHz → 12 kHz; 8 kHz stays). The anti-alias
    low-pass is a Kaiser-windowed FIR (cut-off at 90 % of the new Nyquist frequency) computed
    only at the kept samples, with its state carried across blocks: block edges leave no trace.
    """

    def __init__(
        self, source_rate: int, target_rate: int = ANALYSIS_RATE, frames: int | None = None
    ) -> None:
        """``frames``: the source's length when known, so the output is allocated once."""
        from scipy import signal

        divisors = [f for f in range(1, max(1, source_rate // 8000) + 1) if source_rate % f == 0]
        self.factor = min(divisors, key=lambda f: abs(source_rate / f - target_rate))
        self.rate = source_rate // self.factor  # a whole number of hertz
        n_taps = 12 * self.factor + 1
        self._taps = signal.firwin(n_taps, 0.9 / self.factor, window=("kaiser", 8.0))
        self._history = np.zeros(n_taps - 1)
        self._phase = 0
        capacity = -(-frames // self.factor) + 1 if frames else 1 << 16
        self._out = np.zeros(capacity, dtype=np.float32)
        self._used = 0
        self._scratch = np.zeros(0)

    def add(self, block: np.ndarray) -> None:
        mono = block.mean(axis=1, dtype=np.float32) if block.ndim == 2 else block
        if self.factor == 1:
            kept: np.ndarray = np.asarray(mono, dtype=np.float32)
        else:
            most = len(mono) // self.factor + 1
            if len(self._scratch) < most:
                self._scratch = np.zeros(most)
            count, self._phase = _fir_decimate(
                np.asarray(mono, dtype=np.float64),
                self._taps,
                self.factor,
                self._history,
                self._phase,
                self._scratch,
            )
            kept = self._scratch[:count]
        end = self._used + len(kept)
        if end > len(self._out):  # a file longer than it said: grow geometrically
            grown = np.zeros(max(end, 2 * len(self._out)), dtype=np.float32)
            grown[: self._used] = self._out[: self._used]
            self._out = grown
        self._out[self._used : end] = kept
        self._used = end

    def result(self) -> np.ndarray:
        """Everything added so far, mono at :attr:`rate` (a view, not a copy)."""
        return self._out[: self._used]

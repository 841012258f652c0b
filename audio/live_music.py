"""Key, chord, tempo and beat phase of the live input. No Qt, no app imports.

Threads:

* the engine's ``analysis-worker`` calls :meth:`LiveMusic.feed` once per hop with the mono
  downmix of the analysed channels. :func:`_decimate_into_ring` (a ``nogil`` kernel) low-passes
  and decimates it to :attr:`LiveMusic.rate` (about 12 kHz at 48 kHz) into a preallocated ring of
  the last :data:`RING_SECONDS`. Every :data:`INTERVAL_S` of stream time, if the music thread is
  idle, the newest window is copied (oldest first) into a preallocated work buffer and the
  thread is woken; when it is still busy the turn is skipped and counted. Nothing else happens
  per hop: no allocation beyond the kernel's call, no waiting.
* ``live-music`` (a plain daemon thread) runs the heavy part on its copy:

  - **tempo and beats**: :func:`audio.tempo.analyze_rhythm` over the last :data:`TEMPO_SECONDS`;
    successive estimates that agree within 4 % are smoothed; the beat period and the time of the
    last tracked beat give the beat phase, so a display can flash on *predicted* beats;
  - **chroma**: :func:`audio.chroma.analyse` on just the new audio (plus one analysis window of
    context) at 10 frames per second; only frames whose window lies wholly in the copy count,
    each exactly once;
  - **key**: the chroma frames accumulate into a profile that decays with a time constant of
    :data:`KEY_DECAY_S`, so the key settles within ~15–30 s and follows a modulation slowly;
    :func:`audio.key_audio.key_from_chroma_profile` names it;
  - **chord**: :func:`audio.chords_audio.chord_timeline` over the newest
    :data:`CHORD_FRAMES` frames; the chord is the last span's.

  It publishes an immutable :class:`MusicReading` into a :class:`~audio.results.LatestValue`.

While the input is quiet (the last second's RMS below :data:`SILENCE_DBFS`) readings carry
``None`` and confidence 0; after :data:`FORGET_AFTER_S` of quiet the key profile and tempo history
are forgotten, so the next song starts afresh.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass

import numpy as np
from numba import njit

from audio import chords_audio, numba_runtime, tempo
from audio import chroma as chroma_mod
from audio.key_audio import PITCH_NAMES, camelot, key_from_chroma_profile
from audio.results import LatestValue

log = logging.getLogger(__name__)

TARGET_RATE = 11025.0  # decimate to the largest integer factor that stays at or above this
RING_SECONDS = 12.0
INTERVAL_S = 0.5  # stream time between analyses
TEMPO_SECONDS = 9.0
MIN_TEMPO_SECONDS = 4.0  # less sounding audio than this: no tempo yet
CHROMA_HOP_S = 0.1
CHORD_FRAMES = 7  # ~0.7 s of chroma frames name the current chord
KEY_DECAY_S = 20.0  # time constant of the key profile
MIN_KEY_FRAMES = 20  # ~2 s of sounding chroma before a key is named
SILENCE_DBFS = -55.0  # RMS of the last second below this reads as silence
FORGET_AFTER_S = 10.0
TEMPO_AGREE = 0.04  # successive estimates this close are smoothed, not replaced
TEMPO_SMOOTHING = 0.3  # share of a new agreeing estimate
OCTAVE_PATIENCE = 8  # analyses (4 s) a new metrical level must last before it is shown
N_TAPS_PER_FACTOR = 8


@dataclass(frozen=True, slots=True)
class MusicReading:
    """Key, chord, tempo and beat phase as of stream time ``t`` (seconds of audio fed).

    Unknown values are ``None`` (and their confidence 0). ``beat_s`` is the stream time of the
    last tracked beat, ``beat_clock`` the same instant on :func:`time.perf_counter`'s clock
    (for a display that predicts the next beats: ``beat_clock + k * beat_period_s``).
    """

    t: float
    tempo_bpm: float | None
    tempo_confidence: float
    key_tonic: int | None  # pitch class, 0 = C
    key_mode: str | None  # "major" / "minor"
    key_confidence: float
    camelot: str | None
    chord: str | None  # "A", "F#m", "E7"... as in audio.chords_audio
    beat_s: float | None
    beat_period_s: float | None
    beat_clock: float | None
    published_at: float

    @property
    def key(self) -> str | None:
        """The tonic's name ("A", "F#", "Bb"), or None."""
        return None if self.key_tonic is None else PITCH_NAMES[self.key_tonic]

    @property
    def key_name(self) -> str | None:
        """Like ``"A major"``, or None."""
        return None if self.key_tonic is None else f"{self.key} {self.key_mode}"

    @property
    def silent(self) -> bool:
        return self.tempo_bpm is None and self.key_tonic is None and self.chord is None


def _silent_reading(t: float) -> MusicReading:
    return MusicReading(t, None, 0.0, None, None, 0.0, None, None, None, None, None,
                        time.perf_counter())  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Kernel (worker thread, once per hop)


@njit(nogil=True, cache=True)
def _decimate_into_ring(x, taps, factor, history, state, ring):
    """Low-pass ``x`` with ``taps`` and keep every ``factor``-th output, written into ``ring``.

    ``history`` (len(taps)) is the filter's circular delay line; ``state`` is int64
    ``[history position, phase, samples written to the ring in total]``. Returns the number of
    samples written.
    """
    n_taps = taps.shape[0]
    size = ring.shape[0]
    pos = state[0]
    phase = state[1]
    written = state[2]
    out = 0
    for i in range(x.shape[0]):
        history[pos] = x[i]
        phase += 1
        if phase >= factor:
            phase = 0
            acc = np.float32(0.0)
            k = pos
            for j in range(n_taps):
                acc += taps[j] * history[k]
                k -= 1
                if k < 0:
                    k = n_taps - 1
            ring[written % size] = acc
            written += 1
            out += 1
        pos += 1
        if pos >= n_taps:
            pos = 0
    state[0] = pos
    state[1] = phase
    state[2] = written
    return out


def _lowpass_taps(factor: int) -> np.ndarray:
    if factor <= 1:
        return np.ones(1, dtype=np.float32)
    n_taps = N_TAPS_PER_FACTOR * factor + 1
    t = np.arange(n_taps) - n_taps // 2
    cutoff = 0.9 / factor
    taps = cutoff * np.sinc(cutoff * t) * np.blackman(n_taps)
    return (taps / taps.sum()).astype(np.float32)


class LiveMusic:
    """Live key, chord, tempo and beat phase (see the module notes).

    ``threaded=False`` runs each analysis inline in :meth:`feed` (tests, offline use).
    """

    def __init__(
        self,
        sample_rate: int,
        slot: LatestValue[MusicReading] | None = None,
        threaded: bool = True,
    ) -> None:
        self.sample_rate = int(sample_rate)
        self.factor = max(1, int(self.sample_rate // TARGET_RATE))
        self.rate = self.sample_rate / self.factor
        self.slot: LatestValue[MusicReading] = slot if slot is not None else LatestValue()
        self._taps = _lowpass_taps(self.factor)
        self._history = np.zeros(self._taps.shape[0], dtype=np.float32)
        self._state = np.zeros(3, dtype=np.int64)
        self._ring = np.zeros(int(RING_SECONDS * self.rate), dtype=np.float32)
        self._work = np.zeros_like(self._ring)
        self._interval = max(1, round(INTERVAL_S * self.rate))
        self._next_due = self._interval
        self.skipped = 0  # turns dropped because the music thread was still busy
        self.analyses = 0
        self.last_analysis_s = 0.0  # wall seconds the last analysis took
        # Handed to the music thread with the work buffer (written only while it is idle).
        self._job_written = 0
        self._job_clock = 0.0
        # Analysis state (music thread only).
        self._chroma_hop = max(1, round(CHROMA_HOP_S * self.rate))
        self._chroma_half = chroma_mod._plan(round(self.rate)).n_fft // 2
        self._chroma_done = 0  # stream index of the next chroma frame to take
        self._recent = np.zeros((CHORD_FRAMES, 12), dtype=np.float64)
        self._recent_count = 0
        self._profile = np.zeros(12)
        self._profile_frames = 0
        self._key_decay = math.exp(-CHROMA_HOP_S / KEY_DECAY_S)
        self._bpm: float | None = None
        self._octave_votes = 0
        self._quiet_since: float | None = None
        self._threaded = threaded
        self._idle = threading.Event()
        self._idle.set()
        self._wake = threading.Event()
        self._closing = False
        self._thread: threading.Thread | None = None
        if threaded:
            self._thread = threading.Thread(target=self._loop, name="live-music", daemon=True)
            self._thread.start()

    # ---- feeding (worker thread) ----
    def feed(self, mono: np.ndarray) -> None:
        """Take one block of mono float32 samples at :attr:`sample_rate`."""
        _decimate_into_ring(mono, self._taps, self.factor, self._history, self._state, self._ring)
        written = int(self._state[2])
        if written < self._next_due:
            return
        self._next_due = written + self._interval
        if not self._idle.is_set():
            self.skipped += 1
            return
        self._copy_window(written)
        self._job_written = written
        self._job_clock = time.perf_counter()
        if self._threaded:
            self._idle.clear()
            self._wake.set()
        else:
            self._analyse_job()

    def _copy_window(self, written: int) -> None:
        size = self._ring.shape[0]
        start = written % size
        if written < size:  # not yet wrapped: zeros first, then what was written
            self._work[: size - written] = 0.0
            self._work[size - written :] = self._ring[:written]
        else:
            self._work[: size - start] = self._ring[start:]
            self._work[size - start :] = self._ring[:start]

    def latest(self) -> MusicReading | None:
        return self.slot.get()

    def close(self) -> None:
        self._closing = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    # ---- analysis (music thread) ----
    def _loop(self) -> None:
        # NumPy's FFT (see audio/fft.py): single-threaded, and no scipy.special in the window's
        # memory for a window of a few seconds every half second.
        self._serve()

    def _serve(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._closing:
                return
            try:
                self._analyse_job()
            except Exception:
                log.exception("the live music analysis failed")
            finally:
                self._idle.set()

    def _analyse_job(self) -> None:
        started = time.perf_counter()
        self.slot.set(self.analyse(self._work, self._job_written, self._job_clock))
        self.analyses += 1
        self.last_analysis_s = time.perf_counter() - started

    def analyse(self, window: np.ndarray, written: int, clock: float) -> MusicReading:
        """One analysis of ``window`` (the last samples at :attr:`rate`, oldest first; its last
        sample is number ``written`` of the stream, fed at ``clock``)."""
        rate = self.rate
        t = written / rate
        available = min(written, window.shape[0])
        second = window[-min(available, round(rate)) :] if available else window[:0]
        rms = float(np.sqrt(np.mean(np.square(second, dtype=np.float64)))) if len(second) else 0.0
        if rms <= 10.0 ** (SILENCE_DBFS / 20.0):
            if self._quiet_since is None:
                self._quiet_since = t
            if t - self._quiet_since >= FORGET_AFTER_S:
                self._forget()
            # the chroma frames of the quiet stretch are skipped, not added to the key profile
            self._chroma_done = max(self._chroma_done, written // self._chroma_hop)
            self._recent_count = 0
            return _silent_reading(t)
        self._quiet_since = None

        self._update_chroma(window, written)
        chord = self._chord()
        key_tonic: int | None = None
        key_mode: str | None = None
        key_confidence = 0.0
        code: str | None = None
        if self._profile_frames >= MIN_KEY_FRAMES:
            tonic, mode, key_confidence = key_from_chroma_profile(self._profile)
            if key_confidence > 0.0:
                key_tonic, key_mode, code = tonic, str(mode), camelot(tonic, mode)

        bpm: float | None = None
        confidence = 0.0
        beat_s = period = beat_clock = None
        span = min(available, round(TEMPO_SECONDS * rate))
        if span >= MIN_TEMPO_SECONDS * rate:
            segment = window[-span:]
            rhythm = tempo.analyze_rhythm(segment, round(rate))
            if rhythm.bpm > 0.0:
                bpm = self._smooth_bpm(rhythm.bpm)
                confidence = float(rhythm.confidence)
                period = 60.0 / bpm
                if len(rhythm.beats_s):
                    beat_s = t - span / rate + float(rhythm.beats_s[-1])
                    beat_clock = clock - (t - beat_s)
        if bpm is None:
            self._bpm = None
        return MusicReading(
            t=t,
            tempo_bpm=bpm,
            tempo_confidence=confidence,
            key_tonic=key_tonic,
            key_mode=key_mode,
            key_confidence=float(key_confidence),
            camelot=code,
            chord=chord,
            beat_s=beat_s,
            beat_period_s=period,
            beat_clock=beat_clock,
            published_at=time.perf_counter(),
        )

    def _forget(self) -> None:
        self._profile[:] = 0.0
        self._profile_frames = 0
        self._bpm = None
        self._recent_count = 0

    def _smooth_bpm(self, bpm: float) -> float:
        """Smooth agreeing estimates; hold the metrical level (a jump to half, double or a
        third of the tempo) until the new level has persisted for :data:`OCTAVE_PATIENCE`
        analyses, so the readout does not flip between 48 and 96 BPM."""
        previous = self._bpm
        if previous is None:
            self._bpm, self._octave_votes = bpm, 0
            return bpm
        for ratio in (1.0, 2.0, 0.5, 3.0, 1.0 / 3.0):
            if abs(math.log(bpm * ratio / previous)) < math.log1p(TEMPO_AGREE):
                if ratio != 1.0:
                    self._octave_votes += 1
                    if self._octave_votes < OCTAVE_PATIENCE:
                        bpm *= ratio  # read it at the level already shown
                    else:
                        self._bpm, self._octave_votes = bpm, 0
                        return bpm
                else:
                    self._octave_votes = 0
                bpm = previous + TEMPO_SMOOTHING * (bpm - previous)
                self._bpm = bpm
                return bpm
        self._bpm, self._octave_votes = bpm, 0  # a new tempo
        return bpm

    def _update_chroma(self, window: np.ndarray, written: int) -> None:
        """Chroma of the frames not seen yet whose whole window lies in ``window``.

        Frame ``g`` of the stream is centred on decimated sample ``g * hop``; it is complete once
        ``g * hop + half`` samples have arrived. The segment analysed starts on that grid, so its
        frame ``i`` is the stream's frame ``g0 + i``."""
        hop, size = self._chroma_hop, window.shape[0]
        half = self._chroma_half
        begin = written - size  # stream index of window[0] (negative before the ring filled)
        last = (written - half) // hop
        oldest = -(-(begin + half) // hop)
        first = max(self._chroma_done, oldest, 0)
        if last < first:
            return
        g0 = max(first - (-(-half // hop)), -(-begin // hop))
        segment = window[g0 * hop - begin :]
        analysis = chroma_mod.analyse(segment, round(self.rate), CHROMA_HOP_S)
        for i in range(analysis.chroma.shape[0]):
            g = g0 + i
            if g < first or g > last:
                continue
            frame = analysis.chroma[i].astype(np.float64)
            self._profile *= self._key_decay
            if frame.any():
                self._profile += frame
                self._profile_frames += 1
            self._recent[:-1] = self._recent[1:]
            self._recent[-1] = frame
            self._recent_count = min(self._recent_count + 1, CHORD_FRAMES)
        self._chroma_done = last + 1

    def _chord(self) -> str | None:
        n = self._recent_count
        if n < 2:
            return None
        spans = chords_audio.chord_timeline(self._recent[-n:], 1.0 / CHROMA_HOP_S)
        if not spans or spans[-1].name == "N":
            return None
        return spans[-1].name


def warm_up() -> float:
    """Compile or load every kernel the live music analysis uses; returns the seconds taken."""
    started = time.perf_counter()
    numba_runtime.prepare()
    ring = np.zeros(64, dtype=np.float32)
    _decimate_into_ring(
        np.zeros(16, dtype=np.float32),
        _lowpass_taps(4),
        4,
        np.zeros(33, dtype=np.float32),
        np.zeros(3, dtype=np.int64),
        ring,
    )
    tempo.warm_up()
    chroma_mod.warm_up()
    chords_audio.warm_up()
    return time.perf_counter() - started

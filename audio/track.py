"""Whole-track analysis: tempo, beats and downbeats, key, loudness, descriptors, chords and
sections.

The file is read in blocks (:mod:`audio.audio_file`): every block goes through the loudness meter
at the file's own rate and channels (the live kernels, true peak included) and is mixed to mono
and decimated to about 11 kHz on the way, so memory grows with the decimated mono signal only
(about 2.6 MB a minute) and never with the file's own rate or channel count. The analyses then run
on that signal: :mod:`audio.tempo`, :mod:`audio.chroma` + :mod:`audio.key_audio`,
:mod:`audio.meter` (downbeats and beats per bar), :mod:`audio.chords_audio`,
:mod:`audio.sections` and :mod:`audio.descriptors`.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from audio import chroma as chroma_mod
from audio import descriptors, fft, key_audio, meter, tempo
from audio.audio_file import AudioFileError, MonoDecimator, blocks, open_info
from audio.chords_audio import ChordSpan, chord_timeline
from audio.loudness import LoudnessMeter
from audio.sections import Section, sections

NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
READ_SHARE = 0.6  # of the progress: reading and metering; the analyses take the rest

Progress = Callable[[float], None]


class Cancelled(Exception):
    """The analysis was cancelled through its ``cancel`` event."""


@dataclass(frozen=True)
class TrackAnalysis:
    path: str
    duration_s: float
    sample_rate: int
    channels: int
    tempo_bpm: float
    tempo_confidence: float
    beats_s: tuple[float, ...]
    beats_per_bar: int
    meter_confidence: float
    downbeats_s: tuple[float, ...]
    key_tonic: int
    mode: str
    key_confidence: float
    camelot: str
    tuning_cents: float
    loudness_lufs: float
    loudness_range_lu: float
    true_peak_dbtp: float
    sample_peak_dbfs: float
    energy: float
    danceability: float
    brightness: float
    sections: tuple[Section, ...]
    chords: tuple[ChordSpan, ...]

    @property
    def key(self) -> str:
        return NOTE_NAMES[self.key_tonic]

    def to_json(self) -> dict[str, Any]:
        def num(value: float, digits: int) -> float | None:
            return round(value, digits) if math.isfinite(value) else None

        return {
            "path": self.path,
            "duration_s": round(self.duration_s, 3),
            "sample_rate": self.sample_rate,
            "channels": self.channels,
            "tempo_bpm": round(self.tempo_bpm, 2),
            "tempo_confidence": round(self.tempo_confidence, 3),
            "beats_per_bar": self.beats_per_bar,
            "meter_confidence": round(self.meter_confidence, 3),
            "key": self.key,
            "mode": self.mode,
            "key_confidence": round(self.key_confidence, 3),
            "camelot": self.camelot,
            "tuning_cents": round(self.tuning_cents, 1),
            "loudness_lufs": num(self.loudness_lufs, 2),
            "loudness_range_lu": num(self.loudness_range_lu, 2),
            "true_peak_dbtp": num(self.true_peak_dbtp, 2),
            "sample_peak_dbfs": num(self.sample_peak_dbfs, 2),
            "energy": round(self.energy, 3),
            "danceability": round(self.danceability, 3),
            "brightness": round(self.brightness, 3),
            "beats_s": [round(b, 3) for b in self.beats_s],
            "downbeats_s": [round(b, 3) for b in self.downbeats_s],
            "sections": [
                {"start_s": round(s.start_s, 2), "end_s": round(s.end_s, 2), "label": s.label}
                for s in self.sections
            ],
            "chords": [
                {"start_s": round(c.start_s, 2), "end_s": round(c.end_s, 2), "name": c.name}
                for c in self.chords
            ],
        }


def analyze_file(
    path: Path | str, progress: Progress | None = None, cancel: threading.Event | None = None
) -> TrackAnalysis:
    """Analyse one file; raises :class:`AudioFileError` for a file that cannot be read and
    :class:`Cancelled` when ``cancel`` is set (checked between blocks and between analyses)."""
    info = open_info(Path(path))
    fft.use_scipy()  # a whole track: the fast FFT is worth its memory here
    report = progress or (lambda _fraction: None)

    def check() -> None:
        if cancel is not None and cancel.is_set():
            raise Cancelled(str(info.path))

    loudness_meter = LoudnessMeter(info.sample_rate, info.channels)
    mono = MonoDecimator(info.sample_rate, frames=info.frames)
    read = 0
    for block in blocks(info):
        check()
        loudness_meter.process(block)
        mono.add(block)
        read += len(block)
        report(READ_SHARE * min(1.0, read / info.frames))
    if read == 0:
        raise AudioFileError(info.path, "empty")
    loud = loudness_meter.reading()
    y, rate = mono.result(), int(mono.rate)
    check()
    env, low_env, env_rate = tempo.onset_envelopes(y, rate)
    rhythm = tempo.rhythm_from_envelope(env, env_rate)
    report(READ_SHARE + 0.1)
    check()
    chroma = chroma_mod.analyse(y, rate)
    tonic, mode, key_confidence = key_audio.key_from_chroma_profile(
        key_audio.chroma_profile(chroma)
    )
    report(READ_SHARE + 0.2)
    check()
    beats = np.asarray(rhythm.beats_s, dtype=float)
    bars = meter.analyze_meter(beats, env, low_env, env_rate, chroma.chroma, chroma.frame_rate)
    chords = chord_timeline(chroma.chroma, chroma.frame_rate, beats if len(beats) else None)
    report(READ_SHARE + 0.3)
    check()
    parts = sections(y, rate, chroma.chroma, chroma.frame_rate, beats if len(beats) else None)
    centroid = descriptors.spectral_centroid(y, rate)
    report(1.0)
    return TrackAnalysis(
        path=str(info.path),
        duration_s=read / info.sample_rate,
        sample_rate=info.sample_rate,
        channels=info.channels,
        tempo_bpm=float(rhythm.bpm),
        tempo_confidence=float(rhythm.confidence),
        beats_s=tuple(float(b) for b in beats),
        beats_per_bar=int(bars.beats_per_bar),
        meter_confidence=float(bars.confidence),
        downbeats_s=tuple(float(b) for b in bars.downbeats_s),
        key_tonic=int(tonic),
        mode=str(mode),
        key_confidence=float(key_confidence),
        camelot=key_audio.camelot(int(tonic), str(mode)),
        tuning_cents=float(chroma.tuning_cents),
        loudness_lufs=loud.integrated_lufs,
        loudness_range_lu=loud.loudness_range_lu,
        true_peak_dbtp=loud.true_peak_dbtp,
        sample_peak_dbfs=loud.sample_peak_dbfs,
        energy=descriptors.energy(loud.integrated_lufs, descriptors.onset_rate(env, env_rate)),
        danceability=descriptors.danceability(env, env_rate, beats, float(rhythm.bpm)),
        brightness=descriptors.brightness(centroid),
        sections=tuple(parts),
        chords=tuple(chords),
    )


def warm_up() -> None:
    """Compile or load every kernel the analysis uses."""
    from audio import audio_file

    audio_file.warm_up()
    tempo.warm_up()
    chroma_mod.warm_up()
    key_audio.warm_up()
    meter.warm_up()
    from audio import chords_audio
    from audio import sections as sections_mod

    chords_audio.warm_up()
    sections_mod.warm_up()

"""Claim: tempo Acc1 and Acc2 at least those of essentia's ``RhythmExtractor2013`` and a whole
pipeline (onsets, tempo, beats) ≥ 10× faster than ``librosa.beat.beat_track``.

Run: ``python benchmarks/bench_tempo.py`` (renders the evaluation set once, ~1 minute, then
about a minute; prints a table and a final JSON line).

Data: ``benchmarks/eval_set.build()`` — Bach chorales rendered with FluidSynth at exact tempi of
60–180 BPM, four GM programs, a simple drum kit on half of them; beats are the quarter notes.
Every method gets the same 44.1 kHz mono float32 samples.

Scores: Acc1 = tempo within 4 % of the truth; Acc2 = within 4 % of the truth or of 2×, ½×, 3×,
⅓× the truth; beat F-measure from ``mir_eval.beat.f_measure`` (±70 ms; mir_eval drops beats in
the first 5 s of reference and estimate alike), mean over pieces, with and without drums.
Methods: ours = ``audio.tempo.analyze_rhythm``; essentia ``RhythmExtractor2013(method=
"multifeature")`` (built fresh per file; its input is 44.1 kHz by design); librosa
``beat.beat_track(y=y, sr=44100)`` with defaults (tempo as returned, beats in seconds).

Timing: wall-clock seconds per minute of audio over the whole set, best of 3 passes, each method
timed in the same run; warm-up (Numba compile/cache load, librosa's first call) excluded.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault(
    "NUMBA_CACHE_DIR", str(Path(__file__).resolve().parent.parent / ".cache" / "numba")
)

import librosa
import mir_eval
import soundfile as sf
from _support import final_json, table
from eval_set import build

from audio import tempo

PASSES = 3
RATIOS = (1.0, 2.0, 0.5, 3.0, 1.0 / 3.0)


def ours(y: np.ndarray, sr: int) -> tuple[float, np.ndarray]:
    r = tempo.analyze_rhythm(y, sr)
    return r.bpm, r.beats_s


def essentia_rhythm(y: np.ndarray, sr: int) -> tuple[float, np.ndarray]:
    import essentia.standard as es

    assert sr == 44100
    bpm, beats, _, _, _ = es.RhythmExtractor2013(method="multifeature")(y)
    return float(bpm), np.asarray(beats, dtype=np.float64)


def librosa_rhythm(y: np.ndarray, sr: int) -> tuple[float, np.ndarray]:
    bpm, beats = librosa.beat.beat_track(y=y, sr=sr, units="time")
    return float(np.atleast_1d(bpm)[0]), np.asarray(beats, dtype=np.float64)


METHODS: dict[str, Callable[[np.ndarray, int], tuple[float, np.ndarray]]] = {
    "ours": ours,
    "essentia RhythmExtractor2013": essentia_rhythm,
    "librosa beat_track": librosa_rhythm,
}


def main() -> None:
    from audio import fft

    fft.use_scipy()  # the whole-track FFT, as `hookline analyze` uses
    warnings.filterwarnings("ignore")
    items = build()
    audio = []
    for it in items:
        y, sr = sf.read(str(it.path), dtype="float32", always_2d=True)
        audio.append((np.ascontiguousarray(y.mean(axis=1)), sr))
    minutes = sum(len(y) / sr for y, sr in audio) / 60.0

    warm = tempo.warm_up()
    for fn in METHODS.values():
        fn(audio[0][0][: 44100 * 5], audio[0][1])

    results: dict[str, list[tuple[float, np.ndarray]]] = {}
    seconds: dict[str, float] = {}
    for name, fn in METHODS.items():
        best = float("inf")
        for _ in range(PASSES):
            started = time.perf_counter()
            out = [fn(y, sr) for y, sr in audio]
            best = min(best, time.perf_counter() - started)
        results[name] = out
        seconds[name] = best

    rows = []
    figures: dict[str, object] = {"pieces": len(items), "minutes": round(minutes, 2)}
    for name in METHODS:
        acc1 = acc2 = 0
        fs, fs_drums, fs_plain = [], [], []
        for it, (bpm, beats) in zip(items, results[name], strict=True):
            r = bpm / it.tempo_bpm
            acc1 += abs(r - 1.0) <= 0.04
            acc2 += any(abs(r / m - 1.0) <= 0.04 for m in RATIOS)
            f = float(mir_eval.beat.f_measure(np.array(it.beats_s), beats))
            fs.append(f)
            (fs_drums if it.drums else fs_plain).append(f)
        per_min = seconds[name] / minutes
        speedup = per_min / (seconds["ours"] / minutes)
        key = name.split()[0]
        rows.append(
            [name, acc1 / len(items), acc2 / len(items), float(np.mean(fs)),
             float(np.mean(fs_drums)), float(np.mean(fs_plain)), per_min * 1000, speedup]
        )  # fmt: skip
        figures[f"{key}_acc1"] = round(acc1 / len(items), 4)
        figures[f"{key}_acc2"] = round(acc2 / len(items), 4)
        figures[f"{key}_beat_f"] = round(float(np.mean(fs)), 4)
        figures[f"{key}_ms_per_min"] = round(per_min * 1000, 2)
        figures[f"{key}_time_vs_ours"] = round(speedup, 2)
    print(f"{len(items)} pieces, {minutes:.1f} min of audio; ours warm-up {warm:.2f} s\n")
    print(
        table(
            ["method", "Acc1", "Acc2", "beat F", "F drums", "F no drums", "ms/min", "× ours"],
            rows,
        )
    )
    print()
    per_piece = []
    for i, it in enumerate(items):
        est = [results[n][i][0] for n in METHODS]
        per_piece.append([it.path.stem, it.program, int(it.drums), it.tempo_bpm, *est])
    print(table(["piece", "prog", "drums", "true", "ours", "essentia", "librosa"], per_piece))
    figures["warm_up_s"] = round(warm, 3)
    final_json(figures)


if __name__ == "__main__":
    main()

"""Claim: our key-from-audio (``audio.key_audio.estimate_key``) scores at least as well as the best
of essentia's ``KeyExtractor`` profiles, runs no slower than essentia and ≥ 10× faster than
librosa's ``chroma_cqt`` + Krumhansl templates.

Run: ``python benchmarks/bench_audio_key.py [--pieces 24]`` (prints a table and a final JSON line;
the first run renders the evaluation set, about a second per piece).

Data: ``benchmarks/eval_set.build`` — Bach chorales rendered with FluidSynth (piano, organ,
guitar, strings; drums on half), transposed so 24 pieces cover all 24 keys once, labelled from the
key signature and the final bass note (not by a profile-based key finder). 44.1 kHz mono.

Methods, every one fed the same float32 samples already in memory (file reading is not timed):

* ``ours``: ``estimate_key(y, sr)`` (tuned peak chroma at 10 frames/s, harmonic Temperley
  templates).
* ``essentia <profile>``: a fresh ``essentia.standard.KeyExtractor(profileType=<profile>,
  sampleRate=sr)`` per piece, otherwise defaults, for temperley, krumhansl, edma and bgate.
* ``librosa cqt+KK``: ``librosa.feature.chroma_cqt(y=y, sr=sr)`` (defaults: hop 512, tuning
  estimated), summed over time, correlated with the Krumhansl–Kessler profiles
  (``models.key_tracking.key_from_profile``).

Score: ``mir_eval.key.weighted_score`` (1 correct, 0.5 fifth, 0.3 relative, 0.2 parallel), mean
over the pieces. Speed: processing seconds per minute of audio, total over the set, best of
``--repeats`` passes (librosa: one pass); warm-up (Numba compile/cache load, first librosa
call) excluded. Ratios are ``method time / our time`` from the same run.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault(
    "NUMBA_CACHE_DIR", str(Path(__file__).resolve().parent.parent / ".cache" / "numba")
)

import mir_eval
import soundfile as sf
from _support import final_json, table
from eval_set import build

from audio.key_audio import PITCH_NAMES, estimate_key, warm_up
from models.key_tracking import key_from_profile

ESSENTIA_PROFILES = ("temperley", "krumhansl", "edma", "bgate")
_ESSENTIA_TONIC = {
    name: pc
    for pc, names in enumerate(
        (
            ("C", "B#"),
            ("C#", "Db"),
            ("D",),
            ("D#", "Eb"),
            ("E", "Fb"),
            ("F", "E#"),
            ("F#", "Gb"),
            ("G",),
            ("G#", "Ab"),
            ("A",),
            ("A#", "Bb"),
            ("B", "Cb"),
        )
    )
    for name in names
}

Estimator = Callable[[np.ndarray, int], tuple[int, str]]


def label(tonic: int, mode: str) -> str:
    return f"{PITCH_NAMES[tonic]} {mode}"


def ours(y: np.ndarray, sr: int) -> tuple[int, str]:
    k = estimate_key(y, sr)
    return k.tonic, k.mode


def essentia_method(profile: str) -> Estimator:
    import essentia.standard as es

    def run(y: np.ndarray, sr: int) -> tuple[int, str]:
        extractor = es.KeyExtractor(profileType=profile, sampleRate=float(sr))
        key, scale, _strength = extractor(y)
        return _ESSENTIA_TONIC[key], str(scale)

    return run


def librosa_kk(y: np.ndarray, sr: int) -> tuple[int, str]:
    import librosa

    c = librosa.feature.chroma_cqt(y=y, sr=sr)
    key, _conf = key_from_profile(c.sum(axis=1), "krumhansl")
    return key.tonic, key.mode


def evaluate(
    method: Estimator, clips: list[np.ndarray], sr: int, repeats: int
) -> tuple[list[tuple[int, str]], float]:
    """Estimates and the best total processing time over ``repeats`` passes."""
    best = float("inf")
    estimates: list[tuple[int, str]] = []
    for _ in range(repeats):
        estimates = []
        started = time.perf_counter()
        for y in clips:
            estimates.append(method(y, sr))
        best = min(best, time.perf_counter() - started)
    return estimates, best


def main() -> None:
    from audio import fft

    fft.use_scipy()  # the whole-track FFT, as `hookline analyze` uses
    parser = argparse.ArgumentParser()
    parser.add_argument("--pieces", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    started = time.perf_counter()
    items = build(n_pieces=args.pieces)
    clips: list[np.ndarray] = []
    sr = 0
    for item in items:
        y, sr = sf.read(item.path, dtype="float32", always_2d=True)
        clips.append(np.ascontiguousarray(y.mean(axis=1)))
    minutes = sum(len(y) for y in clips) / sr / 60.0
    refs = [label(it.key_tonic, it.key_mode) for it in items]

    t0 = time.perf_counter()
    warm_up()
    warm_ours = time.perf_counter() - t0
    import librosa

    t0 = time.perf_counter()
    librosa.feature.chroma_cqt(y=clips[0][: sr * 2], sr=sr)
    warm_librosa = time.perf_counter() - t0

    methods: list[tuple[str, Estimator, int]] = [("ours", ours, args.repeats)]
    methods += [(f"essentia {p}", essentia_method(p), args.repeats) for p in ESSENTIA_PROFILES]
    methods.append(("librosa cqt+KK", librosa_kk, 1))

    results: dict[str, dict[str, float]] = {}
    per_piece: dict[str, list[str]] = {}
    for name, method, repeats in methods:
        estimates, seconds = evaluate(method, clips, sr, repeats)
        ests = [label(t, m) for t, m in estimates]
        scores = [mir_eval.key.weighted_score(r, e) for r, e in zip(refs, ests, strict=True)]
        kinds = np.array(scores)
        results[name] = {
            "weighted": float(np.mean(scores)),
            "correct": float(np.mean(kinds == 1.0)),
            "fifth": float(np.mean(kinds == 0.5)),
            "relative": float(np.mean(kinds == 0.3)),
            "parallel": float(np.mean(kinds == 0.2)),
            "s_per_min": seconds / minutes,
        }
        per_piece[name] = ests
    ours_time = results["ours"]["s_per_min"]
    rows = []
    for name, r in results.items():
        rows.append(
            [
                name,
                round(r["weighted"], 3),
                f"{round(r['correct'] * len(items))}/{len(items)}",
                round(r["fifth"] * len(items)),
                round(r["relative"] * len(items)),
                round(r["parallel"] * len(items)),
                round(r["s_per_min"] * 1000, 1),
                round(r["s_per_min"] / ours_time, 1),
            ]
        )
    print(
        f"{len(items)} pieces, {minutes:.1f} min of audio at {sr} Hz; "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
        f"essentia {version('essentia')}, librosa {version('librosa')}"
    )
    print(
        table(
            [
                "method",
                "weighted",
                "correct",
                "fifth",
                "relative",
                "parallel",
                "ms/audio-min",
                "× ours time",
            ],
            rows,
        )
    )
    print()
    print("Misses (reference -> ours | best essentia):")
    best_ess = max(ESSENTIA_PROFILES, key=lambda p: results[f"essentia {p}"]["weighted"])
    for i, ref in enumerate(refs):
        o, e = per_piece["ours"][i], per_piece[f"essentia {best_ess}"][i]
        if o != ref or e != ref:
            print(
                f"  {items[i].piece:>28}  prog {items[i].program:>2}  drums {items[i].drums!s:5}  "
                f"{ref:>9} -> {o:>9} | {e:>9}"
            )
    print(
        f"warm-up: ours {warm_ours:.2f} s, librosa {warm_librosa:.2f} s; "
        f"script time {time.perf_counter() - started:.0f} s"
    )
    best_score = results[f"essentia {best_ess}"]["weighted"]
    fastest_ess = min(results[f"essentia {p}"]["s_per_min"] for p in ESSENTIA_PROFILES)
    final_json(
        {
            "benchmark": "audio_key",
            "pieces": len(items),
            "audio_minutes": round(minutes, 2),
            "weighted": {k: round(v["weighted"], 4) for k, v in results.items()},
            "ms_per_audio_minute": {k: round(v["s_per_min"] * 1000, 2) for k, v in results.items()},
            "best_essentia_profile": best_ess,
            "meets_score_target": results["ours"]["weighted"] >= best_score,
            "speed_vs_essentia": round(fastest_ess / ours_time, 2),
            "speed_vs_librosa": round(results["librosa cqt+KK"]["s_per_min"] / ours_time, 1),
        }
    )


if __name__ == "__main__":
    main()

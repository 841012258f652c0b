"""The whole ``analyze`` pipeline against librosa's and essentia's equivalents, and its memory.

Per file of the evaluation set (rendered chorales, benchmarks/eval_set.py), each pipeline reads the
file and computes tempo and beats, key, a chord-grade chroma and loudness:

* ours: :func:`audio.track.analyze_file` (which also does sections, descriptors, true peak);
* librosa: ``load`` (native rate) → ``beat.beat_track`` → ``chroma_cqt`` + Krumhansl template
  key → ``segment.agglomerative`` on the chroma (sections); loudness with pyloudnorm;
* essentia: ``MonoLoader`` → ``RhythmExtractor2013(multifeature)`` → ``KeyExtractor`` →
  ``LoudnessEBUR128`` (stereo loader for it).

Time per minute of audio, best of REPEATS passes (librosa: one), and the ratios. Then the peak
resident memory of ``hookline analyze`` on a 10-minute 44.1 kHz stereo file, in a child process.

    python benchmarks/bench_analyze.py [--pieces 12] [--repeats 2]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _support import REPO_ROOT, final_json, table
from eval_set import build

KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def ours(path: Path) -> None:
    from audio.track import analyze_file

    analyze_file(path)


def with_librosa(path: Path) -> None:
    import librosa
    import pyloudnorm

    y, sr = librosa.load(path, sr=None, mono=False)
    mono = librosa.to_mono(y)
    librosa.beat.beat_track(y=mono, sr=sr)
    chroma = librosa.feature.chroma_cqt(y=mono, sr=sr)
    profile = chroma.sum(axis=1)
    scores = [
        np.corrcoef(profile, np.roll(t, k))[0, 1] for t in (KK_MAJOR, KK_MINOR) for k in range(12)
    ]
    int(np.argmax(scores))
    librosa.segment.agglomerative(chroma, 4)
    data = y.T if y.ndim == 2 else y
    pyloudnorm.Meter(sr).integrated_loudness(data)


def with_essentia(path: Path) -> None:
    import essentia.standard as es

    audio = es.MonoLoader(filename=str(path), sampleRate=44100)()
    es.RhythmExtractor2013(method="multifeature")(audio)
    es.KeyExtractor(profileType="bgate")(audio)
    stereo = es.AudioLoader(filename=str(path))()[0]
    es.LoudnessEBUR128(sampleRate=44100)(stereo)


def timed(fn: object, files: list[Path], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for path in files:
            fn(path)  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best


def ten_minute_peak_mib(workdir: Path) -> float:
    import soundfile as sf

    path = workdir / "ten-minutes.wav"
    sr = 44_100
    rng = np.random.default_rng(0)
    with sf.SoundFile(path, "w", sr, 2, subtype="PCM_16") as f:
        for _minute in range(10):
            t = np.arange(sr * 60) / sr
            tone = 0.2 * np.sin(2 * np.pi * 220 * t) + 0.05 * rng.standard_normal(len(t))
            f.write(np.stack([tone, tone], axis=1).astype(np.float32))
    # The child reports its own high-water mark: a child's ru_maxrss would count the pages it
    # shared with this (large) process between fork and exec.
    probe = (
        "import sys\n"
        "from ui.launcher import main\n"
        "try:\n"
        "    main()\n"
        "finally:\n"
        "    hwm = open('/proc/self/status').read().split('VmHWM:')[1].split()[0]\n"
        "    print('HWM', hwm, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, "analyze", str(path)],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return int(done.stderr.split("HWM")[-1].split()[0]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pieces", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    items = build()[: args.pieces]
    files = [item.path for item in items]
    minutes = sum(item.duration_s for item in items) / 60
    from audio.track import warm_up

    warm_up()
    ours(files[0])
    with_essentia(files[0])
    with_librosa(files[0])  # first calls compile, load caches
    t_ours = timed(ours, files, args.repeats)
    t_ess = timed(with_essentia, files, args.repeats)
    t_lib = timed(with_librosa, files, 1)
    with tempfile.TemporaryDirectory() as tmp:
        peak = ten_minute_peak_mib(Path(tmp))
    rows = [
        ["ours (hookline analyze pipeline)", 1000 * t_ours / minutes, 1.0],
        ["essentia (rhythm, key, EBU R128)", 1000 * t_ess / minutes, t_ess / t_ours],
        ["librosa (+ pyloudnorm)", 1000 * t_lib / minutes, t_lib / t_ours],
    ]
    print(f"{len(files)} files, {minutes:.1f} min of audio")
    print(table(["pipeline", "ms per audio-minute", "time vs ours"], rows))
    print(f"peak memory of `hookline analyze` on a 10-minute stereo file: {peak:.0f} MiB")
    final_json(
        {
            "bench": "analyze",
            "files": len(files),
            "minutes": minutes,
            "ms_per_min": {"ours": rows[0][1], "essentia": rows[1][1], "librosa": rows[2][1]},
            "speedup_vs_librosa": t_lib / t_ours,
            "speedup_vs_essentia": t_ess / t_ours,
            "ten_minute_peak_mib": peak,
            "targets": {
                "librosa_10x": t_lib / t_ours >= 10,
                "not_slower_than_essentia": t_ours <= t_ess,
                "memory_500": peak <= 500,
            },
        }
    )


if __name__ == "__main__":
    main()

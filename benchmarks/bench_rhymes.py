"""Rhyme index: build time, query latency per kind, and agreement with ``pronouncing``.

Claims (issue 7): index build ≤ 3 s; rhyme query p99 ≤ 5 ms after start-up, ranking and
filters included.

* Build: ``RhymeIndex()`` in a fresh process, median of 3. "cold" times everything a first
  query waits for: CMUdict load, counts file, index; "index only" times the construction with
  CMUdict already in memory. The reference is ``pronouncing.init_cmu()`` (its whole set-up:
  CMUdict parse and its rhyme table), also in a fresh process, median of 3. "From the cache"
  is ``RhymeIndex.cached(folder)`` in a fresh process once the folder holds the index (median
  of 3); the first run with an empty folder (build and write) is shown once.
* Latency: ``--words`` (default 2,000) words drawn with a fixed seed from the 10,000 most
  frequent words of the counts file, every one in CMUdict; one ``rhymes()`` call per word
  and per kind (default ``limit=50``), all kinds together, and all kinds with a syllable and
  stress filter, after a warm-up pass. The reference is ``pronouncing.rhymes(word)`` on the
  same words (perfect rhymes only, all of them, unranked); ours is also timed with
  ``kinds=("perfect",), limit=None`` for the like-for-like row. Ratio = ours / pronouncing at
  p99. Wall-clock times are reported with the thread's CPU time beside them: on a shared
  machine a query that loses its core for a scheduler slice (about 4 ms here) shows up in the
  wall-clock p99 but not in the CPU time; the load average is printed with them.
* Overlap: on ``--overlap-words`` (default 500) of those words, the share of
  ``pronouncing.rhymes(w)`` that our perfect rhymes (``limit=None``) also return, summed over
  words; then with ``multi``, then with ``near`` added. Every miss of the perfect list is put
  in a class: *identical* (same rhyme part and same onset: *enjoyed*/*overjoyed*, homophones;
  excluded on purpose), *secondary stress* (pronouncing's rhyming part starts at a
  secondary-stressed vowel after the last primary one, so the rhyme parts differ; our ``near``
  kind returns these as stress-shifted rhymes), *other*.

Run: ``python benchmarks/bench_rhymes.py [--words 2000] [--overlap-words 500]`` (needs the
``bench`` extra for ``pronouncing``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import pronouncing
from _support import final_json, percentiles, table

from models.lyrics import phonemes as ph
from models.lyrics.dictionary import cmu_entries
from models.lyrics.rhymes import KINDS, RhymeIndex

REPO = Path(__file__).resolve().parent.parent

_COLD = """
import time
t0 = time.perf_counter()
from models.lyrics.rhymes import RhymeIndex
from models.lyrics.dictionary import cmu_entries
cmu_entries()
t1 = time.perf_counter()
index = RhymeIndex()
index.rhymes("fire")
t2 = time.perf_counter()
print(t2 - t0, t2 - t1)
"""
_CACHED = """
import sys, time
t0 = time.perf_counter()
from pathlib import Path
from models.lyrics.rhymes import RhymeIndex
index = RhymeIndex.cached(Path(sys.argv[1]))
index.rhymes("fire")
print(time.perf_counter() - t0)
"""
_REFERENCE = """
import time
t0 = time.perf_counter()
import pronouncing
pronouncing.init_cmu()
pronouncing.rhymes("fire")
print(time.perf_counter() - t0)
"""


def _fresh(code: str, runs: int = 3, *args: str) -> list[list[float]]:
    out = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", code, *args],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        )
        out.append([float(v) for v in done.stdout.split()])
    return out


def _latency(call: Callable[[str], object], words: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Wall-clock and thread CPU milliseconds per call."""
    for w in words[:200]:
        call(w)  # warm-up
    wall = np.empty(len(words))
    cpu = np.empty(len(words))
    for i, w in enumerate(words):
        c = time.thread_time_ns()
        t = time.perf_counter_ns()
        call(w)
        wall[i] = (time.perf_counter_ns() - t) / 1e6
        cpu[i] = (time.thread_time_ns() - c) / 1e6
    return wall, cpu


def _onset(phones: list[str]) -> tuple[str, ...]:
    return ph.onset_before(phones, ph.stressed_vowel(phones))


def _miss_class(word: str, other: str, entries: dict[str, list[list[str]]]) -> str:
    pairs = [(q, c) for q in entries[word] for c in entries[other]]
    if any(ph.rhyme_part(q) == ph.rhyme_part(c) for q, c in pairs):
        return "identical"  # same rhyme part, so the onset was the same: excluded on purpose
    rhyming = {pronouncing.rhyming_part(" ".join(q)) for q in entries[word]}
    if any(
        pronouncing.rhyming_part(" ".join(c)) in rhyming and ph.rhyme_part(c) != ph.rhyme_part(q)
        for q, c in pairs
    ):
        return "secondary stress"
    return "other"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--words", type=int, default=2000)
    parser.add_argument("--overlap-words", type=int, default=500)
    args = parser.parse_args()

    cold = _fresh(_COLD)
    reference_build = float(np.median([r[0] for r in _fresh(_REFERENCE)]))
    cold_s = float(np.median([r[0] for r in cold]))
    index_s = float(np.median([r[1] for r in cold]))
    with tempfile.TemporaryDirectory() as cache:
        first_s = _fresh(_CACHED, 1, cache)[0][0]
        cached_s = float(np.median([r[0] for r in _fresh(_CACHED, 3, cache)]))

    entries = cmu_entries()
    index = RhymeIndex()
    pronouncing.init_cmu()
    rng = np.random.default_rng(7)
    frequent = [index.words[i] for i in np.argsort(-index.word_counts, kind="stable")[:10_000]]
    frequent = [w for w in frequent if w in entries and w in pronouncing.lookup]
    words = [str(w) for w in rng.choice(frequent, size=args.words, replace=False)]

    rows = []
    figures: dict[str, object] = {
        "build_cold_s": cold_s,
        "build_index_only_s": index_s,
        "build_pronouncing_s": reference_build,
        "build_ratio": cold_s / reference_build,
        "build_first_run_with_cache_write_s": first_s,
        "build_from_cache_s": cached_s,
        "build_from_cache_ratio": cached_s / reference_build,
        "words": len(words),
    }
    load_before = os.getloadavg()[0]
    ref, ref_cpu = _latency(pronouncing.rhymes, words)
    ref50, ref99 = percentiles(ref)
    rows.append(
        ["pronouncing.rhymes (reference)", "all", ref50, ref99, percentiles(ref_cpu)[1], 1.0]
    )
    cases: list[tuple[str, tuple[str, ...], int | None, dict[str, object]]] = [
        (k, (k,), 50, {}) for k in KINDS
    ]
    cases += [
        ("all kinds", KINDS, 50, {}),
        ("perfect, no limit", ("perfect",), None, {}),
        ("all kinds, 2 syll, stress 10", KINDS, 50, {"syllables": 2, "stress": "10"}),
    ]
    for name, kinds, limit, extra in cases:
        wall, cpu = _latency(
            lambda w, k=kinds, n=limit, x=extra: index.rhymes(w, kinds=k, limit=n, **x), words
        )
        p50, p99 = percentiles(wall)
        cpu99 = percentiles(cpu)[1]
        rows.append([f"ours: {name}", limit or "all", p50, p99, cpu99, p99 / ref99])
        slug = name.replace(", ", "_").replace(" ", "_")
        figures[f"query_{slug}_p50_ms"] = p50
        figures[f"query_{slug}_p99_ms"] = p99
        figures[f"query_{slug}_cpu_p99_ms"] = cpu99
        figures[f"query_{slug}_p99_ratio"] = p99 / ref99
    figures["reference_p50_ms"], figures["reference_p99_ms"] = ref50, ref99
    figures["load_average"] = [load_before, os.getloadavg()[0]]
    figures["cpu_cores"] = os.cpu_count()

    print(
        table(
            ["build (fresh process)", "seconds", "ratio"],
            [
                ["pronouncing set-up (reference), median of 3", reference_build, 1.0],
                ["cold: CMUdict + counts + index, median of 3", cold_s, cold_s / reference_build],
                ["  of which the index alone", index_s, index_s / reference_build],
                [
                    "first run with a cache folder (build + write)",
                    first_s,
                    first_s / reference_build,
                ],
                ["from the cache, median of 3", cached_s, cached_s / reference_build],
            ],
        )
    )
    print()
    print(table(["query", "limit", "p50 ms", "p99 ms", "CPU p99 ms", "p99 ratio"], rows))
    print(
        f"(wall clock unless marked CPU: thread CPU time, which leaves out time the process "
        f"waited for a core; 1-minute load average {load_before:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after, on {os.cpu_count()} cores)"
    )

    sample = words[: args.overlap_words]
    theirs_total = ours_perfect = ours_multi = ours_near = ours_extra = 0
    misses: Counter[str] = Counter()
    examples: dict[str, str] = {}
    for w in sample:
        theirs = set(pronouncing.rhymes(w))
        perfect = {r.word for r in index.rhymes(w, kinds=("perfect",), limit=None)}
        both = {r.word for r in index.rhymes(w, kinds=("perfect", "multi"), limit=None)}
        closest = {r.word for r in index.rhymes(w, kinds=KINDS[:3], limit=None)}
        theirs_total += len(theirs)
        ours_perfect += len(theirs & perfect)
        ours_multi += len(theirs & both)
        ours_near += len(theirs & closest)
        ours_extra += len(perfect - theirs)
        for other in sorted(theirs - perfect):
            kind = _miss_class(w, other, entries)
            misses[kind] += 1
            examples.setdefault(kind, f"{w}/{other}")
    overlap = ours_perfect / max(theirs_total, 1)
    overlap_multi = ours_multi / max(theirs_total, 1)
    overlap_near = ours_near / max(theirs_total, 1)
    print()
    print(
        f"Overlap on {len(sample)} words: pronouncing returns {theirs_total} rhymes; ours "
        f"(perfect) returns {overlap:.1%} of them, {overlap_multi:.1%} with multi added, "
        f"{overlap_near:.1%} with near added; "
        f"{ours_extra} perfect rhymes of ours are not in pronouncing's lists."
    )
    miss_rows = [
        [kind, n, f"{n / max(theirs_total, 1):.1%}", examples[kind]]
        for kind, n in misses.most_common()
    ]
    print(table(["missed (perfect only)", "pairs", "share", "example"], miss_rows))
    figures.update(
        {
            "overlap_words": len(sample),
            "overlap_perfect": overlap,
            "overlap_perfect_multi": overlap_multi,
            "overlap_perfect_multi_near": overlap_near,
            "overlap_missed": dict(misses),
            "ours_not_in_pronouncing": ours_extra,
        }
    )
    final_json(figures)


if __name__ == "__main__":
    main()

"""Syllable counts on the hand-checked list, and the G2P network on held-out CMUdict words.

Claims (issue 7): on ``benchmarks/data/syllables_checked.tsv`` (at least 300 words, at least 80
of them CMUdict misses) our pronouncer (``models.lyrics.g2p.default_pronouncer()``: CMUdict,
then the shipped G2P network, then hyphenation) counts ≥ 97 % of the words exactly, and ≥ 90 %
of the CMUdict misses. Beside it, in the same run: CMUdict alone (a miss counts as wrong) and
Pyphen alone (``en_US`` hyphenation points + 1). The G2P network's held-out figures are
measured again here by running the shipped ONNX file on the CMUdict test split
(``models.training.train_g2p.split_of``; never trained on): word accuracy (the exact phone
string: the first listed pronunciation, and any listed one), phone error rate, syllable-count
accuracy. Latency: one uncached ``G2P`` call per held-out word (p50/p99, one thread), the
session built beforehand, with Pyphen's per-word time in the same loop as the reference.

Run: ``python benchmarks/bench_syllables.py [--list PATH] [--errors]`` (needs the ``train``
extra only for the split function's module; about 20 s).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import pyphen
from _support import final_json, percentiles, table

from models.lyrics import phonemes as ph
from models.lyrics.dictionary import cmu_entries, normalise
from models.lyrics.g2p import G2P, default_pronouncer

LIST = Path(__file__).resolve().parent / "data" / "syllables_checked.tsv"


def read_list(path: Path) -> tuple[list[tuple[str, int, str]], set[str]]:
    """Rows (word, count, note) and the words listed after the ``# CMUdict misses`` line."""
    rows: list[tuple[str, int, str]] = []
    misses: set[str] = set()
    in_misses = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# CMUdict misses"):
            in_misses = True
        if not line.strip() or line.startswith("#"):
            continue
        word, count, note = line.split("\t")
        rows.append((word, int(count), note))
        if in_misses:
            misses.add(word)
    return rows, misses


def pyphen_count(dic: pyphen.Pyphen, word: str) -> int:
    letters = "".join(ch for ch in normalise(word) if ch.isalpha())
    return len(dic.positions(letters)) + 1 if letters else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", type=Path, default=LIST)
    parser.add_argument("--errors", action="store_true", help="print every wrong count")
    args = parser.parse_args()

    entries = cmu_entries()
    rows, misses = read_list(args.list)
    listed_present = sorted(w for w in misses if normalise(w) in entries)
    if listed_present:
        raise SystemExit(f"listed as CMUdict misses but present: {listed_present}")
    unmarked = sorted(w for w, _, _ in rows if w not in misses and normalise(w) not in entries)
    if unmarked:
        raise SystemExit(f"CMUdict misses not listed after '# CMUdict misses': {unmarked}")

    dic = pyphen.Pyphen(lang="en_US")
    ours = default_pronouncer()
    if ours.g2p is None:
        raise SystemExit("the shipped G2P model is missing (resources/models/g2p/g2p.onnx)")
    results: dict[str, dict[str, bool]] = {"cmudict": {}, "pyphen": {}, "ours": {}}
    wrong: list[tuple[str, int, int, str]] = []
    for word, count, _ in rows:
        found = entries.get(normalise(word))
        results["cmudict"][word] = found is not None and ph.syllables(found[0]) == count
        results["pyphen"][word] = pyphen_count(dic, word) == count
        got = ours.pronounce(word)
        results["ours"][word] = got.syllables == count
        if got.syllables != count:
            wrong.append((word, count, got.syllables, f"{got.source} {' '.join(got.phones)}"))

    def accuracy(method: str, subset: list[str]) -> float:
        return sum(results[method][w] for w in subset) / len(subset)

    words = [w for w, _, _ in rows]
    known = [w for w in words if w not in misses]
    missed = [w for w in words if w in misses]
    lines = [
        (m, accuracy(m, words), accuracy(m, known), accuracy(m, missed))
        for m in ("cmudict", "pyphen", "ours")
    ]
    print(f"Syllable counts, {len(words)} hand-checked words "
          f"({len(known)} in CMUdict, {len(missed)} CMUdict misses)")  # fmt: skip
    print(table(["method", "all", "CMUdict words", "CMUdict misses"], lines))
    sources: dict[str, int] = {}
    for w in missed:
        source = ours.pronounce(w).source
        sources[source] = sources.get(source, 0) + 1
    print(f"our answers for the misses come from: {sources}")
    if args.errors or wrong:
        print(table(["wrong (ours)", "checked", "got", "source, phones"], wrong))

    # The G2P network on held-out CMUdict words (the test split).
    from models.training import train_g2p as tg

    test = tg.load_splits(entries)["test"]
    g2p = G2P(cache_size=0)
    t0 = time.perf_counter()
    g2p("warmup")
    load_ms = (time.perf_counter() - t0) * 1000
    predicted: dict[str, tuple[str, ...]] = {}
    g2p_ms: list[float] = []
    pyphen_ms: list[float] = []
    pyphen_right = 0
    for word, prons in test:
        t0 = time.perf_counter()
        predicted[word] = g2p(word)
        g2p_ms.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        count = pyphen_count(dic, word)
        pyphen_ms.append((time.perf_counter() - t0) * 1000)
        pyphen_right += count == ph.syllables(prons[0])
    held = tg.score(predicted, test)
    pyphen_held = pyphen_right / len(test)
    p50, p99 = percentiles(np.array(g2p_ms))
    y50, y99 = percentiles(np.array(pyphen_ms))
    print(f"\nG2P (shipped ONNX) on {held['words']} held-out CMUdict words")
    print(table(
        ["word acc. (first)", "word acc. (any)", "phone error rate", "syllables (first)",
         "syllables (any)", "stress (first)"],
        [(held["word_accuracy_first"], held["word_accuracy_any"], held["phone_error_rate"],
          held["syllable_accuracy_first"], held["syllable_accuracy_any"],
          held["stress_accuracy_first"])],
    ))  # fmt: skip
    print(f"Pyphen's syllable counts on the same words: {pyphen_held:.3f} "
          f"(first pronunciation's count)")  # fmt: skip
    print("\nPer-word time, ms (uncached G2P call; Pyphen hyphenation as the reference)")
    print(table(["", "p50", "p99"], [("G2P", p50, p99), ("Pyphen", y50, y99)]))
    print(f"G2P session build and first word: {load_ms:.0f} ms")

    ours_all, ours_oov = accuracy("ours", words), accuracy("ours", missed)
    pyphen_all = accuracy("pyphen", words)
    final_json(
        {
            "words": len(words),
            "cmudict_misses": len(missed),
            "syllable_accuracy_ours": ours_all,
            "syllable_accuracy_cmudict": accuracy("cmudict", words),
            "syllable_accuracy_pyphen": pyphen_all,
            "oov_syllable_accuracy_ours": ours_oov,
            "oov_syllable_accuracy_pyphen": accuracy("pyphen", missed),
            "error_ratio_ours_to_pyphen": (1 - ours_all) / max(1e-9, 1 - pyphen_all),
            "g2p_heldout_words": held["words"],
            "g2p_heldout_word_accuracy_first": held["word_accuracy_first"],
            "g2p_heldout_word_accuracy_any": held["word_accuracy_any"],
            "g2p_heldout_phone_error_rate": held["phone_error_rate"],
            "g2p_heldout_syllable_accuracy": held["syllable_accuracy_first"],
            "pyphen_heldout_syllable_accuracy": pyphen_held,
            "g2p_latency_ms_p50": p50,
            "g2p_latency_ms_p99": p99,
            "pyphen_latency_ms_p50": y50,
            "g2p_to_pyphen_latency_ratio": p50 / y50,
            "g2p_load_ms": load_ms,
            "target_all_97": ours_all >= 0.97,
            "target_oov_90": ours_oov >= 0.90,
        }
    )


if __name__ == "__main__":
    main()

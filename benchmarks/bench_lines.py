"""Line ideas: constraint hits, dictionary words, speed, variety; against sample-and-reject.

Claims (issue 7): 100 % of suggestions meet the syllable target, 100 % meet the rhyme when one
is asked, ≥ 98 % of words are dictionary words, 5 suggestions in ≤ 500 ms on CPU.

Run: ``python benchmarks/bench_lines.py [--requests 200] [--reference-requests 60]``.

Requests: ``i = 0..N-1``, syllables ``6 + i % 7``, seed ``i``; even ``i`` ask for a rhyme with a
word drawn (seeded) from the 2,000 most frequent content words of the model's training lines
(words ranked 150–2,150 whose rhyme part has at least one perfect rhyme in the model); odd ``i``
pass a previous line (``after``) from a fixed list written for this benchmark. Every returned
line is checked independently of the model's stored tables: syllables are recounted from
CMUdict (first pronunciation, ``models.lyrics.phonemes``), the rhyme is recomputed from the
same pronunciations (equal rhyme part, different onset, different word), and
``pronouncing.rhymes`` (a second implementation, any pronunciation) is asked too.

Reference in the same run: the same n-gram sampled without constraints (right to left from
``</s>`` until ``<s>``, temperature 1, at most 40 words), as a sample-and-reject decoder would:
for the first ``--reference-requests`` requests, 200 samples each, the share that happens to
have the requested syllable count (previous-line requests) or the count and the rhyme (rhyme
requests), and the time sample-and-reject would need for 5 lines (mean time per sample × 5 /
pooled acceptance rate; infinite when no sample was accepted).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import final_json, percentiles, table

from models.lyrics import phonemes as ph
from models.lyrics.dictionary import cmu_entries
from models.lyrics.lines import END, START, UNK, LineModel

REFERENCE_SAMPLES = 200
AFTER = (
    "I walked alone beside the river",
    "you told me that the summer would not end",
    "the city lights are burning in the rain",
    "we were young and we were reckless",
    "she kept a candle burning in the window",
    "nobody knows the road I travel on",
    "the morning came and you were gone",
    "hold me close until the night is over",
    "there's a ghost in every song I sing",
    "my father worked the fields from dawn to dusk",
    "and all the stars went quiet overhead",
    "I could not find the words to say goodbye",
)


def _rhymes(a: str, b: str, entries: dict[str, list[list[str]]]) -> bool:
    """Perfect rhyme by first pronunciations: equal rhyme part, different onset, not the same
    word (recomputed here, not read from the model)."""
    if a == b or a not in entries or b not in entries:
        return False
    pa, pb = entries[a][0], entries[b][0]
    if ph.rhyme_part(pa) != ph.rhyme_part(pb):
        return False
    return ph.onset_before(pa, ph.stressed_vowel(pa)) != ph.onset_before(pb, ph.stressed_vowel(pb))


def _rhyme_words(model: LineModel, count: int, seed: int) -> list[str]:
    pool = []
    for i in range(3 + 150, min(model.size, 3 + 2150)):
        word = model.words[i]
        if model.syllables[i] == 0 or len(word) < 3:
            continue
        ids, _ = model.rhyme_candidates(word)
        if len(ids):
            pool.append(word)
    rng = np.random.default_rng(seed)
    return [str(w) for w in rng.choice(pool, size=count, replace=True)]


def _unconstrained(model: LineModel, rng: np.random.Generator) -> list[int]:
    """One line from the same n-gram with no constraint, in reading order."""
    ids: list[int] = []
    h2, h1 = END, END
    for _ in range(40):
        p = model.distribution(h2, h1)
        p[UNK] = 0.0
        p[END] = 0.0
        cum = np.cumsum(p)
        pick = int(np.searchsorted(cum, rng.random() * cum[-1], side="right"))
        pick = min(pick, model.size - 1)
        if pick == START:
            break
        ids.append(pick)
        h2, h1 = h1, pick
    return ids[::-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--reference-requests", type=int, default=60)
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args()

    import pronouncing

    entries = cmu_entries()
    started = time.perf_counter()
    model = LineModel.load(args.model) if args.model else LineModel.load()
    load_ms = (time.perf_counter() - started) * 1000
    rhyme_words = _rhyme_words(model, (args.requests + 1) // 2, seed=7)
    model.suggest(8, rhyme_with="night", seed=0)  # warm-up

    requests = []
    for i in range(args.requests):
        n = 6 + i % 7
        if i % 2 == 0:
            requests.append({"syllables": n, "rhyme_with": rhyme_words[i // 2], "seed": i})
        else:
            requests.append({"syllables": n, "after": AFTER[(i // 2) % len(AFTER)], "seed": i})

    times: list[float] = []
    lines = words = dict_words = syl_ok = 0
    rhyme_lines = rhyme_ok = pron_ok = 0
    short: dict[str, int] = {}
    texts: list[str] = []
    within_distinct = 0
    for req in requests:
        t0 = time.perf_counter()
        got = model.suggest(**req)  # type: ignore[arg-type]
        times.append(time.perf_counter() - t0)
        if len(got) < 5:
            short[got.reason or "?"] = short.get(got.reason or "?", 0) + 1
        within_distinct += len({s.text for s in got})
        for s in got:
            lines += 1
            texts.append(s.text.lower())
            words += len(s.words)
            dict_words += sum(1 for w in s.words if w in entries)
            counted = sum(ph.syllables(entries[w][0]) if w in entries else -99 for w in s.words)
            syl_ok += counted == req["syllables"]
            if "rhyme_with" in req:
                target = str(req["rhyme_with"])
                rhyme_lines += 1
                rhyme_ok += _rhymes(s.words[-1], target, entries)
                pron_ok += s.words[-1] in set(pronouncing.rhymes(target))
    ms = np.array(times) * 1000
    p50, p99 = percentiles(ms)

    # Reference: unconstrained sampling of the same model, then rejection.
    rng = np.random.default_rng(1)
    kinds = {"after": [0, 0, 0, 0], "rhyme": [0, 0, 0, 0]}  # samples, accepted, requests, never
    spent = 0.0
    for req in requests[: args.reference_requests]:
        kind = "rhyme" if "rhyme_with" in req else "after"
        accepted = 0
        t0 = time.perf_counter()
        for _ in range(REFERENCE_SAMPLES):
            ids = _unconstrained(model, rng)
            ok = bool(ids) and int(model.syllables[ids].sum()) == req["syllables"]
            if ok and kind == "rhyme":
                ok = _rhymes(model.words[ids[-1]], str(req["rhyme_with"]), entries)
            accepted += ok
        spent += time.perf_counter() - t0
        tally = kinds[kind]
        tally[0] += REFERENCE_SAMPLES
        tally[1] += accepted
        tally[2] += 1
        tally[3] += accepted == 0
    samples = sum(t[0] for t in kinds.values())
    per_sample_ms = spent * 1000 / samples if samples else float("nan")

    def share(kind: str) -> float:
        return kinds[kind][1] / kinds[kind][0] if kinds[kind][0] else float("nan")

    def reject_ms(kind: str) -> float:
        rate = share(kind)
        return 5 * per_sample_ms / rate if rate > 0 else math.inf

    ref_syl_share, ref_rhyme_share = share("after"), share("rhyme")

    figures = {
        "requests": len(requests),
        "lines": lines,
        "requests_short": sum(short.values()),
        "syllables_met": syl_ok / max(lines, 1),
        "rhyme_met": rhyme_ok / max(rhyme_lines, 1),
        "rhyme_agrees_with_pronouncing": pron_ok / max(rhyme_lines, 1),
        "dictionary_word_share": dict_words / max(words, 1),
        "p50_ms_5_suggestions": p50,
        "p99_ms_5_suggestions": p99,
        "max_ms_5_suggestions": float(ms.max()),
        "distinct_within_request": within_distinct / max(lines, 1),
        "distinct_overall": len(set(texts)) / max(lines, 1),
        "load_ms": load_ms,
        "vocabulary": model.size,
        "reference_requests": sum(t[2] for t in kinds.values()),
        "reference_samples": samples,
        "reference_ms_per_sample": per_sample_ms,
        "reference_syllables_met": ref_syl_share,
        "reference_syllables_and_rhyme_met": ref_rhyme_share,
        "reference_reject_ms_for_5": reject_ms("after"),
        "reference_reject_ms_for_5_with_rhyme": reject_ms("rhyme"),
        "reference_requests_never_met": kinds["after"][3],
        "reference_rhyme_requests_never_met": kinds["rhyme"][3],
    }
    figures["speed_ratio_reject_vs_decoder"] = reject_ms("after") / p50 if p50 else math.nan
    never = f"{kinds['after'][3]}+{kinds['rhyme'][3]} of {figures['reference_requests']} none"
    rows = [
        ["syllables met (ref: previous-line requests)", f"{figures['syllables_met']:.1%}",
         f"{ref_syl_share:.2%}"],
        ["rhyme met (ref: syllables and rhyme)", f"{figures['rhyme_met']:.1%}",
         f"{ref_rhyme_share:.3%}"],
        ["rhyme per pronouncing.rhymes", f"{figures['rhyme_agrees_with_pronouncing']:.1%}", "-"],
        ["dictionary words", f"{figures['dictionary_word_share']:.1%}", "100% (same vocab)"],
        ["ms for 5 lines p50 (no rhyme / rhyme)", p50,
         f"{reject_ms('after'):.0f} / {reject_ms('rhyme'):.0f}"],
        ["ms for 5 lines p99", p99, "-"],
        ["distinct lines (overall)", f"{figures['distinct_overall']:.1%}", "-"],
        ["requests short of 5", figures["requests_short"], never],
    ]  # fmt: skip
    print(table(["figure", "constrained decoder", "sample and reject"], rows))
    for reason, n in sorted(short.items()):
        print(f"short: {n} x {reason}")
    final_json(figures)


if __name__ == "__main__":
    main()

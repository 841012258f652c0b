"""Claim: the next-chord model predicts the analysts' next chord better than two baselines.

Run: ``python benchmarks/bench_next_chord.py`` (under a minute; prints tables and a final JSON
line).

Data: the shipped ``resources/harmony/chord_statistics.json`` (68 human RomanText analyses:
20 Bach chorales, 48 Monteverdi madrigals; tokens relative to the local key, inversions
dropped, repeats collapsed). Cross-validation is by piece: the pieces are shuffled with a fixed
seed into ten folds; each fold is predicted by models counted on the other nine. Every token of
a held-out segment is a target, the first one predicted from the start of its segment.

Systems (all per mode, all counted on the training folds only):

* ``most frequent``: always the training fold's most frequent tokens of the mode.
* ``bigram add-one``: P(next | previous token or segment start) with add-one smoothing.
* ``model raw``: :class:`models.next_chord.NextChordModel`'s interpolated trigram alone.
* ``model style 0``: ``suggest(key, recent, style=0.0)`` end to end (tokens -> chords -> tokens;
  chromatic mass capped at 4 % except the Picardy tonic in minor), the app's default.
* ``model style 0 strict``: the same with the Picardy tonic capped too (``allow_picardy=False``).

The model's bigram discount and trigram prior are picked per outer fold by a 4-fold inner
cross-validation on that fold's training pieces only (grid below, best inner top-3, then
top-1 accuracy).

Timing: ``suggest`` wall-clock per call (n=8, styles 0/0.5/1, contexts drawn from the corpus),
warm (the model memoises n-gram distributions per context) and cold (memo cleared every call);
the best of three passes for each percentile, since a shared machine adds scheduling spikes.
"""

from __future__ import annotations

import platform
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
from _support import final_json, percentiles, table

from models.next_chord import BOS, MODES, ChordStatistics, NextChordModel
from models.theory import Key, Mode

SEED = 20261125
FOLDS = 10
INNER_FOLDS = 4
DISCOUNTS = (0.5, 0.7, 0.85)
TRIGRAM_PRIORS = (20.0, 40.0, 80.0)
TIMED_CALLS = 3000
TIMING_PASSES = 3

Predictor = Callable[[Mode, tuple[str, ...]], list[str]]  # mode, context -> ranked tokens


def folds(ids: Sequence[str], k: int, seed: int) -> list[list[str]]:
    order = sorted(ids)
    random.Random(seed).shuffle(order)
    return [sorted(order[i::k]) for i in range(k)]


def cases(stats: ChordStatistics, ids: Sequence[str]) -> list[tuple[Mode, tuple[str, ...], str]]:
    """(mode, context tokens, target) for every token of the given pieces."""
    out = []
    for pid in ids:
        for seg in stats.pieces[pid]:
            for i, token in enumerate(seg.tokens):
                out.append((seg.mode, seg.tokens[max(0, i - 2) : i], token))
    return out


def accuracy(
    predict: Predictor, test: Sequence[tuple[Mode, tuple[str, ...], str]]
) -> tuple[int, int]:
    top1 = top3 = 0
    for mode, context, target in test:
        ranked = predict(mode, context)
        top1 += ranked[:1] == [target]
        top3 += target in ranked[:3]
    return top1, top3


def most_frequent(stats: ChordStatistics, train: Sequence[str]) -> Predictor:
    ranked = {}
    for mode in MODES:
        counts = Counter(t for seq in stats.sequences(mode, train) for t in seq)
        ranked[mode] = [t for t, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))][:3]
    return lambda mode, context: ranked[mode]


def bigram_add_one(stats: ChordStatistics, train: Sequence[str]) -> Predictor:
    ranked: dict[Mode, dict[str, list[str]]] = {}
    fallback: dict[Mode, list[str]] = {}
    for mode in MODES:
        seqs = stats.sequences(mode, train)
        vocab = sorted({t for seq in seqs for t in seq})
        pairs: dict[str, Counter[str]] = {}
        for seq in seqs:
            for prev, token in zip([BOS, *seq], seq, strict=False):
                pairs.setdefault(prev, Counter())[token] += 1
        # add-one: every token gets +1, so the ranking is by count, ties by name
        ranked[mode] = {prev: _top3(vocab, c) for prev, c in pairs.items()}
        fallback[mode] = sorted(vocab)[:3]  # an unseen previous token: uniform
    return lambda mode, context: ranked[mode].get(context[-1] if context else BOS, fallback[mode])


def _top3(vocab: list[str], counts: Counter[str]) -> list[str]:
    return sorted(vocab, key=lambda t: (-counts[t], t))[:3]


def model_raw(model: NextChordModel) -> Predictor:
    def predict(mode: Mode, context: tuple[str, ...]) -> list[str]:
        sub = model.modes[mode]
        dist = sub.ngram(context)
        return [sub.vocab[i] for i in np.argsort(-dist, kind="stable")[:3]]

    return predict


def model_suggest(model: NextChordModel) -> Predictor:
    keys = {"major": Key(0, "major"), "minor": Key(9, "minor")}
    return lambda mode, context: [s.numeral for s in model.suggest(keys[mode], context, 0.0, 3)]


def tune(stats: ChordStatistics, train: Sequence[str]) -> tuple[float, float]:
    best: tuple[int, int, float, float] | None = None
    inner = folds(train, INNER_FOLDS, SEED + 1)
    for discount in DISCOUNTS:
        for prior in TRIGRAM_PRIORS:
            top1 = top3 = 0
            for held in inner:
                rest = [p for p in train if p not in held]
                model = NextChordModel(stats, rest, discount=discount, trigram_prior=prior)
                a1, a3 = accuracy(model_raw(model), cases(stats, held))
                top1, top3 = top1 + a1, top3 + a3
            if best is None or (top3, top1) > best[:2]:
                best = (top3, top1, discount, prior)
    assert best is not None
    return best[2], best[3]


def time_suggest(model: NextChordModel, stats: ChordStatistics) -> tuple[list[float], list[float]]:
    rng = random.Random(SEED)
    all_cases = cases(stats, sorted(stats.pieces))
    keys = {"major": Key.parse("Eb major"), "minor": Key.parse("F# minor")}
    picks = [rng.choice(all_cases) for _ in range(TIMED_CALLS)]
    styles = [0.0, 0.5, 1.0]
    results = []
    for cold in (False, True):
        passes = []
        for _ in range(TIMING_PASSES):
            times = []
            for i, (mode, context, _) in enumerate(picks):
                if cold:
                    for sub in model.modes.values():
                        sub._cache.clear()
                start = time.perf_counter()
                model.suggest(keys[mode], context, styles[i % 3], 8)
                times.append((time.perf_counter() - start) * 1e6)
            passes.append(percentiles(np.array(times)))
        results.append([min(p[0] for p in passes), min(p[1] for p in passes)])
    return results[0], results[1]


def main() -> None:
    stats = ChordStatistics.load()
    ids = sorted(stats.pieces)
    systems = (
        "most frequent",
        "bigram add-one",
        "model raw",
        "model style 0",
        "model style 0 strict",
    )
    hits = {s: [0, 0] for s in systems}
    by_corpus = {s: {"bach": [0, 0, 0], "monteverdi": [0, 0, 0]} for s in systems}
    total = 0
    chosen = []
    for held in folds(ids, FOLDS, SEED):
        train = [p for p in ids if p not in held]
        discount, prior = tune(stats, train)
        chosen.append((discount, prior))
        model = NextChordModel(stats, train, discount=discount, trigram_prior=prior)
        predictors = {
            "most frequent": most_frequent(stats, train),
            "bigram add-one": bigram_add_one(stats, train),
            "model raw": model_raw(model),
            "model style 0": model_suggest(model),
            "model style 0 strict": model_suggest(
                NextChordModel(
                    stats, train, discount=discount, trigram_prior=prior, allow_picardy=False
                )
            ),
        }
        for pid in held:
            test = cases(stats, [pid])
            corpus = pid.split("/")[0]
            for name, predict in predictors.items():
                a1, a3 = accuracy(predict, test)
                hits[name][0] += a1
                hits[name][1] += a3
                row = by_corpus[name][corpus]
                row[0] += a1
                row[1] += a3
                row[2] += len(test)
        total += len(cases(stats, held))
    rows = []
    for name in systems:
        b, m = by_corpus[name]["bach"], by_corpus[name]["monteverdi"]
        rows.append(
            [
                name,
                hits[name][0] / total,
                hits[name][1] / total,
                b[1] / b[2],
                m[1] / m[2],
            ]
        )
    full = NextChordModel(stats)
    warm, cold = time_suggest(full, stats)
    print(f"python {platform.python_version()} on {platform.machine()}, seed {SEED}")
    print(f"{len(ids)} pieces, {total} predicted tokens, {FOLDS}-fold by piece")
    print(table(["system", "top-1", "top-3", "top-3 Bach", "top-3 Monteverdi"], rows))
    picks = Counter(chosen)
    print("smoothing chosen per fold (bigram discount, trigram prior):", dict(picks))
    print(
        table(
            ["suggest()", "p50 µs", "p99 µs"],
            [["warm", warm[0], warm[1]], ["cold", cold[0], cold[1]]],
        )
    )
    acc = {name: (round(h[0] / total, 4), round(h[1] / total, 4)) for name, h in hits.items()}
    ours, mf, bg = acc["model style 0"], acc["most frequent"], acc["bigram add-one"]
    final_json(
        {
            "benchmark": "next_chord",
            "pieces": len(ids),
            "tokens": total,
            "folds": FOLDS,
            "top1": {k: v[0] for k, v in acc.items()},
            "top3": {k: v[1] for k, v in acc.items()},
            "suggest_us_p50_warm": round(warm[0], 1),
            "suggest_us_p99_warm": round(warm[1], 1),
            "suggest_us_p50_cold": round(cold[0], 1),
            "suggest_us_p99_cold": round(cold[1], 1),
            "seed": SEED,
            "targets": {
                "beats_most_frequent": ours[0] > mf[0] and ours[1] > mf[1],
                "beats_bigram": ours[0] > bg[0] and ours[1] > bg[1],
                "under_1ms": cold[1] < 1000.0,
            },
        }
    )


if __name__ == "__main__":
    main()

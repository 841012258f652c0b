"""Interpolated modified Kneser–Ney n-gram models over melody tokens: the baseline a melody
model has to beat, and a scorer for held-out NLL.

Every table is a sorted array of 64-bit n-gram hashes with its counts, so a model of order 13
over a million and a half tokens takes a few hundred MB at most and scores a whole test set in
one vectorised pass per order (no Python loop over tokens).

* **Hashes**: an n-gram ``x[t-n+1 .. t]`` hashes to ``Σ (x[t-k] + 1) · B^k mod 2^64`` (``B`` a
  large odd constant); the context of that n-gram is the (n−1)-gram ending at ``t − 1``. Two
  different n-grams of one order share a hash with probability about ``m² / 2^65`` for ``m``
  distinct n-grams: below 1e-7 here.
* **Sequences** are each preceded by ``order − 1`` ``PAD`` tokens, so no window spans two tunes
  and the first tokens have short contexts padded the same way at training and scoring time.
* **Smoothing** (Chen & Goodman 1999): the top order uses raw counts, lower orders continuation
  counts (the number of distinct tokens seen before the n-gram). Three discounts per order
  (``D1``, ``D2``, ``D3+``) from that order's counts of counts::

      P_n(w | h) = max(c(h w) − D(c(h w)), 0) / c(h) + γ(h) · P_{n−1}(w | h′)
      γ(h) = (D1 · N1(h •) + D2 · N2(h •) + D3+ · N3+(h •)) / c(h)

  with ``P_0`` uniform over the vocabulary, and ``P_n = P_{n−1}`` for a context never seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models.melody import tokens as tk

BASE = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class _Order:
    grams: np.ndarray  # sorted unique n-gram hashes
    counts: np.ndarray  # their (continuation) counts
    contexts: np.ndarray  # sorted unique context hashes
    context_totals: np.ndarray  # c(h) for each context
    gammas: np.ndarray  # γ(h) for each context
    discounts: tuple[float, float, float]


def _layout(sequences: Sequence[Sequence[int]], order: int) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated tokens with ``order - 1`` PADs before each sequence, and the positions of
    the real tokens (after each BOS) in it."""
    pad = order - 1
    total = sum(len(s) + pad for s in sequences)
    x = np.full(total, tk.PAD, dtype=np.int64)
    targets = []
    at = 0
    for s in sequences:
        at += pad
        x[at : at + len(s)] = np.asarray(s, dtype=np.int64)
        targets.append(np.arange(at + 1, at + len(s)))
        at += len(s)
    return x, np.concatenate(targets) if targets else np.zeros(0, dtype=np.int64)


def _hashes(x: np.ndarray, positions: np.ndarray, max_n: int) -> list[np.ndarray]:
    """``out[n]`` = hash of the n-gram ending at each position, for n = 0 .. max_n (n = 0: 0)."""
    out = [np.zeros(len(positions), dtype=np.uint64)]
    power = np.uint64(1)
    h = np.zeros(len(positions), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(max_n):
            h = h + (x[positions - k].astype(np.uint64) + np.uint64(1)) * power
            out.append(h.copy())
            power = power * BASE
    return out


def _discounts(counts: np.ndarray) -> tuple[float, float, float]:
    n1, n2, n3, n4 = (float(np.count_nonzero(counts == k)) for k in (1, 2, 3, 4))
    if n1 == 0 or n2 == 0:
        return (0.5, 0.75, 0.9)
    y = n1 / (n1 + 2 * n2)
    d1 = 1 - 2 * y * n2 / n1
    d2 = 2 - 3 * y * n3 / n2 if n2 else 1.0
    d3 = 3 - 4 * y * n4 / n3 if n3 else 1.5
    return (max(0.05, d1), max(0.05, d2), max(0.05, d3))


def _table(grams: np.ndarray, contexts: np.ndarray, counts: np.ndarray) -> _Order:
    """An order's table from its unique n-grams (hash, context hash, count)."""
    disc = _discounts(counts)
    ctx, inverse = np.unique(contexts, return_inverse=True)
    totals = np.bincount(inverse, weights=counts, minlength=len(ctx))
    n1 = np.bincount(inverse, weights=counts == 1, minlength=len(ctx))
    n2 = np.bincount(inverse, weights=counts == 2, minlength=len(ctx))
    n3 = np.bincount(inverse, weights=counts >= 3, minlength=len(ctx))
    gammas = (disc[0] * n1 + disc[1] * n2 + disc[2] * n3) / totals
    return _Order(grams, counts.astype(np.float64), ctx, totals, gammas, disc)


class KneserNey:
    """An interpolated modified Kneser–Ney model of ``order`` over token sequences."""

    def __init__(self, sequences: Sequence[Sequence[int]], order: int) -> None:
        if order < 1:
            raise ValueError("order must be at least 1")
        self.order = order
        self.vocab = len(tk.VOCAB)
        x, positions = _layout(sequences, order)
        full = _hashes(x, positions, order)
        ctx = _hashes(x, positions - 1, order - 1)
        self._orders: list[_Order] = []
        # Top order: raw counts.
        grams, first, counts = np.unique(full[order], return_index=True, return_counts=True)
        top = _table(grams, ctx[order - 1][first], counts)
        # Lower orders: continuation counts, from the distinct (n+1)-grams' suffixes.
        tables = [top]
        upper_first = first
        for n in range(order - 1, 0, -1):
            suffix = full[n][upper_first]
            grams_n, inverse = np.unique(suffix, return_inverse=True)
            cont = np.bincount(inverse, minlength=len(grams_n)).astype(np.int64)
            # one representative position per n-gram for its context hash
            rep = np.zeros(len(grams_n), dtype=np.int64)
            rep[inverse] = upper_first
            tables.append(_table(grams_n, ctx[n - 1][rep], cont))
            # distinct n-grams of this order over all positions, for the next order down
            _, upper_first = np.unique(full[n], return_index=True)
        self._orders = tables[::-1]  # index 0: unigrams

    def log_probs(self, sequences: Sequence[Sequence[int]], skip: int = 3) -> np.ndarray:
        """Natural-log probability of every token after the first ``skip`` of each sequence
        (by default BOS, meter and mode are given, not predicted)."""
        x, positions = _layout(sequences, self.order)
        if skip > 1:
            starts = np.concatenate([[0], np.cumsum([len(s) - 1 for s in sequences])[:-1]]).astype(
                np.int64
            )
            keep = np.ones(len(positions), dtype=bool)
            for k in range(skip - 1):
                keep[starts + k] = False
            positions = positions[keep]
        full = _hashes(x, positions, self.order)
        ctx = _hashes(x, positions - 1, self.order - 1)
        p = np.full(len(positions), 1.0 / self.vocab)
        for n, table in enumerate(self._orders, start=1):
            c_hw = _lookup(table.grams, table.counts, full[n])
            ci = np.searchsorted(table.contexts, ctx[n - 1])
            ci = np.minimum(ci, len(table.contexts) - 1)
            seen = table.contexts[ci] == ctx[n - 1]
            c_h = np.where(seen, table.context_totals[ci], 1.0)
            gamma = np.where(seen, table.gammas[ci], 0.0)
            d = np.select(
                [c_hw == 0, c_hw == 1, c_hw == 2],
                [0.0, table.discounts[0], table.discounts[1]],
                table.discounts[2],
            )
            smoothed = np.maximum(c_hw - d, 0.0) / c_h + gamma * p
            p = np.where(seen, smoothed, p)
        return np.log(p)

    def nll(self, sequences: Sequence[Sequence[int]]) -> float:
        """Mean negative log-likelihood per predicted token, in nats."""
        lp = self.log_probs(sequences)
        return float(-lp.mean()) if len(lp) else float("nan")


def _lookup(keys: np.ndarray, values: np.ndarray, query: np.ndarray) -> np.ndarray:
    i = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
    return np.where(keys[i] == query, values[i], 0.0)


def best_order(
    train: Sequence[Sequence[int]],
    validation: Sequence[Sequence[int]],
    orders: Sequence[int] = tuple(range(3, 14)),
) -> tuple[KneserNey, dict[int, float]]:
    """The model of the order with the lowest validation NLL, and every order's NLL."""
    scores: dict[int, float] = {}
    best: KneserNey | None = None
    for n in orders:
        model = KneserNey(train, n)
        scores[n] = model.nll(validation)
        if best is None or scores[n] < scores[best.order]:
            best = model
    assert best is not None
    return best, scores

"""Line ideas: a backward word trigram model and a decoder that meets the syllable count, the
end rhyme and (optionally) a stress pattern by construction.

The model (written by :mod:`models.training.train_lines`, shipped in
``resources/models/lines/``) reads a line from its last word to its first: it gives
``p(word | the two words after it)``, with a line-end marker ``</s>`` before the last word and
a line-start marker ``<s>`` after the first. Probabilities are interpolated modified
Kneser-Ney (trigram, bigram, unigram), rebuilt at load time from the stored counts.

Decoding (:meth:`LineModel.suggest`): the end word is chosen first (a perfect rhyme of
``rhyme_with`` when asked: the same rhyme part of the CMUdict first pronunciation, a different
onset before the stressed vowel, not the same word), then words are sampled right to left.
A word may be chosen only when it fits the remaining syllable budget and the budget left after
it can still be filled (``reachable``, computed per request), so every line comes out with
exactly the requested syllable count; nothing is generated and thrown away. Several candidates
are drawn per suggestion and the most likely (mean log-probability per token, bonuses for
topic words and words of the previous line included) are kept, distinct in text, preferring
distinct end words.

Stress patterns use ``1`` for a stressed and ``0`` for an unstressed syllable (``x`` or ``.``:
either). Matching is **strict for words of two or more syllables** (a dictionary ``1`` only on
a ``1``, a ``0`` only on a ``0``; a secondary ``2`` fits either) and **soft for one-syllable
words**, which fit either position (as in English verse) with a lower weight when their
dictionary stress disagrees.

numpy only; no Qt, no torch.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from models.lyrics import phonemes as ph

FORMAT_VERSION = 1
MODEL_DIR = Path(__file__).resolve().parents[2] / "resources" / "models" / "lines"
ARRAYS_FILE = "lines.npz"
META_FILE = "lines.json"
END, START, UNK = 0, 1, 2  # ids of </s>, <s> and <unk>; real words start at 3
SPECIALS = ("</s>", "<s>", "<unk>")

MAX_SYLLABLES = 24  # longest line the decoder accepts
MAX_COUNT = 50  # most suggestions per request
MAX_AFTER_CHARS = 4000  # only the end of a longer previous line is read
MAX_TOPIC_WORDS = 50
CANDIDATES_PER_SUGGESTION = 8
SHARPEN = True  # sample words with weight ** 1.5 (temperature 2/3) rather than weight ** 1
TOPIC_BONUS = 25.0  # weight factor for topic words
AFTER_BONUS = 6.0  # weight factor for content words of the previous line
FUNCTION_WORDS = 150  # the most frequent words (at most a tenth) get no previous-line bonus
REPEAT_PENALTY = 0.05  # weight of a content word already in the line
SOFT_STRESS = 0.35  # weight of a one-syllable word whose dictionary stress disagrees
END_WORD_FLATTEN = 0.75  # rhyme end words are drawn with p(word ends a line) ** this

_TOKEN = re.compile(r"'?[a-z]+(?:'[a-z]+)*'?")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u2014": " ", "\u2013": " "})


class LineRequestError(ValueError):
    """A request the decoder cannot even start on (syllables out of range, a bad stress
    string, a bad count)."""


@dataclass(frozen=True)
class Suggestion:
    text: str  # display form: first letter capitalised, proper nouns capitalised
    words: tuple[str, ...]  # lower-case dictionary words, in reading order
    syllables: int  # CMUdict first pronunciations, summed
    stress: str  # one digit per syllable from the same pronunciations
    score: float  # mean natural-log probability per token (bonuses included); higher is better


class SuggestionList(list[Suggestion]):
    """The suggestions, best first; ``reason`` says why there are fewer than asked (empty when
    the request was met in full); ``ignored`` lists topic words the model does not know."""

    def __init__(
        self, items: Sequence[Suggestion] = (), reason: str = "", ignored: Sequence[str] = ()
    ) -> None:
        super().__init__(items)
        self.reason = reason
        self.ignored = tuple(ignored)


def tokenise(text: str) -> list[str]:
    """Lower-case words with inner apostrophes kept (``'tis``, ``father's``); quotes and dashes
    normalised, everything else dropped. The training script uses the same rule."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).replace("-", " ").lower()
    return _TOKEN.findall(text)


def _discounts(values: Sequence[float]) -> np.ndarray:
    return np.array([0.0, *values], dtype=np.float64)


def _discounted(
    ptr: np.ndarray, counts: np.ndarray, totals: np.ndarray, disc: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per entry ``(c - D(c)) / total(context)`` and per context the mass left for the lower
    order (pruned entries included)."""
    rows = np.repeat(np.arange(len(totals)), np.diff(ptr))
    c = counts.astype(np.float64)
    safe = np.maximum(totals.astype(np.float64), 1.0)
    prob = (c - disc[np.minimum(counts, 3)]) / safe[rows]
    kept = np.bincount(rows, weights=prob, minlength=len(totals))
    gamma = np.where(totals > 0, 1.0 - kept, 1.0)
    return prob, np.maximum(gamma, 0.0)


class LineModel:
    """A loaded backward trigram model; thread-safe for concurrent :meth:`suggest` calls (no
    mutable state after load)."""

    def __init__(self, arrays: dict[str, np.ndarray], meta: dict[str, object]) -> None:
        if meta.get("format") != FORMAT_VERSION:
            raise ValueError(f"line model format {meta.get('format')!r}, expected {FORMAT_VERSION}")
        self.meta = meta
        words = bytes(arrays["vocab"]).decode("utf-8").split("\n")
        self.words: list[str] = words
        self.index = {w: i for i, w in enumerate(words)}
        self.size = v = len(words)
        self.syllables = arrays["syllables"].astype(np.int64)
        self.stress_id = arrays["stress_id"].astype(np.int64)
        self.rhyme_id = arrays["rhyme_id"].astype(np.int64)
        self.onset_id = arrays["onset_id"].astype(np.int64)
        self.cased = arrays["cased"].astype(bool)
        self.freq = arrays["freq"].astype(np.int64)
        self.stress_patterns: list[str] = list(meta["stress_patterns"])  # type: ignore[call-overload]
        self.rhyme_parts: list[str] = list(meta["rhyme_parts"])  # type: ignore[call-overload]
        self.onsets: list[str] = list(meta["onsets"])  # type: ignore[call-overload]
        self._rhyme_lookup = {part: i for i, part in enumerate(self.rhyme_parts)}
        disc = meta["discounts"]
        assert isinstance(disc, dict)
        cont = arrays["uni_count"].astype(np.float64)
        self.uni = cont / cont.sum()
        self.bi_ptr = arrays["bi_ptr"].astype(np.int64)
        self.bi_word = arrays["bi_word"].astype(np.intp)
        self.bi_prob, self.bi_gamma = _discounted(
            self.bi_ptr, arrays["bi_count"], arrays["bi_total"], _discounts(disc["bigram"])
        )
        self.tri_ctx_ptr = arrays["tri_ctx_ptr"].astype(np.int64)
        self.tri_ctx_h2 = arrays["tri_ctx_h2"].astype(np.int64)
        self.tri_ptr = arrays["tri_ptr"].astype(np.int64)
        self.tri_word = arrays["tri_word"].astype(np.intp)
        self.tri_prob, self.tri_gamma = _discounted(
            self.tri_ptr, arrays["tri_count"], arrays["tri_total"], _discounts(disc["trigram"])
        )
        # Words the decoder may write: real words with at least one syllable, and no stray
        # single letters other than "a", "i" and "o".
        emit = self.syllables > 0
        emit[:3] = False
        for i, w in enumerate(words):
            if len(w) == 1 and w not in ("a", "i", "o"):
                emit[i] = False
        self.emit = emit
        self._content = np.arange(v) >= 3 + min(FUNCTION_WORDS, v // 10)
        self._pattern_lengths = np.array([len(p) for p in self.stress_patterns], dtype=np.int64)
        self._pattern_usable = np.zeros(len(self.stress_patterns), dtype=bool)
        self._pattern_usable[np.unique(self.stress_id[emit])] = True
        self._blocks = np.arange(0, v, _BLOCK)
        self._keys: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        # p(<s> | word) at the bigram level: how well a word starts a line, used as a lookahead
        # when a word would fill the syllable budget.
        self.p_start = np.maximum(
            self._bigram_probs(np.arange(v), np.full(v, START, dtype=np.int64)), 1e-300
        )
        self._onset_lookup = {onset: i for i, onset in enumerate(self.onsets)}

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, path: Path | str = MODEL_DIR) -> LineModel:
        """Load ``lines.npz`` and ``lines.json`` from the folder ``path``."""
        folder = Path(path)
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
        with np.load(folder / ARRAYS_FILE) as data:
            arrays = {k: data[k] for k in data.files}
        return cls(arrays, meta)

    # ------------------------------------------------------------- probabilities
    def _bigram_probs(self, h1: np.ndarray, w: np.ndarray) -> np.ndarray:
        keys = self._lookup_keys()[0]
        want = h1 * self.size + w
        at = np.minimum(np.searchsorted(keys, want), max(len(keys) - 1, 0))
        found = keys[at] == want if len(keys) else np.zeros(len(want), dtype=bool)
        disc = np.where(found, self.bi_prob[at] if len(keys) else 0.0, 0.0)
        return self.bi_gamma[h1] * self.uni[w] + disc

    def _lookup_keys(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sorted int64 keys for vectorised lookups: bigram ``h1*V+w``, trigram context
        ``h1*V+h2``, trigram entry ``row*V+w`` (built on first use)."""
        if self._keys is None:
            v = self.size
            bi_rows = np.repeat(np.arange(v), np.diff(self.bi_ptr))
            ctx_h1 = np.repeat(np.arange(v), np.diff(self.tri_ctx_ptr))
            tri_rows = np.repeat(np.arange(len(self.tri_gamma)), np.diff(self.tri_ptr))
            self._keys = (
                bi_rows * v + self.bi_word,
                ctx_h1 * v + self.tri_ctx_h2,
                tri_rows * v + self.tri_word,
            )
        return self._keys

    def token_probs(self, h2: ArrayLike, h1: ArrayLike, w: ArrayLike) -> np.ndarray:
        """``p(w | h1, h2)`` for arrays of ids, where ``h1`` is the word right after ``w`` in
        the text and ``h2`` the one after that (``</s>`` past the end)."""
        a2, a1, aw = (np.asarray(a, dtype=np.int64) for a in (h2, h1, w))
        return self._token_probs(a2, a1, aw)

    def _token_probs(self, h2: np.ndarray, h1: np.ndarray, w: np.ndarray) -> np.ndarray:
        v = self.size
        pb = self._bigram_probs(h1, w)
        _, ctx_keys, tri_keys = self._lookup_keys()
        if not len(ctx_keys):
            return pb
        want = h1 * v + h2
        at = np.minimum(np.searchsorted(ctx_keys, want), len(ctx_keys) - 1)
        has_ctx = ctx_keys[at] == want
        entry = at * v + w
        at2 = np.minimum(np.searchsorted(tri_keys, entry), len(tri_keys) - 1)
        has_entry = has_ctx & (tri_keys[at2] == entry)
        tri = np.where(has_entry, self.tri_prob[at2], 0.0)
        return np.where(has_ctx, self.tri_gamma[at] * pb + tri, pb)

    def _tri_row(self, h2: int, h1: int) -> int:
        lo, hi = int(self.tri_ctx_ptr[h1]), int(self.tri_ctx_ptr[h1 + 1])
        if lo == hi:
            return -1
        at = lo + int(np.searchsorted(self.tri_ctx_h2[lo:hi], h2))
        return at if at < hi and int(self.tri_ctx_h2[at]) == h2 else -1

    def distribution(self, h2: int, h1: int) -> np.ndarray:
        """``p(word | h1, h2)`` over the whole vocabulary (a fresh float64 array)."""
        p = self.uni * self.bi_gamma[h1]
        lo, hi = self.bi_ptr[h1], self.bi_ptr[h1 + 1]
        p[self.bi_word[lo:hi]] += self.bi_prob[lo:hi]
        row = self._tri_row(h2, h1)
        if row >= 0:
            p *= self.tri_gamma[row]
            lo, hi = self.tri_ptr[row], self.tri_ptr[row + 1]
            p[self.tri_word[lo:hi]] += self.tri_prob[lo:hi]
        return p

    def line_logprob(self, words: Sequence[str]) -> float:
        """Natural-log probability of a whole line (line markers included); ``-inf`` when a
        word is not in the vocabulary."""
        ids = [self.index.get(w, -1) for w in words]
        if not ids or min(ids) < 0:
            return -math.inf
        seq = [END, END, *reversed(ids), START]
        probs = self.token_probs(np.array(seq[:-2]), np.array(seq[1:-1]), np.array(seq[2:]))
        return float(np.log(probs).sum())

    # ---------------------------------------------------------------- decoding
    def rhyme_candidates(self, word: str) -> tuple[np.ndarray, str]:
        """Vocabulary ids that rhyme perfectly with ``word`` (its last word when it holds
        several; first pronunciations), and an explanation when there are none."""
        tokens = tokenise(str(word)[-200:])
        key = tokens[-1] if tokens else ""
        if key not in self.index and key.strip("'") in self.index:
            key = key.strip("'")
        if not key or len(key) > 64:
            return np.zeros(0, dtype=np.int64), f"{str(word)[:40]!r} is not a word I can pronounce"
        idx = self.index.get(key)
        if idx is not None and idx >= 3 and self.rhyme_id[idx] >= 0:
            rhyme, onset = int(self.rhyme_id[idx]), int(self.onset_id[idx])
        else:
            phones = _cmu_phones(key)
            if phones is None:
                return (
                    np.zeros(0, dtype=np.int64),
                    f"{key[:40]!r} is not in the pronouncing dictionary (CMUdict), so its "
                    "rhyme is unknown",
                )
            part = " ".join(ph.rhyme_part(phones))
            found = self._rhyme_lookup.get(part)
            if found is None:
                return np.zeros(0, dtype=np.int64), f"no word in the model rhymes with {key!r}"
            rhyme = found
            stressed = ph.stressed_vowel(phones)
            onset_text = " ".join(ph.onset_before(phones, stressed))
            onset = self._onset_lookup.get(onset_text, -2)
        ids = np.flatnonzero(
            (self.rhyme_id == rhyme) & (self.onset_id != onset) & self.emit
        ).astype(np.int64)
        ids = ids[ids != (idx if idx is not None else -1)]
        if not len(ids):
            return ids, f"no word in the model rhymes perfectly with {key!r}"
        return ids, ""

    def _stress_fit(self, target: str | None, budget: int) -> np.ndarray:
        """``fit[p, r]``: weight of stress pattern ``p`` for a word ending at syllable ``r``
        (it fills syllables ``r - len .. r - 1``): 1 fits, SOFT_STRESS a soft miss (one-syllable
        words only), 0 forbidden or too long."""
        lengths = self._pattern_lengths
        fit = ((lengths[:, None] <= np.arange(budget + 1)) & (lengths[:, None] > 0)).astype(
            np.float64
        )
        if target is None:
            return fit
        for p, pattern in enumerate(self.stress_patterns):
            n = len(pattern)
            for r in range(max(n, 1), budget + 1):
                for want, have in zip(target[r - n : r], pattern, strict=True):
                    if want in "x." or have == "2" or want == have:
                        continue
                    fit[p, r] = SOFT_STRESS if n == 1 else 0.0
                    if n > 1:
                        break
        return fit

    def reachable(self, syllables: int, stress: str | None = None) -> np.ndarray:
        """``reach[r]`` for ``r = 0 .. syllables``: whether the first ``r`` syllables of a line
        can be filled exactly with words the decoder may write (fitting ``stress`` if given)."""
        return self._reachable(self._stress_fit(stress, syllables), syllables)

    def _reachable(self, fit: np.ndarray, n: int) -> np.ndarray:
        reach = np.zeros(n + 1, dtype=bool)
        reach[0] = True
        lengths = self._pattern_lengths
        for r in range(1, n + 1):
            ok = self._pattern_usable & (fit[:, r] > 0)
            reach[r] = bool(np.any(reach[r - lengths[ok]]))
        return reach

    def _bonus(self, after: str, topic: Sequence[str]) -> tuple[np.ndarray, list[str]]:
        bonus = np.ones(self.size, dtype=np.float64)
        ignored: list[str] = []
        for w in tokenise(after[-MAX_AFTER_CHARS:]):
            i = self.index.get(w.strip("'"), self.index.get(w, -1))
            if i >= 3 and self._content[i]:
                bonus[i] = max(bonus[i], AFTER_BONUS)
        for raw in topic:
            toks = tokenise(str(raw)[:200])
            if not toks:
                ignored.append(str(raw)[:40])
            for w in toks:
                i = self.index.get(w.strip("'"), self.index.get(w, -1))
                if i >= 3:
                    bonus[i] = TOPIC_BONUS
                else:
                    ignored.append(w[:40])
        return bonus, ignored

    def suggest(
        self,
        syllables: int,
        rhyme_with: str | None = None,
        stress: str | None = None,
        after: str = "",
        topic: Sequence[str] = (),
        count: int = 5,
        seed: int = 0,
    ) -> SuggestionList:
        """Up to ``count`` distinct lines of exactly ``syllables`` syllables, ending in a perfect
        rhyme of ``rhyme_with`` when given, fitting ``stress`` when given (see the module notes),
        favouring ``topic`` words and the content words of ``after`` (the previous line).
        The same arguments and seed give the same lines. Raises :class:`LineRequestError` for
        malformed arguments; returns fewer lines (or none) with ``reason`` set when the request
        cannot be met."""
        if isinstance(syllables, bool) or not isinstance(syllables, int | np.integer):
            raise LineRequestError("syllables must be a whole number")
        if not 1 <= syllables <= MAX_SYLLABLES:
            raise LineRequestError(f"syllables must be between 1 and {MAX_SYLLABLES}")
        if isinstance(count, bool) or not isinstance(count, int | np.integer):
            raise LineRequestError("count must be a whole number")
        if not 1 <= count <= MAX_COUNT:
            raise LineRequestError(f"count must be between 1 and {MAX_COUNT}")
        n = int(syllables)
        if stress is not None:
            stress = stress.strip()
            if len(stress) != n or any(ch not in "01x." for ch in stress):
                raise LineRequestError(
                    f"stress must be {n} characters of 0 (unstressed), 1 (stressed) or x (either)"
                )
        rng = np.random.default_rng(int(seed) & 0xFFFFFFFFFFFFFFFF)
        topics = [topic] if isinstance(topic, str) else list(topic or ())[:MAX_TOPIC_WORDS]
        bonus, ignored = self._bonus(str(after or ""), topics)

        fit = self._stress_fit(stress, n)
        word_fit = fit[self.stress_id]  # (V, n + 1)
        reach = self._reachable(fit, n)
        # pref[r]: preference for a word that ends at syllable r (0 where it cannot: too long,
        # leaves an unreachable budget, or breaks the stress pattern); draw[r] adds the
        # line-start lookahead for words that would fill the budget.
        syl = self.syllables
        pref = np.zeros((n + 1, self.size), dtype=np.float64)
        draw = np.zeros((n + 1, self.size), dtype=np.float64)
        for r in range(1, n + 1):
            room = self.emit & (syl <= r)
            room[room] = reach[r - syl[room]]
            pref[r] = np.where(room, word_fit[:, r], 0.0) * bonus
            draw[r] = np.where(syl == r, pref[r] * self.p_start, pref[r])

        end_weights = draw[n].copy()
        reason = ""
        rhyme_ids: set[int] | None = None
        if rhyme_with is not None and str(rhyme_with).strip():
            ids, why = self.rhyme_candidates(str(rhyme_with))
            if not len(ids):
                return SuggestionList([], why, ignored)
            rhyme_ids = set(ids.tolist())
            mask = np.zeros(self.size, dtype=bool)
            mask[ids] = True
            end_weights = np.where(mask, end_weights, 0.0)
            if not end_weights.any():
                return SuggestionList(
                    [],
                    f"no rhyme of {str(rhyme_with)[:40]!r} fits a {n}-syllable line"
                    + (" with that stress pattern" if stress else ""),
                    ignored,
                )
        if not end_weights.any():
            why = (
                f"no line of {n} syllables fits that stress pattern"
                if stress
                else f"no combination of the model's words makes exactly {n} syllables"
            )
            return SuggestionList([], why, ignored)

        p_end = self.distribution(END, END)
        end_dist = end_weights * (p_end**END_WORD_FLATTEN if rhyme_ids is not None else p_end)
        ends = _draw_distinct(rng, end_dist, count)
        if not ends:
            return SuggestionList([], f"no end word fits a {n}-syllable line", ignored)
        candidates: list[tuple[float, int, tuple[int, ...]]] = []
        for end in ends:
            per_end = CANDIDATES_PER_SUGGESTION * max(1, count // len(ends))
            for _ in range(per_end):
                line = self._sample_line(end, n, pref, draw, rng)
                if line is not None:
                    candidates.append(line)
        chosen = self._pick(candidates, count)
        out = [self._suggestion(ids, score) for score, _, ids in chosen]
        out = [s for s in out if self._valid(s, n, stress, rhyme_ids)]
        if len(out) < count:
            reason = (
                f"only {len(out)} distinct line(s) of {n} syllables"
                + (f" rhyming with {str(rhyme_with)[:40]!r}" if rhyme_with else "")
                + " were found"
            )
        return SuggestionList(out, reason, ignored)

    def _sample_line(
        self, end: int, n: int, pref: np.ndarray, draw: np.ndarray, rng: np.random.Generator
    ) -> tuple[float, int, tuple[int, ...]] | None:
        """One line drawn right to left from ``end``: (score, end id, ids in reading order).
        The score is the mean log-probability per token plus the mean log preference."""
        ids = [end]
        remaining = n - int(self.syllables[end])
        logp = math.log(float(self.token_probs([END], [END], [end])[0]))
        logb = math.log(float(pref[n, end]))
        h2, h1 = END, end
        while remaining > 0:
            p = self.distribution(h2, h1)
            w = p * draw[remaining]
            w[h1] = 0.0  # no word twice in a row
            for used in ids:
                if self._content[used]:
                    w[used] *= REPEAT_PENALTY  # a content word once per line, mostly
            if SHARPEN:
                w *= np.sqrt(w)
            pick = _draw_index(w, self._blocks, rng.random())
            if pick < 0:
                return None  # no usable word at all (reach[] makes this unreachable)
            if self._content[pick] and pick in ids:
                logb += math.log(REPEAT_PENALTY)
            ids.append(pick)
            logp += math.log(float(p[pick]))
            logb += math.log(float(pref[remaining, pick]))
            remaining -= int(self.syllables[pick])
            h2, h1 = h1, pick
        logp += math.log(float(self.token_probs([h2], [h1], [START])[0]))
        return (logp + logb) / (len(ids) + 1), end, tuple(reversed(ids))

    @staticmethod
    def _pick(
        candidates: list[tuple[float, int, tuple[int, ...]]], count: int
    ) -> list[tuple[float, int, tuple[int, ...]]]:
        """Best first, distinct lines, one per end word before any end word repeats."""
        ranked = sorted(candidates, key=lambda c: (-c[0], c[2]))
        chosen: list[tuple[float, int, tuple[int, ...]]] = []
        seen: set[tuple[int, ...]] = set()
        used_ends: set[int] = set()
        for pass_ in (0, 1):
            for cand in ranked:
                if len(chosen) >= count:
                    break
                if cand[2] in seen or (pass_ == 0 and cand[1] in used_ends):
                    continue
                chosen.append(cand)
                seen.add(cand[2])
                used_ends.add(cand[1])
        return sorted(chosen, key=lambda c: (-c[0], c[2]))

    def _suggestion(self, ids: tuple[int, ...], score: float) -> Suggestion:
        words = tuple(self.words[i] for i in ids)
        shown = [w.capitalize() if self.cased[i] else w for w, i in zip(words, ids, strict=True)]
        text = " ".join(shown)
        first = next((i for i, ch in enumerate(text) if ch.isalpha()), 0)
        text = text[:first] + text[first : first + 1].upper() + text[first + 1 :]
        stress = "".join(self.stress_patterns[int(self.stress_id[i])] for i in ids)
        return Suggestion(text, words, int(self.syllables[list(ids)].sum()), stress, score)

    def _valid(self, s: Suggestion, n: int, stress: str | None, rhyme_ids: set[int] | None) -> bool:
        """The guarantee, checked again on the finished line."""
        if s.syllables != n or len(s.stress) != n:
            return False
        if rhyme_ids is not None and self.index[s.words[-1]] not in rhyme_ids:
            return False
        if stress:
            pos = 0
            for w in s.words:
                pattern = self.stress_patterns[int(self.stress_id[self.index[w]])]
                window = stress[pos : pos + len(pattern)]
                if len(pattern) > 1 and any(
                    want not in "x." and have != "2" and want != have
                    for want, have in zip(window, pattern, strict=True)
                ):
                    return False
                pos += len(pattern)
        return True


_BLOCK = 256


def _draw_index(weights: np.ndarray, blocks: np.ndarray, u: float) -> int:
    """An index drawn with probability proportional to ``weights`` (``u`` uniform in [0, 1)):
    block sums first, then a cumulative sum inside one block (a full cumulative sum of the
    vocabulary is ten times slower). -1 when every weight is 0."""
    sums = np.add.reduceat(weights, blocks)
    cum = np.cumsum(sums)
    total = float(cum[-1])
    if not total > 0:
        return -1
    target = u * total
    b = min(int(np.searchsorted(cum, target, side="right")), len(cum) - 1)
    while sums[b] <= 0 and b > 0:  # rounding put the target just past the last full block
        b -= 1
    start = int(blocks[b])
    inner = np.cumsum(weights[start : start + _BLOCK])
    rest = target - (float(cum[b - 1]) if b > 0 else 0.0)
    i = min(int(np.searchsorted(inner, rest, side="right")), len(inner) - 1)
    while weights[start + i] <= 0 and i > 0:
        i -= 1
    if weights[start + i] <= 0:
        i = int(np.flatnonzero(weights[start : start + _BLOCK])[0])
    return start + i


def _draw_distinct(rng: np.random.Generator, weights: np.ndarray, count: int) -> list[int]:
    """Up to ``count`` distinct ids drawn with probability proportional to ``weights``."""
    nonzero = int(np.count_nonzero(weights))
    take = min(count, nonzero)
    if take == 0:
        return []
    p = weights / weights.sum()
    return [int(i) for i in rng.choice(len(weights), size=take, replace=False, p=p)]


def _cmu_phones(word: str) -> tuple[str, ...] | None:
    """First CMUdict pronunciation of a word outside the model's vocabulary (loads CMUdict on
    first use, about a second)."""
    from models.lyrics.dictionary import cmu_entries

    found = cmu_entries().get(word)
    return tuple(found[0]) if found else None

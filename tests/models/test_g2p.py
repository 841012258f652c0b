"""The G2P network: a tiny configuration trained for a few seconds on a slice of CMUdict and
exported (ONNX against torch), the runtime's input handling, and the shipped model on held-out
CMUdict words."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from models.lyrics import phonemes as ph
from models.lyrics.dictionary import cmu_entries
from models.lyrics.g2p import G2P, MODEL_PATH, default_pronouncer, fold

ARPABET = {v + d for v in ph.VOWELS for d in "012"} | set(ph.CONSONANTS)


def _held_out(word: str) -> bool:
    """The training script's test split, computed without torch (checked against
    ``train_g2p.split_of`` in the training tests)."""
    stem = word[:-2] if word.endswith("'s") else word.rstrip("'")
    return int(hashlib.sha1(stem.encode()).hexdigest()[:8], 16) % 1000 < 50


# --- the tiny network ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    torch = pytest.importorskip("torch", reason="torch is the training extra")
    from models.training import export_g2p as ex
    from models.training import train_g2p as tg

    torch.set_num_threads(1)
    splits = tg.load_splits()
    short = {k: [e for e in v if 3 <= len(e[0]) <= 5] for k, v in splits.items()}
    data = {"train": short["train"][:6000], "validation": short["validation"][:200]}
    cfg = tg.G2PConfig(embed=24, encoder=48, decoder=64, dropout=0.0)
    untrained = tg.G2PNet(cfg).eval()
    model, info = tg.train(
        cfg, data, minutes=1.0, steps=250, batch_words=64, lr=1e-2, eval_every=1000, log=False
    )
    folder = tmp_path_factory.mktemp("g2p")
    test_words = [w for w, _ in short["test"][:150]]
    checked = ex.export(model, folder / "tiny.onnx", test_words)
    checked32 = ex.export(model, folder / "tiny32.onnx", test_words, float16=False)
    return {
        "tg": tg, "ex": ex, "model": model, "untrained": untrained, "info": info,
        "path": folder / "tiny.onnx", "path32": folder / "tiny32.onnx", "test": short["test"],
        "checked": checked, "checked32": checked32, "data": data,
    }  # fmt: skip


def test_split_is_by_word_and_stable() -> None:
    tg = pytest.importorskip("models.training.train_g2p", reason="torch is the training extra")
    words = list(cmu_entries())[:5000]
    assert all((tg.split_of(w) == "test") == _held_out(w) for w in words)
    assert sum(_held_out(w) for w in words) / len(words) == pytest.approx(0.05, abs=0.01)
    assert tg.split_of("cat's") == tg.split_of("cat")  # a possessive stays with its word
    splits = tg.load_splits()
    seen = {w for w, _ in splits["train"]}
    assert not seen & {w for w, _ in splits["test"]}
    assert not seen & {w for w, _ in splits["validation"]}
    assert len(splits["test"]) > 5000


def test_a_few_seconds_of_training_learn_pronunciations(tiny: dict[str, Any]) -> None:
    tg, test = tiny["tg"], tiny["test"][:300]
    words = [w for w, _ in test]
    before = tg.score(tg.predict(tiny["untrained"], words), test)
    after = tg.score(tg.predict(tiny["model"], words), test)
    assert before["phone_error_rate"] > 0.9
    assert after["phone_error_rate"] < 0.35, after
    assert after["syllable_accuracy_first"] > 0.75, after
    assert after["word_accuracy_first"] > 0.25, after
    assert tiny["info"]["steps"] == 250


def test_training_with_a_step_count_is_deterministic(tiny: dict[str, Any]) -> None:
    tg = tiny["tg"]
    data = {"train": tiny["data"]["train"][:1500], "validation": tiny["data"]["validation"]}
    cfg = tg.G2PConfig(embed=16, encoder=24, decoder=32, dropout=0.1)
    runs = [
        tg.train(cfg, data, minutes=0.0, steps=60, batch_words=64, eval_every=1000, log=False)[0]
        for _ in range(2)
    ]
    first, second = (r.state_dict() for r in runs)
    assert all(bool((first[k] == second[k]).all()) for k in first)
    other = tg.train(cfg, data, minutes=0.0, steps=60, batch_words=64, seed=1, log=False)[0]
    assert not bool((other.state_dict()["out.weight"] == first["out.weight"]).all())


def test_onnx_matches_torch_on_held_out_words(tiny: dict[str, Any]) -> None:
    assert tiny["checked"]["words"] == 150 and tiny["checked32"]["words"] == 150
    assert tiny["checked"]["max_score_difference"] < 1e-4
    assert tiny["checked32"]["max_score_difference"] < 1e-4
    assert tiny["path"].stat().st_size < 0.6 * tiny["path32"].stat().st_size  # float16 weights
    tg, ex = tiny["tg"], tiny["ex"]
    rounded = ex.rounded(tiny["model"])
    g2p = G2P(tiny["path"])
    words = [w for w, _ in tiny["test"][150:400]]
    want = tg.predict(rounded, words)
    assert all(g2p(w) == want[w] for w in words)


def test_export_refuses_a_graph_that_differs(tiny: dict[str, Any], tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    tg, ex = tiny["tg"], tiny["ex"]
    other = tg.G2PNet(tiny["model"].cfg).eval()
    other.load_state_dict(tiny["model"].state_dict())
    with torch.no_grad():
        other.out.bias[tg.EOS] += 5.0  # a different network than the graph written below
    ex.export(tiny["model"], tmp_path / "a.onnx", ["cat"], float16=False)
    with pytest.raises(AssertionError):
        ex.check(other, tmp_path / "a.onnx", [w for w, _ in tiny["test"][:50]])


# --- input handling -----------------------------------------------------------------------


def test_fold() -> None:
    assert fold("naïve") == "naive"
    assert fold("Beyoncé") == "beyonce"
    assert fold("Don’t") == "don't"
    assert fold("'twas'") == "twas"
    assert fold("rock-n-roll!") == "rocknroll"
    assert fold("12345") == ""
    assert fold("🎸🔥") == ""
    assert fold("привет") == ""
    assert fold("he\x00l\u200blo\n") == "hello"


@pytest.fixture(scope="module")
def shipped() -> G2P:
    assert MODEL_PATH.is_file(), "the shipped G2P model is missing"
    return G2P()


def test_session_is_built_lazily() -> None:
    g2p = G2P()
    assert g2p._session is None
    assert g2p("") == () and g2p._session is not None  # built on the first call


@pytest.mark.parametrize(
    "text", ["", "   ", "12345", "🎸🔥", "''", "-", "привет", "日本語", "\x00\x01\x7f", "a" * 1000]
)
def test_nothing_readable_gives_nothing(shipped: G2P, text: str) -> None:
    assert shipped(text) == ()


def test_words_past_the_limit_are_refused(shipped: G2P) -> None:
    assert shipped("a" * 33) == () and shipped("ab" * 500) == ()
    assert shipped("supercalifragilisticexpialidocious") == ()  # 34 letters
    assert ph.syllables(shipped("antidisestablishmentarianism")) >= 10  # 28 letters


def test_mixed_and_marked_input_is_folded(shipped: G2P) -> None:
    assert shipped("naïve") == shipped("naive") == shipped("NAIVE") != ()
    assert shipped("hello\u043c\u0438\u0440") == shipped("hello")  # Cyrillic letters dropped
    assert shipped("he\x00llo\n") == shipped("hello")
    assert shipped("🎸yeet🎸") == shipped("yeet") != ()


_SHARED = G2P()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=60))
@example("x" * 32)
@example("'" * 40)
def test_any_text_gives_valid_phones(text: str) -> None:
    phones = _SHARED(text)
    assert isinstance(phones, tuple) and len(phones) <= 32
    assert all(p in ARPABET for p in phones)
    key = fold(text)
    if not key.replace("'", "") or len(key) > 32:
        assert phones == ()


def test_cache_is_bounded_and_answers_the_same() -> None:
    g2p = G2P(cache_size=3)
    first = [g2p(w) for w in ("blorft", "zindlewop", "snarkle", "flimbo", "blorft")]
    assert first[0] == first[-1]
    assert len(g2p._cache) == 3


# --- the shipped network ------------------------------------------------------------------

# Held-out CMUdict words (the training script's test split, never trained on): common words a
# working network gets right; the shipped one misses the vowel of two (falling: AO for AA,
# anywhere: AE for EH), which the bound below allows.
HELD_OUT = ["night", "window", "wondering", "remember", "officials", "sockets", "televised",
            "flammable", "speaker", "comic", "falling", "anywhere"]  # fmt: skip


def test_shipped_model_on_held_out_words(shipped: G2P) -> None:
    entries = cmu_entries()
    assert all(_held_out(w) and w in entries for w in HELD_OUT)
    exact = [w for w in HELD_OUT if shipped(w) in [tuple(p) for p in entries[w]]]
    assert len(exact) >= len(HELD_OUT) - 2, [(w, shipped(w)) for w in HELD_OUT]
    assert all(ph.syllables(shipped(w)) == ph.syllables(entries[w][0]) for w in HELD_OUT)


def test_shipped_model_on_a_sample_of_the_test_split(shipped: G2P) -> None:
    entries = cmu_entries()
    sample = [w for w in sorted(entries) if _held_out(w) and w.isalpha()][::25]
    assert len(sample) > 200
    right = sum(shipped(w) in [tuple(p) for p in entries[w]] for w in sample)
    syllables = sum(ph.syllables(shipped(w)) == ph.syllables(entries[w][0]) for w in sample)
    assert right / len(sample) > 0.5
    assert syllables / len(sample) > 0.9


def test_default_pronouncer_attaches_the_shipped_model(tmp_path: Path) -> None:
    assert isinstance(default_pronouncer().g2p, G2P)
    assert default_pronouncer(path=tmp_path / "missing.onnx").g2p is None
    assert default_pronouncer("de").g2p is None

"""The shipped chord statistics: loadable, consistent, small, and what a rebuild produces."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from models.next_chord import (
    DEFAULT_STATISTICS,
    MODES,
    ChordStatistics,
    corpus_counts,
    statistics_json,
    token_table,
)
from models.theory import Key


@pytest.fixture(scope="module")
def raw() -> dict[str, object]:
    data: dict[str, object] = json.loads(DEFAULT_STATISTICS.read_text(encoding="utf-8"))
    return data


def test_shipped_file_is_small_canonical_and_sourced(raw: dict[str, object]) -> None:
    text = DEFAULT_STATISTICS.read_text(encoding="utf-8")
    assert len(text.encode()) < 1_000_000
    assert statistics_json(raw) == text  # sorted keys, stable layout
    sources = raw["sources"]
    assert isinstance(sources, list) and len(sources) == 68
    assert sum(s.startswith("bach/choraleAnalyses/") for s in sources) == 20
    assert sum(s.startswith("monteverdi/") for s in sources) == 48
    assert raw["music21_version"] == "10.5.1"


def test_pieces_and_vocabulary_agree() -> None:
    stats = ChordStatistics.load()
    assert sorted(p + ".rntxt" for p in stats.pieces) == sorted(stats.sources)
    total = 0
    for mode in MODES:
        counts = corpus_counts(stats, mode)
        assert sorted(counts) == list(stats.vocabulary[mode])
        assert set(counts) <= set(token_table(mode))
        total += sum(counts.values())
    assert 6000 < total < 8000  # about 1,060 Bach + 5,600 Monteverdi changes, repeats collapsed
    for segments in stats.pieces.values():
        assert segments
        for seg in segments:
            assert Key.parse(seg.key).mode == seg.mode and seg.tokens
            assert all(a != b for a, b in zip(seg.tokens, seg.tokens[1:], strict=False))
    assert corpus_counts(stats, "major").most_common(1)[0][0] == "I"
    assert corpus_counts(stats, "minor").most_common(1)[0][0] == "i"


@pytest.mark.slow
def test_rebuild_matches_the_shipped_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Re-parses the corpus (about a minute): run with ``pytest -m slow``."""
    from models.training import build_chord_statistics

    cache = Path(__file__).resolve().parents[2] / ".cache" / "music21"
    cache.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("TMPDIR", str(cache))
    monkeypatch.setattr(tempfile, "tempdir", str(cache))  # music21 asks tempfile for TMPDIR
    out = tmp_path / "chord_statistics.json"
    build_chord_statistics.main([str(out)])
    assert out.read_text(encoding="utf-8") == DEFAULT_STATISTICS.read_text(encoding="utf-8")

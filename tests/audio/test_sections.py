"""Sections from self-similarity: a synthetic A-B-A-B piece, short and silent files."""

from __future__ import annotations

import numpy as np
import pytest

from audio import sections as sec

SR = 16000


def _chord(pcs: list[int], seconds: float, rng: np.random.Generator, bright: bool) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    y = np.zeros_like(t)
    for pc in pcs:
        f0 = 130.81 * 2 ** (pc / 12)
        for h in range(1, 7 if bright else 3):
            y += (0.8**h if bright else 0.5**h) * np.sin(2 * np.pi * f0 * h * t + rng.uniform(0, 6))
    env = np.minimum(1.0, t / 0.02) * np.exp(-t * (0.3 if bright else 1.5))
    return y * env


def _texture(kind: str, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """A: C-G-Am-F bright tones + pink-ish noise; B: Dm-Bb-Eb-A dull tones + white noise."""
    loop = [[0, 4, 7], [7, 11, 2], [9, 0, 4], [5, 9, 0]]
    if kind == "B":
        loop = [[2, 5, 9], [10, 2, 5], [3, 7, 10], [9, 1, 4]]
    parts = []
    n_chords = int(seconds / 1.25)
    for i in range(n_chords):
        parts.append(_chord(loop[i % 4], 1.25, rng, bright=kind == "A"))
    y = np.concatenate(parts)
    noise = rng.standard_normal(len(y))
    if kind == "A":
        noise = np.cumsum(noise)
        noise -= np.convolve(noise, np.ones(200) / 200, mode="same")
        noise /= noise.std()
        level = 0.15
    else:
        level = 0.3
    y = y / np.max(np.abs(y)) + level * noise
    return y


@pytest.fixture(scope="module", autouse=True)
def _warm() -> None:
    sec.warm_up()


def test_abab_structure() -> None:
    rng = np.random.default_rng(3)
    y = np.concatenate([_texture(k, 15.0, rng) for k in "ABAB"])
    y = (0.3 * y / np.max(np.abs(y))).astype(np.float32)
    result = sec.sections(y, SR)
    assert [s.label for s in result] == ["A", "B", "A", "B"], result
    for s, expected in zip(result[1:], (15.0, 30.0, 45.0), strict=True):
        assert abs(s.start_s - expected) <= 2.0, result
    assert result[0].start_s == 0.0
    assert result[-1].end_s == pytest.approx(len(y) / SR)


def test_short_file_is_one_section() -> None:
    rng = np.random.default_rng(4)
    y = np.concatenate([_texture("A", 5.0, rng), _texture("B", 5.0, rng)]) * 0.2
    result = sec.sections(y, SR)
    assert len(result) == 1 and result[0].label == "A"
    assert result[0].end_s == pytest.approx(len(y) / SR)


def test_silence_is_one_section() -> None:
    y = np.zeros(SR * 40, dtype=np.float32)
    assert sec.sections(y, SR) == [sec.Section(0.0, 40.0, "A")]


def test_homogeneous_music_is_not_split() -> None:
    rng = np.random.default_rng(5)
    y = _texture("A", 40.0, rng) * 0.2
    result = sec.sections(y, SR)
    assert [s.label for s in result] == ["A"], result


def test_beat_synchronous() -> None:
    rng = np.random.default_rng(6)
    y = np.concatenate([_texture(k, 15.0, rng) for k in "ABAB"]) * 0.1
    beats = np.arange(0.0, len(y) / SR, 0.625)
    result = sec.sections(y, SR, beats_s=beats)
    assert [s.label for s in result] == ["A", "B", "A", "B"], result
    for s, expected in zip(result[1:], (15.0, 30.0, 45.0), strict=True):
        assert abs(s.start_s - expected) <= 2.0, result


def test_boundaries_outside_the_tracked_beats_are_found() -> None:
    """The tracker found beats only from 20 to 40 s (a free intro and ending, say): the
    boundaries at 15 and 45 s lie outside them and are still found."""
    rng = np.random.default_rng(6)
    y = np.concatenate([_texture(k, 15.0, rng) for k in "ABAB"]) * 0.1
    beats = np.arange(20.0, 40.0, 0.625)
    result = sec.sections(y, SR, beats_s=beats)
    assert [s.label for s in result] == ["A", "B", "A", "B"], result
    for s, expected in zip(result[1:], (15.0, 30.0, 45.0), strict=True):
        assert abs(s.start_s - expected) <= 2.0, result
    _, _, edges = sec._blocks(600, 10.0, beats)
    assert np.all(np.diff(edges) <= 0.7) and edges[0] == 0.0 and edges[-1] == 60.0


def test_novelty_peaks_at_block_boundary() -> None:
    ssm = np.full((40, 40), -1.0)
    ssm[:20, :20] = 1.0
    ssm[20:, 20:] = 1.0
    nov = sec.novelty(ssm, 4)
    assert int(np.argmax(nov)) == 20
    assert nov[20] == pytest.approx(2.0)
    assert abs(nov[5]) < 1e-9

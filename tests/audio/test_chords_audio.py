"""Chord timeline from chroma: names, boundaries, no-chord, smoothing, beat-synchronous mode."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from audio import chords_audio as ca

FR = 10.0  # frames per second
PROGRESSION = [("C", [0, 4, 7]), ("Am", [9, 0, 4]), ("F", [5, 9, 0]), ("G7", [7, 11, 2, 5])]


@pytest.fixture(scope="module", autouse=True)
def _warm() -> None:
    ca.warm_up()


def _chroma_row(pcs: list[int]) -> np.ndarray:
    """A chroma row of harmonic tones: each note with 5 harmonics (octave, fifth, 17th)."""
    row = np.zeros(12)
    for pc in pcs:
        for h, offset in enumerate((0, 0, 7, 0, 4)):
            row[(pc + offset) % 12] += 0.7**h
    return row


def _progression(rng: np.random.Generator, frames_each: int, noise: float) -> np.ndarray:
    rows = [_chroma_row(pcs) for _, pcs in PROGRESSION for _ in range(frames_each)]
    c = np.array(rows) + rng.uniform(0.0, noise, (len(rows), 12))
    return c / c.max(axis=1, keepdims=True)


def _names(spans: list[ca.ChordSpan]) -> list[str]:
    return [s.name for s in spans]


def test_progression_names_and_boundaries() -> None:
    rng = np.random.default_rng(0)
    c = _progression(rng, 20, 0.4)
    spans = ca.chord_timeline(c, FR)
    assert _names(spans) == ["C", "Am", "F", "G7"]
    for span, expected in zip(spans[1:], (2.0, 4.0, 6.0), strict=True):
        assert abs(span.start_s - expected) <= 2 / FR
    assert spans[0].start_s == 0.0
    assert spans[-1].end_s == pytest.approx(8.0 - 0.5 / FR)
    assert [(s.root, s.quality) for s in spans] == [(0, ""), (9, "m"), (5, ""), (7, "7")]
    for a, b in itertools.pairwise(spans):
        assert a.end_s == pytest.approx(b.start_s)


def test_silence_gap_is_no_chord() -> None:
    rng = np.random.default_rng(1)
    c = _progression(rng, 15, 0.3)
    c[28:42] = 0.0  # 1.4 s of silence across the Am -> F change
    spans = ca.chord_timeline(c, FR)
    assert _names(spans) == ["C", "Am", "N", "F", "G7"]
    gap = spans[2]
    assert gap.root is None and gap.quality == "N"
    assert abs(gap.start_s - 2.8) <= 0.2 and abs(gap.end_s - 4.2) <= 0.2


def test_noise_is_no_chord() -> None:
    rng = np.random.default_rng(2)
    noise = rng.uniform(0.7, 1.0, (30, 12))  # flat: broadband noise
    spans = ca.chord_timeline(noise, FR)
    assert _names(spans) == ["N"]


def test_smoothing_removes_one_frame_flickers() -> None:
    rng = np.random.default_rng(3)
    c = _progression(rng, 20, 0.3)
    for i in (7, 25, 51, 66):  # single frames where an unrelated chord outweighs the true one
        wrong = _chroma_row([int(rng.integers(12)), 1, 6])
        c[i] = 0.4 * c[i] / c[i].max() + wrong / wrong.max()
        c[i] /= c[i].max()
    raw = ca.chord_timeline(c, FR, self_prob=0.0)
    assert len(raw) > 4  # without smoothing the flickers show
    assert _names(ca.chord_timeline(c, FR)) == ["C", "Am", "F", "G7"]


@pytest.mark.parametrize(
    ("pcs", "name"),
    [
        ([5, 9, 0, 4], "Fmaj7"),
        ([2, 5, 9, 0], "Dm7"),
        ([11, 2, 5], "Bdim"),
        ([2, 7, 9], "Dsus4"),
        ([10, 2, 5], "Bb"),
        ([1, 4, 8], "C#m"),
    ],
)
def test_qualities(pcs: list[int], name: str) -> None:
    c = np.tile(_chroma_row(pcs), (12, 1))
    assert _names(ca.chord_timeline(c, FR)) == [name]


def test_beat_synchronous_changes_on_beats() -> None:
    rng = np.random.default_rng(4)
    c = _progression(rng, 20, 0.4)
    beats = np.arange(0.0, 8.0, 0.5) + 0.03  # changes at 2, 4, 6 s fall near beats 2.03...
    spans = ca.chord_timeline(c, FR, beats_s=beats)
    assert _names(spans) == ["C", "Am", "F", "G7"]
    starts = [s.start_s for s in spans[1:]]
    assert all(np.min(np.abs(beats - t)) < 1e-9 for t in starts)
    assert all(abs(t - e) <= 0.1 for t, e in zip(starts, (2.0, 4.0, 6.0), strict=True))


def test_to_mir_eval() -> None:
    cases = {
        "C": "C:maj", "Am": "A:min", "G7": "G:7", "Fmaj7": "F:maj7", "Dm7": "D:min7",
        "Bdim": "B:dim", "Dsus4": "D:sus4", "N": "N", "Ebm": "Eb:min", "F#7": "F#:7",
    }  # fmt: skip
    for name, expected in cases.items():
        assert ca.to_mir_eval(name) == expected
    with pytest.raises(ValueError):
        ca.to_mir_eval("Cadd9")


def test_empty_and_bad_input() -> None:
    assert ca.chord_timeline(np.zeros((0, 12)), FR) == []
    with pytest.raises(ValueError):
        ca.chord_timeline(np.zeros((5, 11)), FR)
    assert _names(ca.chord_timeline(np.zeros((5, 12)), FR)) == ["N"]


def _simple_chroma(y: np.ndarray, sr: int, hop: int, n_fft: int) -> np.ndarray:
    """A plain STFT chroma (log-frequency mapping of magnitudes), for the audio test."""
    pad = np.concatenate([np.zeros(n_fft // 2), y, np.zeros(n_fft // 2)])
    n = 1 + (len(pad) - n_fft) // hop
    frames = np.stack([pad[i * hop : i * hop + n_fft] for i in range(n)]) * np.hanning(n_fft)
    mag = np.abs(np.fft.rfft(frames, axis=1))
    freqs = np.fft.rfftfreq(n_fft, 1 / sr)
    keep = (freqs > 60) & (freqs < 4000)
    pcs = np.round(12 * np.log2(freqs[keep] / 440.0)).astype(int) % 12
    pcs = (pcs + 9) % 12  # A = 9
    c = np.zeros((n, 12))
    for k in range(12):
        c[:, k] = (mag[:, keep][:, pcs == k] ** 2).sum(axis=1)
    peak = c.max(axis=1, keepdims=True)
    return np.where(peak > 1e-9, c / np.maximum(peak, 1e-12), 0.0)


def test_from_synthesised_audio() -> None:
    sr, seconds = 8000, 2.0
    rng = np.random.default_rng(5)
    t = np.arange(int(sr * seconds)) / sr
    parts = []
    for _, pcs in PROGRESSION:
        y = np.zeros_like(t)
        for pc in pcs:
            f0 = 130.81 * 2 ** (pc / 12)
            for h in range(1, 6):
                y += 0.6 ** (h - 1) * np.sin(2 * np.pi * f0 * h * t + rng.uniform(0, 6))
        parts.append(y / len(pcs))
    parts.insert(2, np.zeros(int(sr * 1.5)))  # silence between Am and F
    y = np.concatenate(parts) + 0.01 * rng.standard_normal(sum(len(p) for p in parts))
    hop = sr // 10
    c = _simple_chroma(y, sr, hop, 2048)
    spans = ca.chord_timeline(c, sr / hop)
    assert _names(spans) == ["C", "Am", "N", "F", "G7"]
    for span, expected in zip(spans[1:], (2.0, 4.0, 5.5, 7.5), strict=True):
        assert abs(span.start_s - expected) <= 0.25, spans

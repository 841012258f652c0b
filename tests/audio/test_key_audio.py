"""Chroma, tuning and key from audio on synthetic harmonic tones; Camelot codes."""

from __future__ import annotations

import numpy as np
import pytest

from audio import chroma as chroma_mod
from audio.key_audio import PITCH_NAMES, AudioKey, camelot, estimate_key, warm_up

RATE = 22050
MAJOR = ((0, 4, 7), (5, 9, 12), (7, 11, 14), (0, 4, 7))  # I IV V I
MINOR = ((0, 3, 7), (5, 8, 12), (7, 11, 14), (0, 3, 7))  # i iv V i (raised leading tone)


@pytest.fixture(scope="module", autouse=True)
def _warm() -> None:
    warm_up()


def _tone(midi: int, seconds: float, rate: int, cents: float = 0.0) -> np.ndarray:
    """Eight partials falling 0.8 per harmonic, 10 ms attack, exponential decay."""
    f0 = 440.0 * 2.0 ** ((midi - 69 + cents / 100.0) / 12.0)
    t = np.arange(int(seconds * rate)) / rate
    y = np.zeros_like(t)
    for h in range(1, 9):
        if h * f0 < rate / 2:
            y += 0.8 ** (h - 1) * np.sin(2 * np.pi * h * f0 * t)
    return y * np.minimum(1.0, t / 0.01) * np.exp(-1.5 * t)


def _progression(tonic: int, mode: str, rate: int = RATE, cents: float = 0.0) -> np.ndarray:
    chords = MAJOR if mode == "major" else MINOR
    out = []
    for chord in chords:
        notes = [36 + tonic + chord[0]] + [60 + tonic + n for n in chord]
        out.append(sum(_tone(m, 1.0, rate, cents) for m in notes))
    return (0.1 * np.concatenate(out)).astype(np.float32)


@pytest.mark.parametrize("mode", ["major", "minor"])
def test_key_of_cadences_in_all_twelve_tonics(mode: str) -> None:
    for tonic in range(12):
        key = estimate_key(_progression(tonic, mode), RATE)
        assert (key.tonic, key.mode) == (tonic, mode), f"{PITCH_NAMES[tonic]} {mode}: {key}"
        assert key.camelot == camelot(tonic, mode)
        assert 0.0 < key.confidence <= 1.0


@pytest.mark.parametrize("rate", [16000, 44100, 48000])
def test_key_at_other_sample_rates(rate: int) -> None:
    key = estimate_key(_progression(9, "minor", rate), rate)
    assert (key.tonic, key.mode, key.camelot) == (9, "minor", "8A")


@pytest.mark.parametrize("cents", [-40.0, 0.0, 30.0])
def test_tuning_is_estimated_and_applied(cents: float) -> None:
    y = _progression(2, "major", cents=cents)
    assert chroma_mod.estimate_tuning(y, RATE) == pytest.approx(cents, abs=3.0)
    key = estimate_key(y, RATE)
    assert (key.tonic, key.mode) == (2, "major")
    assert key.tuning_cents == pytest.approx(cents, abs=3.0)


def test_detuned_chroma_lands_on_the_played_pitch_classes() -> None:
    # +30 cents: without tuning, energy would start spilling towards the next class.
    y = (0.1 * sum(_tone(m, 2.0, RATE, 30.0) for m in (60, 64, 67))).astype(np.float32)
    c, _ = chroma_mod.chroma(y, RATE)
    profile = c.sum(axis=0)
    top3 = set(np.argsort(profile)[-3:].tolist())
    assert top3 == {0, 4, 7}
    assert profile[1] < 0.05 * profile[0]  # C# gets (almost) nothing from a sharp C


def test_chroma_shape_and_frame_rate() -> None:
    y = _progression(0, "major")  # 4 s
    c, rate = chroma_mod.chroma(y, RATE)
    assert rate == pytest.approx(10.0, rel=0.01)
    assert c.dtype == np.float32 and c.shape[1] == 12
    assert abs(c.shape[0] - 4.0 * rate) <= 2
    assert float(c.max()) == pytest.approx(1.0)
    c5, rate5 = chroma_mod.chroma(y, RATE, hop_s=0.2)
    assert rate5 == pytest.approx(5.0, rel=0.01)
    assert abs(c5.shape[0] - c.shape[0] / 2) <= 2


def test_a_sine_maps_to_its_pitch_class() -> None:
    t = np.arange(RATE) / RATE
    y = (0.5 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)
    c, _ = chroma_mod.chroma(y, RATE)
    assert int(np.argmax(c.sum(axis=0))) == 9


def test_silence_and_short_input() -> None:
    key = estimate_key(np.zeros(RATE, dtype=np.float32), RATE)
    assert key == AudioKey(0, "major", 0.0, "8B", 0.0)
    c, _ = chroma_mod.chroma(np.zeros(0, dtype=np.float32), RATE)
    assert c.shape == (0, 12)
    c, _ = chroma_mod.chroma(np.zeros(100, dtype=np.float32), RATE)
    assert c.shape == (1, 12) and not c.any()


def test_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        chroma_mod.chroma(np.zeros((10, 2), dtype=np.float32), RATE)
    with pytest.raises(ValueError):
        chroma_mod.chroma(np.zeros(100, dtype=np.float32), 4000)


# Typed from the Camelot wheel: number -> (minor "A", major "B").
CAMELOT_WHEEL = {
    1: ("Ab minor", "B major"),
    2: ("Eb minor", "F# major"),
    3: ("Bb minor", "C# major"),
    4: ("F minor", "Ab major"),
    5: ("C minor", "Eb major"),
    6: ("G minor", "Bb major"),
    7: ("D minor", "F major"),
    8: ("A minor", "C major"),
    9: ("E minor", "G major"),
    10: ("B minor", "D major"),
    11: ("F# minor", "A major"),
    12: ("C# minor", "E major"),
}
_PC = {"C": 0, "C#": 1, "D": 2, "Eb": 3, "E": 4, "F": 5, "F#": 6, "G": 7, "Ab": 8, "A": 9}
_PC |= {"Bb": 10, "B": 11}


def test_camelot_codes_for_all_24_keys() -> None:
    seen = set()
    for number, (minor, major) in CAMELOT_WHEEL.items():
        for name, letter in ((minor, "A"), (major, "B")):
            tonic_name, mode = name.split()
            assert camelot(_PC[tonic_name], mode) == f"{number}{letter}", name
            seen.add((_PC[tonic_name], mode))
    assert len(seen) == 24
    assert camelot(0, "major") == "8B" and camelot(0, "minor") == "5A"
    with pytest.raises(ValueError):
        camelot(0, "dorian")

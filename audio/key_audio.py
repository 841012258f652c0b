"""Key of a recording: tuned chroma summed over the track, correlated with 24 audio key templates.

The templates are symbolic key profiles *as heard through a spectrum*: every scale degree's weight
is spread over the pitch classes of its first four harmonics (the octave, the twelfth = a fifth
up, the double octave), harmonic ``h`` weighted ``HARMONIC_SLOPE ** (h - 1)`` (Gómez 2006,
"Tonal description of music audio signals", §4.2: the partials of a C are also heard as G and,
more faintly, E). :mod:`audio.chroma` leaves the harmonics in the chroma, so the two match.

The base profile is Albrecht & Shanahan's (2013) corpus profile (Temperley's and Krumhansl's are
available too); they are copied here rather than imported because ``audio/`` may not import
``models/``. Chosen on two rendered 24-chorale sets (``benchmarks/eval_set.py`` seeds 0 and 1):
Albrecht scored 0.96/1.00 for any 3–6 harmonics, Temperley 0.85–0.97 and Krumhansl 0.55–0.98
depending on the harmonics, so Albrecht is the robust choice.

``confidence`` (0..1) grows with the margin between the best and the second-best key's
correlation (a margin of 0.15 or more is certain) and shrinks when the best correlation is weak.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from audio import chroma as chroma_mod
from audio.key_profiles import PROFILES

Mode = Literal["major", "minor"]

BASE_PROFILES = PROFILES  # the published symbolic profiles (audio/key_profiles.py)
DEFAULT_PROFILE = "albrecht"
N_HARMONICS = 4
HARMONIC_SLOPE = 0.6
FULL_CONFIDENCE_MARGIN = 0.15
SILENT_FRAME_DB = 60.0  # frames quieter than the loudest by more than this are left out
PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


@dataclass(frozen=True, slots=True)
class AudioKey:
    """A key estimated from audio: tonic pitch class (0 = C), mode, confidence 0..1."""

    tonic: int
    mode: Mode
    confidence: float
    camelot: str
    tuning_cents: float

    @property
    def name(self) -> str:
        """Like ``"A minor"`` (the label format of ``mir_eval.key``)."""
        return f"{PITCH_NAMES[self.tonic]} {self.mode}"


def camelot(tonic: int, mode: str) -> str:
    """Camelot wheel code: C major = ``"8B"``, A minor = ``"8A"``, C minor = ``"5A"``."""
    if mode not in ("major", "minor"):
        raise ValueError(f"mode must be 'major' or 'minor', got {mode!r}")
    # Major keys step round the wheel by fifths from C = 8B; a minor key shares its number with
    # its relative major (a minor third up).
    major_tonic = tonic % 12 if mode == "major" else (tonic + 3) % 12
    number = (7 * major_tonic + 7) % 12 + 1
    return f"{number}{'B' if mode == 'major' else 'A'}"


def audio_template(profile: tuple[float, ...] | np.ndarray) -> np.ndarray:
    """A 12-bin symbolic profile (C first) spread over its harmonics, as audio chroma sees it."""
    base = np.asarray(profile, dtype=np.float64)
    out = np.zeros(12)
    for h in range(1, N_HARMONICS + 1):
        shift = round(12.0 * np.log2(h)) % 12
        out += HARMONIC_SLOPE ** (h - 1) * np.roll(base, shift)
    return out


def _key_matrix(name: str) -> np.ndarray:
    """24×12: rows 0..11 major keys on C..B, 12..23 minor; centred and unit length."""
    major, minor = BASE_PROFILES[name]
    rows = []
    for profile in (major, minor):
        template = audio_template(profile)
        for tonic in range(12):
            row = np.roll(template, tonic)
            row = row - row.mean()
            rows.append(row / np.sqrt(np.sum(row * row)))
    return np.vstack(rows)


_MATRICES = {name: _key_matrix(name) for name in BASE_PROFILES}


def key_correlations(profile: np.ndarray, templates: str = DEFAULT_PROFILE) -> np.ndarray:
    """Pearson correlation of a 12-bin chroma profile with the 24 keys (zeros when flat)."""
    x = np.asarray(profile, dtype=np.float64)
    x = x - x.mean()
    norm = float(np.sqrt(np.sum(x * x)))
    if norm <= 1e-12:
        return np.zeros(24)
    return np.asarray(_MATRICES[templates] @ (x / norm))


def _confidence(corr: np.ndarray) -> float:
    top2 = np.partition(corr, 22)[22:]
    best, second = float(top2[1]), float(top2[0])
    if best <= 0.0:
        return 0.0
    return min(1.0, (best - second) / FULL_CONFIDENCE_MARGIN) * min(1.0, best)


def chroma_profile(analysis: chroma_mod.ChromaAnalysis) -> np.ndarray:
    """Sum of the (max-normalised) chroma frames that are not near-silent."""
    c = analysis.chroma
    if c.shape[0] == 0:
        return np.zeros(12)
    loudest = float(analysis.energy.max()) if analysis.energy.size else 0.0
    if loudest <= 0.0:
        return np.zeros(12)
    keep = analysis.energy >= loudest * 10.0 ** (-SILENT_FRAME_DB / 10.0)
    return np.asarray(c[keep].sum(axis=0), dtype=np.float64)


def key_from_chroma_profile(
    profile: np.ndarray, templates: str = DEFAULT_PROFILE
) -> tuple[int, Mode, float]:
    """``(tonic, mode, confidence)`` of a 12-bin profile; C major with confidence 0 if flat."""
    corr = key_correlations(profile, templates)
    if not corr.any():
        return 0, "major", 0.0
    best = int(np.argmax(corr))
    mode: Mode = "major" if best < 12 else "minor"
    return best % 12, mode, _confidence(corr)


def estimate_key(y: np.ndarray, sr: int, templates: str = DEFAULT_PROFILE) -> AudioKey:
    """Key of a mono recording (any sample rate ≥ 8 kHz)."""
    analysis = chroma_mod.analyse(y, sr)
    tonic, mode, confidence = key_from_chroma_profile(chroma_profile(analysis), templates)
    return AudioKey(tonic, mode, confidence, camelot(tonic, mode), analysis.tuning_cents)


def warm_up() -> None:
    chroma_mod.warm_up()

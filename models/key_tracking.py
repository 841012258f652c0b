"""Key finding from notes: a whole-piece estimate and a live tracker with hysteresis.

Both correlate a pitch-class profile (how long and how loud each pitch class sounded) with the
24 rotated major/minor *key profiles* (the Krumhansl–Schmuckler method): the key whose profile
correlates best wins. ``confidence`` (0..1) grows with the margin between the best and the
second-best correlation and shrinks when even the best correlation is weak.

:class:`KeyTracker` keeps an exponentially decaying profile (half-life in seconds) and reports a
:class:`KeyChange` only when a new key has led the current one by a margin for a minimum time and
weight of new notes, so it does not flicker between relatives on every passing note. Updates are
O(1) plus one 24×12 product: the decay is applied by *growing* new weights (correlation does not
care about a common scale factor) and rebasing now and then, so nothing is multiplied per note.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from audio.key_profiles import PROFILES
from models.theory import Key

ProfileName = Literal["krumhansl", "temperley", "albrecht"]

# Index i < 12: major key with tonic i; i >= 12: minor key with tonic i - 12.
KEYS: tuple[Key, ...] = tuple(Key(pc, "major") for pc in range(12)) + tuple(
    Key(pc, "minor") for pc in range(12)
)
FULL_CONFIDENCE_MARGIN = 0.15  # a lead of this much correlation over the runner-up is certain


class TimedNote(Protocol):
    """Anything with a MIDI pitch, a velocity and onset/offset times in seconds."""

    @property
    def pitch(self) -> int: ...
    @property
    def velocity(self) -> int: ...
    @property
    def onset_s(self) -> float: ...
    @property
    def offset_s(self) -> float: ...


def _key_matrix(major: tuple[float, ...], minor: tuple[float, ...]) -> np.ndarray:
    """24×12 rows: every rotated profile, centred and scaled to unit length."""
    rows = []
    for profile in (major, minor):
        base = np.asarray(profile, dtype=np.float64)
        for tonic in range(12):
            row = np.roll(base, tonic)
            row = row - row.mean()
            rows.append(row / np.linalg.norm(row))
    return np.vstack(rows)


_MATRICES: dict[str, np.ndarray] = {name: _key_matrix(*p) for name, p in PROFILES.items()}


def key_matrix(profiles: str = "krumhansl") -> np.ndarray:
    """The normalised 24×12 key-profile matrix (rows in :data:`KEYS` order)."""
    try:
        return _MATRICES[profiles]
    except KeyError:
        raise ValueError(f"unknown key profiles: {profiles!r}") from None


def correlations(pcp: np.ndarray, profiles: str = "krumhansl") -> np.ndarray:
    """Pearson correlation of a 12-bin profile with each of the 24 keys (zeros if it is flat)."""
    matrix = key_matrix(profiles)
    x = np.asarray(pcp, dtype=np.float64)
    x = x - x.mean()
    norm = float(np.sqrt(x @ x))
    if norm <= 1e-12:
        return np.zeros(24)
    return matrix @ (x / norm)


def confidence_of(corr: np.ndarray) -> float:
    """0..1 from the margin between the best and second-best correlation and the best's size."""
    top2 = np.partition(corr, 22)[22:]
    best, second = float(top2[1]), float(top2[0])
    if best <= 0.0:
        return 0.0
    return min(1.0, (best - second) / FULL_CONFIDENCE_MARGIN) * min(1.0, best)


def key_from_profile(pcp: np.ndarray, profiles: str = "krumhansl") -> tuple[Key, float]:
    """Best key for a pitch-class profile and its confidence (C major, 0.0 for silence)."""
    corr = correlations(pcp, profiles)
    if not corr.any():
        return KEYS[0], 0.0
    return KEYS[int(np.argmax(corr))], confidence_of(corr)


def pitch_class_profile(notes: Iterable[TimedNote]) -> np.ndarray:
    """Duration × velocity weighted pitch-class histogram of ``notes``."""
    pcp = np.zeros(12)
    for note in notes:
        duration = max(0.0, note.offset_s - note.onset_s)
        pcp[note.pitch % 12] += duration * max(note.velocity, 1) / 127.0
    return pcp


def estimate_key(notes: Iterable[TimedNote], profiles: str = "krumhansl") -> tuple[Key, float]:
    """Key of a whole piece or window of notes, and a confidence in 0..1."""
    return key_from_profile(pitch_class_profile(notes), profiles)


@dataclass(frozen=True)
class KeyChange:
    """The tracker settled on ``key`` at ``time_s`` (``previous`` is None for the first key)."""

    time_s: float
    key: Key
    previous: Key | None
    confidence: float


class KeyTracker:
    """Follows the key of a live note stream with a decaying profile and hysteresis.

    Feed notes with :meth:`note` (known duration) or :meth:`note_on`/:meth:`note_off`, and call
    :meth:`advance` as time passes. Each returns a :class:`KeyChange` when the reported key
    changes. A candidate key replaces the current one only after it has correlated better by at
    least ``switch_margin`` continuously for ``min_lead_s`` seconds (default: half the
    half-life) while at least
    ``min_lead_weight`` (velocity-weighted note-seconds, velocity 127 = 1) of music sounded.
    Times must not go backwards (earlier times are treated as the latest one seen).
    """

    _REBASE_AFTER = 50.0  # rebase the growing weights before exp() gets near overflow

    def __init__(
        self,
        half_life_s: float = 8.0,
        profiles: str = "krumhansl",
        switch_margin: float = 0.03,
        min_lead_s: float | None = None,
        min_lead_weight: float = 1.0,
    ) -> None:
        if half_life_s <= 0:
            raise ValueError("half_life_s must be positive")
        self._matrix = key_matrix(profiles)
        self._rate = math.log(2.0) / half_life_s
        self._switch_margin = switch_margin
        # Half a half-life by default: long enough that the blend heard while the music moves
        # from one key to another (C to D passes through "G") is not reported on the way.
        self._min_lead_s = half_life_s / 2 if min_lead_s is None else min_lead_s
        self._min_lead_weight = min_lead_weight
        self._pcp = np.zeros(12)
        self._t0 = 0.0  # weights are stored multiplied by exp(rate * (t - t0))
        self._now = 0.0
        self._held: dict[int, tuple[float, float]] = {}  # pitch -> (velocity factor, credited to)
        self._corr = np.zeros(24)
        self._key_index: int | None = None
        self._pending: int | None = None
        self._pending_since = 0.0
        self._pending_weight = 0.0

    @property
    def key(self) -> Key | None:
        """The reported key (None until enough music has been heard)."""
        return None if self._key_index is None else KEYS[self._key_index]

    @property
    def confidence(self) -> float:
        """Confidence (0..1) in the best-correlating key right now."""
        return confidence_of(self._corr) if self._corr.any() else 0.0

    @property
    def correlations(self) -> np.ndarray:
        """The latest correlation with each of the 24 keys (:data:`KEYS` order); a copy."""
        return self._corr.copy()

    def reset(self) -> None:
        """Forget everything heard (a new song)."""
        self._pcp[:] = 0.0
        self._held.clear()
        self._corr[:] = 0.0
        self._key_index = self._pending = None
        self._pending_weight = 0.0

    def _grow(self, t: float) -> float:
        return math.exp(self._rate * (t - self._t0))

    def _rebase(self, t: float) -> None:
        if self._rate * (t - self._t0) > self._REBASE_AFTER:
            self._pcp *= math.exp(-self._rate * (t - self._t0))
            self._t0 = t

    def _add(self, pc: int, weight: float, start: float, end: float) -> None:
        """Credit ``weight`` per second sounding from ``start`` to ``end`` (decay-integrated)."""
        if end <= start:
            return
        grown = (self._grow(end) - self._grow(start)) / self._rate
        self._pcp[pc] += weight * grown
        self._pending_weight += weight * (end - start)

    def _credit_held(self, t: float) -> None:
        for pitch, (weight, since) in self._held.items():
            if t > since:
                self._add(pitch % 12, weight, since, t)
                self._held[pitch] = (weight, t)

    def _clock(self, time_s: float) -> float:
        t = max(time_s, self._now)
        self._rebase(t)
        self._now = t
        return t

    def note(self, pitch: int, velocity: int, duration_s: float, time_s: float) -> KeyChange | None:
        """A whole note (onset ``time_s``, known duration), counted at once at its onset."""
        t = self._clock(time_s)
        self._credit_held(t)
        # Counted as an impulse at the onset (capped so one drone cannot swamp the profile).
        duration = min(max(duration_s, 0.0), 4.0 * math.log(2.0) / self._rate)
        weight = max(velocity, 1) / 127.0 * duration
        self._pcp[pitch % 12] += weight * self._grow(t)
        self._pending_weight += weight
        return self._update(t)

    def note_on(self, pitch: int, velocity: int, time_s: float) -> KeyChange | None:
        """A key went down; it counts while held (velocity 0 is a note-off)."""
        if velocity <= 0:
            return self.note_off(pitch, time_s)
        t = self._clock(time_s)
        self._credit_held(t)
        self._held[pitch] = (velocity / 127.0, t)
        return self._update(t)

    def note_off(self, pitch: int, time_s: float) -> KeyChange | None:
        """A key was released."""
        t = self._clock(time_s)
        self._credit_held(t)
        self._held.pop(pitch, None)
        return self._update(t)

    def advance(self, time_s: float) -> KeyChange | None:
        """Time passed with no new note; held notes keep counting."""
        t = self._clock(time_s)
        self._credit_held(t)
        return self._update(t)

    def _update(self, t: float) -> KeyChange | None:
        x = self._pcp - self._pcp.mean()
        norm = float(np.sqrt(x @ x))
        if norm <= 1e-12 * max(1.0, float(self._pcp.max())):
            return None
        self._corr = self._matrix @ (x / norm)
        best = int(np.argmax(self._corr))
        current = self._key_index
        if current is None:
            # The first key: wait until enough music was heard to say anything.
            if self._pending_weight < self._min_lead_weight:
                return None
            return self._switch(best, t)
        if best == current or self._corr[best] - self._corr[current] < self._switch_margin:
            self._pending = None
            return None
        if best != self._pending:
            self._pending, self._pending_since, self._pending_weight = best, t, 0.0
            return None
        if (
            t - self._pending_since >= self._min_lead_s
            and self._pending_weight >= self._min_lead_weight
        ):
            return self._switch(best, t)
        return None

    def _switch(self, index: int, t: float) -> KeyChange:
        previous = self.key
        self._key_index, self._pending, self._pending_weight = index, None, 0.0
        return KeyChange(t, KEYS[index], previous, self.confidence)

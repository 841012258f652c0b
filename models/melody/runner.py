"""Generate melodies with the shipped ONNX model (onnxruntime only; no torch).

The decoder keeps the output a melody whatever the network would rather do:

* **Bars are exact**: a bar starts with ``BAR`` (forced), a duration is only offered if it fits
  in what is left of the bar, and ``BAR`` comes back (forced) when the bar is full. ``EOS`` is
  forced after the last requested bar and never offered before it.
* **Pitch**: only notes inside ``low .. high`` (MIDI); with ``in_scale`` only the key's scale
  (natural minor for minor keys, plus the raised 7th); ``HOLD`` only right after a note.
* **Chords** (one per bar, repeating when shorter than the melody): on strong beats (the
  downbeat, and the middle of bars of 4, 6 and 12 beats' worth) only chord tones may start.
* **Density** ``0..1`` tilts the duration logits towards short (1) or long (0) notes:
  ``logit += DENSITY_GAIN · (0.5 − density) · log2(ticks / 12)``.
* **Sampling**: temperature, then top-k, then top-p (nucleus) over the allowed tokens, with a
  seeded ``numpy`` generator: same request and seed, same melody.

A seed melody (``prefix``, tokens of the same meter and key) is run through the network first
and counts towards the bars.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from models.chords import QUALITY_INTERVALS
from models.melody import tokens as tk
from models.theory import parse_note

MODEL_PATH = Path(__file__).resolve().parents[2] / "resources" / "models" / "melody" / "melody.onnx"
DENSITY_GAIN = 2.0
_CHORD_RE = re.compile(r"^([A-G](?:#|b)?)(.*?)(?:/([A-G](?:#|b)?))?$")
SCALES = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10, 11),  # natural minor and the leading tone
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
}


class MelodyRequestError(ValueError):
    """A request that cannot be met (an unknown key or meter, a range too small...)."""


def chord_pitch_classes(symbol: str) -> frozenset[int]:
    """Pitch classes of a chord symbol such as ``"D"``, ``"Bm7"``, ``"F#dim"``, ``"G/B"``."""
    match = _CHORD_RE.match(symbol.strip())
    if not match or match.group(2) not in QUALITY_INTERVALS:
        raise MelodyRequestError(f"not a chord symbol: {symbol!r}")
    root = parse_note(match.group(1))
    pcs = {(root + i) % 12 for i in QUALITY_INTERVALS[match.group(2)]}
    if match.group(3):
        pcs.add(parse_note(match.group(3)))
    return frozenset(pcs)


@dataclass(frozen=True)
class MelodyRequest:
    tonic: int
    mode: str = "major"
    meter: str = "4/4"
    bars: int = 8
    chords: tuple[str, ...] = ()
    low: int = 55
    high: int = 84
    in_scale: bool = True
    density: float = 0.5
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 0.95
    seed: int = 0
    prefix: tuple[int, ...] = ()

    def check(self) -> None:
        if self.mode not in tk.MODES:
            raise MelodyRequestError(f"unknown mode {self.mode!r}; known: {', '.join(tk.MODES)}")
        if self.meter not in tk.METERS:
            raise MelodyRequestError(
                f"meter {self.meter} is not supported; known: {', '.join(tk.METERS)}"
            )
        if not 1 <= self.bars <= 64:
            raise MelodyRequestError("bars must be between 1 and 64")
        if self.temperature <= 0 or not math.isfinite(self.temperature):
            raise MelodyRequestError("temperature must be above 0")
        if not 0.0 <= self.density <= 1.0:
            raise MelodyRequestError("density must be between 0 and 1")
        if not 0.0 < self.top_p <= 1.0:
            raise MelodyRequestError("top-p must be in (0, 1]")
        if not self.allowed_pitches():
            raise MelodyRequestError(
                "no note of the scale lies in the requested range: widen the range"
            )
        for symbol in self.chords:
            tones = chord_pitch_classes(symbol)
            if not any(p % 12 in tones for p in self.allowed_pitches()):
                raise MelodyRequestError(f"no tone of {symbol} lies in the requested range")

    def allowed_pitches(self) -> list[int]:
        ref = 60 + self.tonic % 12
        lo = max(self.low, ref - tk.PITCH_SPAN)
        hi = min(self.high, ref + tk.PITCH_SPAN)
        scale = SCALES.get(self.mode, SCALES["major"])
        return [p for p in range(lo, hi + 1) if not self.in_scale or (p - ref) % 12 in scale]


def _strong(pos: int, bar: int) -> bool:
    if pos == 0:
        return True
    beats = bar // tk.TPQ if bar % tk.TPQ == 0 else 0
    return bar % 2 == 0 and pos == bar // 2 and (beats in (4, 6, 12) or bar in (24, 36, 48))


class MelodyModel:
    """The ONNX melody network and the constrained decoder.

    The graph's interface is described in :mod:`models.training.export_melody`: one token per
    run and one key/value cache ``(2, 1, heads, past, head_dim)`` per layer."""

    def __init__(self, path: Path | str = MODEL_PATH, threads: int = 1) -> None:
        import onnxruntime as ort

        started = time.perf_counter()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"the melody model is missing: {path}")
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        inputs = {i.name: i for i in self.session.get_inputs()}
        self._cache_inputs = sorted((n for n in inputs if n.startswith("past")), key=len)
        self.layers = len(self._cache_inputs)
        shape = inputs["past0"].shape
        self.heads, self.head_dim = int(shape[2]), int(shape[4])
        self._outputs = [o.name for o in self.session.get_outputs()]
        meta = self.session.get_modelmeta().custom_metadata_map
        self.max_len = int(meta.get("max_len", "1024"))
        self._feed: dict[str, np.ndarray] = {
            "token": np.zeros((1, 1), dtype=np.int64),
            "bar_pos": np.zeros((1, 1), dtype=np.int64),
            "start": np.zeros((1, 1), dtype=np.int64),
        }
        self.load_seconds = time.perf_counter() - started

    def _empty(self) -> list[np.ndarray]:
        """Empty caches (``past`` = 0)."""
        empty = np.zeros((2, 1, self.heads, 0, self.head_dim), dtype=np.float32)
        return [empty] * self.layers

    def _step(
        self, token: int, bar_pos: int, index: int, caches: list[np.ndarray]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Logits (vocab,) after ``token`` at sequence index ``index``, and the grown caches."""
        feed = self._feed
        feed["token"][0, 0] = token
        feed["bar_pos"][0, 0] = min(bar_pos, tk.MAX_BAR_TICKS - 1)
        feed["start"][0, 0] = index
        feed.update(zip(self._cache_inputs, caches, strict=True))
        out = self.session.run(self._outputs, feed)
        return out[0][0, 0], out[1:]

    def log_probs(self, sequence: Sequence[int]) -> np.ndarray:
        """Log-probability of each token after the first, one step at a time (for checks)."""
        caches = self._empty()
        pos = tk.positions(sequence)
        out = []
        for i, token in enumerate(sequence[:-1]):
            logits, caches = self._step(token, pos[i], i, caches)
            z = logits.astype(np.float64)
            z -= z.max()
            out.append(z[sequence[i + 1]] - math.log(np.exp(z).sum()))
        return np.array(out)

    def generate(self, request: MelodyRequest) -> list[int]:
        """Token ids of one melody (see the module notes)."""
        request.check()
        rng = np.random.default_rng(request.seed)
        bar = tk.bar_ticks(request.meter)
        header = [tk.BOS, tk.INDEX[f"METER_{request.meter}"], tk.INDEX[f"MODE_{request.mode}"]]
        prefix = list(request.prefix[3:]) if request.prefix else []
        seq = header + prefix
        choices = _Choices(request, bar)

        # Feed the header and the prefix.
        caches = self._empty()
        positions = tk.positions(seq)
        offset = 0  # sequence index minus the index the network sees (after a refeed)
        if len(seq) >= self.max_len - 1:
            logits, caches, offset = self._refeed(seq, bar)
        else:
            logits = np.zeros(len(tk.VOCAB), dtype=np.float32)
            for i, token in enumerate(seq):
                logits, caches = self._step(token, positions[i], i, caches)
        pos = positions[-1] if prefix else 0
        if prefix and tk.is_duration(seq[-1]):
            pos = (pos + tk.duration_ticks(seq[-1])) % bar
        bars_done = sum(1 for t in prefix if t == tk.BAR)
        last_note = next(
            (t for t in reversed(prefix) if tk.is_pitch_slot(t) and t != tk.REST), None
        )
        want_duration = bool(prefix) and tk.is_pitch_slot(prefix[-1])

        while len(seq) < 4 * tk.MAX_TICKS * request.bars + 64:
            if want_duration:
                idx, tilt = choices.durations(bar - pos)
                token = _sample(logits, idx, tilt, request, rng)
            elif pos == 0 and (not seq or seq[-1] != tk.BAR):
                token = tk.EOS if bars_done >= request.bars else tk.BAR  # forced
            else:
                strong = choices.strong(pos)
                idx = choices.pitches(bars_done, strong, last_note not in (None, tk.REST))
                token = _sample(logits, idx, None, request, rng)
            if token == tk.EOS:
                seq.append(token)
                break
            index, token_pos = len(seq), pos
            seq.append(token)
            if token == tk.BAR:
                bars_done += 1
            elif tk.is_duration(token):
                pos = (pos + tk.duration_ticks(token)) % bar
                want_duration = False
            else:
                want_duration = True
                if token != tk.HOLD:
                    last_note = token
            if index - offset >= self.max_len - 1:
                logits, caches, offset = self._refeed(seq, bar)
            else:
                logits, caches = self._step(token, token_pos, index - offset, caches)
        return seq

    def _refeed(self, seq: list[int], bar: int) -> tuple[np.ndarray, list[np.ndarray], int]:
        """Start the cache again from the header and the last half-context of bars (how
        training crops long tunes); returns the logits, the caches and the index offset."""
        barlines = [
            i for i, t in enumerate(seq) if t == tk.BAR and len(seq) - i <= self.max_len // 2
        ]
        start = barlines[0] if barlines else len(seq) - self.max_len // 2
        window = seq[:3] + seq[start:]
        positions = tk.positions(window)
        caches = self._empty()
        logits = np.zeros(len(tk.VOCAB), dtype=np.float32)
        for i, token in enumerate(window):
            logits, caches = self._step(token, positions[i], i, caches)
        return logits, caches, len(seq) - len(window)


class _Choices:
    """The tokens the decoder may offer, as index arrays, worked out once per request."""

    def __init__(self, request: MelodyRequest, bar: int) -> None:
        self.bar = bar
        pitches = request.allowed_pitches()
        self._pitch = [tk.pitch_token(p, request.tonic) for p in pitches]
        self._chords = []
        for symbol in request.chords:
            tones = chord_pitch_classes(symbol)
            self._chords.append(
                [tk.pitch_token(p, request.tonic) for p in pitches if p % 12 in tones]
            )
        self._with: dict[tuple[int, bool], np.ndarray] = {}
        ticks = np.arange(1, tk.MAX_TICKS + 1)
        self._tilt = DENSITY_GAIN * (0.5 - request.density) * np.log2(ticks / tk.TPQ)
        self._durations: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._strong = [_strong(p, bar) for p in range(bar)]

    def strong(self, pos: int) -> bool:
        return self._strong[pos]

    def pitches(self, bars_done: int, strong: bool, hold: bool) -> np.ndarray:
        """Pitch tokens (chord tones only on a strong beat under a chord), ``REST``, and
        ``HOLD`` when a note sounds."""
        chord = (bars_done - 1) % len(self._chords) if self._chords and strong else -1
        if (chord, hold) not in self._with:
            base = self._chords[chord] if chord >= 0 else self._pitch
            extra = [tk.REST, tk.HOLD] if hold else [tk.REST]
            self._with[chord, hold] = np.array(base + extra, dtype=np.int64)
        return self._with[chord, hold]

    def durations(self, room: int) -> tuple[np.ndarray, np.ndarray]:
        """Duration tokens that fit in ``room`` ticks, and their density tilt."""
        if room not in self._durations:
            n = min(room, tk.MAX_TICKS)
            idx = np.arange(tk.FIRST_DURATION, tk.FIRST_DURATION + n, dtype=np.int64)
            self._durations[room] = (idx, self._tilt[:n])
        return self._durations[room]


def _sample(
    logits: np.ndarray,
    idx: np.ndarray,
    tilt: np.ndarray | None,
    request: MelodyRequest,
    rng: np.random.Generator,
) -> int:
    """One token of ``idx`` (the allowed ones), drawn with the request's temperature, top-k
    and top-p (see :func:`_pick`)."""
    if len(idx) == 0:
        raise MelodyRequestError("the constraints leave no token to choose")
    shift = _NO_TILT if tilt is None else tilt
    u = rng.random()
    pick = _compiled_pick()
    return int(idx[pick(logits, idx, shift, request.temperature, request.top_k, request.top_p, u)])


_NO_TILT = np.zeros(0)
_PICK: list[Any] = []


def _compiled_pick() -> Any:
    """:func:`_pick` compiled by numba (loaded from its cache after the first time); numba is
    imported here, on the first melody, so that loading the model stays cheap."""
    if not _PICK:
        from numba import njit

        _PICK.append(njit(nogil=True, cache=True)(_pick))
    return _PICK[0]


def _pick(logits, idx, tilt, temperature, top_k, top_p, u):
    """Index into ``idx`` of the token drawn by uniform ``u``: logits of the allowed tokens
    (plus ``tilt`` when it is not empty) over ``temperature``; keep the ``top_k`` largest
    (0: all), then the smallest head of them whose probability reaches ``top_p``; invert the
    cumulative distribution of what is kept. A few dozen tokens, one call (numba: a numpy
    version spent 50 µs per token in call overhead)."""
    n = idx.shape[0]
    z = np.empty(n)
    for i in range(n):
        z[i] = logits[idx[i]]
        if tilt.shape[0] > 0:
            z[i] += tilt[i]
        z[i] /= temperature
    order = np.argsort(-z)
    keep = n if top_k <= 0 or top_k >= n else top_k
    cum = np.empty(keep)
    total = 0.0
    top = z[order[0]]
    for i in range(keep):
        total += np.exp(z[order[i]] - top)
        cum[i] = total
    for i in range(keep):
        cum[i] /= total
    if top_p < 1.0:
        cut = 0
        while cut < keep - 1 and cum[cut] < top_p:
            cut += 1
        keep = cut + 1
        last = cum[cut]
        for i in range(keep):
            cum[i] /= last
    for i in range(keep):
        if u < cum[i]:
            return order[i]
    return order[keep - 1]

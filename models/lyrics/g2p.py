"""Pronounce words CMUdict lacks: the shipped grapheme-to-phoneme network, run by onnxruntime.

``G2P()(word)`` returns ARPAbet phones with stress digits, e.g. ``("Y", "IY1", "T")`` for
*yeet*, or ``()`` when the word has nothing the network can read. The network
(``resources/models/g2p/g2p.onnx``, trained on CMUdict by ``models/training/train_g2p.py``;
see its model card) reads lower-case ``a``–``z`` and ``'``: a word is folded first (Unicode
NFKD with combining marks dropped, so *naïve* → ``naive`` and *Beyoncé* → ``beyonce``; lower
case; curly apostrophes made straight) and everything else is dropped (digits, hyphens, other
scripts, emoji, control characters). A word longer than the network's limit
(``max_chars``, 32 letters) is refused with ``()``: a cut-off word would get a confidently
wrong pronunciation, and :class:`~models.lyrics.dictionary.Pronouncer` then falls back to
hyphenation. Decoding is greedy, one ``session.run`` per word (about a millisecond); answers are
kept in a per-instance LRU cache. The onnxruntime session is built on the first call, so
importing this module and making a :class:`G2P` cost nothing.

:func:`default_pronouncer` gives the app's English :class:`Pronouncer`: CMUdict, then this
network when its file is present, then hyphenation.
"""

from __future__ import annotations

import threading
import unicodedata
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from models.lyrics.dictionary import Pronouncer

MODEL_PATH = Path(__file__).resolve().parents[2] / "resources" / "models" / "g2p" / "g2p.onnx"
Phones = tuple[str, ...]


def fold(word: str) -> str:
    """``word`` as the network reads it: NFKD without combining marks, lower case, curly
    apostrophes and backticks made ``'``, only ``a``–``z`` and ``'`` kept, apostrophes trimmed
    from both ends."""
    decomposed = unicodedata.normalize("NFKD", word)
    text = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    return "".join(ch for ch in text if "a" <= ch <= "z" or ch == "'").strip("'")


class G2P:
    """The trained network as a callable ``word -> phones``. Thread-safe: the session is built
    once under a lock, and onnxruntime sessions may be run from several threads."""

    def __init__(self, path: Path | str = MODEL_PATH, cache_size: int = 4096) -> None:
        self.path = Path(path)
        self.cache_size = cache_size
        self._session: Any = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, Phones] = OrderedDict()
        self._letters: dict[str, int] = {}
        self._phones: tuple[str, ...] = ()
        self._eos = 2
        self.max_chars = 32
        self.max_phones = 32

    @staticmethod
    def available(path: Path | str = MODEL_PATH) -> bool:
        return Path(path).is_file()

    def _load(self) -> Any:
        with self._lock:
            if self._session is None:
                import onnxruntime as ort

                options = ort.SessionOptions()
                options.intra_op_num_threads = 1
                options.inter_op_num_threads = 1
                session = ort.InferenceSession(
                    str(self.path), options, providers=["CPUExecutionProvider"]
                )
                meta = session.get_modelmeta().custom_metadata_map
                self._letters = {c: i + 1 for i, c in enumerate(meta["letters"])}
                self._phones = tuple(meta["phones"].split())
                self._eos = int(meta["eos"])
                self.max_chars = int(meta["max_chars"])
                self.max_phones = int(meta["max_phones"])
                self._session = session
        return self._session

    def __call__(self, word: str) -> Phones:
        key = fold(word)
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
        phones = self._pronounce(key)
        with self._lock:
            self._cache[key] = phones
            if len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return phones

    def _pronounce(self, key: str) -> Phones:
        session = self._session or self._load()
        if not any(ch != "'" for ch in key) or len(key) > self.max_chars:
            return ()
        chars = np.array([[self._letters[ch] for ch in key]], dtype=np.int64)
        ids, _ = session.run(None, {"chars": chars})
        out = []
        for i in ids.reshape(-1).tolist():
            if i == self._eos:
                break
            if i >= 3:
                out.append(self._phones[i - 3])
        return tuple(out[: self.max_phones])


def default_pronouncer(language: str = "en", path: Path | str = MODEL_PATH) -> Pronouncer:
    """A :class:`Pronouncer` for ``language``; English gets the shipped G2P attached when its
    file exists (without it, CMUdict misses fall back to hyphenation)."""
    english = language.split("_")[0].lower() == "en"
    g2p = G2P(path) if english and G2P.available(path) else None
    return Pronouncer(language, g2p=g2p)

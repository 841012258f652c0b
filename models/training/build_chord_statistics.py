"""Extract key-relative chord tokens from music21's RomanText analyses.

Rebuild the shipped file (about a minute; needs the ``train`` extra for music21)::

    TMPDIR=.cache/music21 .venv/bin/python -m models.training.build_chord_statistics

Source: every ``.rntxt`` file in music21's bundled corpus (20 Bach chorales analysed for the
Riemenschneider edition and 48 Monteverdi madrigals). Only the analysts' labels are used, never
the scores, so the known score/analysis misalignments and transposed editions do not matter: a
token is relative to the analyst's key at that point.

Per analysis, each Roman numeral becomes a token (:func:`models.next_chord.chord_token`): its
root and full chord quality come from the numeral with omission/addition brackets removed
(``i[no3]`` counts as ``i``), reduced to the token qualities; inversions are dropped. A change of
the analyst's key starts a new *segment*; identical consecutive tokens inside a segment collapse
into one. Chords with no token quality (a French sixth, say) are skipped and counted.

Output: ``resources/harmony/chord_statistics.json`` with the music21 version, the source list,
per-mode vocabulary and per-piece segments (key, mode, tokens as one space-separated string);
sorted keys, so a rebuild is byte-identical.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from models.chords import make_chord
from models.next_chord import DEFAULT_STATISTICS, MODES, chord_token, statistics_json
from models.theory import Key, Mode

FORMAT_VERSION = 1
_BRACKETS = re.compile(r"\[[^\]]*\]")
_QUALITIES: dict[tuple[int, ...], str] = {
    (0, 4, 7): "",
    (0, 3, 7): "m",
    (0, 3, 6): "dim",
    (0, 4, 8): "aug",
    (0, 4, 7, 10): "7",
    (0, 3, 7, 10): "m7",
    (0, 4, 7, 11): "maj7",
    (0, 3, 6, 10): "m7b5",
    (0, 3, 6, 9): "dim7",
    (0, 3, 7, 11): "mMaj7",
    (0, 4, 8, 11): "aug",
    (0, 4, 8, 10): "7#5",
}


def corpus_root() -> Path:
    import music21

    return Path(music21.__file__).resolve().parent / "corpus"


def source_paths() -> list[Path]:
    from music21 import corpus

    return sorted(Path(p) for p in corpus.getPaths(fileExtensions=("rntxt",)))


def piece_id(path: Path) -> str:
    return path.relative_to(corpus_root()).with_suffix("").as_posix()


def to_key(m21_key: Any) -> Key:
    name = m21_key.tonic.name.replace("-", "b")
    return Key.parse(f"{name} {m21_key.mode}")


def numeral_token(rn: Any, key: Key, cache: dict[tuple[str, str], str | None]) -> str | None:
    """Token of a music21 RomanNumeral in its key, or ``None`` when no token quality fits."""
    from music21 import roman

    figure = _BRACKETS.sub("", rn.figure)
    memo = (figure, key.name)
    if memo not in cache:
        full = roman.RomanNumeral(figure, rn.key)
        root = full.root().pitchClass
        shape = tuple(sorted({(pc - root) % 12 for pc in full.pitchClasses}))
        quality = _QUALITIES.get(shape)
        cache[memo] = None if quality is None else chord_token(make_chord(root, quality), key)
    return cache[memo]


def extract(path: Path, cache: dict[tuple[str, str], str | None]) -> tuple[list[Any], int]:
    """Segments of one analysis and the number of chords skipped."""
    from music21 import converter, roman

    score = converter.parse(str(path), format="romanText")
    segments: list[dict[str, Any]] = []
    skipped = 0
    for rn in score.recurse().getElementsByClass(roman.RomanNumeral):
        key = to_key(rn.key)
        token = numeral_token(rn, key, cache)
        if token is None:
            skipped += 1
            continue
        if not segments or segments[-1]["key"] != key.name:
            segments.append({"key": key.name, "mode": key.mode, "tokens": []})
        tokens = segments[-1]["tokens"]
        if not tokens or tokens[-1] != token:
            tokens.append(token)
    for seg in segments:
        seg["tokens"] = " ".join(seg["tokens"])
    return segments, skipped


def build() -> dict[str, Any]:
    import music21

    cache: dict[tuple[str, str], str | None] = {}
    pieces: dict[str, list[Any]] = {}
    skipped = 0
    paths = source_paths()
    for path in paths:
        segments, n = extract(path, cache)
        pieces[piece_id(path)] = segments
        skipped += n
    vocabulary: dict[Mode, Counter[str]] = {m: Counter() for m in MODES}
    for segments in pieces.values():
        for seg in segments:
            vocabulary[seg["mode"]].update(seg["tokens"].split())
    return {
        "format": FORMAT_VERSION,
        "music21_version": music21.__version__,
        "sources": [piece_id(p) + ".rntxt" for p in paths],
        "skipped_chords": skipped,
        "vocabulary": {m: sorted(v) for m, v in vocabulary.items()},
        "pieces": pieces,
    }


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else DEFAULT_STATISTICS
    out.parent.mkdir(parents=True, exist_ok=True)
    data = build()
    out.write_text(statistics_json(data), encoding="utf-8")
    tokens = sum(len(s["tokens"].split()) for segs in data["pieces"].values() for s in segs)
    print(
        f"{len(data['pieces'])} pieces, {tokens} tokens, {data['skipped_chords']} skipped -> {out}"
    )


if __name__ == "__main__":
    main()

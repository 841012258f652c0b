"""Extract the melody training data from music21's bundled corpus into tokens.

Build (about 7 minutes on two cores; needs music21, in the ``train`` and ``dev`` extras)::

    TMPDIR=.cache/music21 .venv/bin/python -m models.training.melody_data

Output: ``.cache/melody/tunes-v<VERSION>.jsonl`` (one tune a line: source, id, split, tonic, mode,
meter, pickup, tokens) and a summary on stderr. Later steps read that file and never parse the
corpus again.

**Sources**: the monophonic ABC collections — ``essenFolksong``, ``oneills1850``, ``airdsAirs``,
``miscFolk`` and ``ryansMammoth`` — and the soprano lines of the Bach chorales.

**Split**: every ``ryansMammoth`` tune is *test* and is never trained on. The rest is split by a
hash of the tune's id: 5 % *validation*, 95 % *train*. A train or validation tune whose token
sequence equals a test tune's (Ryan's and O'Neill's share Irish tunes) is dropped, as are exact
duplicates within a split.

**Labels** (no key-finding algorithm, which would bias the data towards its own profile):

* *meter*: the tune's single time signature; tunes that change meter, or use one outside
  :data:`models.melody.tokens.METERS`, are skipped;
* *tonic and mode*: from the key signature and the last note (for chorales, the last bass note,
  since a soprano often ends on the third). The last note is the tonic; its place in the
  signature's major scale gives the mode: 1st degree major, 6th minor, 2nd dorian,
  5th mixolydian; other endings (phrygian, lydian, a tune that ends off the tonic) are skipped.

**Notes**: the first part, flattened; a chord contributes its top note; grace notes are dropped;
onsets and lengths must fall on the 1/12-quarter grid (tuplets other than triplets, 32nd notes:
skipped). A pickup is the first measure when it is shorter than a bar. Tunes with fewer than 8
notes are skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from fractions import Fraction
from pathlib import Path
from typing import Any

from models.melody import tokens as tk

VERSION = 1
REPO = Path(__file__).resolve().parents[2]
OUT = REPO / ".cache" / "melody" / f"tunes-v{VERSION}.jsonl"
ABC_COLLECTIONS = ("essenFolksong", "oneills1850", "airdsAirs", "miscFolk", "ryansMammoth")
TEST_COLLECTION = "ryansMammoth"
VALIDATION_SHARE = 0.05
MIN_NOTES = 8
# Degree of the signature's major scale (semitones above its tonic) -> mode of a tune ending there
MODE_OF_FINAL = {0: "major", 9: "minor", 2: "dorian", 7: "mixolydian"}


def split_of(source: str, tune_id: str) -> str:
    if source == TEST_COLLECTION:
        return "test"
    digest = hashlib.sha256(tune_id.encode()).digest()
    return "validation" if int.from_bytes(digest[:4], "big") / 2**32 < VALIDATION_SHARE else "train"


def _ticks(ql: Any) -> int | None:
    value = Fraction(ql).limit_denominator(96) * tk.TPQ
    return int(value) if value.denominator == 1 else None


def melody_of(score: Any, bass_final: bool = False) -> tk.Melody | None:
    """The :class:`~models.melody.tokens.Melody` of a music21 score, or ``None`` when it does
    not meet the rules in the module notes."""
    sigs = {ts.ratioString for ts in score.recurse().getElementsByClass("TimeSignature")}
    keys = {ks.sharps for ks in score.recurse().getElementsByClass("KeySignature")}
    if len(sigs) != 1 or len(keys) != 1:
        return None
    meter = sigs.pop()
    if meter not in tk.METERS:
        return None
    parts = list(score.parts) or [score]
    notes: list[tk.Note] = []
    for element in parts[0].flatten().notes:
        if element.duration.isGrace or element.duration.quarterLength <= 0:
            continue
        start, length = _ticks(element.offset), _ticks(element.duration.quarterLength)
        if start is None or length is None:
            return None
        pitch = max(p.midi for p in element.pitches)
        if notes and start < notes[-1].start + notes[-1].length:
            if start == notes[-1].start:
                continue  # a second voice on the same onset: keep the first
            last = notes[-1]
            notes[-1] = tk.Note(last.start, start - last.start, last.pitch)  # cut the overlap
        notes.append(tk.Note(start, length, pitch))
    if len(notes) < MIN_NOTES:
        return None
    if bass_final:
        lowest = parts[-1].flatten().notes
        if not lowest:
            return None
        final = min(p.midi for p in lowest[-1].pitches) % 12
    else:
        final = notes[-1].pitch % 12 if notes[-1].pitch is not None else None
    if final is None:
        return None
    major_tonic = (7 * keys.pop()) % 12
    mode = MODE_OF_FINAL.get((final - major_tonic) % 12)
    if mode is None:
        return None
    bar = tk.bar_ticks(meter)
    measures = list(parts[0].getElementsByClass("Measure"))
    pickup = 0
    if measures:
        first = _ticks(measures[0].highestTime)
        if first is not None and 0 < first < bar:
            pickup = first
    first_start = notes[0].start
    shifted = tuple(tk.Note(n.start - first_start, n.length, n.pitch) for n in notes)
    return tk.Melody(final, mode, meter, shifted, (pickup - first_start) % bar)


def _scores(path: Path) -> Iterator[tuple[str, Any]]:
    from music21 import converter

    parsed = converter.parse(str(path))
    if hasattr(parsed, "scores"):
        for i, score in enumerate(parsed.scores):
            yield f"{path.name}#{i}", score
    else:
        yield path.name, parsed


def _extract_file(job: tuple[str, str, bool]) -> tuple[list[dict[str, Any]], Counter[str]]:
    source, path_text, bass_final = job
    path = Path(path_text)
    rows: list[dict[str, Any]] = []
    skipped: Counter[str] = Counter()
    try:
        scores = list(_scores(path))
    except Exception as exc:  # a file music21 cannot read: count it, go on
        skipped[f"unparsable file ({type(exc).__name__})"] += 1
        return rows, skipped
    for tune_id, score in scores:
        try:
            melody = melody_of(score, bass_final)
            if melody is None:
                skipped["labels or grid"] += 1
                continue
            token_ids = tk.encode(melody)
        except tk.TokenError:
            skipped["outside the vocabulary"] += 1
            continue
        except Exception as exc:  # music21 raises many kinds on odd scores
            skipped[f"music21 {type(exc).__name__}"] += 1
            continue
        full_id = f"{source}/{tune_id}"
        rows.append(
            {
                "source": source,
                "id": full_id,
                "split": split_of(source, full_id),
                "tonic": melody.tonic,
                "mode": melody.mode,
                "meter": melody.meter,
                "pickup": melody.pickup,
                "tokens": token_ids,
            }
        )
    return rows, skipped


def _jobs() -> list[tuple[str, str, bool]]:
    import music21
    from music21 import corpus

    root = Path(music21.__file__).parent / "corpus"
    jobs = []
    for name in ABC_COLLECTIONS:
        for path in sorted((root / name).rglob("*.abc")):
            jobs.append((name, str(path), False))
    for path in sorted(corpus.getComposer("bach"), key=str):
        if Path(path).suffix in (".mxl", ".xml", ".musicxml"):
            jobs.append(("bachChorales", str(path), True))
    return jobs


def build(out: Path = OUT, workers: int = 2) -> dict[str, Any]:
    """Parse the corpus and write ``out``; returns the summary."""
    (REPO / ".cache" / "music21").mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("TMPDIR", str(REPO / ".cache" / "music21"))
    tempfile.tempdir = None
    jobs = _jobs()
    rows: list[dict[str, Any]] = []
    skipped: Counter[str] = Counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for done, (found, missed) in enumerate(pool.map(_extract_file, jobs, chunksize=4), 1):
            rows += found
            skipped.update(missed)
            if done % 50 == 0 or done == len(jobs):
                print(f"{done}/{len(jobs)} files, {len(rows)} tunes", file=sys.stderr)
    test_seqs = {tuple(r["tokens"]) for r in rows if r["split"] == "test"}
    kept: list[dict[str, Any]] = []
    seen: set[tuple[str, tuple[int, ...]]] = set()
    for row in sorted(rows, key=lambda r: r["id"]):
        seq = tuple(row["tokens"])
        if row["split"] != "test" and seq in test_seqs:
            skipped["same as a test tune"] += 1
            continue
        if (row["split"], seq) in seen:
            skipped["duplicate"] += 1
            continue
        seen.add((row["split"], seq))
        kept.append(row)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    with tmp.open("w") as fh:
        for row in kept:
            fh.write(json.dumps(row, separators=(",", ":")) + "\n")
    tmp.replace(out)
    summary = {
        "tunes": Counter(r["split"] for r in kept),
        "tokens": Counter({s: 0 for s in ("train", "validation", "test")}),
        "sources": Counter(r["source"] for r in kept),
        "skipped": skipped,
    }
    for r in kept:
        summary["tokens"][r["split"]] += len(r["tokens"])
    return summary


def load(path: Path = OUT) -> dict[str, list[list[int]]]:
    """Token sequences by split, from a file :func:`build` wrote."""
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: run `TMPDIR=.cache/music21 python -m models.training.melody_data`"
        )
    out: dict[str, list[list[int]]] = {"train": [], "validation": [], "test": []}
    with path.open() as fh:
        for line in fh:
            row = json.loads(line)
            out[row["split"]].append(row["tokens"])
    return out


if __name__ == "__main__":
    result = build()
    for key, value in result.items():
        print(f"{key}: {dict(value)}", file=sys.stderr)

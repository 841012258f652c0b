"""A labelled audio evaluation set for tempo, beats and key: Bach chorales rendered with FluidSynth.

``build()`` returns a list of :class:`Item`: a 44.1 kHz mono 16-bit WAV plus its labels. The first
call parses, transposes, writes MIDI and renders (about a second per piece); the WAVs and a
``labels.json`` are cached under ``.cache/eval/<set name>/`` so later calls only read the JSON.
Nothing here runs in the default test suite.

How the set is made (all choices seeded by ``seed``):

* **Pieces**: music21's bundled Bach chorales (``corpus.getComposer('bach')``), shuffled, keeping
  those in x/4 time whose first note lies on a quarter-note grid (so every beat is a quarter).
* **Key label**: key signature + final bass note, *not* ``score.analyze('key')``. If the lowest
  note sounding at the end is the major tonic of the key signature the piece is labelled major;
  if it is the tonic of the relative minor, minor; otherwise (modal chorales, Phrygian endings,
  Dorian signatures) the piece is skipped. This avoids labelling with a profile-based key finder,
  which would bias any key benchmark towards profile-based methods. A Picardy third does not
  matter: the bass still ends on the tonic.
* **All 24 keys**: slot ``j`` asks for mode ``major`` (even ``j``) or ``minor`` (odd ``j``) and a
  tonic from a seeded permutation of the 12 pitch classes, so 24 pieces cover each key once. A
  source piece of that mode is transposed by -5..+6 semitones onto the tonic; the label moves
  with it.
* **Tempo**: uniform 60–180 BPM, then made exact for MIDI: the tempo meta message holds an
  integer number of microseconds per quarter, and ``tempo_bpm`` is 60e6 divided by it.
* **MIDI** is written directly with mido from the score's notes (ties merged, repeats and
  fermatas ignored, so the tempo is strictly constant): one channel per part, all on the piece's
  GM program (piano 0, organ 19, guitar 24, strings 48, cycled in a seeded order), velocity 80.
* **Drums** on half the set (balanced over programs and modes): GM channel 10, kick on beat 1
  (and 3 in 4/4), snare on the other beats, closed hi-hat on every eighth note, throughout.
* **Render**: ``fluidsynth -ni -q -g 0.6 -r 44100 -O float -T wav -F out.wav FluidR3_GM.sf2
  file.mid`` (reverb and chorus at FluidSynth's defaults), mixed to mono, peak-normalised to
  -1 dBFS and written as 16-bit PCM by soundfile (no dither, so renders are reproducible).
* **Beats**: the first note of the score sounds at t = 0 in the MIDI file (no lead-in), and there
  is no leading silence to trim beyond FluidSynth's attack. ``beats_s`` are the quarter-note
  times ``k * 60 / tempo_bpm`` for every quarter from the first note up to (not including) the
  end of the last note. Audio continues ~2 s past the last note for the release tail.
* **Downbeats and meter**: ``beats_per_bar`` is the time signature's numerator (3 or 4 here) and
  ``downbeats_s`` the beats that start a bar, counted from the pickup (the first measure, when
  it is shorter than a bar) — the same bar grid the drum track follows.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = REPO / ".cache" / "eval"
SOUNDFONT_CANDIDATES = (
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    Path("/usr/share/soundfonts/FluidR3_GM.sf2"),
)
RATE = 44100
PROGRAMS = (0, 19, 24, 48)  # acoustic grand, church organ, nylon guitar, string ensemble
TEMPO_RANGE = (60.0, 180.0)
TICKS = 480
TAIL_S = 2.0
VERSION = 3

KICK, SNARE, HAT = 36, 38, 42


@dataclass(frozen=True)
class Item:
    path: Path
    piece: str
    key_tonic: int
    key_mode: str
    tempo_bpm: float
    beats_s: tuple[float, ...]
    duration_s: float
    program: int
    drums: bool
    beats_per_bar: int
    downbeats_s: tuple[float, ...]


@dataclass
class _Source:
    name: str
    tonic: int
    mode: str
    parts: list[list[tuple[float, float, int]]]  # per part: (offset, length, midi) in quarters
    end_q: float
    bar_q: float
    first_bar_q: float  # offset of the first full bar's downbeat (pickup length)
    beats_per_bar: int


def _soundfont() -> Path:
    for path in SOUNDFONT_CANDIDATES:
        if path.exists():
            return path
    raise FileNotFoundError("FluidR3_GM.sf2 not found (apt install fluid-soundfont-gm)")


def _load_source(path: Path) -> _Source | None:
    from music21 import corpus

    score = corpus.parse(str(path))
    sigs = list(score.recurse().getElementsByClass("TimeSignature"))
    keys = list(score.recurse().getElementsByClass("KeySignature"))
    if not sigs or not keys:
        return None
    if {(s.numerator, s.denominator) for s in sigs} != {(sigs[0].numerator, 4)}:
        return None  # one x/4 signature throughout
    if len({k.sharps for k in keys}) != 1:
        return None
    parts: list[list[tuple[float, float, int]]] = []
    for part in score.parts:
        notes = []
        for n in part.stripTies().flatten().notes:
            length = float(n.duration.quarterLength)
            if length <= 0:
                continue  # grace notes
            for p in n.pitches:
                notes.append((float(n.offset), length, int(p.midi)))
        if notes:
            parts.append(notes)
    if not parts:
        return None
    all_notes = [n for p in parts for n in p]
    start = min(n[0] for n in all_notes)
    if start != 0.0 or any(abs(n[0] * 2 - round(n[0] * 2)) > 1e-9 for n in all_notes):
        return None  # keep the quarter grid anchored at the first note; no tuplets
    end_q = max(n[0] + n[1] for n in all_notes)
    last_onset = max(n[0] for n in all_notes)
    final_bass = min(n[2] for n in all_notes if n[0] + n[1] >= end_q - 1e-9 or n[0] == last_onset)
    sharps = keys[0].sharps
    major_tonic = (7 * sharps) % 12
    minor_tonic = (major_tonic + 9) % 12
    if final_bass % 12 == major_tonic:
        mode, tonic = "major", major_tonic
    elif final_bass % 12 == minor_tonic:
        mode, tonic = "minor", minor_tonic
    else:
        return None
    bar_q = float(sigs[0].numerator)
    measures = list(score.parts[0].getElementsByClass("Measure"))
    first_bar_q = 0.0
    if measures and float(measures[0].duration.quarterLength) < bar_q - 1e-9:
        first_bar_q = float(measures[0].duration.quarterLength)  # pickup
    if abs(first_bar_q - round(first_bar_q)) > 1e-9:
        return None
    name = path.stem
    return _Source(name, tonic, mode, parts, end_q, bar_q, first_bar_q, int(sigs[0].numerator))


def _write_midi(
    src: _Source, shift: int, tempo_us: int, program: int, drums: bool, out: Path
) -> None:
    import mido

    mid = mido.MidiFile(type=1, ticks_per_beat=TICKS)
    meta = mido.MidiTrack()
    meta.append(mido.MetaMessage("set_tempo", tempo=tempo_us, time=0))
    meta.append(
        mido.MetaMessage("time_signature", numerator=src.beats_per_bar, denominator=4, time=0)
    )
    end_tick = round(src.end_q * TICKS) + round(TAIL_S * 1e6 / tempo_us * TICKS)
    meta.append(mido.MetaMessage("end_of_track", time=end_tick))
    mid.tracks.append(meta)

    def add_track(events: list[tuple[int, int, mido.Message]]) -> None:
        track = mido.MidiTrack()
        now = 0
        for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
            track.append(msg.copy(time=tick - now))
            now = tick
        track.append(mido.MetaMessage("end_of_track", time=max(0, end_tick - now)))
        mid.tracks.append(track)

    for ch, notes in enumerate(src.parts[:9]):
        events: list[tuple[int, int, mido.Message]] = [
            (0, 0, mido.Message("program_change", channel=ch, program=program))
        ]
        for off, length, pitch in notes:
            note = min(127, max(0, pitch + shift))
            a, b = round(off * TICKS), round((off + length) * TICKS)
            events.append((a, 2, mido.Message("note_on", channel=ch, note=note, velocity=80)))
            events.append((b, 1, mido.Message("note_off", channel=ch, note=note, velocity=0)))
        add_track(events)

    if drums:
        events = []
        n_quarters = int(np.floor(src.end_q - 1e-9)) + 1
        for q in range(n_quarters):
            pos = round(q - src.first_bar_q) % src.beats_per_bar
            strong = pos == 0 or (src.beats_per_bar == 4 and pos == 2)
            drum = KICK if strong else SNARE
            for note, at, vel in ((drum, q, 100), (HAT, q, 70), (HAT, q + 0.5, 55)):
                if at >= src.end_q:
                    continue
                a = round(at * TICKS)
                events.append((a, 2, mido.Message("note_on", channel=9, note=note, velocity=vel)))
                events.append(
                    (a + TICKS // 8, 1, mido.Message("note_off", channel=9, note=note, velocity=0))
                )
        add_track(events)
    mid.save(str(out))


def _render(midi: Path, wav: Path) -> float:
    import soundfile as sf

    with tempfile.TemporaryDirectory(dir=wav.parent) as tmp:
        raw = Path(tmp) / "raw.wav"
        cmd = [
            "fluidsynth", "-ni", "-q", "-g", "0.6", "-r", str(RATE), "-O", "float", "-T", "wav",
            "-F", str(raw), str(_soundfont()), str(midi),
        ]  # fmt: skip
        subprocess.run(cmd, check=True, capture_output=True)
        y, sr = sf.read(str(raw), dtype="float64", always_2d=True)
    assert sr == RATE
    mono = y.mean(axis=1)
    peak = float(np.max(np.abs(mono))) or 1.0
    mono *= 10 ** (-1 / 20) / peak
    sf.write(str(wav), mono, RATE, subtype="PCM_16")
    return len(mono) / RATE


def _item_from_json(d: dict[str, object], folder: Path) -> Item:
    return Item(
        path=folder / str(d["path"]),
        piece=str(d["piece"]),
        key_tonic=int(d["key_tonic"]),  # type: ignore[call-overload]
        key_mode=str(d["key_mode"]),
        tempo_bpm=float(d["tempo_bpm"]),  # type: ignore[arg-type]
        beats_s=tuple(float(b) for b in d["beats_s"]),  # type: ignore[attr-defined]
        duration_s=float(d["duration_s"]),  # type: ignore[arg-type]
        program=int(d["program"]),  # type: ignore[call-overload]
        drums=bool(d["drums"]),
        beats_per_bar=int(d["beats_per_bar"]),  # type: ignore[call-overload]
        downbeats_s=tuple(float(b) for b in d["downbeats_s"]),  # type: ignore[attr-defined]
    )


def prepare_rendering() -> None:
    """Check for FluidSynth and point music21's parse cache into the project's ``.cache``."""
    if shutil.which("fluidsynth") is None:
        raise RuntimeError("fluidsynth is not installed")
    music21_tmp = REPO / ".cache" / "music21"
    music21_tmp.mkdir(parents=True, exist_ok=True)
    os.environ["TMPDIR"] = str(music21_tmp)
    tempfile.tempdir = None


def build(n_pieces: int = 24, cache: Path = DEFAULT_CACHE, seed: int = 0) -> list[Item]:
    """The evaluation set (rendered on first use, then read from ``cache``)."""
    folder = Path(cache) / f"chorales-v{VERSION}-s{seed}-n{n_pieces}"
    labels = folder / "labels.json"
    if labels.exists():
        data = json.loads(labels.read_text())
        items = [_item_from_json(d, folder) for d in data["items"]]
        if all(it.path.exists() for it in items):
            return items

    prepare_rendering()
    from music21 import corpus

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = sorted(corpus.getComposer("bach"), key=str)
    paths = [p for p in paths if p.suffix in (".mxl", ".xml", ".musicxml")]
    order = rng.permutation(len(paths))
    tonics = rng.permutation(12)
    programs = [PROGRAMS[i] for i in rng.permutation(len(PROGRAMS))]
    seen: set[str] = set()
    pools: dict[str, list[_Source]] = {"major": [], "minor": []}
    cursor = 0

    def next_source(mode: str) -> _Source:
        nonlocal cursor
        while not pools[mode]:
            if cursor >= len(order):
                raise RuntimeError(f"ran out of chorales for mode {mode}")
            path = paths[order[cursor]]
            cursor += 1
            try:
                src = _load_source(path)
            except Exception:
                src = None
            if src is None or src.name.split(".")[0] in seen:
                continue
            seen.add(src.name.split(".")[0])  # one movement per BWV number
            pools[src.mode].append(src)
        return pools[mode].pop(0)

    items: list[Item] = []
    records: list[dict[str, object]] = []
    for j in range(n_pieces):
        mode = "major" if j % 2 == 0 else "minor"
        tonic = int(tonics[(j // 2) % 12])
        src = next_source(mode)
        shift = (tonic - src.tonic) % 12
        if shift > 6:
            shift -= 12
        bpm_wanted = rng.uniform(*TEMPO_RANGE)
        tempo_us = round(60e6 / bpm_wanted)
        bpm = 60e6 / tempo_us
        program = programs[j % len(programs)]
        # half the set; over each 8 slots every program and both modes get drums and none
        drums = (j % 4 in (1, 2)) != ((j // 4) % 2 == 1)
        stem = f"{j:03d}_{src.name}"
        midi = folder / f"{stem}.mid"
        wav = folder / f"{stem}.wav"
        _write_midi(src, shift, tempo_us, program, drums, midi)
        duration = _render(midi, wav)
        period = tempo_us / 1e6
        n_beats = int(np.ceil(src.end_q - 1e-9))
        beats = tuple(round(k * period, 6) for k in range(n_beats))
        downbeats = tuple(
            beats[k] for k in range(n_beats) if round(k - src.first_bar_q) % src.beats_per_bar == 0
        )
        item = Item(
            wav, src.name, tonic, mode, bpm, beats, duration, program, drums,
            src.beats_per_bar, downbeats,
        )  # fmt: skip
        items.append(item)
        rec = asdict(item)
        rec["path"] = wav.name
        rec["shift"] = shift
        rec["source_key"] = [src.tonic, src.mode]
        records.append(rec)
        print(f"rendered {stem}: {bpm:.2f} BPM, {duration:.1f} s", file=sys.stderr)
    labels.write_text(json.dumps({"version": VERSION, "seed": seed, "items": records}, indent=1))
    return items


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=24)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for it in build(args.n, seed=args.seed):
        print(
            f"{it.path.name:28s} {it.key_tonic:2d} {it.key_mode:5s} {it.tempo_bpm:7.2f} BPM "
            f"prog {it.program:2d} drums {int(it.drums)} {it.beats_per_bar}/4 "
            f"{it.duration_s:6.1f} s"
        )

"""Claim: the audio chord timeline reaches majmin ≥ 70 % on the rendered-chorale evaluation set.

Run: ``python benchmarks/bench_audio_chords.py`` (a few minutes on first use, when the evaluation
set is rendered; prints a table and a final JSON line).

**Audio**: the evaluation set of :mod:`eval_set` (music21 Bach chorales transposed into all 24
keys, rendered with FluidSynth on piano / organ / guitar / strings, half of them with a drum
kit, 60–180 BPM).

**Reference chords** come from the very MIDI files that were rendered (cached next to the WAVs,
so transposition, tempo and the note-to-time map are exact): for every quarter-note beat, the
pitches sounding at the beat's onset (drums excluded) are named by :func:`models.chords.name_chord`
(the app's own MIDI chord namer: lowest-cost template reading, inversions allowed). When those
onset notes name no chord (a suspension or passing note in the attack makes a cluster), the
notes sounding for at least half the beat are tried; when neither names a chord, the beat is
labelled ``X`` and left out of the scores. Qualities map to mir_eval syntax (``m7`` ->
``min7``, ``m7b5`` -> ``hdim7``, ...); mir_eval's ``majmin`` then scores only beats whose
reference reduces to a major or minor triad (``dim``, ``sus``, power chords are left out),
``root`` scores every labelled beat.

Limits of this reference: it is one chord per beat (eighth-note harmony changes inside a beat
are lost; the onset chord wins), the labels are a rule-based naming of the sounding notes (not a
music theorist's harmonic analysis: an unresolved suspension or an accented passing tone can
rename the beat, and a dyad such as C-E is called C major), and there is no ``N`` anywhere
except after the last note (the release tail is not scored: the reference ends with the last
beat).

**Systems**, all scored against the same reference with ``mir_eval.chord`` (duration-weighted,
pooled over the whole set):

* ``ours``: :func:`audio.chroma.chroma` (10 frames/s) + :func:`audio.chords_audio.chord_timeline`
  (harmonic-aware templates, HMM/Viterbi smoothing), frame-based.
* ``ours, beat-sync``: the same chroma pooled per ground-truth beat (an upper bound for a
  beat tracker's beats).
* ``ours, no smoothing``: the same chroma, per-frame arg-max of the same templates.
* ``librosa baseline``: ``librosa.feature.chroma_cqt`` (hop 4096 ≈ 10.8 frames/s) + the same
  templates, per-frame arg-max, no smoothing (the brief's baseline); and the same chroma with
  our HMM, to separate the chroma from the smoothing.

Speed: wall-clock seconds of analysis per minute of audio (chroma + chords; file loading
excluded), after warm-up.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("NUMBA_CACHE_DIR", str(HERE.parent / ".cache" / "numba"))

import librosa  # noqa: E402
import mido  # noqa: E402
import mir_eval  # noqa: E402
import soundfile as sf  # noqa: E402
from _support import final_json, table  # noqa: E402
from eval_set import build  # noqa: E402

from audio import chords_audio  # noqa: E402
from audio.chroma import chroma  # noqa: E402
from audio.chroma import warm_up as chroma_warm_up  # noqa: E402
from models.chords import name_chord  # noqa: E402

TARGET_MAJMIN = 0.70
LIBROSA_HOP = 4096
_MIREX = {
    "": "maj", "m": "min", "7": "7", "m7": "min7", "maj7": "maj7", "5": "5", "dim": "dim",
    "sus4": "sus4", "6": "maj6", "m7b5": "hdim7", "sus2": "sus2", "m6": "min6",
    "add9": "maj(9)", "aug": "aug", "dim7": "dim7", "madd9": "min(9)", "9": "9",
    "7sus4": "sus4(b7)", "maj9": "maj9", "m9": "min9", "mMaj7": "minmaj7", "7#5": "aug(b7)",
    "7b9": "7(b9)", "7#9": "7(#9)",
}  # fmt: skip
_ROOTS = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


def midi_notes(path: Path) -> tuple[list[tuple[int, int, int]], int]:
    """(start tick, end tick, pitch) of every pitched note, and ticks per beat."""
    mid = mido.MidiFile(str(path))
    notes: list[tuple[int, int, int]] = []
    for track in mid.tracks:
        now = 0
        open_: dict[tuple[int, int], int] = {}
        for msg in track:
            now += msg.time
            if msg.type not in ("note_on", "note_off") or msg.channel == 9:
                continue
            key = (msg.channel, msg.note)
            if msg.type == "note_on" and msg.velocity > 0:
                open_[key] = now
            elif key in open_:
                notes.append((open_.pop(key), now, msg.note))
    return notes, mid.ticks_per_beat


def reference(item) -> tuple[np.ndarray, list[str]]:
    """Per-beat reference intervals (s) and mir_eval labels from the rendered MIDI."""
    notes, tpb = midi_notes(item.path.with_suffix(".mid"))
    period = 60.0 / item.tempo_bpm
    end_tick = max(n[1] for n in notes)
    n_beats = int(np.ceil(end_tick / tpb - 1e-9))
    intervals, labels = [], []
    for k in range(n_beats):
        a, b = k * tpb, (k + 1) * tpb
        onset = [p for s, e, p in notes if s <= a < e]
        chord = name_chord(onset) if onset else None
        if chord is None:
            held = [p for s, e, p in notes if min(e, b) - max(s, a) >= tpb // 2]
            chord = name_chord(held) if held else None
        if chord is None or chord.quality not in _MIREX:
            label = "X" if onset else "N"
        else:
            label = f"{_ROOTS[chord.root]}:{_MIREX[chord.quality]}"
        intervals.append((k * period, min(b, end_tick) / tpb * period))
        labels.append(label)
    return np.array(intervals), labels


class Score:
    def __init__(self) -> None:
        self.hit = {"majmin": 0.0, "root": 0.0}
        self.total = {"majmin": 0.0, "root": 0.0}
        self.seconds = 0.0

    def add(self, ref_int: np.ndarray, ref_lab: list[str], spans: list) -> None:
        est_int = np.array([(s.start_s, s.end_s) for s in spans])
        est_lab = [chords_audio.to_mir_eval(s.name) for s in spans]
        est_int, est_lab = mir_eval.util.adjust_intervals(
            est_int, est_lab, ref_int.min(), ref_int.max(), "N", "N"
        )
        intervals, ref_l, est_l = mir_eval.util.merge_labeled_intervals(
            ref_int, ref_lab, est_int, est_lab
        )
        durations = mir_eval.util.intervals_to_durations(intervals)
        for metric, fn in (("majmin", mir_eval.chord.majmin), ("root", mir_eval.chord.root)):
            comp = fn(ref_l, est_l)
            valid = comp >= 0
            self.hit[metric] += float(np.sum(durations[valid] * comp[valid]))
            self.total[metric] += float(np.sum(durations[valid]))

    def rate(self, metric: str) -> float:
        return self.hit[metric] / self.total[metric] if self.total[metric] else float("nan")


def main() -> None:
    from audio import fft

    fft.use_scipy()  # the whole-track FFT, as `hookline analyze` uses
    warnings.filterwarnings("ignore")
    started = time.perf_counter()
    items = build()
    chroma_warm_up()
    chords_audio.warm_up()
    y0 = np.zeros(44100, dtype=np.float32)
    librosa.feature.chroma_cqt(y=y0, sr=44100, hop_length=LIBROSA_HOP)

    systems = ("ours", "ours_beat", "ours_raw", "librosa_raw", "librosa_hmm")
    scores = {s: Score() for s in systems}
    per_piece: list[tuple[str, float, float]] = []
    t_chroma = t_chords = t_librosa = 0.0
    audio_s = 0.0
    ref_beats = {"majmin": 0.0, "all": 0.0, "X": 0}
    for item in items:
        y, sr = sf.read(str(item.path), dtype="float32")
        audio_s += len(y) / sr
        ref_int, ref_lab = reference(item)
        ref_beats["all"] += len(ref_lab)
        ref_beats["X"] += sum(lab == "X" for lab in ref_lab)
        ref_beats["majmin"] += sum(
            lab.endswith((":maj", ":min", ":7", ":min7", ":maj7")) for lab in ref_lab
        )

        w = time.perf_counter()
        c, fr = chroma(y, sr)
        t_chroma += time.perf_counter() - w
        w = time.perf_counter()
        spans = chords_audio.chord_timeline(c, fr)
        t_chords += time.perf_counter() - w
        scores["ours"].add(ref_int, ref_lab, spans)
        beats = np.asarray(item.beats_s)
        scores["ours_beat"].add(ref_int, ref_lab, chords_audio.chord_timeline(c, fr, beats))
        scores["ours_raw"].add(ref_int, ref_lab, chords_audio.chord_timeline(c, fr, self_prob=0))

        w = time.perf_counter()
        lc = librosa.feature.chroma_cqt(y=y, sr=sr, hop_length=LIBROSA_HOP).T
        lfr = sr / LIBROSA_HOP
        raw = chords_audio.chord_timeline(lc, lfr, self_prob=0, no_chord=False)
        t_librosa += time.perf_counter() - w
        # librosa frames are centred on i * hop too (center=True)
        scores["librosa_raw"].add(ref_int, ref_lab, raw)
        scores["librosa_hmm"].add(
            ref_int, ref_lab, chords_audio.chord_timeline(lc, lfr, no_chord=False)
        )

        one = Score()
        one.add(ref_int, ref_lab, spans)
        per_piece.append((item.path.stem, one.rate("majmin"), one.rate("root")))

    minutes = audio_s / 60.0
    print(
        f"Audio chord recognition: {len(items)} rendered chorales, {audio_s / 60:.1f} min of "
        f"audio, {int(ref_beats['all'])} reference beats ({int(ref_beats['X'])} unnamed 'X', "
        f"{int(ref_beats['majmin'])} maj/min family)"
    )
    print()
    names = {
        "ours": "ours (chroma + templates + HMM)",
        "ours_beat": "ours, beat-sync (true beats)",
        "ours_raw": "ours chroma, no smoothing",
        "librosa_raw": "librosa chroma_cqt, no smoothing",
        "librosa_hmm": "librosa chroma_cqt + our HMM",
    }
    speed = {
        "ours": (t_chroma + t_chords) / minutes,
        "librosa_raw": t_librosa / minutes,
    }
    rows = []
    for s in systems:
        sp = speed.get(s)
        rows.append(
            [
                names[s],
                f"{scores[s].rate('majmin'):.1%}",
                f"{scores[s].rate('root'):.1%}",
                f"{sp:.3f}" if sp is not None else "",
            ]
        )
    print(table(["system", "majmin", "root", "s per min audio"], rows))
    print()
    print(f"of ours: chroma {t_chroma / minutes:.3f} s/min, chords {t_chords / minutes:.4f} s/min")
    worst = sorted(per_piece, key=lambda r: r[1])[:5]
    print("lowest majmin pieces (ours): " + ", ".join(f"{n} {m:.0%}" for n, m, _ in worst))
    ok = scores["ours"].rate("majmin") >= TARGET_MAJMIN
    print(
        f"target majmin ≥ {TARGET_MAJMIN:.0%}: {'met' if ok else 'MISSED'} "
        f"(ours {scores['ours'].rate('majmin'):.1%})"
    )
    print(f"script time {time.perf_counter() - started:.0f} s")
    final_json(
        {
            "bench": "audio_chords",
            "pieces": len(items),
            "audio_min": round(minutes, 2),
            "majmin": {s: round(scores[s].rate("majmin"), 4) for s in systems},
            "root": {s: round(scores[s].rate("root"), 4) for s in systems},
            "s_per_audio_min": {k: round(v, 4) for k, v in speed.items()},
            "targets": {"majmin_70": bool(ok)},
        }
    )


if __name__ == "__main__":
    main()

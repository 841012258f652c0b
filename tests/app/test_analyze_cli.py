"""``hookline analyze``: a known synthetic song, a batch of bad and odd files, an hour-long file.

Runs the real command in a subprocess, as a user would.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.support.cli import HOOKLINE, REPO_ROOT, hookline_peak_mib

A_MAJOR = [(57, 61, 64), (62, 66, 69), (64, 68, 71), (57, 61, 64)]  # A  D  E  A


def _tone(midi: int, n: int, sr: int) -> np.ndarray:
    t = np.arange(n) / sr
    f = 440.0 * 2 ** ((midi - 69) / 12)
    return sum(0.6**h * np.sin(2 * np.pi * f * (h + 1) * t) for h in range(5))  # type: ignore[return-value]


def song(sr: int = 44_100, bpm: float = 120.0, bars: int = 12) -> np.ndarray:
    """Harmonic-tone chords (A major: I IV V I, one per bar) over a kick on every beat."""
    beat = 60.0 / bpm
    bar_n = round(4 * beat * sr)
    out = np.zeros(bars * bar_n)
    for i in range(bars):
        chord = A_MAJOR[i % 4]
        out[i * bar_n : (i + 1) * bar_n] += 0.08 * sum(_tone(m, bar_n, sr) for m in chord)
    kick_n = int(0.08 * sr)
    kick = np.sin(2 * np.pi * 60 * np.arange(kick_n) / sr) * np.exp(
        -np.arange(kick_n) / (0.02 * sr)
    )
    for b in range(bars * 4):
        start = round(b * beat * sr)
        out[start : start + kick_n] += 0.6 * kick[: len(out) - start]
    return (out / np.max(np.abs(out)) * 0.7).astype(np.float32)


def analyze(*paths: Path, jobs: int = 1, timeout: float = 180) -> list[dict]:  # type: ignore[type-arg]
    env = dict(os.environ)
    result = subprocess.run(
        [*HOOKLINE, "analyze", "--json", "--jobs", str(jobs), *map(str, paths)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_a_known_song_reads_right(tmp_path: Path) -> None:
    path = tmp_path / "song.flac"
    sf.write(path, np.stack([song(), song()], axis=1), 44_100, format="FLAC")
    [r] = analyze(path)
    assert abs(r["tempo_bpm"] - 120.0) / 120.0 < 0.02, r["tempo_bpm"]
    assert (r["key"], r["mode"], r["camelot"]) == ("A", "major", "11B")
    assert abs(r["duration_s"] - 24.0) < 0.01 and r["channels"] == 2
    assert -30 < r["loudness_lufs"] < -5 and r["true_peak_dbtp"] <= 0.5
    names = {c["name"] for c in r["chords"]}
    assert {"A", "D", "E"} <= names, names
    assert r["sections"] and r["sections"][0]["start_s"] == 0.0
    assert r["danceability"] > 0.5 and 0.0 <= r["energy"] <= 1.0 and 0.0 <= r["brightness"] <= 1
    # A kick on every beat, so only the chord changes mark the bars: one every 2 s.
    assert r["beats_per_bar"] == 4
    bars = np.array(r["downbeats_s"]) / 2.0
    assert len(bars) >= 9 and np.all(np.abs(bars - np.round(bars)) * 2.0 < 0.07), bars
    assert set(r["downbeats_s"]) <= set(r["beats_s"])
    expected = {
        "path", "duration_s", "tempo_bpm", "tempo_confidence", "key", "mode", "key_confidence",
        "camelot", "loudness_lufs", "loudness_range_lu", "true_peak_dbtp", "energy",
        "danceability", "sections", "chords", "beats_per_bar", "meter_confidence", "downbeats_s",
    }  # fmt: skip
    assert expected <= set(r)


def test_a_batch_of_bad_and_odd_files_goes_on(tmp_path: Path) -> None:
    files = {
        "corrupt.wav": b"RIFF\x24\x00\x00\x00WAVEfmt " + os.urandom(300),
        "empty.flac": b"",
        "notes.mp3": b"these are lyrics, not audio\n" * 50,
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    sf.write(tmp_path / "silence.wav", np.zeros((44_100 * 5, 2), dtype=np.float32), 44_100)
    sf.write(tmp_path / "flac-named.wav", song(22_050, bars=4), 22_050, format="FLAC")
    sf.write(tmp_path / "phone.wav", song(8_000, bars=4), 8_000)
    wide = np.repeat(song(192_000, bars=2)[:, None], 8, axis=1)
    sf.write(tmp_path / "wide.wav", wide, 192_000, subtype="FLOAT")
    order = ["corrupt.wav", "empty.flac", "notes.mp3", "silence.wav", "flac-named.wav",
             "phone.wav", "wide.wav"]  # fmt: skip
    results = analyze(*(tmp_path / n for n in order), jobs=2)
    assert [Path(r["path"]).name for r in results] == order  # the order given, one line each
    by_name = {Path(r["path"]).name: r for r in results}
    for name in ("corrupt.wav", "empty.flac", "notes.mp3"):
        assert "error" in by_name[name] and by_name[name]["error"], by_name[name]
    silent = by_name["silence.wav"]
    assert "error" not in silent and silent["loudness_lufs"] is None  # below the gate
    assert silent["danceability"] == 0.0 and silent["energy"] == 0.0
    for name, rate, channels in (("flac-named.wav", 22_050, 1), ("phone.wav", 8_000, 1),
                                 ("wide.wav", 192_000, 8)):  # fmt: skip
        r = by_name[name]
        assert "error" not in r, r
        assert (r["sample_rate"], r["channels"]) == (rate, channels)
        assert abs(r["tempo_bpm"] - 120.0) / 120.0 < 0.04 or r["duration_s"] < 10


def test_folders_are_searched(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    sf.write(tmp_path / "a" / "b" / "x.wav", song(22_050, bars=2), 22_050)
    (tmp_path / "a" / "cover.jpg").write_bytes(b"\xff\xd8not audio")
    results = analyze(tmp_path)
    assert [Path(r["path"]).name for r in results] == ["x.wav"]


@pytest.mark.timeout(240)
def test_an_hour_long_file_streams_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "hour.wav"
    sr = 8_000
    loop = song(sr, bars=30)  # one minute
    with sf.SoundFile(path, "w", sr, 1, subtype="PCM_16") as f:
        for _minute in range(60):
            f.write(loop)
    done, peak_mib = hookline_peak_mib("analyze", "--json", str(path), timeout=220)
    assert done.returncode == 0, done.stderr
    [r] = [json.loads(line) for line in done.stdout.splitlines()]
    assert abs(r["duration_s"] - 3600) < 1
    assert abs(r["tempo_bpm"] - 120.0) / 120.0 < 0.04
    assert peak_mib < 500, peak_mib

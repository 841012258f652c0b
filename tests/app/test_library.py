"""The Library service on real files: WAVs written with soundfile, analysed by the real
whole-track analysis on the worker thread, stored in a real SQLite database."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from app.library import (
    FAIL,
    PASS,
    WARN,
    Library,
    Poll,
    Track,
    camelot_neighbours,
    compatible,
    fingerprint,
    readiness,
    summarise,
)
from app.storage import Database

pytestmark = pytest.mark.usefixtures("english")

RATE = 22_050
# A minor, F, C, G: one bar each at 120 BPM.
LOOP = ((57, 60, 64), (53, 57, 60), (48, 52, 55), (55, 59, 62))


def write_song(
    path: Path,
    seconds: float = 8.0,
    bpm: float = 120.0,
    gain: float = 1.0,
    lead_silence: float = 0.0,
    dc: float = 0.0,
) -> Path:
    """A click on every beat over a chord loop (one chord a bar), as a mono 16-bit WAV."""
    n = int(RATE * seconds)
    t = np.arange(n) / RATE
    y = np.zeros(n)
    bar = 4 * 60.0 / bpm
    for index in range(int(np.ceil(seconds / bar))):
        start, end = int(index * bar * RATE), min(n, int((index + 1) * bar * RATE))
        local = t[start:end] - t[start]
        for note in LOOP[index % len(LOOP)]:
            freq = 440.0 * 2 ** ((note - 69) / 12)
            y[start:end] += 0.12 * np.sin(2 * np.pi * freq * local) * np.exp(-local * 0.5)
    k = int(0.03 * RATE)
    click = np.sin(2 * np.pi * 1000 * np.arange(k) / RATE) * np.exp(-np.arange(k) / (0.005 * RATE))
    for beat in np.arange(0, seconds, 60.0 / bpm):
        s = int(beat * RATE)
        y[s : s + k] += 0.5 * click[: n - s]
    y = y * gain + dc
    if lead_silence:
        y = np.concatenate([np.zeros(int(lead_silence * RATE)), y])
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, y.astype(np.float32), RATE, subtype="PCM_16")
    return path


def wait_idle(library: Library, timeout: float = 30.0) -> list[str]:
    """Poll like the view does until the batch ends; return every message seen."""
    messages: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        poll = library.poll()
        messages += poll.messages
        if not poll.progress.busy and messages:
            return messages
        time.sleep(0.01)
    raise AssertionError(f"the library did not finish: {library.poll()}")


@pytest.fixture
def library(database: Database) -> Iterator[Library]:
    lib = Library(database)
    yield lib
    lib.close()


@pytest.fixture
def music(tmp_path: Path) -> Path:
    folder = tmp_path / "music"
    write_song(folder / "loop 120.wav")
    write_song(folder / "sub" / "quiet.wav", gain=0.1, lead_silence=1.5)
    (folder / "broken.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt this is not audio")
    (folder / "notes.txt").write_text("not audio, and not picked up")
    return folder


def test_a_folder_is_analysed_and_stored(library: Library, music: Path) -> None:
    assert library.add_paths([music]) == 1
    messages = wait_idle(library)
    tracks = {t.name: t for t in library.tracks()}
    assert set(tracks) == {"broken.wav", "loop 120.wav", "quiet.wav"}

    song = tracks["loop 120.wav"]
    assert song.error is None and song.analysed
    assert song.tempo_bpm == pytest.approx(120.0, rel=0.03)
    assert song.duration_s == pytest.approx(8.0, abs=0.01)
    assert song.camelot is not None and song.loudness_lufs is not None
    assert len(song.beats) >= 12
    assert song.beats_per_bar == 4 and set(song.downbeats) <= set(song.beats)
    assert song.downbeats and all(
        abs(t / 2.0 - round(t / 2.0)) * 2.0 < 0.07 for t in song.downbeats
    )
    assert [c.name for c in song.chords[:4]] == ["Am", "F", "C", "G"]
    assert song.sections and song.sections[0].start_s == 0.0
    assert len(song.envelope_max) == len(song.envelope_min) > 100
    assert max(song.envelope_max) > 0.3 and min(song.envelope_min) < -0.3
    assert song.leading_silence_s is not None and song.leading_silence_s < 0.01

    quiet = tracks["quiet.wav"]
    assert quiet.leading_silence_s == pytest.approx(1.5, abs=0.01)
    assert quiet.loudness_lufs is not None and song.loudness_lufs is not None
    assert quiet.loudness_lufs == pytest.approx(song.loudness_lufs - 20.0, abs=0.5)

    broken = tracks["broken.wav"]
    assert broken.error is not None and not broken.analysed
    assert broken.tempo_bpm is None
    assert any(m.startswith("broken.wav could not be analysed: it ") for m in messages)
    assert messages[-1] == "2 files analysed; 1 file could not be analysed"
    poll = library.poll()
    assert (poll.progress.done, poll.progress.total, poll.progress.busy) == (3, 3, False)


def test_unchanged_files_are_skipped_and_changed_ones_analysed_again(
    database: Database, tmp_path: Path
) -> None:
    calls: list[Path] = []

    def counting(path: Path, progress: Callable[[float], None], cancel: threading.Event) -> Any:
        from audio.track import analyze_file

        calls.append(path)
        return analyze_file(path, progress, cancel)

    song = write_song(tmp_path / "a.wav", seconds=4.0)
    library = Library(database, analyse=counting)
    try:
        library.add_paths([song])
        wait_idle(library)
        [first] = library.tracks()
        assert calls == [song.absolute()]

        library.add_paths([song])
        assert wait_idle(library)[-1] == "0 files analysed; 1 unchanged file skipped"
        assert len(calls) == 1

        # Touched, same content: the fingerprint says it is the same file.
        stat = song.stat()
        os.utime(song, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
        library.add_paths([song])
        wait_idle(library)
        assert len(calls) == 1
        [touched] = library.tracks()
        assert touched.id == first.id

        # Same size, new content: analysed again.
        write_song(song, seconds=4.0, bpm=100.0)
        os.utime(song, ns=(stat.st_atime_ns, stat.st_mtime_ns + 9_000_000_000))
        library.add_paths([song])
        wait_idle(library)
        assert len(calls) == 2
        [changed] = library.tracks()
        assert changed.id == first.id
        assert changed.tempo_bpm == pytest.approx(100.0, rel=0.03)
    finally:
        library.close()


def test_cancel_stops_the_current_file_and_clears_the_queue(
    database: Database, tmp_path: Path
) -> None:
    started = threading.Event()

    def held(path: Path, progress: Callable[[float], None], cancel: threading.Event) -> Any:
        from audio.track import analyze_file

        started.set()
        cancel.wait(10.0)  # the real analysis then sees the event at its first check
        return analyze_file(path, progress, cancel)

    files = [write_song(tmp_path / f"{i}.wav", seconds=2.0) for i in range(3)]
    library = Library(database, analyse=held)
    try:
        library.add_paths(files)
        assert started.wait(10.0)
        poll: Poll = library.poll()
        assert poll.progress.busy and poll.progress.current == "0.wav"
        assert poll.progress.total == 3
        library.cancel()
        assert wait_idle(library, timeout=10.0)[-1] == "Analysis cancelled"
        assert library.tracks() == []
        # The library works again after a cancel.
        started.clear()
        library.add_paths([files[2]])
        assert started.wait(10.0)
        library.cancel()
        wait_idle(library)
    finally:
        library.close()
    assert library._thread is not None and not library._thread.is_alive()


def test_remove_forgets_tracks_but_not_files(library: Library, tmp_path: Path) -> None:
    song = write_song(tmp_path / "keep.wav", seconds=2.0)
    library.add_paths([song])
    wait_idle(library)
    [track] = library.tracks()
    revision = library.poll().revision
    assert library.remove([track.id]) == 1
    assert library.tracks() == []
    assert song.exists()
    assert library.poll().revision > revision


def test_fingerprint_reads_both_ends_and_the_size(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    data = bytearray(os.urandom(3 << 20))
    big.write_bytes(bytes(data))
    before = fingerprint(big)
    data[(3 << 20) // 2] ^= 0xFF  # the middle is not read
    big.write_bytes(bytes(data))
    assert fingerprint(big) == before
    data[-1] ^= 0xFF
    big.write_bytes(bytes(data))
    assert fingerprint(big) != before


def test_summary_finds_dc_offset_and_silence(tmp_path: Path) -> None:
    path = write_song(tmp_path / "dc.wav", seconds=3.0, dc=0.02, lead_silence=0.5)
    summary = summarise(path, points=50)
    # The offset is in the 3 s of sound, not in the 0.5 s of digital silence before it.
    assert summary.dc_offset == pytest.approx(0.02 * 3.0 / 3.5, abs=0.002)
    assert summary.leading_silence_s == pytest.approx(0.5, abs=0.01)
    assert summary.trailing_silence_s < 0.05
    assert len(summary.envelope_max) == 50


def _track(
    track_id: int, camelot: str, bpm: float, name: str | None = None, **values: Any
) -> Track:
    return Track(
        id=track_id,
        path=f"/music/{name or track_id}.wav",
        size=1,
        analysed_at=datetime.now(UTC),
        tempo_bpm=bpm,
        camelot=camelot,
        key_tonic=9,
        mode="minor",
        **values,
    )


def test_camelot_neighbours_wrap_around_the_wheel() -> None:
    assert camelot_neighbours("8A") == {"8A": "same", "9A": "up", "7A": "down", "8B": "relative"}
    assert set(camelot_neighbours("12B")) == {"12B", "1B", "11B", "12A"}
    assert set(camelot_neighbours("1A")) == {"1A", "2A", "12A", "1B"}
    assert camelot_neighbours("X") == {}


def test_compatible_tracks_by_key_and_tempo() -> None:
    me = _track(1, "8A", 120.0)
    others = [
        me,
        _track(2, "8A", 123.0, "same key"),
        _track(3, "9A", 119.0, "up"),
        _track(4, "8B", 60.0, "half tempo"),
        _track(5, "7A", 240.0, "double"),
        _track(6, "10A", 120.0, "two steps"),
        _track(7, "8A", 130.0, "too fast"),
        _track(8, "3B", 120.0, "far key"),
    ]
    matches = compatible(me, others)
    assert [m.track.name for m in matches] == [
        "same key.wav",
        "double.wav",
        "half tempo.wav",
        "up.wav",
    ]
    by_name = {m.track.name: m for m in matches}
    assert by_name["half tempo.wav"].tempo_factor == 2.0
    assert by_name["double.wav"].tempo_factor == 0.5
    assert "(half tempo)" in by_name["half tempo.wav"].text()
    assert "relative major or minor" in by_name["half tempo.wav"].text()
    assert len(compatible(me, others, bpm_range=0.10)) == 5


def test_readiness_of_a_loud_clipping_track() -> None:
    loud = _track(
        1,
        "8A",
        120.0,
        loudness_lufs=-8.0,
        true_peak_dbtp=0.6,
        sample_peak_dbfs=0.0,
        dc_offset=0.004,
        leading_silence_s=0.0,
        trailing_silence_s=6.0,
    )
    checks = {c.key: c for c in readiness(loud)}
    assert checks["spotify"].status == PASS
    assert checks["spotify"].detail == "turns it down by 6.0 dB (target -14 LUFS)"
    assert checks["apple_music"].detail == "turns it down by 8.0 dB (target -16 LUFS)"
    assert checks["true_peak"].status == WARN
    assert checks["clipping"].status == FAIL
    assert checks["dc_offset"].status == WARN
    assert checks["silence_start"].status == PASS
    assert checks["silence_end"].status == WARN


def test_readiness_of_a_quiet_track() -> None:
    quiet = _track(
        1,
        "8A",
        120.0,
        loudness_lufs=-20.0,
        true_peak_dbtp=-3.0,
        sample_peak_dbfs=-3.2,
        dc_offset=0.0,
        leading_silence_s=0.1,
        trailing_silence_s=0.5,
    )
    checks = {c.key: c for c in readiness(quiet)}
    # Spotify could raise it 6 dB, but only 2 dB fit under the -1 dBTP ceiling.
    assert checks["spotify"].status == WARN
    assert "only 2.0 dB of 6.0 dB" in checks["spotify"].detail
    assert checks["apple_music"].status == WARN
    assert checks["youtube"].status == WARN
    assert checks["youtube"].detail.startswith("does not turn quiet tracks up")
    assert all(checks[k].status == PASS for k in ("true_peak", "clipping", "dc_offset"))
    assert readiness(_track(2, "8A", 120.0, error="broken")) == []

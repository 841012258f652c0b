"""Reading MIDI files: notes and tempo maps from good files, one clear error from bad ones."""

from __future__ import annotations

import io
import struct
import time
from pathlib import Path

import mido
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.midi_files import (
    MAX_MESSAGES,
    MAX_SYSEX_MESSAGES,
    MidiFileError,
    MidiNotes,
    read_midi,
    read_midi_bytes,
)

TPB = 480


def smf(*tracks: bytes, fmt: int = 1, division: int = TPB, declared: int | None = None) -> bytes:
    """A file from raw track bodies (event bytes without the MTrk header)."""
    count = len(tracks) if declared is None else declared
    out = b"MThd" + struct.pack(">IHHH", 6, fmt, count, division)
    for body in tracks:
        out += b"MTrk" + struct.pack(">I", len(body)) + body
    return out


def vlq(value: int) -> bytes:
    groups = [value & 0x7F]
    value >>= 7
    while value:
        groups.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(groups))


END = b"\x00\xff\x2f\x00"


def save(midi: mido.MidiFile) -> bytes:
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def example_file() -> bytes:
    """Tempo track + two instrument tracks, a tempo change, a time signature, drums."""
    midi = mido.MidiFile(ticks_per_beat=TPB)
    meta = midi.add_track()
    meta.append(mido.MetaMessage("time_signature", numerator=3, denominator=4, time=0))
    meta.append(mido.MetaMessage("set_tempo", tempo=500_000, time=0))
    meta.append(mido.MetaMessage("set_tempo", tempo=1_000_000, time=2 * TPB))  # 60 BPM at beat 2
    piano = midi.add_track()
    piano.append(mido.Message("note_on", note=60, velocity=90, time=0))
    piano.append(mido.Message("note_on", note=60, velocity=0, time=TPB))  # vel 0 = note-off
    piano.append(mido.Message("note_on", note=64, velocity=70, time=0))
    piano.append(mido.Message("note_off", note=64, velocity=0, time=2 * TPB))  # beat 1..3
    drums = midi.add_track()
    drums.append(mido.Message("note_on", channel=9, note=36, velocity=100, time=0))
    drums.append(mido.Message("note_off", channel=9, note=36, time=TPB // 2))
    return save(midi)


def test_notes_tempo_map_and_time_signature() -> None:
    midi = read_midi_bytes(example_file(), "song.mid")
    assert isinstance(midi, MidiNotes) and midi.ticks_per_beat == TPB
    summary = [(n.pitch, n.onset_beat, n.offset_beat, n.onset_s, n.offset_s) for n in midi.notes]
    assert summary == [
        (36, 0.0, 0.5, 0.0, 0.25),
        (60, 0.0, 1.0, 0.0, 0.5),
        (64, 1.0, 3.0, 0.5, 2.0),  # 0.5 s at 120 BPM, then 1 s at 60 BPM
    ]
    assert [n.is_drum for n in midi.notes] == [True, False, False]
    assert [(t.beat, t.time_s, t.bpm) for t in midi.tempo_map] == [
        (0.0, 0.0, 120.0),
        (2.0, 1.0, 60.0),
    ]
    assert (midi.time_signatures[0].numerator, midi.time_signatures[0].denominator) == (3, 4)
    assert midi.duration_beats == 3.0 and midi.duration_s == 2.0
    assert midi.seconds_at(4.0) == 3.0 and midi.beat_at(3.0) == 4.0 and midi.beat_at(0.5) == 1.0
    assert midi.beat_times() == (0.0, 0.5, 1.0, 2.0)
    with pytest.raises(AttributeError):
        midi.notes = ()  # type: ignore[misc]


def test_overlapping_same_pitch_notes_and_notes_never_released() -> None:
    body = (
        b"\x00\x90\x3c\x40"  # C on at 0
        + vlq(TPB) + b"\x90\x3c\x50"  # C again at beat 1, while the first still sounds
        + vlq(TPB) + b"\x80\x3c\x00"  # off at beat 2: ends the first
        + vlq(TPB) + b"\x80\x3c\x00"  # off at beat 3: ends the second
        + b"\x00\x90\x40\x40"  # E on at beat 3, never released
        + vlq(2 * TPB) + b"\xff\x2f\x00"  # track ends at beat 5
    )  # fmt: skip
    notes = read_midi_bytes(smf(body)).notes
    assert [(n.pitch, n.onset_beat, n.offset_beat, n.velocity) for n in notes] == [
        (60, 0.0, 2.0, 0x40),
        (60, 1.0, 3.0, 0x50),
        (64, 3.0, 5.0, 0x40),
    ]


def test_running_status_meta_events_and_unknown_chunks_are_read() -> None:
    body = b"\x00\x90\x3c\x40" + vlq(TPB) + b"\x3c\x00" + b"\x00\xff\x01\x02hi" + END
    alien = b"XFIH" + struct.pack(">I", 3) + b"abc"
    data = smf(body)
    data = data[:14] + alien + data[14:]
    assert [(n.pitch, n.offset_beat) for n in read_midi_bytes(data).notes] == [(60, 1.0)]


def test_rmid_wrapper_is_unwrapped() -> None:
    inner = smf(b"\x00\x90\x3c\x40" + vlq(TPB) + b"\x80\x3c\x00" + END)
    body = b"RMID" + b"data" + struct.pack("<I", len(inner)) + inner
    wrapped = b"RIFF" + struct.pack("<I", len(body)) + body
    assert len(read_midi_bytes(wrapped).notes) == 1


NOTE = b"\x00\x90\x3c\x40" + b"\x60\x80\x3c\x00"

BAD_FILES: dict[str, tuple[bytes, str]] = {
    "text": (b"hello, this is not music at all", "not a Standard MIDI File"),
    "empty": (b"", "not a Standard MIDI File"),
    "header only": (b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0", "truncated"),
    "short header": (b"MThd\x00\x00\x00\x06\x00\x01", "not a Standard MIDI File"),
    "zero tracks": (smf(declared=0), "no tracks"),
    "chunk too long": (smf(NOTE + END)[:-3], "longer than the file"),
    "chunk too short": (smf(NOTE + END)[:-9] + b"\x00\x00\x00\x05" + NOTE + END, "middle"),
    "track cut mid-message": (smf(b"\x00\x90\x3c"), "middle of a message"),
    "five-byte delta": (smf(b"\x81\x81\x81\x81\x01\x90\x3c\x40" + END), "longer than the format"),
    "absurd delta": (smf(NOTE + b"\xff\xff\xff\x7f\x80\x3c\x00" + END), "six hours"),
    "running status first": (smf(b"\x00\x3c\x40" + END), "running status"),
    "running status after SysEx": (
        smf(b"\x00\x90\x3c\x40\x00\xf0\x02\x01\xf7\x00\x3c\x00" + END),
        "running status",
    ),
    "data byte with high bit": (smf(b"\x00\x90\x3c\xc0" + END), "invalid data byte"),
    "system real-time byte": (smf(b"\x00\xf8" + END), "not allowed"),
    "broken tempo meta": (smf(b"\x00\xff\x51\x01\x07" + NOTE + END), "damaged"),
    "format 2": (smf(NOTE + END, fmt=2), "format 2"),
    "SMPTE timing": (smf(NOTE + END, division=0xE728), "SMPTE"),
    "zero division": (smf(NOTE + END, division=0), "header is damaged"),
    "SysEx flood": (
        smf(b"\x00\xf0\x02\x01\xf7" * (MAX_SYSEX_MESSAGES + 1) + END),
        "too many SysEx",
    ),
    "message flood": (smf(b"\x00\x90\x3c\x40" + b"\x00\x3c\x40" * MAX_MESSAGES + END), "too many"),
    "declares more tracks than present": (smf(NOTE + END, declared=3), "truncated"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_files_raise_one_clear_error(case: str) -> None:
    data, problem = BAD_FILES[case]
    start = time.perf_counter()
    with pytest.raises(MidiFileError) as info:
        read_midi_bytes(data, "/music/bad song.mid")
    assert time.perf_counter() - start < 5.0
    message = str(info.value)
    assert "bad song.mid" in message and problem in message, message
    assert info.value.path == "/music/bad song.mid"


def test_files_on_disk(tmp_path: Path) -> None:
    good = tmp_path / "good.mid"
    good.write_bytes(example_file())
    assert len(read_midi(good).notes) == 3
    with pytest.raises(MidiFileError, match=r"missing\.mid"):
        read_midi(tmp_path / "missing.mid")
    with pytest.raises(MidiFileError, match="cannot be opened"):
        read_midi(tmp_path)  # a folder
    huge = tmp_path / "huge.mid"
    with open(huge, "wb") as f:
        f.write(example_file())
        f.truncate(17 * 1024 * 1024)  # sparse: no need to write 17 MiB
    with pytest.raises(MidiFileError, match="larger than 16 MiB"):
        read_midi(huge)


# ------------------------------------------------------------------------------- fuzzing

VALID = example_file()
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _read_bounded(data: bytes) -> None:
    start = time.perf_counter()
    try:
        result = read_midi_bytes(data, "fuzz.mid")
    except MidiFileError as exc:
        assert "fuzz.mid" in str(exc)
    else:
        assert isinstance(result, MidiNotes)
        assert all(n.offset_s > n.onset_s >= 0 for n in result.notes)
    assert time.perf_counter() - start < 2.0


@FUZZ
@given(st.integers(min_value=0, max_value=len(VALID)))
def test_fuzz_truncated(cut: int) -> None:
    _read_bounded(VALID[:cut])


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), max_size=8))
def test_fuzz_corrupted_bytes(edits: list[tuple[int, int]]) -> None:
    data = bytearray(VALID)
    for pos, value in edits:
        data[pos] = value
    _read_bounded(bytes(data))


@FUZZ
@given(st.integers(0, 2), st.integers(0, 0xFFFFFFFF))
def test_fuzz_wrong_chunk_lengths(track: int, length: int) -> None:
    data = bytearray(VALID)
    pos = 14
    for _ in range(track):
        pos += 8 + struct.unpack(">I", bytes(data[pos + 4 : pos + 8]))[0]
    data[pos + 4 : pos + 8] = struct.pack(">I", length)
    _read_bounded(bytes(data))


@FUZZ
@given(st.binary(max_size=2048), st.integers(0, 3))
def test_fuzz_random_bytes_after_a_valid_header(tail: bytes, tracks: int) -> None:
    _read_bounded(b"MThd" + struct.pack(">IHHH", 6, 1, tracks, TPB) + tail)


@FUZZ
@given(st.binary(max_size=512))
def test_fuzz_random_track_bodies(body: bytes) -> None:
    _read_bounded(smf(body))


events = st.one_of(
    st.binary(min_size=1, max_size=4),  # anything, including running status and bad bytes
    st.builds(
        lambda d, n: vlq(d) + bytes([0x90, n & 0x7F, 0x40]),
        st.integers(0, 2**28 - 1),
        st.integers(0, 127),
    ),
    st.builds(lambda n: b"\x00\xf0" + vlq(n) + b"\x01" * n, st.integers(0, 40)),
    st.builds(
        lambda t, n: b"\x00\xff" + bytes([t]) + vlq(n) + b"\x00" * n,
        st.sampled_from([0x2F, 0x51, 0x54, 0x58, 0x59, 0x20, 0x7F]),
        st.integers(0, 6),
    ),
)


@FUZZ
@given(st.lists(events, max_size=40))
def test_fuzz_structured_events(parts: list[bytes]) -> None:
    _read_bounded(smf(b"".join(parts) + END))

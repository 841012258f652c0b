"""Reading audio files in blocks: formats, odd shapes, and files that are not what they say."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audio.audio_file import AudioFileError, MonoDecimator, blocks, open_info


def _tone(rate: int, seconds: float, channels: int = 1, hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    mono = 0.5 * np.sin(2 * np.pi * hz * t)
    return np.repeat(mono[:, None], channels, axis=1).astype(np.float32)


@pytest.mark.parametrize(
    ("name", "fmt", "subtype"),
    [
        ("a.wav", "WAV", "PCM_16"),
        ("a.flac", "FLAC", "PCM_24"),
        ("a.ogg", "OGG", "VORBIS"),
        ("a.mp3", "MP3", "MPEG_LAYER_III"),
    ],
)
def test_common_formats_read_in_blocks(tmp_path: Path, name: str, fmt: str, subtype: str) -> None:
    path = tmp_path / name
    sf.write(path, _tone(44_100, 2.0, 2), 44_100, format=fmt, subtype=subtype)
    info = open_info(path)
    assert (info.sample_rate, info.channels) == (44_100, 2)
    assert abs(info.duration_s - 2.0) < 0.1  # MP3 frames pad a little
    got = np.concatenate(list(blocks(info, frames=4096)))
    assert got.shape[1] == 2 and abs(len(got) - info.frames) <= 2048
    assert 0.3 < float(np.max(np.abs(got))) < 0.7


def test_odd_shapes_read_and_decimate(tmp_path: Path) -> None:
    low = tmp_path / "phone.wav"
    sf.write(low, _tone(8_000, 1.0, 1), 8_000)
    wide = tmp_path / "wide.wav"
    sf.write(wide, _tone(192_000, 0.5, 8, hz=1000.0), 192_000, subtype="FLOAT")
    for path, rate, factor in ((low, 8_000, 1), (wide, 192_000, 16)):
        info = open_info(path)
        decimator = MonoDecimator(info.sample_rate)
        for block in blocks(info, frames=10_007):
            decimator.add(block)
        y = decimator.result()
        assert info.sample_rate == rate and decimator.factor == factor
        assert abs(len(y) - info.frames / factor) <= 1
    spectrum = np.abs(np.fft.rfft(y[len(y) // 4 :]))
    peak_hz = np.argmax(spectrum) * decimator.rate / (2 * (len(spectrum) - 1))
    assert abs(peak_hz - 1000.0) < 5.0  # the tone survives, at the right pitch


def test_a_mislabelled_extension_still_reads(tmp_path: Path) -> None:
    path = tmp_path / "actually-flac.mp3"
    sf.write(path, _tone(22_050, 0.5), 22_050, format="FLAC")
    assert open_info(path).format == "FLAC"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "not_audio"),
        (b"RIFF\x00\x00\x00\x00WAVE", "not_audio"),
        (b"this is a lyric sheet, not a song\n" * 20, "not_audio"),
    ],
)
def test_what_is_not_audio_says_so(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "song.wav"
    path.write_bytes(content)
    with pytest.raises(AudioFileError) as caught:
        open_info(path)
    assert caught.value.problem == problem


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AudioFileError) as caught:
        open_info(tmp_path / "gone.wav")
    assert caught.value.problem == "missing"


def test_a_truncated_file_gives_what_is_there_or_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.flac"
    sf.write(path, _tone(44_100, 3.0), 44_100, format="FLAC")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    try:
        info = open_info(path)
        got = sum(len(b) for b in blocks(info))
    except AudioFileError as exc:
        assert exc.problem in ("not_audio", "damaged")
    else:
        assert 0 < got <= info.frames


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cut=st.integers(min_value=0, max_value=4000), noise=st.binary(min_size=0, max_size=2000))
def test_corrupt_wav_never_raises_anything_else(tmp_path: Path, cut: int, noise: bytes) -> None:
    path = tmp_path / "fuzz.wav"
    sf.write(path, _tone(16_000, 0.25), 16_000)
    data = path.read_bytes()
    path.write_bytes(data[:cut] + noise)
    try:
        info = open_info(path)
        for _block in blocks(info, frames=1024):
            pass
    except AudioFileError:
        pass

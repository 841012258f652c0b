"""``hookline generate melody`` with the shipped model: real MIDI files out, seeds continued,
bad input answered with a message."""

from __future__ import annotations

import json
from pathlib import Path

import mido
import pretty_midi
import pytest
from click.testing import CliRunner

from app.generate_cli import generate
from app.midi_export import TimedNote, build_midi, write_midi
from models.melody.runner import MODEL_PATH

pytestmark = pytest.mark.skipif(not MODEL_PATH.exists(), reason="the melody model is not built")


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(generate, list(args))
    return result.exit_code, result.output


def _notes(path: Path) -> list[tuple[float, float, int]]:
    pm = pretty_midi.PrettyMIDI(str(path))
    return [(n.start, n.end, n.pitch) for inst in pm.instruments for n in inst.notes]


def test_a_melody_in_six_eight_with_chords(tmp_path: Path) -> None:
    out = tmp_path / "idea.mid"
    code, output = _run(
        "melody", "--key", "D major", "--meter", "6/8", "--bars", "8", "--tempo", "110",
        "--chords", "D G A D", "--seed", "4", "-o", str(out), "--json",
    )  # fmt: skip
    assert code == 0, output
    data = json.loads(output)
    assert data["key"] == "D major" and data["meter"] == "6/8"
    midi = mido.MidiFile(out)
    sig = next(m for m in midi.tracks[0] if m.type == "time_signature")
    assert (sig.numerator, sig.denominator) == (6, 8)
    notes = _notes(out)
    assert len(notes) >= 8
    beat_s = 60 / 110
    assert max(end for _, end, _ in notes) <= 8 * 3 * beat_s + 1e-3  # eight bars of 6/8
    assert all(55 <= p <= 84 and p % 12 in {2, 4, 6, 7, 9, 11, 1} for _, _, p in notes)


def test_the_same_seed_writes_the_same_file(tmp_path: Path) -> None:
    a, b = tmp_path / "a.mid", tmp_path / "b.mid"
    assert _run("melody", "--seed", "11", "-o", str(a))[0] == 0
    assert _run("melody", "--seed", "11", "-o", str(b))[0] == 0
    assert a.read_bytes() == b.read_bytes()


def test_variations_are_several_files(tmp_path: Path) -> None:
    code, output = _run("melody", "--variations", "3", "--seed", "1", "-o", str(tmp_path / "v.mid"))
    assert code == 0, output
    files = sorted(tmp_path.glob("v-*.mid"))
    assert [f.name for f in files] == ["v-1.mid", "v-2.mid", "v-3.mid"]
    assert len({f.read_bytes() for f in files}) == 3


def test_a_polyphonic_seed_is_continued_from_its_top_line(tmp_path: Path) -> None:
    seed = tmp_path / "seed.mid"
    chords = [TimedNote(p, beat, 1.0) for beat in range(8) for p in (60, 64, 67 + beat % 3)]
    write_midi(build_midi(chords, tempo_bpm=100), seed)
    out = tmp_path / "more.mid"
    code, output = _run("melody", "--continue", str(seed), "--bars", "4", "--seed", "2",
                        "-o", str(out))  # fmt: skip
    assert code == 0, output
    notes = sorted(_notes(out))
    beat_s = 60 / 110
    first_two_bars = [p for start, _, p in notes if start < 8 * beat_s - 1e-6]
    assert first_two_bars == [67 + beat % 3 for beat in range(8)]  # the seed's top line
    assert max(end for _, end, _ in notes) <= 16 * beat_s + 1e-3


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--key", "H major"), "Unknown key"),
        (("--meter", "7/8"), "Unknown meter"),
        (("--low", "70", "--high", "70", "--key", "C major"), "range"),
        (("--chords", "D Xm"), "chord"),
    ],
)
def test_bad_requests_get_a_message_not_a_traceback(tmp_path: Path, args, words) -> None:  # type: ignore[no-untyped-def]
    code, output = _run("melody", *args, "-o", str(tmp_path / "x.mid"))
    assert code == 1 and words in output and "Traceback" not in output
    assert not (tmp_path / "x.mid").exists()


@pytest.mark.parametrize("content", [b"", b"MThd\x00\x00\x00\x06\x00\x01", b"not midi at all" * 10])
def test_a_broken_seed_file_is_refused_clearly(tmp_path: Path, content: bytes) -> None:
    seed = tmp_path / "seed.mid"
    seed.write_bytes(content)
    code, output = _run("melody", "--continue", str(seed), "-o", str(tmp_path / "x.mid"))
    assert code == 1 and "seed.mid" in output and "Traceback" not in output

"""``hookline listen`` as a user runs it: a subprocess printing JSON lines."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import hookline
from tests.support.jack import JackServer, Player

REPO_ROOT = Path(__file__).resolve().parents[2]
FIELDS = {
    "key",
    "mode",
    "camelot",
    "key_confidence",
    "chord",
    "tempo_bpm",
    "tempo_confidence",
    "t",
    "pitch_hz",
    "note",
    "cents",
    "confidence",
    "peak_dbfs",
    "rms_dbfs",
    "lufs_momentary",
    "lufs_short_term",
    "lufs_integrated",
    "true_peak_dbtp",
    "xruns",
    "overflows",
}


def _listen(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return hookline("listen", *args, env=env)


def test_demo_input_prints_ten_readings_a_second() -> None:
    out = _listen("--input", "demo", "--seconds", "2", "--json")
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(lines) == 20
    assert all(set(line) == FIELDS for line in lines)
    times = [line["t"] for line in lines]
    assert times == sorted(times) and times[-1] == pytest.approx(2.0, abs=0.02)
    assert any(line["note"] for line in lines)
    assert lines[-1]["lufs_momentary"] is not None and lines[-1]["overflows"] == 0


@pytest.fixture
def player(jack_server: JackServer) -> Iterator[Player]:
    p = Player(jack_server, name="listen-player")
    yield p
    p.close()


@pytest.mark.jack
def test_listen_to_a_jack_port_by_name(jack_server: JackServer, player: Player) -> None:
    player.play("sine 440 -12")
    out = _listen("--input", player.ports, "--seconds", "1", "--json", env=jack_server.env)
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(lines) == 10
    settled = lines[3:]
    # One reading may carry an xrun's discontinuity on a loaded box; the rest must be exact.
    good = [ln for ln in settled if ln["note"] == "A4" and abs(ln["cents"]) <= 5]
    assert len(good) >= len(settled) - 1, settled


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--block", "32"], "64"),
        (["--rate", "12345"], "12345"),
        (["--channels", "0"], "0"),
        (["--input", "jack:"], "jack:"),
    ],
)
def test_bad_options_give_a_clear_error(args: list[str], needle: str) -> None:
    out = _listen("--input", "demo", "--seconds", "1", *args)
    assert out.returncode != 0
    assert "Traceback" not in out.stderr
    assert needle in out.stderr

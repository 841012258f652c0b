"""The command line, run as a user runs it: a subprocess of the installed console script."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app import __version__
from tests.support.cli import hookline
from tests.support.jack import JackServer

REPO_ROOT = Path(__file__).resolve().parents[2]

VIRTUAL_PORT = """
import sys, time, mido
backend = mido.Backend("mido.backends.rtmidi/UNIX_JACK")
with backend.open_output("hookline-test-keys", virtual=True, client_name="hookline-test-keys"):
    print("ready", flush=True)
    sys.stdin.readline()
"""


def _run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return hookline(*args, env=env, timeout=60)


def test_version() -> None:
    out = _run(["--version"])
    assert out.returncode == 0 and __version__ in out.stdout


def test_help_lists_devices_command() -> None:
    out = _run(["--help"])
    assert out.returncode == 0 and "devices" in out.stdout


def test_unknown_command_is_a_clear_error() -> None:
    out = _run(["frobnicate"])
    assert out.returncode == 2 and "frobnicate" in out.stderr


@pytest.mark.jack
def test_devices_json_through_jack(jack_server: JackServer) -> None:
    keys = subprocess.Popen(
        [sys.executable, "-c", VIRTUAL_PORT],
        env=jack_server.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert keys.stdout is not None and keys.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            out = _run(["devices", "--json", "--midi-api", "jack"], env=jack_server.env)
            assert out.returncode == 0, out.stderr
            report = json.loads(out.stdout)
            if any("hookline-test-keys" in name for name in report["midi"]["inputs"]):
                break
            time.sleep(0.2)
    finally:
        keys.communicate("\n", timeout=10)
    jack = [d for d in report["audio"] if d["host_api"] == "JACK Audio Connection Kit"]
    assert jack, report
    assert jack[0]["max_input_channels"] == 2 and jack[0]["default_samplerate"] == 48000.0
    assert report["midi"]["api"] == "jack" and report["midi"]["error"] is None
    assert any("hookline-test-keys" in name for name in report["midi"]["inputs"])


@pytest.mark.jack
def test_devices_text_output_in_german(jack_server: JackServer) -> None:
    out = _run(["--language", "de", "devices", "--midi-api", "jack"], env=jack_server.env)
    assert out.returncode == 0, out.stderr
    assert "Audiogeräte:" in out.stdout and "JACK" in out.stdout


def test_devices_without_a_midi_server_reports_instead_of_crashing() -> None:
    out = _run(["devices", "--json", "--midi-api", "jack"])  # no JACK server for this one
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["midi"]["error"]

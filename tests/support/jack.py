"""A real JACK server with the dummy back end, for tests that go through the audio/MIDI stack.

Facts this relies on (../shared/TEST-STACK.md): PortAudio only sees JACK if the server is up before
PortAudio initialises, so start the server before anything imports sounddevice in the process
that uses it (tests run engine code in subprocesses for that reason).
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import os
import shutil
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In a child before exec: the kernel ends it when the test process dies, even by SIGKILL
    (a timed-out test run), so no server outlives its tests (JACK allows only a few at once)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class JackServer:
    name: str
    rate: int = 48000
    period: int = 256
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def env(self) -> dict[str, str]:
        """Environment for a client process of this server."""
        env = dict(os.environ)
        env.update(
            JACK_DEFAULT_SERVER=self.name,
            JACK_NO_START_SERVER="1",
            JACK_NO_AUDIO_RESERVATION="1",
        )
        return env

    def start(self, timeout: float = 10.0) -> JackServer:
        if shutil.which("jackd") is None:
            raise RuntimeError("jackd is not installed; run `make test`, which installs it")
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                "jackd",
                "-n",
                self.name,
                "-R",
                "-P",
                "70",
                "-d",
                "dummy",
                "-r",
                str(self.rate),
                "-p",
                str(self.period),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jackd exited with {self.process.returncode}")
            ready = subprocess.run(
                ["jack_wait", "-c"], env=self.env, capture_output=True, text=True, check=False
            )
            if "running" in ready.stdout and "not" not in ready.stdout:
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"jackd {self.name} did not become ready in {timeout} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None
        for leftover in glob.glob(f"/dev/shm/jack_{self.name}*"):
            with contextlib.suppress(OSError):
                os.remove(leftover)

    def ports(self) -> list[str]:
        out = subprocess.run(["jack_lsp"], env=self.env, capture_output=True, text=True, check=True)
        return [line.strip() for line in out.stdout.splitlines() if line.strip()]


def unique_server_name() -> str:
    return f"hookline-test-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class Player:
    """Drives ``tests.support.player`` in a subprocess: ``player.play("sine 440 -6")``."""

    def __init__(self, server: JackServer, name: str = "hookline-player") -> None:
        import sys

        self.name = name
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.player", name],
            env=server.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        self._expect("ready")

    @property
    def ports(self) -> str:
        """The ``jack:`` input setting that routes this player into Hookline."""
        return f"jack:{self.name}:out_1,{self.name}:out_2"

    def _expect(self, word: str) -> None:
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if line != word:
            raise RuntimeError(f"player said {line!r}, expected {word!r}")

    def play(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        self._expect("ok")

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

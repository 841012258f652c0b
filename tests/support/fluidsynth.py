"""FluidSynth as a JACK client of the test session's server: a real General MIDI synthesizer with a
JACK MIDI input and two JACK audio outputs, for tests that close the loop MIDI out -> sound in.

    synth = FluidSynth(jack_server.env, "hl-fluidsynth").start()
    synth.midi_in, synth.audio_out   # "hl-fluidsynth:midi_00", ["hl-fluidsynth:left", ...:right]
    ...
    synth.stop()

FluidSynth runs with its command shell reading our pipe, so ``quit`` ends it cleanly (SIGTERM and
then SIGKILL if it does not). Its ports appear before it is necessarily ready to sound (the
soundfont may still be loading): callers wait until a note is actually heard, they never sleep.
Reverb and chorus are off by default: a reverb tail overlaps the next note and the chorus is a
modulated delay that wobbles the pitch, neither of which a tuner test wants.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

GM_SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
INSTALL_HINT = "install the test dependencies with `packaging/system-deps.sh test`"


def jack_port_types(env: dict[str, str]) -> dict[str, str]:
    """Every port of the server ``env`` names, with its type (``jack_lsp -t``)."""
    out = subprocess.run(
        ["jack_lsp", "-t"], env=env, capture_output=True, text=True, check=True, timeout=10
    )
    types: dict[str, str] = {}
    port = ""
    for line in out.stdout.splitlines():
        if line.startswith("\t"):
            types[port] = line.strip()
        elif line.strip():
            port = line.strip()
            types[port] = ""
    return types


def jack_connect(env: dict[str, str], source: str, destination: str) -> None:
    done = subprocess.run(
        ["jack_connect", source, destination],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=10,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"jack_connect {source!r} {destination!r} failed: {done.stdout}{done.stderr}"
        )


class FluidSynth:
    def __init__(
        self,
        env: dict[str, str],
        name: str | None = None,
        *,
        soundfont: Path = GM_SOUNDFONT,
        sample_rate: int = 48000,
        gain: float = 1.0,
        effects: bool = False,
        log_path: Path | None = None,
    ) -> None:
        self.env = env
        self.name = name or f"hl-fluidsynth-{uuid.uuid4().hex[:6]}"
        self.soundfont = soundfont
        self.sample_rate = sample_rate
        self.gain = gain
        self.effects = effects
        self.log_path = log_path
        self.process: subprocess.Popen[str] | None = None
        self.midi_in = ""
        self.audio_out: list[str] = []

    def start(self, timeout: float = 15.0) -> FluidSynth:
        """Start FluidSynth and wait until its JACK ports exist (not until it sounds)."""
        if shutil.which("fluidsynth") is None:
            raise RuntimeError(f"fluidsynth is not installed; {INSTALL_HINT}")
        if not self.soundfont.is_file():
            raise RuntimeError(f"no General MIDI soundfont at {self.soundfont}; {INSTALL_HINT}")
        switch = "1" if self.effects else "0"
        command = [
            "fluidsynth",
            "-a", "jack",
            "-m", "jack",
            "-g", str(self.gain),
            "-o", f"audio.jack.id={self.name}",
            "-o", f"midi.jack.id={self.name}",
            "-o", f"synth.sample-rate={self.sample_rate}",
            "-o", f"synth.reverb.active={switch}",
            "-o", f"synth.chorus.active={switch}",
            str(self.soundfont),
        ]  # fmt: skip
        log = open(self.log_path, "a") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,  # its shell: "quit" ends it
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                text=True,
                start_new_session=True,  # a Ctrl-C of pytest does not reach it half-way
            )
        finally:
            if not isinstance(log, int):
                log.close()  # the child has its own copy
        try:
            self._wait_for_ports(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_for_ports(self, timeout: float) -> None:
        assert self.process is not None
        prefix = self.name + ":"
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"fluidsynth exited with {self.process.returncode} before its JACK ports "
                    f"appeared{self._log_tail()}"
                )
            ours = {p: t for p, t in jack_port_types(self.env).items() if p.startswith(prefix)}
            midi = [p for p, t in ours.items() if "midi" in t]
            audio = [p for p, t in ours.items() if "audio" in t]
            if len(midi) == 1 and len(audio) == 2:
                self.midi_in, self.audio_out = midi[0], sorted(audio)
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"fluidsynth's JACK ports did not appear in {timeout} s (have {sorted(ours)})"
                    f"{self._log_tail()}"
                )
            time.sleep(0.05)

    def _log_tail(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        text = self.log_path.read_text(errors="replace")
        return "; its output ends:\n" + text[-2000:]

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> int | None:
        """Quit FluidSynth (shell ``quit``, then SIGTERM, then SIGKILL); returns its exit code."""
        process, self.process = self.process, None
        if process is None:
            return None
        if process.poll() is None and process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.write("quit\n")
                process.stdin.flush()
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
        for sig in (None, signal.SIGTERM, signal.SIGKILL):
            if sig is not None and process.poll() is None:
                process.send_signal(sig)
            try:
                return process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                continue
        return process.poll()

    def __enter__(self) -> FluidSynth:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

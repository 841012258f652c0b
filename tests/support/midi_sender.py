"""A MIDI source in its own process, for tests and benchmarks that go through real JACK MIDI.

It is a JACK client (the JACK-Client library) with one MIDI output port, driven line by line on
stdin; every command is answered with one line on stdout. Messages are written in the client's own
JACK process callback, at most ``per_cycle`` per cycle, so a burst is paced by JACK's clock and not
by sleeps, and every write JACK refuses (its per-period MIDI buffer is full) is counted, never
hidden.

    python -m tests.support.midi_sender CLIENT [PORT]   -> "ready CLIENT:PORT"

Commands:

``connect NAME``         connect our port to the input port NAME, or to the one port whose name
                         ends with ``:NAME``                                    -> ``ok``
``pattern N PER_CYCLE``  send :func:`pattern` (0..N-1)                   -> ``done SENT FAILED``
``send PER_CYCLE HEX..`` send the given messages, each as hex bytes (``90,3c,64``) -> ``done ..``
``fill``                 in one cycle, write pattern messages until JACK refuses -> ``done FITTED``
``quit``                 close the client and exit (its port vanishes)
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jack

STATUSES = (0x90, 0x80, 0xB0, 0xE0, 0xC0, 0xD0, 0xA0)


def pattern(i: int) -> bytes:
    """The ``i``-th message of the test pattern: every channel-message kind, all 16 channels,
    data bytes that change with ``i`` so that order and content can both be checked."""
    status = STATUSES[i % len(STATUSES)] | ((i // len(STATUSES)) % 16)
    d1 = (i * 7 + i // 128) % 128
    d2 = 1 + (i // 3) % 127  # never 0: a note-on stays a note-on
    if status & 0xF0 in (0xC0, 0xD0):
        return bytes((status, d1))
    return bytes((status, d1, d2))


@dataclass
class Job:
    messages: Sequence[bytes]
    per_cycle: int
    fill: bool = False
    pos: int = 0
    failed: int = 0
    done: threading.Event = field(default_factory=threading.Event)


class Sender:
    def __init__(self, client_name: str, port_name: str) -> None:
        self.client = jack.Client(client_name, no_start_server=True)
        self.port = self.client.midi_outports.register(port_name)
        self.job: Job | None = None
        self.client.set_process_callback(self._process)
        self.client.activate()

    def _process(self, frames: int) -> None:
        self.port.clear_buffer()
        job = self.job
        if job is None or job.done.is_set():
            return
        if job.fill:
            i = 0
            while True:
                try:
                    self.port.write_midi_event(0, pattern(i))
                except jack.JackError:
                    break
                i += 1
            job.pos = i
            job.done.set()
            return
        end = min(job.pos + job.per_cycle, len(job.messages))
        for k in range(job.pos, end):
            try:
                self.port.write_midi_event(0, job.messages[k])
            except jack.JackError:
                job.failed += 1
        job.pos = end
        if end == len(job.messages):
            job.done.set()

    def run(self, job: Job) -> Job:
        self.job = job
        job.done.wait()
        self.job = None
        return job

    def connect(self, name: str) -> None:
        inputs = [p.name for p in self.client.get_ports(is_midi=True, is_input=True)]
        matches = [p for p in inputs if p == name] or [p for p in inputs if p.endswith(":" + name)]
        if len(matches) != 1:
            raise RuntimeError(f"no single MIDI input matches {name!r}: {inputs}")
        self.client.connect(self.port, matches[0])

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()


@contextmanager
def jack_environment(env: Mapping[str, str]) -> Iterator[None]:
    """Point this process's JACK clients (rtmidi, JACK-Client) at the server ``env`` names."""
    saved = {k: os.environ.get(k) for k in env if k.startswith("JACK_")}
    os.environ.update({k: v for k, v in env.items() if k.startswith("JACK_")})
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _collect(midi: Any, count: int, xruns: int, timeout: float = 10.0) -> list[Any]:
    """Read events from ``midi`` until ``count`` have come, or until an attempt that saw an xrun
    (``midi``'s count is no longer ``xruns``) has been quiet for 0.3 s: the sender has written
    everything by then, so the events JACK lost are not coming."""
    got: list[Any] = []
    deadline = quiet_since = time.monotonic()
    deadline += timeout
    while len(got) < count and time.monotonic() < deadline:
        new = midi.read(4096)
        got.extend(new)
        now = time.monotonic()
        if new:
            quiet_since = now
        elif midi.status.xruns != xruns and now - quiet_since > 0.3:
            break
        time.sleep(0.01)
    return got


def transfer(
    midi: Any, send: Callable[[], object], expected: Sequence[bytes], attempts: int = 6
) -> list[Any]:
    """Run ``send`` and read ``len(expected)`` events from the MidiInput ``midi``; they must be
    exactly ``expected``. A JACK xrun (a client finished its cycle late) can lose or repeat MIDI
    in that cycle with no fault of ours: only when ``midi`` saw an xrun during an attempt is a
    wrong result retried, up to ``attempts`` in all, each after a longer pause, since xruns come
    in bursts while something else loads the machine (a 2-core CI run has shown two spoiled
    attempts in a row). Retries are printed (pytest shows them with -s/-rA); a result
    that is wrong without an xrun is returned at once, for the caller's assertion to show."""
    history: list[str] = []
    for attempt in range(1, attempts + 1):
        xruns = midi.status.xruns
        send()
        got = _collect(midi, len(expected), xruns)
        time.sleep(0.05)  # an xrun is reported a moment after the cycle it spoiled
        got.extend(midi.read(100_000))
        if [e.to_bytes() for e in got] == list(expected):
            return got
        spoiled = midi.status.xruns - xruns
        history.append(f"attempt {attempt}: {len(got)} of {len(expected)} events, {spoiled} xruns")
        if not spoiled:
            if len(got) < len(expected):
                raise AssertionError(f"events lost without an xrun: {'; '.join(history)}")
            return got  # the caller's assertion shows the difference
        print(f"transfer: JACK xrun during attempt {attempt}; retrying")
        time.sleep(0.25 * attempt)
    raise AssertionError(f"every attempt spoiled by JACK xruns: {'; '.join(history)}")


class SenderProcess:
    """Drives this module in a child process: ``SenderProcess(env, "src").pattern(100, 10)``."""

    def __init__(self, env: dict[str, str], client: str, port: str = "out") -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.midi_sender", client, port],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        words = self._answer().split()
        if words[:1] != ["ready"]:
            raise RuntimeError(f"sender said {words!r}")
        self.port = words[1]

    def _answer(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if not line or line.startswith("error"):
            raise RuntimeError(f"sender failed: {line!r}")
        return line

    def command(self, line: str) -> str:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return self._answer()

    def connect(self, port: str) -> None:
        self.command(f"connect {port}")

    def pattern(self, count: int, per_cycle: int) -> tuple[int, int]:
        """Send pattern(0..count-1); returns (written, refused by JACK)."""
        _, sent, failed = self.command(f"pattern {count} {per_cycle}").split()
        return int(sent), int(failed)

    def send(self, messages: Sequence[bytes], per_cycle: int = 64) -> tuple[int, int]:
        hexed = " ".join(",".join(f"{b:02x}" for b in m) for m in messages)
        _, sent, failed = self.command(f"send {per_cycle} {hexed}").split()
        return int(sent), int(failed)

    def fill(self) -> int:
        return int(self.command("fill").split()[1])

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.write("quit\n")
            self.process.stdin.close()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def main(argv: list[str]) -> None:
    sender = Sender(argv[0], argv[1] if len(argv) > 1 else "out")
    print("ready", sender.port.name, flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        command, args = words[0], words[1:]
        if command == "quit":
            break
        if command == "connect":
            sender.connect(" ".join(args))
            print("ok", flush=True)
        elif command == "pattern":
            count, per_cycle = int(args[0]), int(args[1])
            job = sender.run(Job([pattern(i) for i in range(count)], per_cycle))
            print("done", job.pos - job.failed, job.failed, flush=True)
        elif command == "send":
            messages = [bytes(int(b, 16) for b in m.split(",")) for m in args[1:]]
            job = sender.run(Job(messages, int(args[0])))
            print("done", job.pos - job.failed, job.failed, flush=True)
        elif command == "fill":
            job = sender.run(Job([], 0, fill=True))
            print("done", job.pos, flush=True)
        else:
            print("error unknown command", command, flush=True)
    sender.close()


if __name__ == "__main__":
    main(sys.argv[1:])

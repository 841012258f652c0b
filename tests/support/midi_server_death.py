"""The JACK server dies under a MidiInput and a MidiOutput and comes back; run in its own process.

libjack keeps process-wide state, and a process that has lived through a dead server while it
also had clients of another server has crashed (segfault) later on; the test therefore runs this
scenario in a child process with its own server and reads one JSON line per step from stdout.

    python -m tests.support.midi_server_death LOGFILE
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

from audio.midi_in import MidiInput, PortEvent
from audio.midi_out import MidiOutput
from tests.support.jack import JackServer, unique_server_name
from tests.support.midi_sender import SenderProcess, jack_environment
from tests.support.waiting import wait_for


def report(step: str, **values: object) -> None:
    print(json.dumps({"step": step, **values}), flush=True)


def until(midi: MidiInput, kind: str, timeout: float) -> list[PortEvent]:
    events: list[PortEvent] = []
    wait_for(
        lambda: events.extend(midi.check()) or any(e.kind == kind for e in events), timeout, kind
    )
    return events


def main(log: Path) -> None:
    server = JackServer(unique_server_name(), log_path=log).start()
    try:
        with jack_environment(server.env):
            midi = MidiInput(virtual=True, api="jack", client_name="hl-death-in")
            out = MidiOutput(api="jack", client_name="hl-death-out")
            out.send(b"\x90\x3c\x64")
            assert server.process is not None
            os.kill(server.process.pid, signal.SIGKILL)  # as abrupt as a crash
            server.process.wait()
            lost = until(midi, "server_lost", 5)
            again = midi.check()
            wait_for(lambda: not out.server_ok, 5, "the output to notice")
            report(
                "lost",
                events=lost,
                again=again,
                read=len(midi.read(10)),
                input_ok=midi.status.server_ok,
                output_ok=out.server_ok,
                send=out.send(b"\x80\x3c\x00"),
                failed=out.status.failed,
            )
            out.close()
            out.close()

            server.stop()  # clears the dead server's shared memory
            server.start()
            back = until(midi, "server_back", 10)
            sender = SenderProcess(server.env, "hl-death-sender")
            try:
                sender.connect("Hookline In")
                sender.send([b"\xb0\x40\x7f"])
                got: list[bytes] = []
                wait_for(lambda: got.extend(e.to_bytes() for e in midi.read()) or got, 5, "event")
            finally:
                sender.close()
            report("back", events=back, got=[g.hex() for g in got], input_ok=midi.status.server_ok)
            midi.close()
            midi.close()
    finally:
        server.stop()
    report("end")


if __name__ == "__main__":
    main(Path(sys.argv[1]))

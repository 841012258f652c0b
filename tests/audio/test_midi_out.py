"""MIDI output through real JACK: "Hookline Out" is read back by a MidiInput connected to it.

Received times are quantised to JACK periods (a message sent from Python reaches the graph at the
next cycle: 5.3 ms at the session server's 256 frames), so the clip's scheduling accuracy is
asserted on the sending side, and the received timing within one period of it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
import pytest

from audio.midi_in import MidiEvent, MidiInput
from audio.midi_out import ClipPlayer, MidiOutput
from tests.support.jack import JackServer
from tests.support.midi_sender import jack_environment, transfer
from tests.support.waiting import wait_for

pytestmark = pytest.mark.jack


@pytest.fixture(scope="module")
def loop(jack_server: JackServer) -> Iterator[tuple[MidiOutput, MidiInput]]:
    with jack_environment(jack_server.env):
        out = MidiOutput(api="jack", client_name="hl-out-test")
        name = next(p for p in jack_server.ports() if p.startswith("hl-out-test"))
        assert name.endswith(":Hookline Out")
        midi = MidiInput([name], api="jack", client_name="hl-out-listener")
        try:
            assert midi.status.sources[0].state == "open", midi.status
            out.send(b"\xfe")  # warm the path; system messages are ignored by the input
            yield out, midi
        finally:
            midi.close()
            out.close()


def collect(midi: MidiInput, count: int, timeout: float = 10.0) -> list[MidiEvent]:
    got: list[MidiEvent] = []

    def enough() -> bool:
        got.extend(midi.read(4096))
        return len(got) >= count

    wait_for(enough, timeout, f"{count} MIDI events")
    return got


def test_send_reaches_the_other_side_and_notes_are_tracked(
    loop: tuple[MidiOutput, MidiInput],
) -> None:
    out, midi = loop
    sent = [b"\x90\x3c\x64", b"\x91\x40\x50", b"\xc1\x05", b"\x90\x3c\x00", b"\xe1\x00\x40"]
    assert all(out.send(m) for m in sent)
    assert [e.to_bytes() for e in collect(midi, 5)] == sent
    assert out.notes_on() == {(1, 0x40)}

    assert out.all_notes_off()
    got = [e.to_bytes() for e in collect(midi, 3)]
    # a note-off for the note still on, then CC123 on every channel used (0 and 1)
    assert got == [b"\x81\x40\x00", b"\xb0\x7b\x00", b"\xb1\x7b\x00"]
    assert out.notes_on() == frozenset() and out.status.failed == 0


def test_clip_plays_in_order_on_time(loop: tuple[MidiOutput, MidiInput]) -> None:
    out, midi = loop
    clip = []
    for i in range(100):  # 200 messages over 1 s: a note every 10 ms, each 5 ms long
        clip.append((i * 0.010, bytes((0x90, 40 + i % 40, 100))))
        clip.append((i * 0.010 + 0.005, bytes((0x80, 40 + i % 40, 0))))
    done: list[bool] = []
    player = ClipPlayer(out, on_finished=done.append)

    def play() -> None:
        done.clear()
        player.play(clip)
        assert player.playing
        assert player.finished.wait(5) and done == [True] and not player.playing

    got = transfer(midi, play, [m for _, m in clip])
    assert [e.to_bytes() for e in got] == [m for _, m in clip]

    late = np.array(player.lateness) * 1000
    # Time-sharing on a loaded 2-core box can stall the player's thread once for tens of
    # milliseconds (seen: 27 ms in a full suite); the messages due meanwhile then go out
    # together. Most must be on time and none lost in such a stall.
    assert np.percentile(late, 95) < 3.0, np.percentile(late, [50, 95, 100])
    assert late.max() < 50.0, np.percentile(late, [50, 95, 100])
    received = (np.array([e.time_ns for e in got]) - got[0].time_ns) / 1e6
    due = np.array([t for t, _ in clip]) * 1000
    period_ms = 256 / 48
    error = received - due
    spread = np.abs(error - np.median(error))
    print(f"clip: send lateness p50/p99/max {np.percentile(late, [50, 99, 100]).round(3)} ms; ")
    print(f"received vs due, |error| p50/p99/max {np.percentile(spread, [50, 99, 100]).round(2)}")
    assert np.percentile(spread, 95) < period_ms + 3.0


def test_stop_ends_the_notes_it_left_on(loop: tuple[MidiOutput, MidiInput]) -> None:
    out, midi = loop
    clip = [(0.0, b"\x92\x30\x64"), (0.0, b"\x92\x34\x64"), (0.02, b"\x82\x30\x00")]
    clip += [(5.0, b"\x82\x34\x00")]
    stopped = threading.Event()
    player = ClipPlayer(out, on_finished=lambda completed: completed or stopped.set())
    player.play(clip)
    collect(midi, 3)
    player.stop()
    assert stopped.is_set() and player.finished.is_set() and not player.playing
    assert [e.to_bytes() for e in collect(midi, 1)] == [b"\x82\x34\x00"]
    assert out.notes_on() == frozenset()
    player.stop()  # stopping a stopped player is harmless


def test_close_twice_and_send_after_close(jack_server: JackServer) -> None:
    with jack_environment(jack_server.env):
        out = MidiOutput(api="jack", client_name="hl-close-test")
        assert out.send(b"\x90\x3c\x64")
        out.close()
        out.close()
        assert not out.send(b"\x80\x3c\x00") and out.status.failed == 1


def test_a_missing_named_port_is_reported_not_raised(jack_server: JackServer) -> None:
    with jack_environment(jack_server.env):
        out = MidiOutput("nobody:in", virtual=False, api="jack", client_name="hl-missing")
        assert out.status.ports == () and out.status.error == "no-such-port: nobody:in"
        assert not out.send(b"\x90\x3c\x64")
        out.close()

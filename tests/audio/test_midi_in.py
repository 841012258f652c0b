"""MIDI input: the callback's ring on its own, then the real stack (a JACK dummy server and a
sender in a second process, tests/support/midi_sender.py).

JACK facts these tests rely on, measured here (48 kHz, 256-frame period):

* a JACK MIDI port buffer holds 2,727 three-byte events per period (32 KiB, 12 bytes an event);
  JACK refuses the next write, and the sender counts it;
* the practical limit is lower: rtmidi calls our Python callback on JACK's real-time thread once
  per event, and a receiver that overruns its period reads a buffer the sender is already
  refilling (lost, repeated or mixed events). A burst is therefore paced at 100 events per period
  (18,750 events/s at this period), well above what a player or a DAW sends.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from audio.midi_in import MidiEvent, MidiInput, Timeline, channel_word, find_port
from tests.support.jack import JackServer
from tests.support.midi_sender import (
    SenderProcess,
    jack_environment,
    pattern,
    transfer,
)
from tests.support.waiting import wait_for

PER_CYCLE = 100


# ----- message filtering and timestamps, without JACK --------------------------------------------
def test_only_well_formed_channel_messages_are_kept() -> None:
    messages = {
        (0x90, 60, 100): 0x90 << 16 | 60 << 8 | 100,  # note on
        (0xC3, 5): 0xC3 << 16 | 5 << 8,  # program change: 2 bytes
        (0xD1, 70): 0xD1 << 16 | 70 << 8,  # channel pressure: 2 bytes
        (0xE0, 0, 64): 0xE0 << 16 | 64,  # pitch bend
        (0x3C, 64): -1,  # no status byte: garbage
        (): -1,  # empty
        (0x90, 60): -1,  # note on missing its velocity
        (0xB0, 200, 1): -1,  # data byte with the high bit set
        (0xF6,): -2,  # tune request: system common
        (0xFA,): -2,  # start: system real time
    }
    for message, word in messages.items():
        assert channel_word(list(message)) == word, message


def test_timeline_keeps_rtmidi_spacing_and_never_stamps_before_arrival() -> None:
    line = Timeline()
    # Messages arrive at 1.000 s, 1.010 s and 1.0125 s; the worker polls 0.7 ms after the first
    # and 2 ms after the last. rtmidi's deltas: 0 (first), 10 ms, 2.5 ms.
    first = line.place([0.0], poll_ns=1_000_700_000)
    later = line.place([0.010, 0.0025], poll_ns=1_014_500_000)
    assert first == [1_000_700_000]  # no better bound yet: the poll time
    # Stamped 0.7 ms after arrival (the only bound so far), plus 100 ppm of relaxation; rtmidi's
    # own spacing kept.
    assert later == [1_010_701_380, 1_013_201_380]
    # A poll right after an arrival tightens the bound for every later message.
    quick = line.place([0.1875], poll_ns=1_200_010_000)  # arrived 1.200 s, read 10 µs later
    assert quick == [1_200_010_000]
    assert line.offset_ns == 1_200_010_000 - 200_000_000


def test_timeline_follows_a_slowly_drifting_midi_clock() -> None:
    line = Timeline()
    arrival = 0.0
    for step in range(1, 2001):  # 200 s of messages every 100 ms; the MIDI clock runs 50 ppm slow
        arrival += 0.1
        [t] = line.place([0.1 * (1 - 50e-6)] if step > 1 else [0.0], round(arrival * 1e9) + 20_000)
        assert t >= round(arrival * 1e9) - 1  # never before it arrived
    assert t - round(arrival * 1e9) < 1_000_000  # and still within a millisecond after 200 s


def test_find_port_ignores_alsa_client_numbers() -> None:
    ports = ["Midi Through:Midi Through Port-0 14:0", "KeyStep:KeyStep MIDI 1 24:0"]
    assert find_port("KeyStep:KeyStep MIDI 1 28:0", ports) == 1
    assert find_port("sender:out", ["a:out", "sender:out"]) == 1
    assert find_port("gone", ports) is None


# ----- the real stack ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def jack_env(jack_server: JackServer) -> Iterator[dict[str, str]]:
    # Python's default 5 ms GIL switch interval on purpose (the live engine lowers it for the
    # whole process): no Python runs on JACK's thread, so the default must be enough.
    saved = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    try:
        with jack_environment(jack_server.env):
            yield jack_server.env
    finally:
        sys.setswitchinterval(saved)


@pytest.fixture(scope="module")
def virtual_in(jack_env: dict[str, str]) -> Iterator[tuple[MidiInput, SenderProcess]]:
    midi = MidiInput(virtual=True, api="jack", client_name="hl-in-test")
    sender = SenderProcess(jack_env, "hl-virtual-sender")
    sender.connect("Hookline In")
    # the first cycle that runs Python on JACK's thread is slow (thread state, page faults)
    sender.pattern(10, 10)
    wait_for(lambda: midi.status.sources[0].state == "open", 5, "the port")
    _drain(midi, 10)
    try:
        yield midi, sender
    finally:
        sender.close()
        midi.close()


def _drain(midi: MidiInput, count: int, timeout: float = 10.0) -> list[MidiEvent]:
    got: list[MidiEvent] = []

    def enough() -> bool:
        got.extend(midi.read(4096))
        return len(got) >= count

    wait_for(enough, timeout, f"{count} events (have {len(got)})")
    return got


def _check(got: list[MidiEvent], expected: list[bytes]) -> None:
    assert len(got) == len(expected)
    assert [e.to_bytes() for e in got] == expected  # every message, in order, with its bytes
    times = np.array([e.time_ns for e in got])
    assert np.all(np.diff(times) >= 0)


@pytest.mark.jack
def test_virtual_port_receives_every_kind_of_message_in_order(
    virtual_in: tuple[MidiInput, SenderProcess],
) -> None:
    midi, sender = virtual_in
    expected = [pattern(i) for i in range(700)]
    got = transfer(midi, lambda: sender.pattern(700, PER_CYCLE) == (700, 0), expected)
    _check(got, expected)
    assert {e.port for e in got} == {0} and midi.sources == ("Hookline In",)
    assert midi.status.dropped == 0


@pytest.mark.jack
def test_a_burst_of_ten_thousand_loses_nothing(
    virtual_in: tuple[MidiInput, SenderProcess],
) -> None:
    midi, sender = virtual_in
    expected = [pattern(i) for i in range(10_000)]
    got = transfer(midi, lambda: sender.pattern(10_000, PER_CYCLE), expected)
    _check(got, expected)
    assert midi.read(10) == []


@pytest.mark.jack
def test_a_full_jack_midi_buffer_refuses_writes_it_does_not_hide_them(
    jack_env: dict[str, str],
) -> None:
    sender = SenderProcess(jack_env, "hl-fill-sender")  # connected to nothing
    try:
        fitted = sender.fill()
    finally:
        sender.close()
    assert 2000 <= fitted <= 3000, fitted  # 2,727 with JACK 1.9.21's 32 KiB buffer


@pytest.mark.jack
def test_named_source_lost_and_back(jack_env: dict[str, str]) -> None:
    first = SenderProcess(jack_env, "hl-named-sender")
    midi = MidiInput([first.port], api="jack", client_name="hl-named-test")
    second: SenderProcess | None = None
    try:
        assert midi.check() == [] and midi.status.sources[0].state == "open"
        expected = [pattern(i) for i in range(300)]
        _check(transfer(midi, lambda: first.pattern(300, PER_CYCLE), expected), expected)

        first.close()  # the source's process ends: its port vanishes
        events: list[tuple[str, str]] = []
        wait_for(lambda: events.extend(midi.check()) or events, 5, "port_lost")
        assert events == [("port_lost", "hl-named-sender:out")]
        assert midi.status.sources[0].state == "lost"
        assert midi.check() == []

        second = SenderProcess(jack_env, "hl-named-sender")  # same name again
        events.clear()
        wait_for(lambda: events.extend(midi.check()) or events, 5, "port_back")
        assert events == [("port_back", "hl-named-sender:out")]
        ready = second
        _check(transfer(midi, lambda: ready.pattern(300, PER_CYCLE), expected), expected)
    finally:
        if second is not None:
            second.close()
        first.close()
        midi.close()
        midi.close()


@pytest.mark.jack
def test_missing_source_is_reported_then_connected_when_it_appears(
    jack_env: dict[str, str],
) -> None:
    midi = MidiInput(["hl-late-sender:out"], api="jack", client_name="hl-late-test")
    sender: SenderProcess | None = None
    try:
        assert midi.check() == [("port_lost", "hl-late-sender:out")]
        sender = SenderProcess(jack_env, "hl-late-sender")
        events: list[tuple[str, str]] = []
        wait_for(lambda: events.extend(midi.check()) or events, 5, "port_back")
        assert events == [("port_back", "hl-late-sender:out")]
        sender.send([b"\x90\x3c\x64", b"\x80\x3c\x00"])
        _check(_drain(midi, 2), [b"\x90\x3c\x64", b"\x80\x3c\x00"])
    finally:
        if sender is not None:
            sender.close()
        midi.close()


@pytest.mark.jack
def test_two_sources_merge_in_time_order(jack_env: dict[str, str]) -> None:
    a = SenderProcess(jack_env, "hl-merge-a")
    b = SenderProcess(jack_env, "hl-merge-b")
    midi = MidiInput([a.port, b.port], api="jack", client_name="hl-merge-test")
    try:
        a.send([b"\x90\x3c\x64"])
        _drain(midi, 1)
        b.send([b"\x91\x40\x64"])
        # Each port's times are placed on our clock from the reads that saw its messages, so
        # they are as exact as the reads are frequent: read every millisecond, as the engine's
        # worker does, while the second message is on its way.
        got = []
        until = time.monotonic() + 0.03
        while time.monotonic() < until:
            got += midi.read()
            time.sleep(0.001)
        a.send([b"\x80\x3c\x00"])
        got += _drain(midi, 2 - len(got))
        assert [(e.port, e.to_bytes()) for e in got] == [(1, b"\x91\x40\x64"), (0, b"\x80\x3c\x00")]
    finally:
        a.close()
        b.close()
        midi.close()


@pytest.mark.jack
def test_the_server_dies_and_returns(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Input and output notice a killed server without raising, and input works again once
    the server is back (in a child process: see tests/support/midi_server_death.py)."""
    child = subprocess.run(
        [sys.executable, "-m", "tests.support.midi_server_death", str(tmp_path / "jackd.log")],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    steps = {s["step"]: s for s in map(json.loads, child.stdout.splitlines())}
    assert child.returncode == 0 and "end" in steps, child.stderr[-3000:]
    lost, back = steps["lost"], steps["back"]
    assert lost["events"] == [["server_lost", "jack"]] and lost["again"] == []
    assert lost["read"] == 0 and not lost["input_ok"] and not lost["output_ok"]
    assert lost["send"] is False and lost["failed"] == 1
    assert back["events"] == [["server_back", "jack"]] and back["input_ok"]
    assert back["got"] == ["b0407f"]

"""Live MIDI through JACK into the harmony engine: nothing lost, and how fast a chord is named.

A JACK dummy server and a sender process (tests/support/midi_sender.py) writing into
"Hookline In", paced by JACK's clock.

Part 1, the input (``audio.midi_in``): COUNT pattern messages at PER_CYCLE a period, read by a
worker that polls every 1 ms, alone and with a busy pure-Python thread competing for the GIL
(Python's default 5 ms switch interval in both). Reported: messages lost and extra (a sequence
diff against what was sent), JACK xruns, and the time from a message's timestamp (rtmidi's,
placed on perf_counter) to the moment ``read()`` returned it.

Part 2, the harmony engine (``app.harmony_engine``): CHORDS four-note chords, one every 60 ms
(a fast player), each released before the next. For every publication caused by MIDI:
processing = worker read → snapshot published (naming, key, suggestions); end to end = the
newest event's timestamp → published. Target: processing p99 ≤ 2 ms. Reference in the same run:
music21 naming the same chords (``Chord(...).pitchedCommonName``), per chord.

    python benchmarks/bench_midi_in.py [--count 10000] [--per-cycle 100] [--chords 400]
"""

from __future__ import annotations

import argparse
import difflib
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from _support import final_json, percentiles, table

from app.harmony_engine import HarmonyEngine, LatencyTrace
from audio.midi_in import MidiInput
from models.next_chord import NextChordModel
from tests.support.jack import JackServer, unique_server_name
from tests.support.midi_sender import SenderProcess, jack_environment, pattern

CHORDS = [(48, 52, 55, 60), (53, 57, 60, 65), (43, 59, 62, 65), (45, 57, 60, 64)]


def busy(stop: threading.Event) -> None:
    x = 0
    while not stop.is_set():
        for i in range(1000):
            x += i * i


def input_scenario(server: JackServer, load: bool, count: int, per_cycle: int) -> dict[str, float]:
    midi = MidiInput(virtual=True, api="jack", client_name="bench-midi")
    sender = SenderProcess(server.env, "bench-sender")
    sender.connect("bench-midi:Hookline In")
    sender.pattern(20, 20)  # warm-up
    time.sleep(0.2)
    midi.read(100_000)
    latencies: list[int] = []
    got: list[bytes] = []
    stop = threading.Event()

    def worker() -> None:
        while not stop.is_set():
            events = midi.read(4096)
            now = time.perf_counter_ns()
            latencies.extend(now - e.time_ns for e in events)
            got.extend(e.to_bytes() for e in events)
            time.sleep(0.001)

    threads = [threading.Thread(target=worker)]
    if load:
        threads.append(threading.Thread(target=busy, args=(stop,)))
    for t in threads:
        t.start()
    xruns = midi.status.xruns
    started = time.perf_counter()
    sender.pattern(count, per_cycle)
    sent_s = time.perf_counter() - started
    deadline = time.monotonic() + 10
    while len(got) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    stop.set()
    for t in threads:
        t.join()
    xruns = midi.status.xruns - xruns
    sender.close()
    midi.close()
    expected = [pattern(i) for i in range(count)]
    matcher = difflib.SequenceMatcher(None, expected, got, autojunk=False)
    matched = sum(block.size for block in matcher.get_matching_blocks())
    lat = np.array(latencies) / 1e6
    l50, l99 = percentiles(lat)
    return {
        "rate_per_s": count / sent_s,
        "received": len(got),
        "lost": count - matched,
        "extra": len(got) - matched,
        "xruns": xruns,
        "latency_p50_ms": l50,
        "latency_p99_ms": l99,
        "latency_max_ms": float(lat.max()) if len(lat) else float("nan"),
    }


def harmony_scenario(server: JackServer, chords: int) -> dict[str, float]:
    midi = MidiInput(virtual=True, api="jack", client_name="bench-harmony")
    engine = HarmonyEngine(midi, NextChordModel.load(), style=0.3)
    engine.trace = LatencyTrace()
    engine.start()
    sender = SenderProcess(server.env, "bench-player")
    sender.connect("bench-harmony:Hookline In")
    try:
        for i in range(chords):
            notes = CHORDS[i % len(CHORDS)]
            sender.send([bytes((0x90, n, 90)) for n in notes], per_cycle=8)
            time.sleep(0.04)
            sender.send([bytes((0x80, n, 0)) for n in notes], per_cycle=8)
            time.sleep(0.02)
        time.sleep(0.2)
    finally:
        sender.close()
        engine.stop()
    trace = engine.trace
    n = trace.count
    processing = (trace.published_ns[:n] - trace.read_ns[:n]) / 1e6
    end_to_end = (trace.published_ns[:n] - trace.event_ns[:n]) / 1e6
    p50, p99 = percentiles(processing)
    e50, e99 = percentiles(end_to_end)
    return {
        "publications": n,
        "events_read": engine.tracker.events_read,
        "processing_p50_ms": p50,
        "processing_p99_ms": p99,
        "processing_max_ms": float(processing.max()),
        "end_to_end_p50_ms": e50,
        "end_to_end_p99_ms": e99,
        "end_to_end_max_ms": float(end_to_end.max()),
    }


def music21_naming_us(repeats: int = 400) -> float:
    from music21 import chord

    start = time.perf_counter()
    for i in range(repeats):
        chord.Chord(list(CHORDS[i % len(CHORDS)])).pitchedCommonName  # noqa: B018
    return (time.perf_counter() - start) / repeats * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--per-cycle", type=int, default=100)
    parser.add_argument("--chords", type=int, default=400)
    parser.add_argument("--period", type=int, default=256)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-midi-"))
    server = JackServer(
        unique_server_name(), period=args.period, log_path=workdir / "jackd.log"
    ).start()
    figures: dict[str, object] = {"count": args.count, "per_cycle": args.per_cycle}
    rows = []
    try:
        with jack_environment(server.env):
            for load in (False, True):
                r = input_scenario(server, load, args.count, args.per_cycle)
                rows.append(["busy thread" if load else "idle", *r.values()])
                figures.update({f"input_{'busy' if load else 'idle'}_{k}": v for k, v in r.items()})
            harmony = harmony_scenario(server, args.chords)
    finally:
        server.stop()
    figures.update({f"harmony_{k}": v for k, v in harmony.items()})
    reference = music21_naming_us()
    figures["music21_naming_us"] = reference
    headers = ["input", "msgs/s", "received", "lost", "extra", "xruns", "lat p50 ms", "p99", "max"]
    print(table(headers, rows))
    print()
    print(
        table(
            ["harmony engine", "p50 ms", "p99 ms", "max ms", "target"],
            [
                [
                    "processing (read → published)",
                    harmony["processing_p50_ms"],
                    harmony["processing_p99_ms"],
                    harmony["processing_max_ms"],
                    "p99 ≤ 2",
                ],
                [
                    "end to end (timestamp → published)",
                    harmony["end_to_end_p50_ms"],
                    harmony["end_to_end_p99_ms"],
                    harmony["end_to_end_max_ms"],
                    "",
                ],
                ["music21 naming alone, per chord", reference / 1000, "", "", "reference"],
            ],
        )
    )
    final_json(figures)


if __name__ == "__main__":
    main()

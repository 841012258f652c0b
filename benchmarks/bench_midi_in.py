"""Live MIDI input through JACK: callback cost and callback-to-worker latency.

A JACK dummy server, a sender process (tests/support/midi_sender.py) writing N pattern messages
into "Hookline In" at PER_CYCLE a period, and a MidiInput here read by a worker thread that polls
every 1 ms. For each scenario (GIL switch interval 5 ms = Python's default, or 0.5 ms; with or
without a busy pure-Python thread competing for the GIL) reported:

* callback cost: perf_counter_ns around our callback body, p50/p99/max (rtmidi's own work and the
  GIL hand-over before the call are not included);
* latency from the callback's timestamp to the moment ``read()`` returned the event, p50/p99/max;
* messages lost and extra (repeated or mixed; a sequence diff against what was sent) and JACK
  xruns.

    python benchmarks/bench_midi_in.py [--count 5000] [--per-cycle 10] [--period 256]
"""

from __future__ import annotations

import argparse
import difflib
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from _support import final_json, percentiles, table

from audio import midi_in
from audio.midi_in import EventRing, MidiInput
from tests.support.jack import JackServer, unique_server_name
from tests.support.midi_sender import SenderProcess, jack_environment, pattern

COST = np.zeros(1_000_000, dtype=np.int64)
COST_N = [0]


def timed_callback(self: EventRing) -> Callable[[tuple[list[int], float], object], None]:
    inner = _plain_callback(self)
    now = time.perf_counter_ns

    def on_message(event: tuple[list[int], float], data: object) -> None:
        t0 = now()
        inner(event, data)
        i = COST_N[0]
        COST[i] = now() - t0
        COST_N[0] = i + 1

    return on_message


_plain_callback = EventRing.callback


def busy(stop: threading.Event) -> None:
    x = 0
    while not stop.is_set():
        for i in range(1000):
            x += i * i


def scenario(
    server: JackServer, switch: float, load: bool, count: int, per_cycle: int
) -> dict[str, float]:
    sys.setswitchinterval(switch)
    COST_N[0] = 0
    midi = MidiInput(virtual=True, api="jack", client_name="bench-midi")
    sender = SenderProcess(server.env, "bench-sender")
    sender.connect("Hookline In")
    sender.pattern(20, 20)  # warm-up
    time.sleep(0.2)
    midi.read(100_000)
    COST_N[0] = 0
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
    sender.pattern(count, per_cycle)
    deadline = time.monotonic() + 5
    while len(got) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    stop.set()
    for t in threads:
        t.join()
    xruns = midi.status.xruns - xruns
    sender.close()
    midi.close()
    sys.setswitchinterval(0.005)
    expected = [pattern(i) for i in range(count)]
    matcher = difflib.SequenceMatcher(None, expected, got, autojunk=False)
    matched = sum(block.size for block in matcher.get_matching_blocks())
    cost = COST[: COST_N[0]] / 1000
    lat = np.array(latencies) / 1e6
    c50, c99 = percentiles(cost)
    l50, l99 = percentiles(lat)
    return {
        "cost_p50_us": c50,
        "cost_p99_us": c99,
        "cost_max_us": float(cost.max()) if len(cost) else float("nan"),
        "latency_p50_ms": l50,
        "latency_p99_ms": l99,
        "latency_max_ms": float(lat.max()) if len(lat) else float("nan"),
        "received": len(got),
        "lost": count - matched,  # sent, never received intact
        "extra": len(got) - matched,  # received, not as sent (repeated or mixed)
        "xruns": xruns,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--per-cycle", type=int, default=10)
    parser.add_argument("--period", type=int, default=256)
    args = parser.parse_args()
    EventRing.callback = timed_callback  # type: ignore[method-assign]
    assert midi_in.EventRing is EventRing
    workdir = Path(tempfile.mkdtemp(prefix="bench-midi-"))
    server = JackServer(
        unique_server_name(), period=args.period, log_path=workdir / "jackd.log"
    ).start()
    rows = []
    figures: dict[str, object] = {
        "count": args.count,
        "per_cycle": args.per_cycle,
        "period": args.period,
    }
    try:
        with jack_environment(server.env):
            for switch in (0.005, 0.0005):
                for load in (False, True):
                    r = scenario(server, switch, load, args.count, args.per_cycle)
                    name = f"switch {switch * 1000:g} ms{' + busy thread' if load else ''}"
                    rows.append([name, *r.values()])
                    key = f"sw{switch * 1000:g}ms_{'busy' if load else 'idle'}"
                    figures.update({f"{key}_{k}": v for k, v in r.items()})
    finally:
        server.stop()
    headers = ["scenario", "cost p50 µs", "p99", "max", "latency p50 ms", "p99", "max"]
    print(table([*headers, "received", "lost", "extra", "xruns"], rows))
    final_json(figures)


if __name__ == "__main__":
    main()

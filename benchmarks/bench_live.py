"""Live audio path through JACK, with the real app's Live view running offscreen at display rate.

For each JACK period (128 and 512 frames): a JACK dummy server, a player process feeding pink
noise, and ``hookline`` itself (the GUI, offscreen) listening to the player's ports for
SECONDS. The capture process records each callback's duration (HOOKLINE_CALLBACK_TIMING) and the
engine records when each reading was published (HOOKLINE_READING_TRACE). Reported:

* callback time p50/p99/max, and p99 as a share of the block period (target ≤ 2 %);
* xruns (callbacks with PortAudio status flags) and ring overflows (target 0);
* latency from a sample's arrival (end of the callback that delivered it) to the publication of
  the first reading that includes it: p50/p99/max (target p99 ≤ one analysis hop + 5 ms), and
  the worker's share of it (from taking the hop off the ring to publishing the reading).

    python benchmarks/bench_live.py [--seconds 60]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _support import REPO_ROOT, final_json, percentiles, table

from tests.support.jack import JackServer, Player, unique_server_name


def run_period(period: int, seconds: float, workdir: Path) -> dict[str, float]:
    server = JackServer(
        unique_server_name(), period=period, log_path=workdir / f"jackd-{period}.log"
    ).start()
    player = Player(server, name=f"bench-player-{period}")
    try:
        player.play("pink -20")
        home = workdir / f"home-{period}"
        (home / "config").mkdir(parents=True, exist_ok=True)
        (home / "config" / "settings.json").write_text(
            json.dumps(
                {
                    "version": 2,
                    "values": {
                        "audio.input_device": player.ports,
                        "audio.block_size": period,
                        "audio.sample_rate": 48000,
                        "ui.language": "en",
                    },
                }
            )
        )
        timing = workdir / f"callbacks-{period}.npz"
        trace = workdir / f"readings-{period}.npz"
        env = dict(
            server.env,
            HOOKLINE_HOME=str(home),
            QT_QPA_PLATFORM="offscreen",
            HOOKLINE_CALLBACK_TIMING=str(timing),
            HOOKLINE_READING_TRACE=str(trace),
        )
        app = subprocess.run(
            [
                sys.executable,
                "-c",
                "from ui.launcher import main; main()",
                "--quit-after",
                str(seconds),
            ],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=seconds + 120,
            check=False,
        )
        if app.returncode != 0 or not timing.exists() or not trace.exists():
            raise SystemExit(f"the app run failed ({app.returncode}):\n{app.stderr[-3000:]}")
    finally:
        player.close()
        server.stop()

    cb = np.load(timing)
    tr = np.load(trace)
    durations_us = (cb["ends"] - cb["starts"]) / 1e3
    period_us = period / 48000 * 1e6
    state = cb["state"]
    # latency: for reading i, its new frames are [frames[i-1], frames[i]); the oldest of them
    # arrived with the first callback whose cumulative count passed frames[i-1].
    frames, published = tr["frames"], tr["published_ns"]
    first_new = np.concatenate([[0], frames[:-1]])
    k = np.searchsorted(cb["written"], first_new, side="right")
    ok = k < len(cb["ends"])
    latency_ms = (published[ok] - cb["ends"][k[ok]]) / 1e6
    # the split: waiting (arrival -> the worker took the hop) and working (took -> published)
    work_ms = (published[ok] - tr["taken_ns"][ok]) / 1e6
    skip = len(latency_ms) // 20  # drop the first seconds (start-up)
    latency_ms, work_ms = latency_ms[skip:], work_ms[skip:]
    p50, p99 = percentiles(durations_us)
    l50, l99 = percentiles(latency_ms)
    w50, w99 = percentiles(work_ms)
    hop_ms = float(tr["hop"]) / float(tr["rate"]) * 1e3
    return {
        "period": period,
        "seconds": seconds,
        "callbacks": len(durations_us),
        "cb_p50_us": p50,
        "cb_p99_us": p99,
        "cb_max_us": float(durations_us.max()),
        "cb_p99_share_of_period": p99 / period_us,
        "xruns": int(state[3]),
        "ring_overflows": int(state[2]),
        "latency_p50_ms": l50,
        "latency_p99_ms": l99,
        "latency_max_ms": float(latency_ms.max()),
        "work_p50_ms": w50,
        "work_p99_ms": w99,
        "hop_ms": hop_ms,
        "latency_target_ms": hop_ms + 5.0,
        "late_hops": int(tr["late_hops"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--periods", default="128,512")
    args = parser.parse_args()
    os.environ.setdefault("NUMBA_CACHE_DIR", str(REPO_ROOT / ".cache" / "numba"))
    results = []
    with tempfile.TemporaryDirectory(prefix="hookline-bench-") as tmp:
        for period in (int(p) for p in args.periods.split(",")):
            started = time.monotonic()
            results.append(run_period(period, args.seconds, Path(tmp)))
            print(f"period {period}: done in {time.monotonic() - started:.0f} s", flush=True)
    print(
        table(
            [
                "period",
                "callbacks",
                "cb p50 µs",
                "cb p99 µs",
                "cb max µs",
                "p99/period",
                "xruns",
                "overflows",
                "lat p50 ms",
                "lat p99 ms",
                "target ms",
                "work p50 ms",
                "work p99 ms",
            ],
            [
                [
                    r["period"],
                    r["callbacks"],
                    r["cb_p50_us"],
                    r["cb_p99_us"],
                    r["cb_max_us"],
                    f"{100 * r['cb_p99_share_of_period']:.2f} %",
                    r["xruns"],
                    r["ring_overflows"],
                    r["latency_p50_ms"],
                    r["latency_p99_ms"],
                    r["latency_target_ms"],
                    r["work_p50_ms"],
                    r["work_p99_ms"],
                ]
                for r in results
            ],
        )
    )
    final_json({"bench": "live", "runs": results})


if __name__ == "__main__":
    main()

"""Engine CPU on a steady 48 kHz stereo input, app start-up time and idle memory.

* CPU: the live engine (no GUI) listens through JACK to a player's pink noise for SECONDS; CPU
  time of the analysis worker thread plus the capture process, as a share of one core
  (target ≤ 10 %).
* Start-up: ``hookline`` (the GUI, offscreen, kernels cached by a first run) from process start
  to the "main window shown" log line, median of RUNS (target ≤ 2 s); resident memory of the app
  process 5 s after start with the Live view running on the demo input (target ≤ 300 MB).

    python benchmarks/bench_engine.py [--seconds 30] [--runs 5]
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

from _support import REPO_ROOT, final_json, table

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(stat_path: str) -> float:
    fields = Path(stat_path).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def engine_cpu(seconds: float, workdir: Path) -> dict[str, float]:
    from audio.engine import EngineConfig, LiveEngine
    from audio.stream import ChannelSelection, InputSpec
    from tests.support.jack import JackServer, Player, unique_server_name

    server = JackServer(unique_server_name(), period=256, log_path=workdir / "jackd.log").start()
    player = Player(server, name="cpu-player")
    os.environ.update({k: v for k, v in server.env.items() if k.startswith("JACK_")})
    try:
        player.play("pink -20")
        spec = InputSpec(player.ports, 48000, 256, ChannelSelection("pick", (0, 1)))
        engine = LiveEngine(EngineConfig(input=spec, fall_back_to_demo=False))
        engine.start()
        deadline = time.monotonic() + 30
        while not engine.device_ok and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(2.0)  # settle
        assert engine._thread is not None and engine._source is not None
        worker = f"/proc/self/task/{engine._thread.native_id}/stat"
        child = f"/proc/{engine._source._child.pid}/stat"  # type: ignore[attr-defined]
        w0, c0, t0 = _cpu_seconds(worker), _cpu_seconds(child), time.monotonic()
        time.sleep(seconds)
        w1, c1, t1 = _cpu_seconds(worker), _cpu_seconds(child), time.monotonic()
        reading = engine.latest()
        engine.stop()
    finally:
        player.close()
        server.stop()
    wall = t1 - t0
    return {
        "seconds": wall,
        "worker_cpu_share": (w1 - w0) / wall,
        "capture_cpu_share": (c1 - c0) / wall,
        "engine_cpu_share": (w1 - w0 + c1 - c0) / wall,
        "overflows": reading.overflows if reading else -1,
        "late_hops": reading.late_hops if reading else -1,
    }


def start_up(runs: int, workdir: Path) -> dict[str, float]:
    times, rss = [], []
    for i in range(runs + 1):  # run 0 fills the kernel caches and is not counted
        home = workdir / f"home-{i}"
        (home / "config").mkdir(parents=True, exist_ok=True)
        (home / "config" / "settings.json").write_text(
            json.dumps({"version": 2, "values": {"audio.input_device": "demo"}})
        )
        env = dict(os.environ, HOOKLINE_HOME=str(home), QT_QPA_PLATFORM="offscreen")
        log = home / "logs" / "hookline.log"
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-c", "from ui.launcher import main; main()", "--quit-after", "7"],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        shown = None
        while proc.poll() is None and time.monotonic() - started < 60:
            if shown is None and log.exists() and "main window shown" in log.read_text():
                shown = time.monotonic() - started
            if shown is not None and time.monotonic() - started > 5.0:
                status = Path(f"/proc/{proc.pid}/status").read_text()
                rss_kb = next(
                    int(line.split()[1])
                    for line in status.splitlines()
                    if line.startswith("VmRSS:")
                )
                break
            time.sleep(0.01)
        proc.wait(timeout=60)
        if shown is None:
            raise SystemExit("the window never appeared")
        if i > 0:
            times.append(shown)
            rss.append(rss_kb / 1024)
    times.sort()
    return {
        "runs": runs,
        "start_median_s": times[len(times) // 2],
        "start_max_s": times[-1],
        "idle_rss_mb": max(rss),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("NUMBA_CACHE_DIR", str(REPO_ROOT / ".cache" / "numba"))
    with tempfile.TemporaryDirectory(prefix="hookline-bench-") as tmp:
        cpu = engine_cpu(args.seconds, Path(tmp))
        start = start_up(args.runs, Path(tmp))
    print(
        table(
            ["measure", "value", "target"],
            [
                [
                    "engine CPU (worker + capture), % of one core",
                    100 * cpu["engine_cpu_share"],
                    "≤ 10",
                ],
                ["  analysis worker thread, %", 100 * cpu["worker_cpu_share"], ""],
                ["  capture process, %", 100 * cpu["capture_cpu_share"], ""],
                ["ring overflows / late hops", f"{cpu['overflows']} / {cpu['late_hops']}", "0"],
                ["start to window, median s", start["start_median_s"], "≤ 2"],
                ["start to window, max s", start["start_max_s"], ""],
                ["idle RSS (Live view on demo), MB", start["idle_rss_mb"], "≤ 300"],
            ],
        )
    )
    final_json({"bench": "engine", "cpu": cpu, "startup": start})


if __name__ == "__main__":
    main()

"""Device capture in a child process, writing into a shared-memory :class:`FrameRing`.

Why a process: PortAudio cannot tear down a stream whose host went away. With the JACK host,
``Pa_AbortStream``/``Pa_CloseStream`` on a stream whose server died block for ever, and so does
``Pa_Terminate`` (it closes open streams first) — yet a terminate/initialise cycle is the only
way to see a restarted server. A capture process can simply be killed and started again, and the
app's own process never holds a PortAudio stream, so it can always re-scan devices.

Protocol: the parent starts ``python -m audio.capture`` with a JSON job on argv. The child opens
the stream and prints one JSON line: ``{"ok": true, "name": ...}`` or ``{"ok": false, "reason":
..., "details": {...}}``; later ``{"event": "finished"}`` if the stream ends by itself. It exits
when its stdin closes (so it also goes when the parent dies).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from dataclasses import asdict
from typing import Any

from audio.ring import FrameRing
from audio.stream import ChannelSelection, InputSpec, StreamError

log = logging.getLogger(__name__)

START_TIMEOUT = 20.0  # first start compiles nothing (kernels are cached) but imports numpy & co.


class CaptureProcess:
    """An :class:`~audio.stream.InputSource` whose stream lives in a child process.

    Main/worker thread only.
    """

    def __init__(self, spec: InputSpec, ring: FrameRing) -> None:
        if ring.shm_name is None:
            raise ValueError("a capture process needs a shared ring")
        spec.validate()
        self.spec = spec
        self.ring = ring
        self.name = spec.device or "default"
        self._child: subprocess.Popen[str] | None = None
        self._finished = threading.Event()
        self.latency = 0.0

    def start(self) -> None:
        job = {
            "shm": self.ring.shm_name,
            "capacity": self.ring.capacity,
            "channels": self.ring.channels,
            "wake_fd": self.ring.wake_fd,
            "spec": asdict(self.spec),
        }
        env = dict(os.environ)
        self._child = subprocess.Popen(
            [sys.executable, "-m", "audio.capture", json.dumps(job)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
            start_new_session=True,
            pass_fds=(self.ring.wake_fd,) if self.ring.wake_fd >= 0 else (),
        )
        reply = self._read_reply()
        if not reply.get("ok"):
            self.stop()
            raise StreamError(
                str(reply.get("reason", "open-failed")), **dict(reply.get("details") or {})
            )
        self.name = str(reply.get("name", self.name))
        self.latency = float(reply.get("latency", 0.0))
        threading.Thread(target=self._watch, name="capture-watch", daemon=True).start()

    def _read_reply(self) -> dict[str, Any]:
        assert self._child is not None and self._child.stdout is not None
        result: dict[str, Any] = {}

        def read() -> None:
            assert self._child is not None and self._child.stdout is not None
            line = self._child.stdout.readline()
            try:
                result.update(json.loads(line))
                if "ok" not in result:
                    raise ValueError("no reply")
            except ValueError:
                result.update(
                    ok=False,
                    reason="open-failed",
                    details={"device": self.name, "error": "capture process failed"},
                )

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(START_TIMEOUT)
        if reader.is_alive():
            return {
                "ok": False,
                "reason": "open-failed",
                "details": {"device": self.name, "error": "the device did not start"},
            }
        return result

    def _watch(self) -> None:
        child = self._child
        if child is None or child.stdout is None:
            return
        for line in child.stdout:
            if '"finished"' in line:
                self._finished.set()
        self._finished.set()  # stdout closed: the child is gone

    def stop(self) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        try:
            if child.stdin is not None:
                child.stdin.close()
            child.wait(timeout=1.5)
        except (OSError, subprocess.TimeoutExpired):
            child.kill()  # a stream stuck in a dead host never returns: that is why it's a child
            child.wait(timeout=5)

    def alive(self) -> bool:
        return (
            self._child is not None and self._child.poll() is None and not self._finished.is_set()
        )


TIMING_ENV = "HOOKLINE_CALLBACK_TIMING"  # benchmarks only: where to save callback timings


TIMED_CALLBACKS = 1 << 20  # benchmarks: callbacks whose times are kept (about 1.5 h at 128)


def save_callback_timings(source: Any, ring: FrameRing, path: str) -> None:
    """Benchmarks: each callback's start and end (CLOCK_MONOTONIC ns, the clock of
    ``time.perf_counter_ns``) and the frame count after it, with the ring's counters."""
    import numpy as np

    starts, ends, written = source.params.timings()
    np.savez(path, starts=starts, ends=ends, written=written, state=ring.state.copy())


def _child_main(job: dict[str, Any]) -> None:
    from audio import callback
    from audio import ring as ring_module
    from audio.stream import DeviceInput

    spec_data = dict(job["spec"])
    spec_data["selection"] = ChannelSelection(
        **{
            "mix": spec_data["selection"]["mix"],
            "channels": tuple(spec_data["selection"]["channels"]),
        }
    )
    spec = InputSpec(**spec_data)
    ring_module.warm_up()
    ring = FrameRing.attach(
        job["shm"], int(job["capacity"]), int(job["channels"]), wake_fd=int(job.get("wake_fd", -1))
    )

    def say(message: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    timing_path = os.environ.get(TIMING_ENV)
    try:
        callback.warm_up()
        source = DeviceInput(
            spec,
            ring,
            on_finished=lambda: say({"event": "finished"}),
            timing_capacity=TIMED_CALLBACKS if timing_path else 0,
        )
        source.start()
    except StreamError as exc:
        say({"ok": False, "reason": exc.reason, "details": exc.details})
        os._exit(0)
    except Exception as exc:  # PortAudio says many things; the parent wants one answer
        say(
            {
                "ok": False,
                "reason": "open-failed",
                "details": {"device": spec.device, "error": str(exc)},
            }
        )
        os._exit(0)
    try:
        say({"ok": True, "name": source.name, "latency": source.latency})
    except Exception as exc:  # never leave the parent waiting on a reply that cannot come
        say(
            {
                "ok": False,
                "reason": "open-failed",
                "details": {"device": spec.device, "error": str(exc)},
            }
        )
        os._exit(0)
    sys.stdin.read()  # until the parent closes our stdin or dies
    stopper = threading.Thread(target=source.stop, daemon=True)
    stopper.start()
    stopper.join(1.0)
    if timing_path:
        save_callback_timings(source, ring, timing_path)
    # Skip interpreter teardown: PortAudio's at-exit clean-up can hang or abort on a dead host.
    os._exit(0)


if __name__ == "__main__":
    _child_main(json.loads(sys.argv[1]))

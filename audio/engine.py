"""The live analysis engine: an input source, the ring, and the worker thread that analyses it.

Threads:
* audio thread (PortAudio or the demo pacer) — writes the ring, nothing else;
* ``analysis-worker`` — owns the source's lifecycle and every analyser; reads hop-sized frames,
  runs the Numba kernels (which release the GIL), publishes :class:`LiveReading` values;
* readers (UI timer, CLI) — call :meth:`LiveEngine.latest` / :meth:`LiveEngine.events` only.

A device that vanishes (unplugged, JACK server gone) is noticed by a watchdog in the worker: the
source is closed, an event says so, and the worker retries opening it every second until it is
back or the user picks another input.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from audio import levels, live_music, ring, spectrum
from audio.capture import CaptureProcess
from audio.demo import DemoInput
from audio.live_music import LiveMusic, MusicReading
from audio.loudness import LoudnessMeter, LoudnessReading
from audio.loudness import warm_up as warm_up_loudness
from audio.pitch import PitchTracker, TunerReading, tuner_reading
from audio.pitch import warm_up as warm_up_pitch
from audio.results import EventQueue, LatestValue
from audio.stream import InputSource, InputSpec, StreamError

log = logging.getLogger(__name__)
SWITCH_INTERVAL_S = 0.001  # see LiveEngine.start

RING_SECONDS = 2.0
TRACE_ENV = "HOOKLINE_READING_TRACE"  # benchmarks only: save a ReadingTrace here at stop
RETRY_SECONDS = 1.0


@dataclass(frozen=True)
class EngineConfig:
    input: InputSpec = field(default_factory=InputSpec)
    reference_a: float = 440.0
    hop_seconds: float = 0.01  # the longest analysis hop wanted; see analysis_hop()
    fall_back_to_demo: bool = True  # no device at all: play the demo instead of failing


@dataclass(frozen=True, slots=True)
class LiveReading:
    """Everything the live view shows, as of stream time ``t`` (seconds of audio analysed)."""

    t: float
    tuner: TunerReading | None
    pitch_hz: float
    confidence: float
    levels: levels.LevelReading
    loudness: LoudnessReading
    spectrum: spectrum.SpectrumReading
    xruns: int
    overflows: int
    late_hops: int
    published_at: float  # time.perf_counter() when published
    music: MusicReading | None = None  # the newest key/chord/tempo reading (every ~0.5 s)


@dataclass(frozen=True, slots=True)
class EngineEvent:
    kind: str  # "started", "device-lost", "device-restored", "open-failed", "stopped"
    source: str
    detail: str = ""
    error: StreamError | None = None


def warm_up(sample_rate: int = 48000) -> float:
    """Compile or load every kernel the worker uses; returns the seconds it took."""
    start = time.perf_counter()
    ring.warm_up()
    levels.warm_up()
    spectrum.warm_up()
    warm_up_loudness()
    warm_up_pitch(sample_rate)
    live_music.warm_up()
    return time.perf_counter() - start


def analysis_hop(sample_rate: int, block_size: int, hop_seconds: float) -> int:
    """Frames per analysis hop: a whole number of device blocks, as many as fit in
    ``hop_seconds`` and at least one.

    A hop that ends where a block ends is complete the moment that block lands, so no reading
    waits for part of the next block: with 512-frame blocks at 48 kHz a 480-frame hop would
    have waited 10.7 ms for most of its samples; a 512-frame hop waits for none. Blocks longer
    than ``hop_seconds`` give one reading per block.
    """
    if sample_rate <= 0 or block_size <= 0 or hop_seconds <= 0:
        raise ValueError("rate, block size and hop must be positive")
    return block_size * max(1, int(sample_rate * hop_seconds // block_size))


class ReadingTrace:
    """Benchmark instrumentation: for each published reading, the stream frame count, when the
    worker took its hop from the ring and when the reading was published (perf_counter_ns), in
    preallocated arrays. Assign to ``LiveEngine.trace`` before ``start()``."""

    def __init__(self, capacity: int = 1 << 18) -> None:
        self.frames = np.zeros(capacity, dtype=np.int64)
        self.taken_ns = np.zeros(capacity, dtype=np.int64)
        self.published_ns = np.zeros(capacity, dtype=np.int64)
        self.count = 0

    def record(self, frames: int, taken_ns: int) -> None:
        if self.count < self.frames.shape[0]:
            self.frames[self.count] = frames
            self.taken_ns[self.count] = taken_ns
            self.published_ns[self.count] = time.perf_counter_ns()
            self.count += 1


class LiveEngine:
    def __init__(self, config: EngineConfig) -> None:
        config.input.validate()
        self.config = config
        spec = config.input
        self.sample_rate = spec.sample_rate
        self.channels = spec.selection.analysed_channels()
        self.hop = analysis_hop(spec.sample_rate, spec.block_size, config.hop_seconds)
        self.ring = ring.FrameRing(
            int(spec.sample_rate * RING_SECONDS), self.channels, shared=True, wake=True
        )
        self._latest: LatestValue[LiveReading] = LatestValue()
        self._music: LatestValue[MusicReading] = LatestValue()
        self.live_music: LiveMusic | None = None  # the worker's; read its counters only
        self.events: EventQueue[EngineEvent] = EventQueue()
        self.spectrogram: EventQueue[np.ndarray] = EventQueue(maxlen=1024)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._source: InputSource | None = None
        self.source_name = ""
        self.device_ok = False
        self.late_hops = 0
        self._reset_requested = threading.Event()
        self._retry = True
        self.reference_a = config.reference_a  # read by the worker at every reading
        self.trace: ReadingTrace | None = None  # benchmarks: record when each reading appeared
        self._trace_path = ""

    # ---- control (main thread) ----
    def start(self) -> None:
        # The worker has a 10 ms hop to publish in. Other Python threads (the window, the
        # key/chord/tempo thread) hold the GIL in turns of up to the switch interval, 5 ms by
        # default: half a hop lost each time one of them is busy. 1 ms bounds that wait.
        if sys.getswitchinterval() > SWITCH_INTERVAL_S:
            sys.setswitchinterval(SWITCH_INTERVAL_S)
        trace_path = os.environ.get(TRACE_ENV)
        if trace_path and self.trace is None:
            self.trace = ReadingTrace()
            self._trace_path = trace_path
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="analysis-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.ring.close()
        if self.trace is not None and self._trace_path:
            n = self.trace.count
            np.savez(
                self._trace_path,
                frames=self.trace.frames[:n],
                taken_ns=self.trace.taken_ns[:n],
                published_ns=self.trace.published_ns[:n],
                rate=self.sample_rate,
                hop=self.hop,
                late_hops=self.late_hops,
            )

    def reset_loudness(self) -> None:
        """Ask the worker to clear integrated loudness, LRA, true peak and peak holds."""
        self._reset_requested.set()

    @property
    def retrying(self) -> bool:
        """Whether the worker keeps trying to open the input (a missing or lost device), as
        opposed to having given up on a setting that cannot work (rate, channels)."""
        return self._retry

    def set_reference_a(self, hz: float) -> None:
        """Change the tuner's reference pitch (415–466 Hz) while running."""
        if not 415.0 <= hz <= 466.0:
            raise ValueError("reference A must be between 415 and 466 Hz")
        self.reference_a = float(hz)

    def latest(self) -> LiveReading | None:
        return self._latest.get()

    def music(self) -> MusicReading | None:
        """The newest key, chord, tempo and beat reading (about every 0.5 s), or None."""
        return self._music.get()

    def wait_reading(self, version: int, timeout: float) -> tuple[LiveReading | None, int]:
        return self._latest.wait_newer(version, timeout)

    # ---- worker thread ----
    def _open_source(self) -> InputSource:
        spec = self.config.input
        if spec.device == "demo":
            demo = DemoInput(self.ring, spec.sample_rate, spec.block_size)
            demo.start()
            return demo
        try:
            source = CaptureProcess(spec, self.ring)
            source.start()
            return source
        except StreamError as exc:
            if (
                exc.reason in ("no-audio", "no-device")
                and spec.device == ""
                and self.config.fall_back_to_demo
            ):
                log.warning("no audio input device; playing the demo input")
                demo = DemoInput(self.ring, spec.sample_rate, spec.block_size)
                demo.start()
                return demo
            raise

    def _try_open(self, retry: bool) -> bool:
        """Open and start the source. A first failure is reported as an event; a retry after a
        device loss re-scans the devices first and fails quietly."""
        try:
            source = self._open_source()
        except StreamError as exc:
            if not retry:
                log.warning(
                    "could not open input %r: %s %s",
                    self.config.input.device,
                    exc.reason,
                    exc.details,
                )
                self.events.put(
                    EngineEvent("open-failed", self.config.input.device, exc.reason, exc)
                )
                # A wrong rate or channel count will not fix itself; a missing device may.
                self._retry = exc.reason in ("no-device", "no-audio", "open-failed")
            return False
        except Exception as exc:  # PortAudio may fail in many ways while a server comes back
            log.debug("reopening the input failed: %s", exc)
            return False
        self._source = source
        self.source_name = source.name
        self.device_ok = True
        self.events.put(EngineEvent("device-restored" if retry else "started", source.name))
        log.info("input %s running", source.name)
        return True

    def _close_source(self) -> None:
        if self._source is not None:
            self._source.stop()
            self._source = None
        self.device_ok = False

    def _run(self) -> None:
        try:
            warm_up(self.sample_rate)  # here, not in start(): the caller's thread never waits
            self._analyse()
        except Exception:
            log.exception("the analysis worker failed")
            self.events.put(EngineEvent("stopped", self.source_name, "worker-error"))
        finally:
            self._close_source()

    def _analyse(self) -> None:
        rate, hop, channels = self.sample_rate, self.hop, self.channels
        pitch = PitchTracker(rate)
        analyser = spectrum.SpectrumAnalyzer(rate)
        level_meter = levels.LevelMeter(rate, channels, hop)
        loudness = LoudnessMeter(rate, channels)
        history = np.zeros(max(pitch.frame_size, analyser.fft_size, hop), dtype=np.float32)
        music = LiveMusic(rate, self._music)  # its heavy part runs on its own thread
        self.live_music = music
        try:
            self._analyse_hops(pitch, analyser, level_meter, loudness, history, music)
        finally:
            music.close()

    def _analyse_hops(
        self,
        pitch: PitchTracker,
        analyser: spectrum.SpectrumAnalyzer,
        level_meter: levels.LevelMeter,
        loudness: LoudnessMeter,
        history: np.ndarray,
        music: LiveMusic,
    ) -> None:
        rate, hop, channels = self.sample_rate, self.hop, self.channels
        block = np.zeros((hop, channels), dtype=np.float32)
        mono = np.zeros(hop, dtype=np.float32)
        state = self.ring.state
        # Woken by the producer when the hop is complete; the timeout is a fallback only.
        wait = max(ring.POLL_SECONDS, 2 * self.config.input.block_size / rate)
        watchdog = max(0.5, 20 * self.config.input.block_size / rate)
        hops_done = 0
        last_written, last_progress = 0, time.monotonic()

        self._try_open(retry=False)
        next_retry = time.monotonic() + RETRY_SECONDS
        while not self._stop.is_set():
            now = time.monotonic()
            if self._source is None:
                if self._retry and now >= next_retry:
                    next_retry = now + RETRY_SECONDS
                    if self._try_open(retry=True):
                        last_progress = time.monotonic()
                self._stop.wait(0.05)
                continue
            if self._reset_requested.is_set():
                self._reset_requested.clear()
                loudness.reset()
                level_meter.reset()
                analyser.reset()
            if not ring.ring_read(self.ring.buffer, state, block, hop):
                written = int(state[ring.WRITTEN])
                if written != last_written:
                    last_written, last_progress = written, now
                elif now - last_progress > watchdog or not self._source.alive():
                    log.warning("input %s stopped delivering audio", self.source_name)
                    self._close_source()
                    self.events.put(EngineEvent("device-lost", self.source_name))
                    next_retry = now + RETRY_SECONDS
                    continue
                self.ring.wait_for(int(state[ring.READ]) + hop, wait)
                continue
            taken_ns = time.perf_counter_ns() if self.trace is not None else 0
            # Behind means more than one device block beyond this hop is waiting; a block that
            # simply carries two hops is not late.
            backlog = self.ring.available() >= hop + self.config.input.block_size
            level_meter.process(block)
            loudness.process(block)
            np.mean(block, axis=1, out=mono)
            music.feed(mono)
            history[:-hop] = history[hop:]
            history[-hop:] = mono
            hops_done += 1
            if backlog:  # behind: keep levels and loudness exact, skip the per-hop displays
                self.late_hops += 1
                continue
            hz, confidence = pitch.estimate(history[-pitch.frame_size :])
            voiced = bool(hz > 0.0)
            shown = analyser.process(history, hop / rate)
            self.spectrogram.put(shown.level_db)
            counters = state
            self._latest.set(
                LiveReading(
                    t=hops_done * hop / rate,
                    tuner=tuner_reading(hz, confidence, self.reference_a) if voiced else None,
                    pitch_hz=float(hz) if voiced else 0.0,
                    confidence=float(confidence),
                    levels=level_meter.reading(),
                    loudness=loudness.reading(),
                    spectrum=shown,
                    xruns=int(counters[ring.FLAGGED]),
                    overflows=int(counters[ring.OVERFLOWS]),
                    late_hops=self.late_hops,
                    published_at=time.perf_counter(),
                    music=self._music.get(),
                )
            )
            if self.trace is not None:
                self.trace.record(hops_done * hop, taken_ns)

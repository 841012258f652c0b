"""The bound that the live EBU test falls back on when JACK xruns disturbed every try: a splice
of the EBU tone read by our true-peak meter never exceeds ``SPLICED_TRUE_PEAK_DBTP``."""

from __future__ import annotations

import numpy as np

from audio.loudness import true_peak
from tests.audio.test_live_jack import RATE, SPLICED_TRUE_PEAK_DBTP
from tests.support import signals


def test_a_splice_of_the_ebu_tone_stays_under_the_bound() -> None:
    tone = signals.ebu_tone(4.0, RATE).astype(np.float32)
    rng = np.random.default_rng(7)
    peaks = []
    for _ in range(60):
        cut, skip = int(rng.integers(10_000, 100_000)), int(rng.integers(1, RATE))
        spliced = np.concatenate([tone[:cut], tone[cut + skip : cut + skip + RATE]])
        gap = tone[: 2 * RATE].copy()
        gap[cut % RATE : cut % RATE + 256] = 0.0
        peaks += [true_peak(spliced, RATE), true_peak(gap, RATE)]
    assert max(peaks) <= SPLICED_TRUE_PEAK_DBTP
    # The splices are real discontinuities: the worst reads more than 1 dB over the clean tone.
    assert max(peaks) > -22.0

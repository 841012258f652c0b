"""Waits between retries: exponential, capped, with jitter so that many clients that lost the
server at the same moment do not all come back at the same moment."""

from __future__ import annotations

import random


class Backoff:
    """The n-th wait (n = 0, 1, ...) is drawn uniformly from [d/2, d] with
    d = min(``cap_s``, ``first_s`` * 2**n) ("equal jitter"): never shorter than half the step,
    never longer than the cap. :meth:`reset` after a success starts again at ``first_s``."""

    def __init__(
        self, first_s: float = 0.5, cap_s: float = 30.0, rng: random.Random | None = None
    ) -> None:
        if first_s <= 0 or cap_s < first_s:
            raise ValueError("need 0 < first_s <= cap_s")
        self.first_s = first_s
        self.cap_s = cap_s
        self.failures = 0
        self._rng = rng or random.Random()

    def next_wait(self) -> float:
        step = min(self.cap_s, self.first_s * 2.0 ** min(self.failures, 60))
        self.failures += 1
        return step / 2 + self._rng.uniform(0.0, step / 2)

    def reset(self) -> None:
        self.failures = 0

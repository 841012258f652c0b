"""Password hashes, opaque tokens and the login rate limit.

Passwords are hashed with argon2id (argon2-cffi). Hashing and verifying take tens of milliseconds
of CPU on purpose; callers run them in worker threads, never on the event loop. Tokens are 32
random bytes (URL-safe base64); the database keeps only their SHA-256 hex digest.
"""

from __future__ import annotations

import collections
import hashlib
import math
import secrets
import threading
import time
import uuid

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


def new_id() -> str:
    return uuid.uuid4().hex


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class Passwords:
    def __init__(self, time_cost: int, memory_kib: int, parallelism: int) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism
        )
        # Verified when the email is unknown, so both answers take the same time.
        self._dummy = self._hasher.hash(new_token())

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored or self._dummy, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False


class LoginLimiter:
    """Failed logins per key (an email, a client address) within a sliding window.

    In-memory and per process: several server processes each count on their own.
    """

    MAX_KEYS = 100_000

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._failures: collections.OrderedDict[str, collections.deque[float]] = (
            collections.OrderedDict()
        )
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> collections.deque[float]:
        failures = self._failures.get(key)
        if failures is None:
            return collections.deque()
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        return failures

    def retry_after(self, limits: dict[str, int], now: float | None = None) -> int:
        """Seconds to wait when any key has reached its limit, else 0."""
        now = time.time() if now is None else now
        wait = 0.0
        with self._lock:
            for key, limit in limits.items():
                failures = self._recent(key, now)
                if len(failures) >= limit:
                    wait = max(wait, failures[len(failures) - limit] + self.window_s - now)
        return max(1, math.ceil(wait)) if wait > 0 else 0

    def failed(self, keys: list[str], now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._lock:
            for key in keys:
                failures = self._recent(key, now)
                failures.append(now)
                self._failures[key] = failures
                self._failures.move_to_end(key)
            while len(self._failures) > self.MAX_KEYS:
                self._failures.popitem(last=False)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

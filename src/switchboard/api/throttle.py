"""Login throttling: slow down password guessing, per account name and per client address.

After ``free`` failures within ``window`` seconds, each further attempt must wait an
exponentially growing delay (1 s, 2 s, 4 s ... capped at ``max_delay``). Tracking the
address *and* the name stops both one address trying many names and many addresses
trying one name. In-process memory: with several workers each counts on its own, which
still bounds the guess rate to workers x this rate. A success clears the name's record.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class _Record:
    failures: list[float] = field(default_factory=list)
    locked_until: float = 0.0


class LoginThrottle:
    def __init__(self, *, free: int = 5, window: float = 900.0, max_delay: float = 300.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.free = free
        self.window = window
        self.max_delay = max_delay
        self._records: dict[str, _Record] = {}

    def _keys(self, username: str, address: str) -> tuple[str, str]:
        return f"user:{username.strip().lower()}", f"addr:{address}"

    def retry_after(self, username: str, address: str) -> float:
        """Seconds to wait before another attempt is allowed (0 = go ahead)."""
        now = self.clock()
        wait = 0.0
        for key in self._keys(username, address):
            record = self._records.get(key)
            if record is not None:
                wait = max(wait, record.locked_until - now)
        return max(wait, 0.0)

    def failed(self, username: str, address: str) -> None:
        now = self.clock()
        if len(self._records) > 50_000:
            self._records.clear()
        for key in self._keys(username, address):
            record = self._records.setdefault(key, _Record())
            record.failures = [t for t in record.failures if now - t < self.window]
            record.failures.append(now)
            excess = len(record.failures) - self.free
            if excess > 0:
                record.locked_until = now + min(2.0 ** (excess - 1), self.max_delay)

    def succeeded(self, username: str) -> None:
        self._records.pop(self._keys(username, "")[0], None)

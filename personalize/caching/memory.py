"""Process memory for one version of the shared state: dropped at once when the version moves."""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

#: Most entries one memory holds (it starts over when full).
MEMORY_SIZE = 4096

K = TypeVar("K")
V = TypeVar("V")


class VersionedMemory(Generic[K, V]):
    """Process memory by key, for one version; dropped when the version moves."""

    def __init__(self, size: int = MEMORY_SIZE) -> None:
        self._lock = threading.Lock()
        self.size = size
        self.version: int | None = None
        self.items: dict[K, V] = {}

    def get(self, version: int, key: K) -> tuple[bool, V | None]:
        """``(True, value)`` when ``key`` is remembered for ``version``, else ``(False, None)``."""
        with self._lock:
            if version != self.version:
                return False, None
            if key in self.items:
                return True, self.items[key]
            return False, None

    def put(self, version: int, key: K, value: V) -> None:
        """Remember ``value`` for ``version`` (forgetting any other version's)."""
        with self._lock:
            if version != self.version:
                self.version, self.items = version, {}
            if len(self.items) >= self.size:
                self.items.clear()
            self.items[key] = value

    def reset(self) -> None:
        """Forget everything."""
        with self._lock:
            self.version, self.items = None, {}

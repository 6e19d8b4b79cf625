"""Answers kept in memory until what they are made of changes (reports, desk pages)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class Kept(Generic[V]):
    """Values by key within a budget, counted by `size` (claims, bytes), the least recently
    used dropped first; a value larger than the budget is never kept (0 keeps none).

    Keys name what a value is made of (an event's version, app.services.changes), so a kept
    value is never stale: a change makes a new key, and the old value ages out. One per
    process; safe to share between request threads.
    """

    def __init__(self, budget: int, size: Callable[[V], int]) -> None:
        self._budget, self._size = budget, size
        self._values: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            found = self._values.get(key)
            if found is None:
                return None
            self._values.move_to_end(key)
            return found[0]

    def put(self, key: Hashable, value: V) -> V:
        """Keep `value` (unless it is too large or the key is kept already); return it."""
        size = self._size(value)
        with self._lock:
            if size > self._budget or key in self._values:
                return value
            self._values[key] = (value, size)
            self._held += size
            while self._held > self._budget:
                _, (_, dropped) = self._values.popitem(last=False)
                self._held -= dropped
        return value

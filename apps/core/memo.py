"""What this process read recently, kept for a few seconds per key: for reads every chat turn repeats."""

from __future__ import annotations

import time
from typing import Any


class TimedMemo:
    """Values per key, each kept for `seconds` after it was put (dict operations are atomic under the GIL)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._values: dict[Any, tuple[float, Any]] = {}

    def get(self, key: Any) -> Any | None:
        """The value put under `key` less than `seconds` ago, else None."""
        kept = self._values.get(key)
        if kept is None or time.monotonic() - kept[0] >= self.seconds:
            return None
        return kept[1]

    def put(self, key: Any, value: Any) -> Any:
        self._values[key] = (time.monotonic(), value)
        return value

    def forget(self, key: Any = None) -> None:
        """Drop the value of `key`; of every key when None."""
        if key is None:
            self._values.clear()
        else:
            self._values.pop(key, None)

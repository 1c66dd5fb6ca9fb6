"""A process's short memory of recent reads: kept for its seconds, forgotten on demand."""

from __future__ import annotations

from apps.core import memo
from apps.core.memo import TimedMemo


def test_a_value_is_kept_for_its_seconds_and_forgotten_on_demand(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(memo.time, "monotonic", lambda: now[0])
    kept = TimedMemo(1.0)
    assert kept.put("acme", {"size": 3}) == {"size": 3}
    now[0] = 100.9
    assert kept.get("acme") == {"size": 3}
    now[0] = 101.0
    assert kept.get("acme") is None  # a second old: read again
    kept.put("acme", 1)
    kept.put("globex", 2)
    kept.forget("acme")
    assert (kept.get("acme"), kept.get("globex")) == (None, 2)
    kept.forget()
    assert kept.get("globex") is None

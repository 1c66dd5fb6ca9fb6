"""Recording events in the same transaction as the change that causes them."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from apps.events.models import Event, EventType

# Called with each new event inside the recording transaction. The outbox registers one that
# writes a delivery row per subscribed endpoint, so event and deliveries commit (or fail) together.
EventHook = Callable[[Event], None]
_hooks: list[EventHook] = []


def event_hook(func: EventHook) -> EventHook:
    """Decorator: run `func(event)` inside the transaction of every event_record call."""
    if func not in _hooks:
        _hooks.append(func)
    return func


# savepoint=False: it runs inside the change's transaction on every write that has an event (a hot path:
# a savepoint costs two round trips), and a failure here must fail that whole change anyway.
@transaction.atomic(savepoint=False)
def event_record(*, type: str, data: dict) -> Event:
    """Record an event of the current tenant's schema. Call it inside the change's transaction."""
    if type not in EventType.values:
        raise ValueError(f"Unknown event type {type!r}")
    event = Event.objects.create(type=type, data=data)
    for hook in _hooks:
        hook(event)
    return event

"""What untrusted text and JSON must be before they reach PostgreSQL, and JSON parsing that cannot crash.

PostgreSQL refuses two things Python strings may hold: a NUL character (text columns and jsonb) and
an unpaired UTF-16 surrogate such as "\\ud800" (not encodable as UTF-8; JSON's "\\ud800" escape makes
one). Nor does jsonb take the Infinity that json.loads makes of 1e400. Reaching the database, each
was a 500 and sometimes half a write; checked at the edge, each is a 400 or an error frame naming
the field. Deeply nested JSON ([[[…]]], a few hundred KB) makes json.loads raise RecursionError,
which is not a ValueError: `json_parse` turns it into one.

DRF's CharField and Django's form fields refuse a NUL (and DRF's a surrogate) by themselves, naming
the field. These are for what takes text or JSON without them: a websocket frame, a view's own JSON,
a free-form JSON field, a lookup by a value from a URL.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any


def text_storable(value: str) -> bool:
    """Whether PostgreSQL can store `value` in a text column: no NUL, no unpaired surrogate."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


UNSTORABLE_TEXT = "must not contain NUL characters or unpaired surrogates"


def _leaves(value: Any) -> Iterator[Any]:
    """Every string (keys too) and number of a parsed JSON value, without recursion."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
        else:
            yield item


def json_storable(value: Any) -> bool:
    """Whether jsonb can store `value`: every string and key storable text, every number finite."""
    return all(
        text_storable(leaf) if isinstance(leaf, str) else not isinstance(leaf, float) or math.isfinite(leaf)
        for leaf in _leaves(value)
    )


def json_parse(raw: str | bytes, **kwargs: Any) -> Any:
    """json.loads, where JSON nested too deeply to parse is a ValueError like any other invalid JSON."""
    try:
        return json.loads(raw, **kwargs)
    except RecursionError:
        raise ValueError("The JSON is nested too deeply.") from None

"""What untrusted text and JSON must be before they reach PostgreSQL (apps/core/text.py)."""

from __future__ import annotations

import pytest

from apps.core.text import json_parse, json_storable, text_storable


@pytest.mark.parametrize(
    ("value", "storable"),
    [("hello", True), ("héllo ✓ 🏠", True), ("", True), ("a\x00b", False), ("a\ud800b", False), ("\udfff", False)],
)
def test_text_storable(value, storable):
    assert text_storable(value) is storable


@pytest.mark.parametrize(
    ("value", "storable"),
    [
        ({"a": [1, 2.5, {"b": "ok"}]}, True),
        ({"a": [{"b": "x\x00"}]}, False),
        ({"k\x00": 1}, False),
        ({"a": float("inf")}, False),
        ([{"deep": ["\ud800"]}], False),
        ({"\udc00": 1}, False),
    ],
)
def test_json_storable_looks_at_every_string_key_and_number(value, storable):
    assert json_storable(value) is storable


def test_json_parse_makes_nesting_too_deep_a_value_error():
    assert json_parse('{"a": [1, 2]}') == {"a": [1, 2]}
    with pytest.raises(ValueError, match="nested too deeply"):
        json_parse("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ValueError):
        json_parse("{bad")


def test_a_deep_value_is_walked_without_recursion():
    deep: list = []
    for _ in range(50_000):
        deep = [deep]
    assert json_storable(deep)

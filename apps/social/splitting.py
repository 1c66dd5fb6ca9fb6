"""Splitting a reply to the platforms' length limits, on word boundaries."""

from __future__ import annotations

from collections.abc import Callable

from apps.socialrouting.models import Platform

# Messenger: message.text up to 2,000 characters. Counted in UTF-16 units, which is never less than
# the number of characters, so an emoji-heavy reply stays under the limit however Meta counts.
MESSENGER_MAX_CHARS = 2000
# Instagram: up to 1,000 bytes of UTF-8.
INSTAGRAM_MAX_BYTES = 1000
WHITESPACE = (" ", "\n", "\t")


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _utf8_bytes(text: str) -> int:
    return len(text.encode("utf-8"))


def _longest_prefix(text: str, limit: int, size: Callable[[str], int]) -> int:
    """The largest n with size(text[:n]) <= limit (size grows with n, so a binary search finds it)."""
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if size(text[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    return low


def split_text(text: str, *, limit: int, size: Callable[[str], int] = len) -> list[str]:
    """Pieces of `text`, each at most `limit` by `size`, cut at the last whitespace that fits.

    A single word longer than the limit (a long URL) is cut where it must be.
    """
    text = text.strip()
    pieces: list[str] = []
    while text:
        if size(text) <= limit:
            pieces.append(text)
            break
        fits = _longest_prefix(text, limit, size)
        # Whitespace right after the fitting prefix is a boundary too, hence fits + 1.
        window = text[: fits + 1]
        boundary = max(window.rfind(mark) for mark in WHITESPACE)
        cut = boundary if boundary > 0 else max(fits, 1)
        piece = text[:cut].rstrip()
        if piece:
            pieces.append(piece)
        text = text[cut:].lstrip()
    return pieces


def split_message(text: str, *, platform: str) -> list[str]:
    if platform == Platform.INSTAGRAM:
        return split_text(text, limit=INSTAGRAM_MAX_BYTES, size=_utf8_bytes)
    return split_text(text, limit=MESSENGER_MAX_CHARS, size=_utf16_units)

"""Newest-first paging over seeded activity (time-ordered arrays) merged with activity added
through the API, with opaque cursors that stay valid when newer activity arrives."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

# Order key, compared descending: (time, 1, seq) for added rows, (time, 0, -position) for seeded.
Key = tuple[int, int, int]


@dataclass
class Added(Generic[T]):
    at_ms: int
    seq: int
    item: T


def encode_cursor(key: Key) -> str:
    raw = f"{key[0]}:{key[1]}:{key[2]}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> Key | None:
    try:
        padded = text + "=" * (-len(text) % 4)
        a, b, c = base64.urlsafe_b64decode(padded.encode()).decode().split(":")
        return int(a), int(b), int(c)
    except (ValueError, UnicodeDecodeError):
        return None


def _first_seeded_below(positions: Sequence[int], at: Callable[[int], int], bound: Key) -> int:
    """Index of the first seeded row whose key is below `bound` (rows are in descending order)."""
    lo, hi = 0, len(positions)
    while lo < hi:
        mid = (lo + hi) // 2
        pos = positions[mid]
        if (at(pos), 0, -pos) < bound:
            hi = mid
        else:
            lo = mid + 1
    return lo


def iterate_desc(
    positions: Sequence[int],
    at: Callable[[int], int],
    added: Sequence[Added[T]],
    cursor: Key | None,
    end_ms: int | None,
) -> Iterator[tuple[Key, int | None, T | None]]:
    """(key, seeded position or None, added item or None), newest first, after `cursor`."""
    bound: Key = cursor if cursor is not None else (2**62, 2, 0)
    if end_ms is not None and (end_ms, 2, 0) < bound:
        bound = (end_ms, 2, 0)
    i = _first_seeded_below(positions, at, bound)
    j = len(added) - 1
    while j >= 0 and (added[j].at_ms, 1, added[j].seq) >= bound:
        j -= 1
    n = len(positions)
    while i < n or j >= 0:
        seeded_key: Key | None = None
        if i < n:
            pos = positions[i]
            seeded_key = (at(pos), 0, -pos)
        added_key: Key | None = (added[j].at_ms, 1, added[j].seq) if j >= 0 else None
        if added_key is not None and (seeded_key is None or added_key > seeded_key):
            yield added_key, None, added[j].item
            j -= 1
        else:
            assert seeded_key is not None
            yield seeded_key, positions[i], None
            i += 1

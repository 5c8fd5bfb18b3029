"""Paginators and cursors as small, I/O-free objects: each says what to ask for next.

- `AfterCursor`: CRM list/owners/forms/submissions paging via `paging.next.after`.
- `OffsetCursor`: the v1 email-events endpoint's opaque `offset` + `hasMore`.
- `ModifiedSinceCursor`: contacts search on lastmodifieddate, ascending, that never hits
  the 10,000-result cap, never returns an id twice, survives records moving while it
  pages, and splits on hs_object_id when a page's worth of contacts share one timestamp.

Every cursor refuses to repeat itself: a request it already made raises PaginationError.
`read_ahead` runs any page iterator one page ahead of its consumer.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from leadscore.gateway.errors import PaginationError

T = TypeVar("T")

SEARCH_RESULT_CAP = 10_000
"""HubSpot search returns at most this many results per query (paging past it is a 400)."""


class AfterCursor:
    """Follows an opaque `after` token until the server stops returning one."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.after: str | None = None
        self.done = False
        self._seen: set[str] = set()

    def advance(self, next_after: str | None) -> None:
        """Record the `after` token of the page just read (None/"" ends the listing)."""
        if not next_after:
            self.done = True
            return
        if next_after in self._seen:
            raise PaginationError(f"{self.what}: paging cursor {next_after!r} repeated")
        self._seen.add(next_after)
        self.after = next_after

    def pages(self, fetch: Callable[[str | None], tuple[list[T], str | None]]) -> Iterator[list[T]]:
        """Drive `fetch(after) -> (items, next_after)` to the end, yielding non-empty pages."""
        while not self.done:
            items, next_after = fetch(self.after)
            self.advance(next_after)
            if items:
                yield items


class OffsetCursor:
    """The v1 `offset` + `hasMore` protocol; the offset is opaque and must not repeat."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.offset: str | None = None
        self.done = False
        self._seen: set[str] = set()

    def advance(self, has_more: bool, next_offset: str | None) -> None:
        if not has_more or not next_offset:
            self.done = True
            return
        if next_offset in self._seen:
            raise PaginationError(f"{self.what}: offset {next_offset!r} repeated")
        self._seen.add(next_offset)
        self.offset = next_offset

    def pages(
        self, fetch: Callable[[str | None], tuple[list[T], bool, str | None]]
    ) -> Iterator[list[T]]:
        """Drive `fetch(offset) -> (items, has_more, next_offset)` to the end."""
        while not self.done:
            items, has_more, next_offset = fetch(self.offset)
            self.advance(has_more, next_offset)
            if items:
                yield items


@dataclass(frozen=True, slots=True)
class SearchFilter:
    """One search filter (HubSpot operator names: GTE, GT, EQ)."""

    property: str
    operator: str
    value: str


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """One search request: AND-ed filters, one ascending sort, always from the first result."""

    filters: tuple[SearchFilter, ...]
    sort_property: str
    limit: int


@dataclass(frozen=True, slots=True)
class SearchHit(Generic[T]):
    """What the cursor needs to know about one search result, plus the record itself."""

    id: str
    timestamp: int
    record: T


class ModifiedSinceCursor(Generic[T]):
    """Keyset paging over `timestamp_property >= since`, ascending, each id once.

    Why keyset instead of HubSpot's offset `after`: the offset points into a live result
    set, so a contact modified while we page moves to the end and shifts every later
    result one place back, silently skipping one. Here each page is a fresh query from
    the last timestamp seen (ids already returned are dropped), so the 10,000-result cap
    is never approached and a moved record simply shows up again later (and is de-duplicated).
    When a whole page shares the boundary timestamp the cursor cannot advance by time, so it
    switches to `timestamp == t AND id > last id` sorted by id, then resumes at `> t`.
    """

    def __init__(
        self,
        since_ms: int,
        *,
        page_size: int = 200,
        timestamp_property: str = "lastmodifieddate",
        id_property: str = "hs_object_id",
    ) -> None:
        if not 1 <= page_size <= 200:
            raise ValueError("search pages hold 1..200 results")
        self.page_size = page_size
        self.timestamp_property = timestamp_property
        self.id_property = id_property
        self.floor = since_ms
        self.tie_timestamp: int | None = None
        self.tie_after_id = 0
        self.done = False
        self.seen: set[str] = set()
        self.queries = 0
        self._asked: set[tuple[int | None, int]] = set()

    def peek_query(self) -> SearchQuery:
        """The request `next_query` would return, without taking it."""
        return self._build()[1]

    def next_query(self) -> SearchQuery | None:
        """The next request to send, or None when every matching record was returned."""
        if self.done:
            return None
        key, query = self._build()
        if key in self._asked:
            raise PaginationError(
                f"contacts search: cursor stopped advancing at {self.timestamp_property}="
                f"{self.tie_timestamp if self.tie_timestamp is not None else self.floor}"
            )
        self._asked.add(key)
        self.queries += 1
        return query

    def _build(self) -> tuple[tuple[int | None, int], SearchQuery]:
        if self.tie_timestamp is None:
            return (None, self.floor), SearchQuery(
                (SearchFilter(self.timestamp_property, "GTE", str(self.floor)),),
                self.timestamp_property,
                self.page_size,
            )
        return (self.tie_timestamp, self.tie_after_id), SearchQuery(
            (
                SearchFilter(self.timestamp_property, "EQ", str(self.tie_timestamp)),
                SearchFilter(self.id_property, "GT", str(self.tie_after_id)),
            ),
            self.id_property,
            self.page_size,
        )

    def advance(self, hits: list[SearchHit[T]], has_more: bool) -> list[T]:
        """Take one page of results (as returned, ascending) and return the records not yet seen."""
        fresh: list[T] = []
        for hit in hits:
            if hit.id not in self.seen:
                self.seen.add(hit.id)
                fresh.append(hit.record)
        if self.tie_timestamp is not None:
            self._advance_tie(hits, has_more)
        else:
            self._advance_range(hits, has_more)
        return fresh

    def _advance_range(self, hits: list[SearchHit[T]], has_more: bool) -> None:
        if not has_more or not hits:
            self.done = True
            return
        last = hits[-1].timestamp
        if last > self.floor:
            self.floor = last
        else:
            # A full page at the floor timestamp: time alone cannot move us on.
            self.tie_timestamp = self.floor
            self.tie_after_id = 0

    def _advance_tie(self, hits: list[SearchHit[T]], has_more: bool) -> None:
        assert self.tie_timestamp is not None
        if has_more and hits:
            self.tie_after_id = max(self.tie_after_id, max(_numeric_id(h.id) for h in hits))
            return
        # Every record at the tie timestamp is read: continue strictly after it.
        self.floor = self.tie_timestamp + 1
        self.tie_timestamp = None
        self.tie_after_id = 0


def _numeric_id(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise PaginationError(f"contacts search: non-numeric object id {value!r}") from None


_DONE = object()


def read_ahead(pages: Iterator[T], *, name: str = "hubspot-read-ahead") -> Iterator[T]:
    """Yield `pages`, fetching the next page in a background thread while the caller works.

    Paging is sequential (each cursor comes from the previous answer), so the request rate
    of a read is one per round trip; overlapping the caller's processing with the next
    request keeps it there instead of round trip + processing time. Errors surface at the
    page where they happened. Closing early stops after the page in flight.
    """
    slots: queue.Queue[object] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def produce() -> None:
        try:
            for page in pages:
                while not stop.is_set():
                    try:
                        slots.put(page, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            _offer(_DONE)
        except BaseException as exc:  # handed to the consumer, raised there
            _offer(exc)
        finally:
            close = getattr(pages, "close", None)
            if close is not None:
                close()

    def _offer(item: object) -> None:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    worker = threading.Thread(target=produce, name=name, daemon=True)
    worker.start()
    try:
        while True:
            item = slots.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join(timeout=5)

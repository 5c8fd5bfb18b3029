"""Paginators and cursors, driven against small in-memory backends with HubSpot's semantics."""

from __future__ import annotations

import heapq
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from leadscore.gateway.errors import PaginationError
from leadscore.gateway.paging import (
    SEARCH_RESULT_CAP,
    AfterCursor,
    ModifiedSinceCursor,
    OffsetCursor,
    SearchHit,
    SearchQuery,
    read_ahead,
)


@dataclass
class Record:
    id: int
    ts: int


class FakeSearch:
    """HubSpot contacts search over a live table: GTE/GT/EQ filters, one ascending sort
    (ties by id), offset paging capped at 10,000 results, and hooks to mutate between calls."""

    def __init__(self, records: list[Record]) -> None:
        self.records = {r.id: r for r in records}
        self.calls = 0
        self.before_each: Callable[[FakeSearch], None] | None = None

    def search(self, query: SearchQuery, after: int = 0) -> tuple[list[SearchHit[Record]], bool]:
        if after + query.limit > SEARCH_RESULT_CAP:
            raise AssertionError("HubSpot would answer 400: paging past 10,000 results")
        if self.before_each:
            self.before_each(self)
        self.calls += 1
        rows = list(self.records.values())
        for f in query.filters:
            value = int(f.value)
            get = (lambda r: r.ts) if f.property == "lastmodifieddate" else (lambda r: r.id)
            op = {"GTE": int.__ge__, "GT": int.__gt__, "EQ": int.__eq__}[f.operator]
            rows = [r for r in rows if op(get(r), value)]
        key = (
            (lambda r: (r.ts, r.id))
            if query.sort_property == "lastmodifieddate"
            else (lambda r: r.id)
        )
        page = heapq.nsmallest(after + query.limit, rows, key=key)[after:]
        hits = [SearchHit(str(r.id), r.ts, Record(r.id, r.ts)) for r in page]
        return hits, after + query.limit < len(rows)

    def touch(self, record_id: int, ts: int) -> None:
        self.records[record_id].ts = ts


def drain(cursor: ModifiedSinceCursor[Record], backend: FakeSearch) -> list[Record]:
    out: list[Record] = []
    while (query := cursor.next_query()) is not None:
        hits, more = backend.search(query)
        out.extend(cursor.advance(hits, more))
    return out


def test_reads_far_past_the_10000_cap_in_ascending_order_each_id_once() -> None:
    rng = random.Random(4)
    records = [Record(i, 1_000_000 + rng.randrange(0, 5_000_000)) for i in range(1, 25_001)]
    backend = FakeSearch(records)
    got = drain(ModifiedSinceCursor(1_000_000), backend)
    assert sorted(r.id for r in got) == list(range(1, 25_001))
    assert [r.ts for r in got] == sorted(r.ts for r in got)
    # one request per page, plus the small overlap at page boundaries
    assert backend.calls <= 25_000 // 200 + 10


def test_since_is_inclusive_and_older_records_are_left_out() -> None:
    backend = FakeSearch([Record(1, 99), Record(2, 100), Record(3, 101)])
    got = drain(ModifiedSinceCursor(100), backend)
    assert [r.id for r in got] == [2, 3]


def test_more_than_10000_sharing_one_timestamp_split_on_object_id() -> None:
    records = [Record(i, 5_000) for i in range(1, 12_001)]
    records += [Record(i, 4_000 + i % 7) for i in range(12_001, 12_301)]
    records += [Record(i, 6_000 + i) for i in range(12_301, 12_601)]
    backend = FakeSearch(records)
    cursor: ModifiedSinceCursor[Record] = ModifiedSinceCursor(0)
    got = drain(cursor, backend)
    assert sorted(r.id for r in got) == list(range(1, 12_601))
    assert len(got) == len({r.id for r in got})
    assert backend.calls <= 12_600 // 200 + 10


def test_records_moving_while_paging_are_neither_skipped_nor_repeated() -> None:
    rng = random.Random(7)
    records = [Record(i, 10_000 + i * 3) for i in range(1, 3_001)]
    backend = FakeSearch(records)
    clock = [20_000]
    moved: list[int] = []

    def modify_some(b: FakeSearch) -> None:
        # Between pages, contacts are edited: they jump to the end (newest timestamp).
        for _ in range(5):
            rid = rng.randrange(1, 3_001)
            clock[0] += 1
            b.touch(rid, clock[0])
            moved.append(rid)

    backend.before_each = modify_some
    got = drain(ModifiedSinceCursor(10_000), backend)
    ids = [r.id for r in got]
    assert len(ids) == len(set(ids))
    assert set(ids) == set(range(1, 3_001))
    assert moved  # the table really changed under the cursor


def test_offset_paging_would_have_skipped_a_moved_record() -> None:
    """Why the cursor restarts from the last timestamp: the naive offset walk loses data."""
    records = [Record(i, 100 + i) for i in range(1, 401)]
    backend = FakeSearch(records)
    seen: set[int] = set()
    query = ModifiedSinceCursor(0).next_query()
    assert query is not None
    after = 0
    while True:
        hits, more = backend.search(query, after)
        seen.update(int(h.id) for h in hits)
        if after == 0:
            backend.touch(5, 10_000)  # an already-read contact is edited
        if not more:
            break
        after += query.limit
    assert len(seen) == 399  # record 201 slid back onto page one and was never seen


def test_a_backend_that_ignores_filters_is_detected_as_a_loop() -> None:
    records = [Record(i, 100) for i in range(1, 401)]

    class Broken(FakeSearch):
        def search(
            self, query: SearchQuery, after: int = 0
        ) -> tuple[list[SearchHit[Record]], bool]:
            hits = [SearchHit(str(r.id), r.ts, r) for r in list(self.records.values())[:200]]
            return hits, True

    with pytest.raises(PaginationError, match="stopped advancing"):
        drain(ModifiedSinceCursor(0), Broken(records))


def test_after_cursor_follows_tokens_and_detects_repeats() -> None:
    pages = {None: ([1, 2], "a"), "a": ([3], "b"), "b": ([], None)}
    assert list(AfterCursor("x").pages(lambda after: pages[after])) == [[1, 2], [3]]
    looping = {None: ([1], "a"), "a": ([2], "b"), "b": ([3], "a")}
    with pytest.raises(PaginationError, match="repeated"):
        list(AfterCursor("list contacts").pages(lambda after: looping[after]))


def test_offset_cursor_uses_has_more_and_detects_repeats() -> None:
    pages = {None: ([1], True, "o1"), "o1": ([2], True, "o2"), "o2": ([3], False, "o3")}
    assert list(OffsetCursor("events").pages(lambda off: pages[off])) == [[1], [2], [3]]
    stuck = {None: ([1], True, "o1"), "o1": ([2], True, "o1")}
    with pytest.raises(PaginationError):
        list(OffsetCursor("events").pages(lambda off: stuck[off]))


def test_read_ahead_fetches_the_next_page_while_the_caller_works() -> None:
    events: list[str] = []

    def pages() -> Iterator[int]:
        for n in range(3):
            events.append(f"fetch {n}")
            time.sleep(0.05)
            yield n

    for n in read_ahead(pages()):
        events.append(f"start work {n}")
        time.sleep(0.1)
        events.append(f"end work {n}")
    assert events.index("fetch 1") < events.index("end work 0")
    assert events.index("fetch 2") < events.index("end work 1")
    assert [e for e in events if e.startswith("end")] == ["end work 0", "end work 1", "end work 2"]


def test_read_ahead_raises_where_the_error_happened_and_stops_when_closed() -> None:
    def failing() -> Iterator[int]:
        yield 1
        raise PaginationError("boom")

    got: list[int] = []
    with pytest.raises(PaginationError, match="boom"):
        for n in read_ahead(failing()):
            got.append(n)
    assert got == [1]

    produced: list[int] = []

    def endless() -> Iterator[int]:
        n = 0
        while True:
            produced.append(n)
            yield n
            n += 1

    reader = read_ahead(endless())
    assert next(reader) == 0
    reader.close()
    time.sleep(0.3)
    assert len(produced) <= 3  # stopped after at most the page in flight

"""Pull helpers: batching, the read-ahead thread, the contact spill and the activity view."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from leadscore.gateway.port import EmailEventRecord
from leadscore.records import Contact
from leadscore.state import open_store
from leadscore.sync.pull import (
    ActivityView,
    ContactSpill,
    batched,
    prefetch,
    rebatch,
    spill_listing,
)


def _contacts(start: int, n: int) -> list[Contact]:
    return [Contact(str(i), {"email": f"c{i}@x.com", "n": str(i)}) for i in range(start, start + n)]


def test_batched_and_rebatch_cut_to_size() -> None:
    assert list(batched(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(rebatch([[1, 2, 3, 4, 5], [], [6]], 2)) == [[1, 2], [3, 4], [5], [6]]


def test_prefetch_reads_ahead_at_most_depth_items_and_reraises() -> None:
    produced: list[int] = []

    def source() -> Iterator[int]:
        for i in range(10):
            produced.append(i)
            yield i

    it = prefetch(source(), depth=2)
    assert next(it) == 0
    time.sleep(0.3)
    # One handed out, two queued, one blocked in put: the source is not run to the end.
    assert len(produced) <= 4
    assert list(it) == list(range(1, 10))

    def failing() -> Iterator[int]:
        yield 1
        raise RuntimeError("page 2 failed")

    with pytest.raises(RuntimeError, match="page 2 failed"):
        list(prefetch(failing(), depth=2))


def test_the_spill_hands_contacts_over_in_order_while_the_listing_runs() -> None:
    gate = threading.Event()

    def pages() -> Iterator[list[Contact]]:
        yield _contacts(0, 150)
        gate.wait(5)  # the reader must get the first full batch before the listing ends
        yield _contacts(150, 30)

    with ContactSpill() as spill:
        join = spill_listing(pages(), spill, stop=None)
        batches = spill.batches(100)
        first = next(batches)
        assert [c.id for c in first] == [str(i) for i in range(100)]
        gate.set()
        rest = list(batches)
        join()
    assert [len(b) for b in rest] == [80]
    assert rest[0][-1].properties == {"email": "c179@x.com", "n": "179"}


def test_a_failing_listing_fails_the_reader() -> None:
    def pages() -> Iterator[list[Contact]]:
        yield _contacts(0, 10)
        raise RuntimeError("listing broke")

    with ContactSpill() as spill:
        join = spill_listing(pages(), spill, stop=None)
        with pytest.raises(RuntimeError, match="listing broke"):
            list(spill.batches(100))
        with pytest.raises(RuntimeError, match="listing broke"):
            join()


def test_a_cancelled_listing_stops_after_its_current_page() -> None:
    listed: list[int] = []

    def pages() -> Iterator[list[Contact]]:
        for i in range(1000):
            listed.append(i)
            time.sleep(0.005)
            yield _contacts(i * 10, 10)

    with ContactSpill() as spill:
        join = spill_listing(pages(), spill, stop=None)
        time.sleep(0.05)
        spill.cancelled.set()
        join()
    assert len(listed) < 1000


def test_activity_view_merges_stores_without_duplicates(tmp_path: Path) -> None:
    with (
        open_store(f"sqlite:///{tmp_path / 'a.db'}") as real,
        open_store(f"sqlite:///{tmp_path / 'b.db'}") as scratch,
    ):
        real.add_email_events([EmailEventRecord("e1", "OPEN", 10, "c1@x.com")])
        scratch.add_email_events(
            [
                EmailEventRecord("e1", "OPEN", 10, "c1@x.com"),
                EmailEventRecord("e2", "CLICK", 5, "c1@x.com"),
                EmailEventRecord("e3", "OPEN", 1, "c1@x.com"),
            ]
        )
        (c1, c2) = ActivityView([real, scratch], since_ms=2).attach(_contacts(1, 2))
    assert [e.event_id for e in c1.email_events] == ["e2", "e1"]
    assert c2.email_events == ()

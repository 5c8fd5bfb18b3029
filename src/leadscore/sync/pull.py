"""Pull: activity into the state store, and contact pages streamed in batches of 100."""

from __future__ import annotations

import json
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from itertools import islice
from typing import Protocol, TypeVar

from leadscore.gateway.port import EmailEventRecord, SubmissionRecord
from leadscore.records import Contact, Form, Owner, StageOrder
from leadscore.state.store import (
    EMAIL_EVENTS_CURSOR,
    FORM_CURSOR_PREFIX,
    ContactActivity,
    StateStore,
)

T = TypeVar("T")

# Activity rows written per transaction while streaming events in.
_ACTIVITY_CHUNK = 1000


class HubSpotReader(Protocol):
    """The read half of `HubSpotPort`: all a dry-run is given."""

    def iter_contacts(self, properties: Sequence[str]) -> Iterator[list[Contact]]: ...

    def iter_contacts_modified_since(
        self, since_ms: int, properties: Sequence[str]
    ) -> Iterator[list[Contact]]: ...

    def read_contacts(self, ids: Sequence[str], properties: Sequence[str]) -> list[Contact]: ...

    def list_owners(self) -> list[Owner]: ...

    def list_forms(self) -> list[Form]: ...

    def iter_form_submissions(self, form_id: str, since_ms: int) -> Iterator[SubmissionRecord]: ...

    def iter_email_events(self, since_ms: int, until_ms: int) -> Iterator[EmailEventRecord]: ...

    def lifecycle_stages(self) -> StageOrder: ...


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of at most `size` items."""
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def rebatch(pages: Iterable[Sequence[T]], size: int) -> Iterator[list[T]]:
    """Re-cut pages of any size into batches of at most `size` (at most one page buffered)."""
    for page in pages:
        for start in range(0, len(page), size):
            yield list(page[start : start + size])


class _End:
    pass


def prefetch(source: Iterable[T], depth: int, stop: threading.Event | None = None) -> Iterator[T]:
    """Iterate `source` in a background thread, at most `depth` items ahead.

    Reading the next page while the current one is scored and written keeps the request
    rate up when latency dominates; the bound keeps memory flat.
    """
    buffer: queue.Queue[object] = queue.Queue(maxsize=depth)
    quit_event = threading.Event()

    def run() -> None:
        try:
            for item in source:
                while not quit_event.is_set():
                    try:
                        buffer.put(item, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if quit_event.is_set() or (stop is not None and stop.is_set()):
                    break
        except BaseException as exc:  # handed to the consumer, re-raised there
            _put_final(buffer, exc, quit_event)
            return
        _put_final(buffer, _End(), quit_event)

    thread = threading.Thread(target=run, name="leadscore-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = buffer.get()
            if isinstance(item, _End):
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        quit_event.set()
        thread.join(timeout=5)


def _put_final(buffer: queue.Queue[object], item: object, quit_event: threading.Event) -> None:
    while not quit_event.is_set():
        try:
            buffer.put(item, timeout=0.2)
            return
        except queue.Full:
            continue


@dataclass(frozen=True, slots=True)
class ActivityPull:
    """What one activity pull covered: emails with new activity, and the cursors to save."""

    touched_emails: frozenset[str]
    cursors: Mapping[str, int]
    events: int
    submissions: int


def pull_activity(
    reader: HubSpotReader,
    sink: StateStore,
    forms: Sequence[Form],
    since: Callable[[str], int],
    until_ms: int,
    workers: int = 4,
    collect_touched: bool = True,
) -> ActivityPull:
    """Pull email events and every form's submissions into `sink`, streams in parallel.

    `since(stream)` gives each stream's start (cursor minus lookback, or the horizon).
    Returned cursors are only to be saved once the contacts they touch are applied. A full
    run scores every contact anyway, so it need not collect the emails touched.
    """
    names = {f.id: f.name for f in forms}

    def events() -> tuple[set[str], int]:
        touched: set[str] = set()
        count = 0
        for chunk in batched(
            reader.iter_email_events(since(EMAIL_EVENTS_CURSOR), until_ms), _ACTIVITY_CHUNK
        ):
            count += len(chunk)
            emails = sink.add_email_events(chunk)
            if collect_touched:
                touched |= emails
        return touched, count

    def submissions(form: Form) -> tuple[set[str], int]:
        touched: set[str] = set()
        count = 0
        stream = FORM_CURSOR_PREFIX + form.id
        records = (
            s
            for s in reader.iter_form_submissions(form.id, since(stream))
            if s.submitted_at < until_ms
        )
        for chunk in batched(records, _ACTIVITY_CHUNK):
            count += len(chunk)
            emails = sink.add_submissions(chunk, names)
            if collect_touched:
                touched |= emails
        return touched, count

    touched: set[str] = set()
    n_events = n_subs = 0
    with ThreadPoolExecutor(
        max_workers=max(1, workers), thread_name_prefix="leadscore-pull"
    ) as pool:
        event_job = pool.submit(events)
        form_jobs = [pool.submit(submissions, f) for f in forms]
        emails, n_events = event_job.result()
        touched |= emails
        for job in form_jobs:
            emails, n = job.result()
            touched |= emails
            n_subs += n
    cursors = {EMAIL_EVENTS_CURSOR: until_ms}
    cursors.update({FORM_CURSOR_PREFIX + f.id: until_ms for f in forms})
    return ActivityPull(frozenset(touched), cursors, n_events, n_subs)


class ActivityView:
    """Reads stored activity from one or more stores (a dry-run adds its scratch store)."""

    def __init__(self, stores: Sequence[StateStore], since_ms: int | None) -> None:
        self._stores = stores
        self._since_ms = since_ms

    def attach(self, contacts: Sequence[Contact]) -> list[Contact]:
        """The contacts with their stored form submissions and email events filled in."""
        emails = [c.email for c in contacts]
        merged: dict[str, ContactActivity] = {}
        for store in self._stores:
            for email, act in store.activity_for(emails, self._since_ms).items():
                prev = merged.get(email)
                merged[email] = act if prev is None else _merge(prev, act)
        out = []
        for c in contacts:
            found = merged.get((c.email or "").strip().lower())
            if found is None:
                out.append(c)
            else:
                out.append(
                    replace(
                        c,
                        form_submissions=c.form_submissions + found.form_submissions,
                        email_events=c.email_events + found.email_events,
                    )
                )
        return out


def _merge(a: ContactActivity, b: ContactActivity) -> ContactActivity:
    forms = {
        (f.conversion_id, f.form_id, f.submitted_at): f
        for f in (*a.form_submissions, *b.form_submissions)
    }
    events = {(e.event_id, e.type, e.created): e for e in (*a.email_events, *b.email_events)}
    return ContactActivity(
        tuple(sorted(forms.values(), key=lambda f: f.submitted_at)),
        tuple(sorted(events.values(), key=lambda e: e.created)),
    )


class ContactSpill:
    """A scratch SQLite file between the contact listing and the scoring.

    A full listing is latency-bound (one page after another), the activity pull is
    rate-bound, and scoring is CPU-bound. The listing runs on its own thread from the
    start of the run into this file, through the activity pull and on while contacts are
    scored, so the three overlap without holding the portal in memory. The reader gets
    contacts in listing order, 100 at a time, waiting for the listing when it catches up.
    """

    def __init__(self) -> None:
        # "" is SQLite's private temporary database: pages beyond its small cache go to an
        # already-unlinked temp file, so nothing is left behind even if the process is killed.
        self._db = sqlite3.connect("", check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("CREATE TABLE spill (seq INTEGER PRIMARY KEY, id TEXT, props TEXT)")
        # One connection, two threads: the lock serialises them; the condition wakes the
        # reader when a page lands or the listing ends.
        self._lock = threading.Condition()
        self._finished = False
        self._failure: BaseException | None = None
        self.cancelled = threading.Event()
        self.count = 0

    def add(self, page: Sequence[Contact]) -> None:
        """Append one page (listing thread)."""
        rows = [(c.id, json.dumps(dict(c.properties), separators=(",", ":"))) for c in page]
        with self._lock:
            self._db.executemany("INSERT INTO spill (id, props) VALUES (?, ?)", rows)
            self._db.commit()
            self.count += len(rows)
            self._lock.notify_all()

    def finish(self, failure: BaseException | None = None) -> None:
        """The listing is over (or failed): readers stop once they have read everything."""
        with self._lock:
            self._finished = True
            self._failure = failure
            self._lock.notify_all()

    def batches(self, size: int) -> Iterator[list[Contact]]:
        """Spilled contacts in listing order, `size` at a time, until the listing ends."""
        last = 0
        while True:
            with self._lock:
                while True:
                    rows = self._db.execute(
                        "SELECT seq, id, props FROM spill WHERE seq > ? ORDER BY seq LIMIT ?",
                        (last, size),
                    ).fetchall()
                    if self._failure is not None:
                        raise self._failure
                    # A short batch is fine once the listing is over; before that, wait.
                    if len(rows) == size or self._finished:
                        break
                    self._lock.wait(timeout=1.0)
            if not rows:
                return
            last = rows[-1][0]
            yield [Contact(cid, json.loads(props)) for _seq, cid, props in rows]

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ContactSpill:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def spill_listing(
    pages: Iterable[Sequence[Contact]], spill: ContactSpill, stop: threading.Event | None
) -> Callable[[], None]:
    """List every page into `spill` on a background thread; returns a join that re-raises."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            for page in pages:
                spill.add(page)
                if spill.cancelled.is_set() or (stop is not None and stop.is_set()):
                    break
        except BaseException as exc:  # handed to the reader and re-raised by join()
            failure.append(exc)
        finally:
            spill.finish(failure[0] if failure else None)

    thread = threading.Thread(target=run, name="leadscore-list", daemon=True)
    thread.start()

    def join() -> None:
        thread.join()
        if failure:
            raise failure[0]

    return join

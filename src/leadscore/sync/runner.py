"""The runner: one incremental sync or backfill, streamed page by page through pull, score,
plan and apply (or render, for a dry-run), with a summary at the end."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal

from sqlalchemy.engine import make_url

from leadscore.errors import InputError, LeadscoreError
from leadscore.gateway.port import HubSpotPort
from leadscore.logs import get_logger, redact_text
from leadscore.records import Contact
from leadscore.rules.values import read_timestamp_ms
from leadscore.settings import Settings
from leadscore.state.store import (
    CONTACTS_CURSOR,
    BackfillProgress,
    StateStore,
    open_store,
    open_store_for_reading,
)
from leadscore.sync.actions import ContactPlan
from leadscore.sync.apply import BATCH_SIZE, Applier, BatchResult
from leadscore.sync.dryrun import DryRunRenderer, OutputFormat
from leadscore.sync.plan import STAGE_PROPERTY, PlanContext, plan_contact
from leadscore.sync.progress import RunProgress
from leadscore.sync.pull import (
    ActivityView,
    ContactSpill,
    HubSpotReader,
    batched,
    prefetch,
    pull_activity,
    rebatch,
    spill_listing,
)
from leadscore.sync.scoring import Scorer

Mode = Literal["incremental", "backfill"]
Outcome = Literal["success", "partial", "failed", "interrupted"]

DAY_MS = 86_400_000
log = get_logger("leadscore.sync")


@dataclass(frozen=True, slots=True)
class RunSummary:
    """How one run went; also what the scheduler exports as metrics."""

    run_id: int | None
    mode: str
    outcome: Outcome
    contacts_scored: int
    actions_by_kind: dict[str, int]
    api_calls: int
    rate_limited: int
    failures: int
    duration_seconds: float
    started_at: datetime
    finished_at: datetime
    dry_run: bool = False
    error: str | None = None
    warnings: tuple[str, ...] = ()
    calls_by_operation: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form (for `--output json` and logs)."""
        return {
            "run_id": self.run_id,
            "mode": self.mode,
            "dry_run": self.dry_run,
            "outcome": self.outcome,
            "contacts_scored": self.contacts_scored,
            "actions_by_kind": dict(self.actions_by_kind),
            "api_calls": self.api_calls,
            "rate_limited": self.rate_limited,
            "failures": self.failures,
            "duration_seconds": round(self.duration_seconds, 3),
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "error": self.error,
            "warnings": list(self.warnings),
        }

    def describe(self) -> str:
        """One human line: contacts scored, actions by kind, API calls, 429s, duration."""
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(self.actions_by_kind.items())) or "none"
        verb = "planned" if self.dry_run else "applied"
        return (
            f"{self.mode}{' dry-run' if self.dry_run else ''} {self.outcome}: "
            f"{self.contacts_scored} contacts scored; actions {verb}: {kinds}; "
            f"{self.api_calls} API calls, {self.rate_limited} rate-limited (429); "
            f"{self.failures} failures; {self.duration_seconds:.1f}s"
        )


def system_clock() -> int:
    """Now, in epoch milliseconds."""
    return int(time.time() * 1000)


class _ApplyQueue:
    """Applies batches on a few worker threads so writes overlap the next page's read.

    A batch never shares a contact with another, so their order does not matter; inside
    a batch the applier keeps clears before sets.
    """

    def __init__(self, applier: Applier, workers: int) -> None:
        self._applier = applier
        self._workers = max(1, workers)
        self._pool = ThreadPoolExecutor(
            max_workers=self._workers, thread_name_prefix="leadscore-apply"
        )
        self._inflight: deque[Future[BatchResult]] = deque()
        self.total = BatchResult()
        self.batches = 0

    def submit(self, plans: Sequence[ContactPlan]) -> None:
        while len(self._inflight) >= self._workers:
            self._collect(self._inflight.popleft())
        self._inflight.append(self._pool.submit(self._applier.apply, list(plans)))

    def _collect(self, future: Future[BatchResult]) -> None:
        self.total.merge(future.result())
        self.batches += 1

    def drain(self) -> None:
        """Wait for every batch in flight, then set the stages still waiting for their clear
        to be followed; re-raise the first error after all have ended."""
        error: BaseException | None = None
        while self._inflight:
            try:
                self._collect(self._inflight.popleft())
            except BaseException as exc:
                error = error or exc
        self._pool.shutdown(wait=True)
        if error is not None:
            raise error
        self.total.merge(self._applier.flush())


class _Run:
    """State of one run; built and driven by `run_sync`."""

    def __init__(
        self,
        *,
        settings: Settings,
        mode: Mode,
        dry_run: bool,
        resume: bool,
        output: OutputFormat | None,
        stop: threading.Event | None,
        reader: HubSpotReader,
        port: HubSpotPort | None,
        model: Scorer,
        store: StateStore | None,
        scratch: StateStore | None,
        clock: Callable[[], int],
        progress: RunProgress,
        stream: IO[str] | None,
        max_rows: int | None = None,
    ) -> None:
        self.settings = settings
        self.mode = mode
        self.dry_run = dry_run
        self.resume = resume
        self.stop = stop
        self.reader = reader
        self.port = port
        self.model = model
        self.store = store
        self.scratch = scratch
        self.clock = clock
        self.progress = progress
        self.now_ms = clock()
        self.renderer = (
            DryRunRenderer(output or "table", stream=stream, max_rows=max_rows) if dry_run else None
        )
        self.scored = 0
        self.eval_failures: dict[str, str] = {}
        self.warnings: list[str] = []
        self.interrupted = False
        self.run_id: int | None = None
        self.max_modified: int | None = None
        horizon = model.activity_horizon_days
        self.horizon_start = self.now_ms - horizon * DAY_MS if horizon is not None else None
        self.applyq: _ApplyQueue | None = None
        self.ctx: PlanContext | None = None

    # --- helpers -------------------------------------------------------------------
    def failures(self) -> int:
        """Contacts not scored, plus contacts whose writes failed (queued for retry)."""
        return len(self.eval_failures) + (len(self.applyq.total.failed) if self.applyq else 0)

    def _stopped(self) -> bool:
        if self.stop is not None and self.stop.is_set():
            self.interrupted = True
        return self.interrupted

    def _since(self, cursors: dict[str, int]) -> Callable[[str], int]:
        lookback = self.settings.sync_lookback_seconds * 1000

        def since(stream: str) -> int:
            value = cursors.get(stream) if self.mode == "incremental" else None
            if value is not None:
                start = value - lookback
                return max(start, self.horizon_start) if self.horizon_start is not None else start
            return self.horizon_start if self.horizon_start is not None else 0

        return since

    def _plan_context(self) -> PlanContext:
        stages = self.reader.lifecycle_stages()
        archived = frozenset(o.id for o in self.reader.list_owners() if o.archived)
        return PlanContext(
            now_ms=self.now_ms,
            rules_version=self.model.version,
            handoff_stage=self.model.handoff_stage,
            stage_order=stages,
            default_owner_id=self.settings.default_owner_id,
            task_due_ms=int(self.settings.task_due_hours * 3600 * 1000),
            archived_owner_ids=archived,
        )

    # --- the pipeline ------------------------------------------------------------------
    def process(self, batch: Sequence[Contact]) -> None:
        """Score, plan and apply (or render) one batch of at most 100 contacts."""
        assert self.ctx is not None
        stores = [s for s in (self.store, self.scratch) if s is not None]
        view = ActivityView(stores, self.horizon_start)
        contacts = view.attach(batch)
        states_src = self.store or self.scratch
        assert states_src is not None
        states = states_src.contact_states(c.id for c in contacts)
        plans: list[ContactPlan] = []
        for contact in contacts:
            state = states[contact.id]
            scored = contact
            if state.cleared_from and not contact.properties.get(STAGE_PROPERTY):
                # Cleared by an interrupted run of ours: score it as the stage it had.
                scored = replace(
                    contact, properties={**contact.properties, STAGE_PROPERTY: state.cleared_from}
                )
            try:
                evaluation = self.model.evaluate(scored, self.now_ms)
            except LeadscoreError as exc:
                self.eval_failures[contact.id] = exc.message
                log.warning("contact not scored", contact_id=contact.id, error=exc.message)
                continue
            plan = plan_contact(contact, evaluation, state, self.ctx)
            if plan.warning:
                self.warnings.append(plan.warning)
                log.warning(
                    "hand-off task has no owner", contact_id=contact.id, detail=plan.warning
                )
            plans.append(plan)
        self.scored += len(plans)
        if self.renderer is not None:
            self.renderer.accept(plans)
        else:
            assert self.applyq is not None
            self.applyq.submit(plans)
        self.progress.advance(len(batch), sum(len(p.writes) for p in plans))

    def _stream_batches(self, pages: Iterator[list[Contact]]) -> Iterator[list[Contact]]:
        yield from rebatch(prefetch(pages, depth=4, stop=self.stop), BATCH_SIZE)

    def run_full(
        self, backfill: BackfillProgress | None, contacts: Iterable[list[Contact]]
    ) -> None:
        """Every contact, 100 at a time (backfill, or the first sync of a portal)."""
        for batch in contacts:
            if self._stopped():
                return
            if backfill is not None and self.store is not None and backfill.contacts_done:
                done = self.store.backfill_done_ids(backfill.id, (c.id for c in batch))
                batch = [c for c in batch if c.id not in done]
                if not batch:
                    continue
            self.process(batch)

    def run_incremental(self, since_ms: int, touched_emails: frozenset[str]) -> None:
        """Contacts modified since the cursor, then those with new activity, due or to retry."""
        props = self.model.contact_properties
        seen: set[str] = set()
        pages = self.reader.iter_contacts_modified_since(since_ms, props)
        for batch in self._stream_batches(pages):
            if self._stopped():
                return
            batch = [c for c in batch if c.id not in seen]
            seen.update(c.id for c in batch)
            for contact in batch:
                modified = read_timestamp_ms(contact.properties.get("lastmodifieddate"))
                if modified is not None:
                    self.max_modified = max(self.max_modified or modified, modified)
            if batch:
                self.process(batch)
        known = self.store or self.scratch
        assert known is not None
        extra: set[str] = set(known.contact_ids_for_emails(touched_emails).values())
        extra.update(known.retry_contact_ids())
        extra -= seen
        for ids in batched(sorted(extra), BATCH_SIZE):
            if self._stopped():
                return
            self._read_and_process(ids, seen)
        # Contacts whose score changes with time alone (a window closing, decay).
        after = ""
        while not self._stopped():
            due = known.due_contact_ids(self.now_ms, after_id=after, limit=BATCH_SIZE)
            if not due:
                return
            after = due[-1]
            ids = [i for i in due if i not in seen]
            if ids:
                self._read_and_process(ids, seen)

    def _read_and_process(self, ids: Sequence[str], seen: set[str]) -> None:
        contacts = self.reader.read_contacts(ids, self.model.contact_properties)
        seen.update(ids)
        missing = set(ids) - {c.id for c in contacts}
        if missing and self.store is not None and not self.dry_run:
            # Deleted or merged away in HubSpot: stop rescoring them.
            self.store.forget_contacts(sorted(missing))
        if contacts:
            self.process(contacts)


def open_state_for_reading(settings: Settings) -> StateStore | None:
    """The state store for a reader (dry-run, explain): none when its SQLite file is missing,
    so that reading never creates one."""
    return _open_state(settings, dry_run=True)


def _open_state(settings: Settings, dry_run: bool) -> StateStore | None:
    """The state store; for a dry-run on a SQLite file that does not exist yet, none at all."""
    if dry_run:
        url = make_url(settings.database_url)
        database = url.database or ""
        if (
            url.get_backend_name() == "sqlite"
            and database not in ("", ":memory:")
            and not Path(database).exists()
        ):
            return None
    if dry_run:
        return open_store_for_reading(settings.database_url)
    return open_store(settings.database_url)


def _build_gateway(settings: Settings) -> HubSpotPort:
    from leadscore.gateway import build_gateway

    return build_gateway(settings)


def _load_model(settings: Settings) -> Scorer:
    from leadscore.rules import load_model

    return load_model(settings.rules)


def run_sync(
    settings: Settings,
    *,
    mode: Mode = "incremental",
    dry_run: bool = False,
    resume: bool = False,
    output: OutputFormat | None = None,
    stop: threading.Event | None = None,
    gateway: HubSpotPort | None = None,
    progress: bool | None = None,
    model: Scorer | None = None,
    store: StateStore | None = None,
    clock: Callable[[], int] | None = None,
    now_ms: int | None = None,
    stream: IO[str] | None = None,
    max_rows: int | None = None,
) -> RunSummary:
    """Run one incremental sync or backfill; returns its summary.

    `dry_run` plans with no writer at all and writes nothing to HubSpot or the state store;
    its actions are rendered to `stream` as a table or JSON lines (`output`). `stop` is
    checked between batches: batches in flight finish, state is saved and the run returns
    as "interrupted". `max_rows` caps the dry-run rows printed (counts stay complete).
    `gateway`, `model`, `store` and `clock`/`now_ms` are injectable (tests,
    the scheduler); whatever is not passed is built from `settings` and closed again.
    """
    if mode not in ("incremental", "backfill"):
        raise InputError(f"unknown sync mode {mode!r} (incremental or backfill)")
    if resume and mode != "backfill":
        raise InputError("--resume only applies to backfill")
    if output is not None and output not in ("table", "json"):
        raise InputError(f"unknown output format {output!r} (table or json)")
    tick: Callable[[], int]
    if clock is not None:
        tick = clock
    elif now_ms is not None:
        fixed = now_ms
        tick = lambda: fixed  # noqa: E731
    else:
        tick = system_clock
    scorer = model or _load_model(settings)
    with contextlib.ExitStack() as cleanup:
        own_store = store is None
        state = store if store is not None else _open_state(settings, dry_run)
        if own_store and state is not None:
            cleanup.callback(state.close)
        scratch: StateStore | None = None
        if dry_run:
            scratch_dir = tempfile.mkdtemp(prefix="leadscore-dryrun-")
            cleanup.callback(shutil.rmtree, scratch_dir, True)
            scratch = open_store(f"sqlite:///{Path(scratch_dir) / 'scratch.db'}")
            cleanup.callback(scratch.close)
        port = gateway if gateway is not None else _build_gateway(settings)
        if gateway is None:
            closer = getattr(port, "close", None)
            if callable(closer):
                cleanup.callback(closer)
        assert state is not None or scratch is not None
        return _execute(
            settings=settings,
            mode=mode,
            dry_run=dry_run,
            resume=resume,
            output=output,
            stop=stop,
            port=port,
            model=scorer,
            store=state,
            scratch=scratch,
            clock=tick,
            progress=progress,
            stream=stream,
            max_rows=max_rows,
        )
    raise AssertionError("unreachable")  # pragma: no cover  (ExitStack swallows nothing)


def _execute(
    *,
    settings: Settings,
    mode: Mode,
    dry_run: bool,
    resume: bool,
    output: OutputFormat | None,
    stop: threading.Event | None,
    port: HubSpotPort,
    model: Scorer,
    store: StateStore | None,
    scratch: StateStore | None,
    clock: Callable[[], int],
    progress: bool | None,
    stream: IO[str] | None,
    max_rows: int | None = None,
) -> RunSummary:
    started = time.monotonic()
    started_at = datetime.now(UTC)
    stats0 = _stats(port)
    run = _Run(
        settings=settings,
        mode=mode,
        dry_run=dry_run,
        resume=resume,
        output=output,
        stop=stop,
        # A dry-run gets the port only as a reader; the applier (the only writer) is not built.
        reader=port,
        port=None if dry_run else port,
        model=model,
        store=store,
        scratch=scratch,
        clock=clock,
        progress=RunProgress(enabled=progress, label=f"{mode}{' dry-run' if dry_run else ''}"),
        stream=stream,
        max_rows=max_rows,
    )
    if resume and (store is None or store.unfinished_backfill() is None):
        raise InputError("no interrupted backfill to resume; run `leadscore backfill`")
    writable = store if not dry_run else None
    if writable is not None:
        run.run_id = writable.begin_run(mode, run.now_ms)
    log.info("run started", mode=mode, dry_run=dry_run, run_id=run.run_id)
    error: str | None = None
    outcome: Outcome = "success"
    try:
        with run.progress:
            _drive(run, writable)
    except LeadscoreError as exc:
        error = redact_text(exc.message)
        outcome = "failed"
        log.error("run failed", mode=mode, error=error)
    except BaseException as exc:
        if writable is not None and run.run_id is not None:
            _finish(
                run, writable, "failed", started, stats0, port, redact_text(repr(exc)), started_at
            )
        raise
    if outcome != "failed":
        if run.interrupted:
            outcome = "interrupted"
        elif run.failures():
            outcome = "partial"
    if run.renderer is not None and outcome != "failed":
        run.renderer.finish(run.scored)
    summary = _finish(run, writable, outcome, started, stats0, port, error, started_at)
    log.info("run finished", **summary.as_dict())
    return summary


def _drive(run: _Run, writable: StateStore | None) -> None:
    """Pull activity, stream contacts through the pipeline, then move the cursors."""
    state = run.store
    cursors = state.cursors() if state is not None else {}
    backfill: BackfillProgress | None = None
    if run.mode == "backfill" and writable is not None:
        if run.resume:
            backfill = writable.unfinished_backfill()
            if backfill is None:
                raise InputError("no interrupted backfill to resume; run `leadscore backfill`")
            log.info("resuming backfill", done=backfill.contacts_done)
        else:
            assert run.run_id is not None
            backfill = writable.start_backfill(run.run_id, run.now_ms)

    run.ctx = run._plan_context()
    if run.port is not None:
        run.port.ensure_properties(run.model.output_properties)
        assert writable is not None and run.run_id is not None
        applier = Applier(
            run.port,
            writable,
            run.run_id,
            run.clock,
            backfill_id=backfill.id if backfill is not None else None,
        )
        run.applyq = _ApplyQueue(applier, workers=max(1, run.settings.max_concurrency // 2))
    forms = run.reader.list_forms()
    sink = writable if writable is not None else run.scratch
    assert sink is not None
    contacts_cursor = cursors.get(CONTACTS_CURSOR)
    full = run.mode == "backfill" or contacts_cursor is None
    with contextlib.ExitStack() as spilled:
        join_listing: Callable[[], None] | None = None
        if full:
            # The listing runs from now on, through the activity pull (see ContactSpill).
            spill = spilled.enter_context(ContactSpill())
            pages = run.reader.iter_contacts(run.model.contact_properties)
            join_listing = spill_listing(pages, spill, run.stop)
        try:
            activity = pull_activity(
                run.reader,
                sink,
                forms,
                run._since(cursors),
                until_ms=run.now_ms,
                workers=max(1, run.settings.max_concurrency // 2),
                collect_touched=not full,
            )
            log.info("activity pulled", events=activity.events, submissions=activity.submissions)
            if full:
                run.run_full(backfill, spill.batches(BATCH_SIZE))
            else:
                assert contacts_cursor is not None
                since = contacts_cursor - run.settings.sync_lookback_seconds * 1000
                run.run_incremental(since, activity.touched_emails)
        except BaseException:
            if join_listing is not None:
                spill.cancelled.set()  # the listing thread ends after its current page
            raise
        finally:
            try:
                if run.applyq is not None:
                    run.applyq.drain()
            finally:
                if join_listing is not None:
                    if run.interrupted:
                        spill.cancelled.set()
                    join_listing()
    # Checked again here, not only between batches: a stop can also end the listing early
    # after the last batch was taken, and a cut-short listing must not move the cursors.
    if run._stopped() or writable is None:
        return
    # Every write these cursors cover is applied (failures are queued for retry).
    new_cursors = dict(activity.cursors)
    if full:
        # Everything modified before this run began was listed; later changes come next time.
        new_cursors[CONTACTS_CURSOR] = backfill.started_at_ms if backfill else run.now_ms
    else:
        assert contacts_cursor is not None
        # The search ran after `now_ms`, so every change before it was listed (search lag
        # and clock skew are what the lookback re-reads). Advancing to `now_ms`, not just to
        # the newest change seen, keeps quiet runs from re-reading older writes each time.
        new_cursors[CONTACTS_CURSOR] = max(
            contacts_cursor, run.max_modified or contacts_cursor, run.now_ms
        )
    if backfill is not None:
        writable.finish_backfill(backfill.id, new_cursors, run.clock())
    else:
        writable.set_cursors(new_cursors, run.clock())
    if run.horizon_start is not None:
        writable.prune_activity(run.horizon_start)


def _stats(port: HubSpotPort) -> tuple[int, int, dict[str, int]]:
    s = port.stats
    return s.calls, s.rate_limited, dict(s.calls_by_operation)


def _finish(
    run: _Run,
    writable: StateStore | None,
    outcome: Outcome,
    started: float,
    stats0: tuple[int, int, dict[str, int]],
    port: HubSpotPort,
    error: str | None,
    started_at: datetime | None = None,
) -> RunSummary:
    calls, limited, by_op = _stats(port)
    ops = {k: v - stats0[2].get(k, 0) for k, v in by_op.items() if v - stats0[2].get(k, 0)}
    if run.renderer is not None:
        actions = dict(run.renderer.counts)
    elif run.applyq is not None:
        actions = dict(run.applyq.total.applied)
    else:
        actions = {}
    failures = run.failures()
    finished_at = datetime.now(UTC)
    summary = RunSummary(
        run_id=run.run_id,
        mode=run.mode,
        outcome=outcome,
        contacts_scored=run.scored,
        actions_by_kind=actions,
        api_calls=calls - stats0[0],
        rate_limited=limited - stats0[1],
        failures=failures,
        duration_seconds=time.monotonic() - started,
        started_at=started_at or finished_at,
        finished_at=finished_at,
        dry_run=run.dry_run,
        error=error,
        warnings=tuple(dict.fromkeys(run.warnings)),
        calls_by_operation=ops,
    )
    if writable is not None and run.run_id is not None:
        writable.finish_run(
            run.run_id,
            finished_at_ms=run.clock(),
            outcome=outcome,
            contacts_scored=run.scored,
            actions=actions,
            api_calls=summary.api_calls,
            rate_limited=summary.rate_limited,
            failures=failures,
            error=error,
        )
    return summary

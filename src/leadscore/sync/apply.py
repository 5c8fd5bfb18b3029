"""The applier: executes planned actions against HubSpot and records the outcome.

Per batch of up to 100 contacts: planned tasks go into the ledger first (so a crash between
creating a task and recording it cannot duplicate it); then ONE update request carries every
contact's new property values plus its stage: the new stage when it moves forward, a clear
("") when it moves backward. The backward contacts' earlier stages are set in a later, separate
request once their clear has landed; those sets are pooled across batches into requests of
100, so moving contacts back costs a call per 100 moves, not one per batch. Tasks are
created once a contact's writes have all landed, also pooled into requests of 100; each step
saves its outcome (snapshots, audit log, ledger, retries) to the state store.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from leadscore.gateway.port import ContactUpdate, TaskOutcome, TaskSpec, WriteReport
from leadscore.logs import get_logger
from leadscore.state.store import (
    AuditEntry,
    BatchOutcome,
    ContactSnapshot,
    LedgerEntry,
    StateStore,
)
from leadscore.sync.actions import (
    ContactPlan,
    CreateTask,
    SetProperty,
    StageBackward,
    StageForward,
)
from leadscore.sync.plan import STAGE_PROPERTY, written_after

BATCH_SIZE = 100

# What the applier pools across batches: cleared contacts awaiting their stage set, tasks.
_Pooled = TypeVar("_Pooled", ContactPlan, CreateTask)

log = get_logger("leadscore.sync.apply")


class HubSpotWriter(Protocol):
    """The write half of `HubSpotPort`: the only object that can change HubSpot."""

    def update_contacts(self, updates: Sequence[ContactUpdate]) -> WriteReport: ...

    def create_tasks(self, tasks: Sequence[TaskSpec]) -> list[TaskOutcome]: ...


@dataclass(slots=True)
class BatchResult:
    """What was applied: counts by action kind and the contacts whose writes failed."""

    applied: Counter[str] = field(default_factory=Counter)
    failed: dict[str, str] = field(default_factory=dict)

    def merge(self, other: BatchResult) -> None:
        self.applied.update(other.applied)
        self.failed.update(other.failed)


def _backward(plan: ContactPlan) -> StageBackward | None:
    for a in plan.writes:
        if isinstance(a, StageBackward):
            return a
    return None


class Applier:
    """Writes batches of plans to HubSpot and their outcome to the state store. Thread-safe:
    batches (each with distinct contacts) may be applied concurrently."""

    def __init__(
        self,
        writer: HubSpotWriter,
        store: StateStore,
        run_id: int,
        clock: Callable[[], int],
        backfill_id: int | None = None,
    ) -> None:
        self._writer = writer
        self._store = store
        self._run_id = run_id
        self._clock = clock
        self._backfill_id = backfill_id
        self._lock = threading.Lock()
        # Backward contacts whose clear has landed, waiting for their stage set; and tasks
        # of contacts whose writes have landed. Both go out in requests of 100.
        self._cleared: list[ContactPlan] = []
        self._tasks: list[CreateTask] = []

    def apply(self, plans: Sequence[ContactPlan]) -> BatchResult:
        """Apply up to BATCH_SIZE contact plans (each contact at most once)."""
        if len(plans) > BATCH_SIZE:
            raise ValueError(f"a batch holds at most {BATCH_SIZE} contacts, got {len(plans)}")
        result = BatchResult()
        now = self._clock()
        new_tasks = [
            a for p in plans for a in p.actions if isinstance(a, CreateTask) and not a.resumed
        ]
        if new_tasks:
            self._store.plan_tasks(
                [
                    LedgerEntry(t.key, t.contact_id, "planned", t.owner_id, run_id=self._run_id)
                    for t in new_tasks
                ],
                now,
            )
        cancelled = [p.cancel_task_key for p in plans if p.cancel_task_key]
        if cancelled:
            self._store.cancel_tasks(cancelled, "contact no longer crosses into the stage", now)

        clears = [
            (p.contact_id, move.before or "", move.after)
            for p in plans
            if (move := _backward(p)) is not None
        ]
        if clears:
            # Written before the clear, so a run killed before the set can finish the move.
            self._store.record_clears(clears, now)

        updates: list[ContactUpdate] = []
        for p in plans:
            props: dict[str, str] = {}
            for a in p.writes:
                if isinstance(a, SetProperty):
                    props[a.property] = a.after
                elif isinstance(a, StageForward):
                    props[STAGE_PROPERTY] = a.after
                elif isinstance(a, StageBackward):
                    props[STAGE_PROPERTY] = ""  # the clear; the set follows in a later request
            if props:
                updates.append(ContactUpdate(p.contact_id, props))
        failed: dict[str, str] = {}
        if updates:
            report = self._writer.update_contacts(updates)
            failed = {f.contact_id: f.message for f in report.failed}

        waiting = [p for p in plans if _backward(p) is not None and p.contact_id not in failed]
        done_now = [
            p for p in plans if not (_backward(p) is not None and p.contact_id not in failed)
        ]
        # Settled: written, or failed before any clear touched a stage HubSpot still holds.
        settled = [p.contact_id for p in done_now if p.contact_id not in failed or p.current_stage]
        self._finish(done_now, failed, set(), settled, result)
        ready = self._pool(self._cleared, waiting, whole=True)
        if ready:
            self._set_stages(ready, result)
        return result

    def flush(self) -> BatchResult:
        """Finish what is pooled: stage sets after their clears, then the pending tasks."""
        result = BatchResult()
        while ready := self._pool(self._cleared, (), whole=False):
            self._set_stages(ready, result)
        while tasks := self._pool(self._tasks, (), whole=False):
            self._create_tasks(tasks, result)
        return result

    def _pool(self, pool: list[_Pooled], add: Sequence[_Pooled], *, whole: bool) -> list[_Pooled]:
        """Add to a pool and take up to BATCH_SIZE items out of it (only a full request when
        `whole`); shared by the batch threads, hence the lock."""
        with self._lock:
            pool.extend(add)
            if whole and len(pool) < BATCH_SIZE:
                return []
            ready = pool[:BATCH_SIZE]
            del pool[:BATCH_SIZE]
            return ready

    def _set_stages(self, plans: Sequence[ContactPlan], result: BatchResult) -> None:
        updates = []
        for p in plans:
            move = _backward(p)
            assert move is not None
            updates.append(ContactUpdate(p.contact_id, {STAGE_PROPERTY: move.after}))
        report = self._writer.update_contacts(updates)
        failed = {
            f.contact_id: f"setting lifecyclestage after clearing it: {f.message}"
            for f in report.failed
        }
        # Their other properties landed with the clear; only the stage is missing.
        settled = [p.contact_id for p in plans if p.contact_id not in failed]
        self._finish(plans, failed, set(failed), settled, result)

    def _finish(
        self,
        plans: Sequence[ContactPlan],
        failed: dict[str, str],
        stage_only: set[str],
        settled: Sequence[str],
        result: BatchResult,
    ) -> None:
        """Save the outcome of contacts whose writes were attempted; queue their tasks."""
        if not plans:
            return
        outcome = BatchOutcome(
            failed=dict(failed),
            backfill_id=self._backfill_id,
            stage_settled=list(settled),
        )
        tasks: list[CreateTask] = []
        for p in plans:
            ok = p.contact_id not in failed
            props_landed = ok or p.contact_id in stage_only
            contact_tasks = [a for a in p.writes if isinstance(a, CreateTask)]
            for a in p.writes:
                if isinstance(a, CreateTask):
                    continue  # audited when created
                if ok or (props_landed and isinstance(a, SetProperty)):
                    outcome.audit.append(
                        AuditEntry(a.contact_id, a.kind, a.property, a.before, a.after, a.reasons)
                    )
                    result.applied[a.kind] += 1
            if ok:
                stage = _stage_after(p)
            elif p.contact_id in stage_only:
                stage = None  # cleared, not yet set: the retry sets it
            else:
                stage = p.current_stage
            outcome.snapshots.append(
                ContactSnapshot(
                    p.contact_id,
                    p.email,
                    stage,
                    written_after(p, props_landed),
                    p.evaluation.next_due_ms,
                )
            )
            if ok:
                outcome.succeeded.append(p.contact_id)
                if contact_tasks:
                    tasks.extend(contact_tasks)  # done for the backfill once the task exists
                else:
                    outcome.backfill_done.append(p.contact_id)
        self._store.save_batch(self._run_id, outcome, self._clock())
        result.failed.update(failed)
        if failed:
            log.warning(
                "writes failed; retried next run",
                count=len(failed),
                contacts=sorted(failed)[:10],
                first_error=next(iter(failed.values())),
            )
        ready_tasks = self._pool(self._tasks, tasks, whole=True)
        if ready_tasks:
            self._create_tasks(ready_tasks, result)

    def _create_tasks(self, tasks: Sequence[CreateTask], result: BatchResult) -> None:
        """Create pooled tasks (their contacts' writes have landed) and record them."""
        by_key = {t.key: t for t in tasks}
        outcomes = self._writer.create_tasks(
            [
                TaskSpec(
                    key=t.key,
                    contact_id=t.contact_id,
                    owner_id=t.owner_id,
                    subject=t.subject,
                    body=t.body,
                    due_ms=t.due_ms,
                )
                for t in tasks
            ]
        )
        outcome = BatchOutcome(backfill_id=self._backfill_id)
        for o in outcomes:
            task = by_key[o.key]
            if o.task_id is not None and o.error is None:
                outcome.tasks.append(
                    LedgerEntry(o.key, o.contact_id, "created", task.owner_id, o.task_id)
                )
                outcome.audit.append(
                    AuditEntry(
                        o.contact_id,
                        task.kind,
                        None,
                        None,
                        f"task for {task.owner_id or 'nobody'} ({task.owner_note})",
                        task.reasons,
                    )
                )
                outcome.backfill_done.append(o.contact_id)
                result.applied[task.kind] += 1
            else:
                reason = o.error or "no task id returned"
                outcome.failed[o.contact_id] = f"creating the follow-up task: {reason}"
                outcome.tasks.append(
                    LedgerEntry(o.key, o.contact_id, "planned", task.owner_id, error=reason)
                )
        self._store.save_batch(self._run_id, outcome, self._clock())
        result.failed.update(outcome.failed)


def _stage_after(plan: ContactPlan) -> str | None:
    for a in plan.writes:
        if isinstance(a, StageForward | StageBackward):
            return a.after
    return plan.current_stage

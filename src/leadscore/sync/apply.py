"""The applier: executes one batch of planned actions against HubSpot and records the outcome.

Order inside a batch: planned tasks are recorded in the ledger first (so a crash between
creating a task and recording it cannot duplicate it), then stage clears, then one update
carrying every property and stage set, then the tasks of contacts whose writes landed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

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

log = get_logger("leadscore.sync.apply")


class HubSpotWriter(Protocol):
    """The write half of `HubSpotPort`: the only object that can change HubSpot."""

    def update_contacts(self, updates: Sequence[ContactUpdate]) -> WriteReport: ...

    def create_tasks(self, tasks: Sequence[TaskSpec]) -> list[TaskOutcome]: ...


@dataclass(slots=True)
class BatchResult:
    """What one batch applied: counts by action kind, failed contacts, warnings."""

    applied: Counter[str] = field(default_factory=Counter)
    failed: dict[str, str] = field(default_factory=dict)
    contacts: int = 0


class Applier:
    """Writes batches of plans to HubSpot and their outcome to the state store."""

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

    def apply(self, plans: Sequence[ContactPlan]) -> BatchResult:
        """Apply up to BATCH_SIZE contact plans (each contact at most once)."""
        if len(plans) > BATCH_SIZE:
            raise ValueError(f"a batch holds at most {BATCH_SIZE} contacts, got {len(plans)}")
        result = BatchResult(contacts=len(plans))
        now = self._clock()
        tasks = [a for p in plans for a in p.actions if isinstance(a, CreateTask)]
        # The ledger entry must exist before anything that could lead to the task's creation.
        new_tasks = [t for t in tasks if not t.resumed]
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

        failed: dict[str, str] = {}
        clears = [
            ContactUpdate(p.contact_id, {STAGE_PROPERTY: ""})
            for p in plans
            if any(isinstance(a, StageBackward) for a in p.actions)
        ]
        cleared_failed: set[str] = set()
        if clears:
            report = self._writer.update_contacts(clears)
            for f in report.failed:
                failed[f.contact_id] = f"clearing lifecyclestage: {f.message}"
                cleared_failed.add(f.contact_id)

        updates: list[ContactUpdate] = []
        for p in plans:
            props: dict[str, str] = {}
            for a in p.writes:
                if isinstance(a, SetProperty):
                    props[a.property] = a.after
                elif isinstance(a, StageForward | StageBackward) and (
                    p.contact_id not in cleared_failed
                ):
                    props[STAGE_PROPERTY] = a.after
            if props:
                updates.append(ContactUpdate(p.contact_id, props))
        if updates:
            report = self._writer.update_contacts(updates)
            for f in report.failed:
                failed.setdefault(f.contact_id, f.message)

        ready = [t for t in tasks if t.contact_id not in failed]
        ledger_updates: list[LedgerEntry] = []
        created: set[str] = set()
        if ready:
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
                    for t in ready
                ]
            )
            for o in outcomes:
                if o.task_id is not None and o.error is None:
                    created.add(o.key)
                    ledger_updates.append(
                        LedgerEntry(
                            o.key, o.contact_id, "created", _owner_of(ready, o.key), o.task_id
                        )
                    )
                else:
                    failed.setdefault(o.contact_id, f"creating task: {o.error or 'no task id'}")
                    ledger_updates.append(
                        LedgerEntry(
                            o.key,
                            o.contact_id,
                            "planned",
                            _owner_of(ready, o.key),
                            None,
                            error=o.error or "no task id returned",
                        )
                    )

        outcome = BatchOutcome(
            tasks=ledger_updates,
            failed=failed,
            backfill_id=self._backfill_id,
        )
        for p in plans:
            ok = p.contact_id not in failed
            for a in p.writes:
                if isinstance(a, CreateTask):
                    if a.key not in created:
                        continue
                    outcome.audit.append(
                        AuditEntry(
                            a.contact_id,
                            a.kind,
                            None,
                            None,
                            f"task for {a.owner_id or 'nobody'} ({a.owner_note})",
                            a.reasons,
                        )
                    )
                elif ok:
                    outcome.audit.append(
                        AuditEntry(a.contact_id, a.kind, a.property, a.before, a.after, a.reasons)
                    )
                if ok or isinstance(a, CreateTask):
                    result.applied[a.kind] += 1
            stage = _stage_after(p) if ok else p.current_stage
            outcome.snapshots.append(
                ContactSnapshot(
                    p.contact_id,
                    p.email,
                    stage,
                    written_after(p, ok),
                    p.evaluation.next_due_ms,
                )
            )
            if ok:
                outcome.succeeded.append(p.contact_id)
                outcome.backfill_done.append(p.contact_id)
        self._store.save_batch(self._run_id, outcome, self._clock())
        result.failed = failed
        if failed:
            log.warning(
                "writes failed; retried next run", contacts=sorted(failed)[:10], count=len(failed)
            )
        return result


def _owner_of(tasks: Sequence[CreateTask], key: str) -> str | None:
    for t in tasks:
        if t.key == key:
            return t.owner_id
    return None


def _stage_after(plan: ContactPlan) -> str | None:
    for a in plan.writes:
        if isinstance(a, StageForward | StageBackward):
            return a.after
    return plan.current_stage

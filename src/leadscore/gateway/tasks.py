"""Idempotent follow-up task creation: every task carries its TaskSpec key, looked up before retries.

HubSpot's task create is not idempotent: a batch whose answer was lost (timeout, dropped
connection, 5xx from a proxy) may or may not have created its tasks. So each task is
written with a custom property `leadscore_task_key` holding the caller's deterministic
key, and:

1. before creating, the keys are looked up through the contacts' task associations (a
   task from an earlier, interrupted run is reported as existing, `created=False`);
2. a failure that proves nothing was created (429, connection refused) is retried as is
   by the retry policy;
3. an ambiguous failure is never retried blindly: the keys are looked up again and only
   the missing ones are re-sent;
4. a 400 for the whole batch is bisected to isolate the rejected task.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from leadscore.gateway.batch_results import field
from leadscore.gateway.calls import Reply
from leadscore.gateway.errors import (
    GatewayError,
    NotFoundError,
    TransientError,
    ValidationError,
    one_line,
)
from leadscore.gateway.port import TaskOutcome, TaskSpec
from leadscore.gateway.retry import RetryPolicy

Lookup = Callable[[Sequence[TaskSpec]], dict[str, str]]
"""specs -> {key: task id} for the specs whose task already exists."""

CreateBatch = Callable[[Sequence[TaskSpec]], Reply]


class TaskCreator:
    """Creates one batch (<= 100) of tasks at most once per key."""

    KEY_PROPERTY = "leadscore_task_key"

    def __init__(
        self,
        *,
        lookup: Lookup,
        create: CreateBatch,
        retry: RetryPolicy,
        key_property: str = KEY_PROPERTY,
        settle_seconds: float = 0.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._lookup = lookup
        self._create = create
        self._retry = retry
        self._key_property = key_property
        self._settle = settle_seconds
        self._sleep = sleep

    @classmethod
    def key_property_definition(cls) -> dict[str, Any]:
        """The custom task property that carries the idempotency key."""
        return {
            "name": cls.KEY_PROPERTY,
            "label": "leadscore task key",
            "type": "string",
            "fieldType": "text",
            "groupName": "task",
            "description": "Set by leadscore: identifies the follow-up so it is created only once.",
        }

    @classmethod
    def properties_of(cls, spec: TaskSpec) -> dict[str, str]:
        props = {
            "hs_timestamp": str(spec.due_ms),
            "hs_task_subject": spec.subject,
            "hs_task_body": spec.body,
            "hs_task_status": "NOT_STARTED",
            "hs_task_priority": spec.priority,
            "hs_task_type": spec.task_type,
            cls.KEY_PROPERTY: spec.key,
        }
        if spec.owner_id:
            props["hubspot_owner_id"] = spec.owner_id
        return props

    def create(self, specs: Sequence[TaskSpec]) -> list[TaskOutcome]:
        """Outcomes in the order of `specs` (keys must be unique within the batch)."""
        outcomes: dict[str, TaskOutcome] = {}
        existing = self._lookup(specs)
        for spec in specs:
            if spec.key in existing:
                outcomes[spec.key] = TaskOutcome(
                    spec.key, spec.contact_id, existing[spec.key], False
                )
        pending = [s for s in specs if s.key not in outcomes]
        if pending:
            self._create_pending(pending, outcomes)
        return [outcomes[s.key] for s in specs]

    def _create_pending(self, pending: list[TaskSpec], outcomes: dict[str, TaskOutcome]) -> None:
        attempt = 0
        while pending:
            attempt += 1
            try:
                reply = self._create(pending)
            except (ValidationError, NotFoundError) as err:
                self._bisect(pending, err, outcomes)
                return
            except GatewayError as err:
                if not err.retriable:
                    raise
                ambiguous = isinstance(err, TransientError) and err.maybe_applied
                if attempt > self._retry.max_retries:
                    # Give up on this batch, but first learn which tasks did get created.
                    found = self._settled_lookup(pending) if ambiguous else {}
                    for spec in pending:
                        if spec.key in found:
                            outcomes[spec.key] = TaskOutcome(
                                spec.key, spec.contact_id, found[spec.key], True
                            )
                        else:
                            outcomes[spec.key] = TaskOutcome(
                                spec.key, spec.contact_id, None, False, error=str(err)
                            )
                    return
                self._sleep(self._retry.wait_seconds(err, attempt))
                found = self._settled_lookup(pending) if ambiguous else {}
                for spec in pending:
                    if spec.key in found:
                        # The lost answer had created it: this call created it.
                        outcomes[spec.key] = TaskOutcome(
                            spec.key, spec.contact_id, found[spec.key], True
                        )
                pending = [s for s in pending if s.key not in outcomes]
                continue
            self._read_reply(pending, reply, outcomes)
            return

    def _settled_lookup(self, specs: Sequence[TaskSpec]) -> dict[str, str]:
        # A lookup that lags behind writes (search does) needs a pause to see a task
        # created moments ago; the gateway's association lookup does not (settle 0).
        if self._settle > 0:
            self._sleep(self._settle)
        return self._lookup(specs)

    def _bisect(
        self, specs: list[TaskSpec], err: GatewayError, outcomes: dict[str, TaskOutcome]
    ) -> None:
        # A 400/404 for the whole batch created nothing: split to find the bad input.
        if len(specs) == 1:
            spec = specs[0]
            outcomes[spec.key] = TaskOutcome(spec.key, spec.contact_id, None, False, error=str(err))
            return
        mid = len(specs) // 2
        self._create_pending(specs[:mid], outcomes)
        self._create_pending(specs[mid:], outcomes)

    def _read_reply(
        self, specs: Sequence[TaskSpec], reply: Reply, outcomes: dict[str, TaskOutcome]
    ) -> None:
        by_key = {s.key: s for s in specs}
        for result in field(reply.data, "results") or []:
            props: Mapping[str, Any] = field(result, "properties") or {}
            key = props.get(self._key_property)
            if key in by_key and key not in outcomes:
                spec = by_key[key]
                outcomes[key] = TaskOutcome(key, spec.contact_id, str(field(result, "id")), True)
        missing = [s for s in specs if s.key not in outcomes]
        if not missing:
            return
        # A 207, or results that do not echo the key: find out what exists.
        found = self._settled_lookup(missing)
        errors = [
            one_line(str(field(e, "message") or "rejected"))
            for e in field(reply.data, "errors") or []
        ]
        why = "; ".join(dict.fromkeys(errors)) or "HubSpot returned no task for this input"
        for spec in missing:
            if spec.key in found:
                outcomes[spec.key] = TaskOutcome(spec.key, spec.contact_id, found[spec.key], True)
            else:
                outcomes[spec.key] = TaskOutcome(spec.key, spec.contact_id, None, False, error=why)

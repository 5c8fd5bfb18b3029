"""The planner: compares one contact's evaluation with its HubSpot values and emits actions.

Pure: no I/O. The same function feeds the applier and the dry-run renderer, so a dry-run
shows exactly what a real run would write.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from leadscore.records import DEFAULT_STAGE_ORDER, Contact, StageOrder
from leadscore.rules.evaluation import Evaluation
from leadscore.state.store import ContactState
from leadscore.sync.actions import (
    Action,
    ContactPlan,
    CreateTask,
    Hold,
    SetProperty,
    StageBackward,
    StageForward,
)

STAGE_PROPERTY = "lifecyclestage"
OWNER_PROPERTY = "hubspot_owner_id"
TOP_REASONS = 3


@dataclass(frozen=True, slots=True)
class PlanContext:
    """Run-wide inputs of the planner."""

    now_ms: int
    rules_version: str
    handoff_stage: str = "salesqualifiedlead"
    stage_order: StageOrder = DEFAULT_STAGE_ORDER
    default_owner_id: str | None = None
    task_due_ms: int = 24 * 3600 * 1000
    # Owner ids HubSpot reports as archived: a task for them would go unseen.
    archived_owner_ids: Collection[str] = field(default_factory=frozenset)


def same_value(before: str | None, after: str | None) -> bool:
    """True when writing `after` over `before` would change nothing HubSpot shows.

    HubSpot hands number properties back in its own format ("42" for a written "42.0",
    "1.50" vs "1.5"), so numbers compare by value and text by its trimmed form.
    """
    b = (before or "").strip()
    a = (after or "").strip()
    if a == b:
        return True
    if not a or not b:
        return False
    try:
        fb, fa = float(b), float(a)
    except ValueError:
        return False
    if math.isnan(fb) or math.isnan(fa):
        return False
    return fb == fa


def _reasons_for_property(evaluation: Evaluation, prop: str) -> tuple[str, ...]:
    for score in evaluation.scores.values():
        if score.property == prop:
            return tuple(score.top_reasons(TOP_REASONS))
    return top_reasons(evaluation)


def top_reasons(evaluation: Evaluation, n: int = TOP_REASONS) -> tuple[str, ...]:
    """The strongest met contributions across every score, as `rule (+p)` text."""
    met = [
        c for score in evaluation.scores.values() for c in score.contributions if c.met and c.points
    ]
    met.sort(key=lambda c: (-abs(c.points), c.rule))
    seen: list[str] = []
    for c in met:
        text = f"{c.rule} ({c.points:+g})"
        if text not in seen:
            seen.append(text)
        if len(seen) == n:
            break
    return tuple(seen)


def _exclusion_reason(evaluation: Evaluation) -> str:
    reason = evaluation.stage.reason
    if evaluation.exclusion and evaluation.exclusion in reason:
        return reason
    return f"excluded: {evaluation.exclusion}"


def _score_line(evaluation: Evaluation) -> str:
    return ", ".join(f"{s.name} {s.total:g}" for s in evaluation.scores.values())


def task_key(contact_id: str, handoff_stage: str, crossing: int, rules_version: str) -> str:
    """Deterministic task key: the same crossing always maps to the same key."""
    return f"leadscore:{contact_id}:{handoff_stage}:{crossing}:{rules_version}"


def _owner(contact: Contact, ctx: PlanContext) -> tuple[str | None, str, str | None]:
    """Owner for a hand-off task, a note saying where it came from, and a warning if none."""
    owner = (contact.properties.get(OWNER_PROPERTY) or "").strip() or None
    if owner is not None and owner not in ctx.archived_owner_ids:
        return owner, "contact owner", None
    why = "contact has no owner" if owner is None else f"owner {owner} is archived"
    if ctx.default_owner_id:
        return ctx.default_owner_id, f"default owner ({why})", None
    warning = (
        f"contact {contact.id}: {why} and LEADSCORE_DEFAULT_OWNER_ID is not set; "
        "the task is created unassigned"
    )
    return None, f"unassigned ({why})", warning


def _task(
    contact: Contact, evaluation: Evaluation, ctx: PlanContext, key: str, resumed: bool
) -> tuple[CreateTask, str | None]:
    owner_id, note, warning = _owner(contact, ctx)
    reasons = top_reasons(evaluation)
    name = contact.properties.get("firstname") or contact.email or f"contact {contact.id}"
    body_lines = [f"Score: {_score_line(evaluation)}"]
    if evaluation.grid:
        body_lines.append(f"Grid: {evaluation.grid}")
    body_lines.append("Why: " + ("; ".join(reasons) if reasons else "no scoring rule met"))
    body_lines.append(f"Stage: {evaluation.stage.reason}")
    task = CreateTask(
        contact_id=contact.id,
        email=contact.email,
        key=key,
        owner_id=owner_id,
        owner_note=note,
        subject=f"Follow up: {name} is now a sales-qualified lead ({_score_line(evaluation)})",
        body="\n".join(body_lines),
        due_ms=ctx.now_ms + ctx.task_due_ms,
        reasons=reasons,
        resumed=resumed,
    )
    return task, warning


def plan_contact(
    contact: Contact, evaluation: Evaluation, state: ContactState, ctx: PlanContext
) -> ContactPlan:
    """Actions that bring HubSpot in line with the evaluation; none when it already is."""
    actions: list[Action] = []
    current_outputs: dict[str, str | None] = {}
    for prop, value in evaluation.properties.items():
        before = contact.properties.get(prop)
        current_outputs[prop] = before
        if not same_value(before, value):
            actions.append(
                SetProperty(
                    contact.id,
                    contact.email,
                    prop,
                    before,
                    value,
                    _reasons_for_property(evaluation, prop),
                )
            )

    current = (contact.properties.get(STAGE_PROPERTY) or "").strip() or None
    target = evaluation.stage.stage
    # `prior` is the stage the contact had before any half-finished move of ours: a run that
    # died between clearing a stage and setting the earlier one left HubSpot with none.
    prior = current
    restoring = current is None and state.cleared_from is not None
    if restoring:
        prior = state.cleared_from
        # Finish the move (or undo the clear when the rules now keep the old stage); an
        # exclusion cannot leave a contact stageless because of a write of ours.
        target = state.cleared_from if (evaluation.exclusion or not target) else target
    stage_reasons = (evaluation.stage.reason, *top_reasons(evaluation))
    order = ctx.stage_order
    handoff_index = order.index(ctx.handoff_stage)
    current_index = order.index(current)
    prior_index = order.index(prior)
    moves_to = current
    if restoring:
        assert target is not None
        reason = f"finishing an interrupted move from {prior}: {evaluation.stage.reason}"
        actions.append(StageForward(contact.id, contact.email, current, target, (reason,)))
        moves_to = target
    elif evaluation.exclusion:
        # Scored, never moved or tasked. Say so whenever the plan touches the contact or
        # the rules name a different stage, so the diff explains the missing stage change.
        if actions or (target and target != current):
            actions.append(
                Hold(
                    contact.id,
                    contact.email,
                    current,
                    target or current,
                    (_exclusion_reason(evaluation),),
                )
            )
    elif target and target != current:
        target_index = order.index(target)
        if target_index < 0:
            actions.append(
                Hold(
                    contact.id,
                    contact.email,
                    current,
                    target,
                    (f"stage {target!r} is not a lifecycle stage of this portal",),
                )
            )
        elif target_index > current_index:
            actions.append(StageForward(contact.id, contact.email, current, target, stage_reasons))
            moves_to = target
        else:
            actions.append(StageBackward(contact.id, contact.email, current, target, stage_reasons))
            moves_to = target

    warning: str | None = None
    cancel: str | None = None
    crosses = (
        handoff_index >= 0
        and moves_to != current
        and order.index(moves_to) >= handoff_index
        and prior_index < handoff_index
    )
    open_key = state.open_task_key
    if crosses:
        key = open_key or task_key(
            contact.id, ctx.handoff_stage, state.tasks_total + 1, ctx.rules_version
        )
        task, warning = _task(contact, evaluation, ctx, key, resumed=open_key is not None)
        actions.append(task)
    elif open_key is not None:
        # An earlier run planned this task and wrote the stage but did not confirm the task:
        # finish it, unless the contact is no longer past the line (or may not be tasked).
        if current_index >= handoff_index >= 0 and not evaluation.exclusion:
            task, warning = _task(contact, evaluation, ctx, open_key, resumed=True)
            actions.append(task)
        else:
            cancel = open_key

    return ContactPlan(
        contact_id=contact.id,
        email=contact.email,
        evaluation=evaluation,
        actions=tuple(actions),
        current_stage=current,
        current_outputs=current_outputs,
        cancel_task_key=cancel,
        warning=warning,
    )


def written_after(plan: ContactPlan, applied: bool) -> Mapping[str, str]:
    """Output property values HubSpot holds after the plan (applied or not)."""
    if applied:
        return dict(plan.evaluation.properties)
    return {k: v for k, v in plan.current_outputs.items() if v is not None}

"""Typed actions the planner emits and the applier (or the dry-run renderer) consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from leadscore.rules.evaluation import Evaluation

ActionKind = Literal["set_property", "stage_forward", "stage_backward", "create_task", "hold"]

# Kinds that write to HubSpot; "hold" only explains why nothing is written.
WRITE_KINDS: tuple[ActionKind, ...] = (
    "set_property",
    "stage_forward",
    "stage_backward",
    "create_task",
)


@dataclass(frozen=True, slots=True)
class SetProperty:
    """Write one output property (a score, the grid, the reasons text)."""

    contact_id: str
    email: str | None
    property: str
    before: str | None
    after: str
    reasons: tuple[str, ...] = ()
    kind: ActionKind = field(default="set_property", init=False)


@dataclass(frozen=True, slots=True)
class StageForward:
    """Move the lifecycle stage forward: one write."""

    contact_id: str
    email: str | None
    before: str | None
    after: str
    reasons: tuple[str, ...] = ()
    kind: ActionKind = field(default="stage_forward", init=False)

    @property
    def property(self) -> str:
        return "lifecyclestage"


@dataclass(frozen=True, slots=True)
class StageBackward:
    """Move the lifecycle stage back: clear it, then set the earlier stage in a later write."""

    contact_id: str
    email: str | None
    before: str | None
    after: str
    reasons: tuple[str, ...] = ()
    kind: ActionKind = field(default="stage_backward", init=False)

    @property
    def property(self) -> str:
        return "lifecyclestage"


@dataclass(frozen=True, slots=True)
class CreateTask:
    """A follow-up task for the owner of a contact that crossed into the hand-off stage."""

    contact_id: str
    email: str | None
    key: str
    owner_id: str | None
    owner_note: str
    subject: str
    body: str
    due_ms: int
    reasons: tuple[str, ...] = ()
    # True when this completes a task planned by an earlier, interrupted run.
    resumed: bool = False
    kind: ActionKind = field(default="create_task", init=False)

    @property
    def property(self) -> str | None:
        return None


@dataclass(frozen=True, slots=True)
class Hold:
    """The rules want a stage change the service must not make; says why. Writes nothing."""

    contact_id: str
    email: str | None
    before: str | None
    after: str | None
    reasons: tuple[str, ...] = ()
    kind: ActionKind = field(default="hold", init=False)

    @property
    def property(self) -> str:
        return "lifecyclestage"


Action = SetProperty | StageForward | StageBackward | CreateTask | Hold


@dataclass(frozen=True, slots=True)
class ContactPlan:
    """Everything planned for one contact, plus what to remember after it is applied."""

    contact_id: str
    email: str | None
    evaluation: Evaluation
    actions: tuple[Action, ...]
    # Stage in HubSpot before the plan runs (used for the snapshot when a write fails).
    current_stage: str | None
    # Current HubSpot values of the output properties (the "before" side of the diff).
    current_outputs: dict[str, str | None] = field(default_factory=dict)
    # A planned task from an earlier run that no longer applies (contact fell back).
    cancel_task_key: str | None = None
    # Set when a hand-off task cannot go to anyone: no owner and no default owner.
    warning: str | None = None

    @property
    def writes(self) -> tuple[Action, ...]:
        """The actions that write to HubSpot."""
        return tuple(a for a in self.actions if a.kind != "hold")

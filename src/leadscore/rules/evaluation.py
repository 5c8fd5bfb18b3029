"""What the rule engine returns for one contact: scores, their explanation, the target stage.

This is the contract between the engine and the sync planner. Fields may be added; the
existing ones keep their meaning.

The classes are frozen dataclasses (immutable, compared and printed by value). Their
`__init__` is written out rather than generated: a frozen dataclass's own sets every field
through `object.__setattr__`, which made building them a tenth of the cost of scoring a
contact. These set the slots directly and accept exactly the same arguments.

The engine builds them on its per-contact path with `contribution`, `score_result`,
`stage_target` and `evaluation` instead, at under half the cost: each fills a plain object
with the same slots (ordinary attribute stores) and then makes it an instance of the frozen
class by assigning `__class__`, which CPython allows between classes of identical slot
layout. The result is indistinguishable from one made by the constructor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, cast

_Setter = Callable[[object, object], None]


def _slot_setters(cls: type, count: int) -> tuple[_Setter, ...]:
    """The slot descriptors' setters of the first `count` fields, in field order."""
    names = [f.name for f in fields(cls)]
    assert len(names) == count, f"{cls.__name__}.__init__ must set every field"
    return tuple(getattr(cls, name).__set__ for name in names)


@dataclass(frozen=True, slots=True, init=False)
class Contribution:
    """One rule's part in a score: whether it was met, the points it gave and why."""

    rule: str
    points: float
    met: bool
    reason: str
    group: str | None = None

    def __init__(
        self, rule: str, points: float, met: bool, reason: str, group: str | None = None
    ) -> None:
        _set_rule(self, rule)
        _set_points(self, points)
        _set_met(self, met)
        _set_reason(self, reason)
        _set_group(self, group)


_set_rule, _set_points, _set_met, _set_reason, _set_group = _slot_setters(Contribution, 5)


@dataclass(frozen=True, slots=True, init=False)
class ScoreResult:
    """One named score (fit, engagement, total, ...) for one contact."""

    name: str
    property: str
    total: float
    contributions: tuple[Contribution, ...] = ()

    def __init__(
        self, name: str, property: str, total: float, contributions: tuple[Contribution, ...] = ()
    ) -> None:
        _set_name(self, name)
        _set_property(self, property)
        _set_total(self, total)
        _set_contributions(self, contributions)

    def top_reasons(self, n: int = 3) -> list[str]:
        """The `n` met contributions with the largest absolute points, as `rule (+p)` text."""
        met = [c for c in self.contributions if c.met and c.points]
        met.sort(key=lambda c: (-abs(c.points), c.rule))
        return [f"{c.rule} ({c.points:+g})" for c in met[:n]]


_set_name, _set_property, _set_total, _set_contributions = _slot_setters(ScoreResult, 4)


@dataclass(frozen=True, slots=True, init=False)
class StageTarget:
    """The lifecycle stage the rules want, or None when they have no opinion."""

    stage: str | None
    reason: str

    def __init__(self, stage: str | None, reason: str) -> None:
        _set_stage(self, stage)
        _set_stage_reason(self, reason)


_set_stage, _set_stage_reason = _slot_setters(StageTarget, 2)


@dataclass(frozen=True, slots=True, init=False)
class Evaluation:
    """The full result of scoring one contact at one instant."""

    contact_id: str
    scores: Mapping[str, ScoreResult]
    stage: StageTarget
    grid: str | None = None
    # Why the service must not move or task this contact (protected stage, employee,
    # partner, opted out...); None when it may. Excluded contacts are still scored.
    exclusion: str | None = None
    # Earliest epoch-ms instant at which time alone (a window closing, decay, inactivity)
    # would change this result; None when nothing time-dependent applies.
    next_due_ms: int | None = None
    # Every HubSpot property value the service writes for this contact, already formatted
    # as HubSpot strings (score properties, grid, top reasons).
    properties: Mapping[str, str] = field(default_factory=dict)

    def __init__(
        self,
        contact_id: str,
        scores: Mapping[str, ScoreResult],
        stage: StageTarget,
        grid: str | None = None,
        exclusion: str | None = None,
        next_due_ms: int | None = None,
        properties: Mapping[str, str] | None = None,
    ) -> None:
        _set_contact_id(self, contact_id)
        _set_scores(self, scores)
        _set_eval_stage(self, stage)
        _set_grid(self, grid)
        _set_exclusion(self, exclusion)
        _set_next_due_ms(self, next_due_ms)
        _set_properties(self, {} if properties is None else properties)


(
    _set_contact_id,
    _set_scores,
    _set_eval_stage,
    _set_grid,
    _set_exclusion,
    _set_next_due_ms,
    _set_properties,
) = _slot_setters(Evaluation, 7)


# --- fast construction for the engine (see the module docstring) ----------------------------


def _slots_twin(cls: type) -> type:
    """A plain class with `cls`'s slot layout: its instances may become `cls` instances."""
    names = tuple(f.name for f in fields(cls))
    assert getattr(cls, "__slots__", None) == names, f"{cls.__name__} must be slots=True"
    return type(f"_{cls.__name__}Slots", (), {"__slots__": names})


_ContributionSlots = _slots_twin(Contribution)
_ScoreResultSlots = _slots_twin(ScoreResult)
_StageTargetSlots = _slots_twin(StageTarget)
_EvaluationSlots = _slots_twin(Evaluation)
_new = object.__new__


def contribution(
    rule: str, points: float, met: bool, reason: str, group: str | None = None
) -> Contribution:
    """`Contribution(rule, points, met, reason, group)`, made faster."""
    made: Any = _new(_ContributionSlots)
    made.rule = rule
    made.points = points
    made.met = met
    made.reason = reason
    made.group = group
    made.__class__ = Contribution
    return cast(Contribution, made)


def score_result(
    name: str, property: str, total: float, contributions: tuple[Contribution, ...]
) -> ScoreResult:
    """`ScoreResult(name, property, total, contributions)`, made faster."""
    made: Any = _new(_ScoreResultSlots)
    made.name = name
    made.property = property
    made.total = total
    made.contributions = contributions
    made.__class__ = ScoreResult
    return cast(ScoreResult, made)


def stage_target(stage: str | None, reason: str) -> StageTarget:
    """`StageTarget(stage, reason)`, made faster."""
    made: Any = _new(_StageTargetSlots)
    made.stage = stage
    made.reason = reason
    made.__class__ = StageTarget
    return cast(StageTarget, made)


def evaluation(
    contact_id: str,
    scores: Mapping[str, ScoreResult],
    stage: StageTarget,
    grid: str | None,
    exclusion: str | None,
    next_due_ms: int | None,
    properties: Mapping[str, str],
) -> Evaluation:
    """`Evaluation(...)` with every field given, made faster."""
    made: Any = _new(_EvaluationSlots)
    made.contact_id = contact_id
    made.scores = scores
    made.stage = stage
    made.grid = grid
    made.exclusion = exclusion
    made.next_due_ms = next_due_ms
    made.properties = properties
    made.__class__ = Evaluation
    return cast(Evaluation, made)

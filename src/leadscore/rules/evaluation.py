"""What the rule engine returns for one contact: scores, their explanation, the target stage.

This is the contract between the engine and the sync planner. Fields may be added; the
existing ones keep their meaning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Contribution:
    """One rule's part in a score: whether it was met, the points it gave and why."""

    rule: str
    points: float
    met: bool
    reason: str
    group: str | None = None


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """One named score (fit, engagement, total, ...) for one contact."""

    name: str
    property: str
    total: float
    contributions: tuple[Contribution, ...] = ()

    def top_reasons(self, n: int = 3) -> list[str]:
        """The `n` met contributions with the largest absolute points, as `rule (+p)` text."""
        met = [c for c in self.contributions if c.met and c.points]
        met.sort(key=lambda c: (-abs(c.points), c.rule))
        return [f"{c.rule} ({c.points:+g})" for c in met[:n]]


@dataclass(frozen=True, slots=True)
class StageTarget:
    """The lifecycle stage the rules want, or None when they have no opinion."""

    stage: str | None
    reason: str


@dataclass(frozen=True, slots=True)
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

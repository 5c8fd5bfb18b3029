"""The part of the rule engine's ScoringModel the sync pipeline relies on (structural type)."""

from __future__ import annotations

from typing import Protocol

from leadscore.gateway.port import PropertySpec
from leadscore.records import Contact
from leadscore.rules.evaluation import Evaluation


class Scorer(Protocol):
    """What `leadscore.rules.ScoringModel` offers the pipeline; tests may pass a small fake."""

    @property
    def version(self) -> str: ...

    @property
    def contact_properties(self) -> tuple[str, ...]: ...

    @property
    def output_properties(self) -> tuple[PropertySpec, ...]: ...

    @property
    def handoff_stage(self) -> str: ...

    @property
    def activity_horizon_days(self) -> int | None: ...

    def evaluate(self, contact: Contact, now_ms: int) -> Evaluation: ...

"""Plain records shared by the gateway, the rule engine and the sync pipeline.

Timestamps are epoch milliseconds (UTC), HubSpot's own wire format; property values
are the strings HubSpot returns (or None when unset).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class FormSubmission:
    """One form submission by a contact."""

    form_id: str
    submitted_at: int
    form_name: str | None = None
    page_url: str | None = None
    conversion_id: str | None = None


@dataclass(frozen=True, slots=True)
class EmailEvent:
    """One marketing-email event (OPEN, CLICK, DELIVERED, ...) for a contact."""

    type: str
    created: int
    campaign_id: str | None = None
    event_id: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Contact:
    """A HubSpot contact with the activity the rules need."""

    id: str
    properties: Mapping[str, str | None]
    form_submissions: tuple[FormSubmission, ...] = ()
    email_events: tuple[EmailEvent, ...] = ()

    @property
    def email(self) -> str | None:
        return self.properties.get("email")


@dataclass(frozen=True, slots=True)
class Owner:
    """A HubSpot user who can own contacts and tasks."""

    id: str
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    archived: bool = False


@dataclass(frozen=True, slots=True)
class Form:
    """A HubSpot form."""

    id: str
    name: str
    form_type: str | None = None


@dataclass(frozen=True, slots=True)
class LifecycleStage:
    """One option of the lifecyclestage property, in display order."""

    value: str
    label: str
    display_order: int
    hidden: bool = False


@dataclass(frozen=True, slots=True)
class StageOrder:
    """The portal's lifecycle stages in order; custom stages included."""

    stages: tuple[LifecycleStage, ...] = field(default_factory=tuple)

    def index(self, value: str | None) -> int:
        """Position of a stage; -1 for an empty or unknown stage."""
        if not value:
            return -1
        for i, stage in enumerate(self.stages):
            if stage.value == value:
                return i
        return -1


DEFAULT_STAGE_ORDER = StageOrder(
    tuple(
        LifecycleStage(value, label, i)
        for i, (value, label) in enumerate(
            [
                ("subscriber", "Subscriber"),
                ("lead", "Lead"),
                ("marketingqualifiedlead", "Marketing Qualified Lead"),
                ("salesqualifiedlead", "Sales Qualified Lead"),
                ("opportunity", "Opportunity"),
                ("customer", "Customer"),
                ("evangelist", "Evangelist"),
                ("other", "Other"),
            ]
        )
    )
)

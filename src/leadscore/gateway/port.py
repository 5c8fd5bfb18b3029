"""The narrow interface the sync pipeline uses to talk to HubSpot, and its value types.

The pipeline never sees a status code: operations return these records or raise a
`leadscore.gateway.errors.GatewayError`. The HTTP gateway and any test fake implement
`HubSpotPort`. Fields and methods may be added; existing ones keep their meaning.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from leadscore.records import Contact, Form, Owner, StageOrder


@dataclass(frozen=True, slots=True)
class ContactUpdate:
    """Property values to write on one contact ("" clears a property)."""

    contact_id: str
    properties: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class StageMove:
    """Move one contact's lifecycle stage. `backward` moves are written as clear, then set."""

    contact_id: str
    to_stage: str
    backward: bool


@dataclass(frozen=True, slots=True)
class WriteFailure:
    """Why one contact's write did not apply (a 207 error, or an isolated bad record)."""

    contact_id: str
    message: str
    status: int | None = None
    category: str | None = None


@dataclass(slots=True)
class WriteReport:
    """Per-contact outcome of a batched write."""

    succeeded: list[str] = field(default_factory=list)
    failed: list[WriteFailure] = field(default_factory=list)

    def merge(self, other: WriteReport) -> None:
        self.succeeded.extend(other.succeeded)
        self.failed.extend(other.failed)


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """A follow-up task to create for a contact, identified by a deterministic key."""

    key: str
    contact_id: str
    owner_id: str | None
    subject: str
    body: str
    due_ms: int
    priority: str = "HIGH"
    task_type: str = "TODO"


@dataclass(frozen=True, slots=True)
class TaskOutcome:
    """Result for one TaskSpec: the HubSpot task id, whether this call created it, or why not."""

    key: str
    contact_id: str
    task_id: str | None
    created: bool
    error: str | None = None


@dataclass(frozen=True, slots=True)
class PropertySpec:
    """A contact property the service writes, created when missing."""

    name: str
    label: str
    type: str = "number"  # number | string
    field_type: str = "number"  # number | text | textarea
    description: str = ""


@dataclass(frozen=True, slots=True)
class SubmissionRecord:
    """A form submission as HubSpot reports it, before it is mapped to a contact id."""

    form_id: str
    submitted_at: int
    email: str | None
    conversion_id: str | None = None
    page_url: str | None = None


@dataclass(frozen=True, slots=True)
class EmailEventRecord:
    """A marketing-email event as HubSpot reports it, keyed by recipient email."""

    event_id: str
    type: str
    created: int
    recipient: str
    campaign_id: str | None = None
    url: str | None = None


@dataclass(slots=True)
class GatewayStats:
    """Counters for the run summary and metrics."""

    calls: int = 0
    calls_by_operation: dict[str, int] = field(default_factory=dict)
    rate_limited: int = 0
    retries: int = 0
    daily_remaining: int | None = None


class HubSpotPort(Protocol):
    """Everything the service reads from and writes to HubSpot."""

    # --- reads -------------------------------------------------------------
    def iter_contacts(self, properties: Sequence[str]) -> Iterator[list[Contact]]:
        """All contacts, in pages of up to 100, with the given properties (no activity)."""
        ...

    def iter_contacts_modified_since(
        self, since_ms: int, properties: Sequence[str]
    ) -> Iterator[list[Contact]]:
        """Contacts with lastmodifieddate >= since_ms, ascending, each id once per call."""
        ...

    def read_contacts(self, ids: Sequence[str], properties: Sequence[str]) -> list[Contact]:
        """Batch read by id (any number; chunked to 100). Unknown ids are left out."""
        ...

    def get_contact(self, id_or_email: str, properties: Sequence[str]) -> Contact | None:
        """One contact by id or by email; None when it does not exist."""
        ...

    def list_owners(self) -> list[Owner]:
        """All owners, archived ones included and flagged."""
        ...

    def list_forms(self) -> list[Form]:
        """All forms."""
        ...

    def iter_form_submissions(self, form_id: str, since_ms: int) -> Iterator[SubmissionRecord]:
        """Submissions of one form at or after since_ms."""
        ...

    def iter_email_events(self, since_ms: int, until_ms: int) -> Iterator[EmailEventRecord]:
        """Email events created in [since_ms, until_ms)."""
        ...

    def lifecycle_stages(self) -> StageOrder:
        """The portal's lifecyclestage options in order, custom stages included."""
        ...

    # --- writes ------------------------------------------------------------
    def ensure_properties(self, specs: Sequence[PropertySpec]) -> None:
        """Create the service's property group and any missing properties."""
        ...

    def update_contacts(self, updates: Sequence[ContactUpdate]) -> WriteReport:
        """Batch-update contact properties; one bad record never fails its neighbours."""
        ...

    def move_stages(self, moves: Sequence[StageMove]) -> WriteReport:
        """Forward moves in one write; backward moves as a clear, then a separate set."""
        ...

    def create_tasks(self, tasks: Sequence[TaskSpec]) -> list[TaskOutcome]:
        """Create tasks associated to their contacts, at most once per key, even across retries."""
        ...

    @property
    def stats(self) -> GatewayStats:
        """Counters since the gateway was created."""
        ...

"""The sandbox portal's mutable state and HubSpot's write rules (lifecycle stages, validation,
conversion and email summary properties, search lag)."""

from __future__ import annotations

import bisect
import uuid
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from leadscore.sandbox.activity_paging import Added
from leadscore.sandbox.contact_store import ContactStore
from leadscore.sandbox.property_catalog import (
    PropertyDef,
    contact_properties,
    default_groups,
    iso_from_ms,
    normalise_value,
    parse_time_ms,
    task_properties,
    validation_error,
)
from leadscore.sandbox.seeded_portal import (
    FormDef,
    Owner,
    SeededPortal,
)

TASK_ID_OFFSET = 90_000_000_001
CONTACT_TO_TASK = 203
TASK_TO_CONTACT = 204
OBJECT_TYPES = {"contacts": "contacts", "0-1": "contacts", "tasks": "tasks", "0-27": "tasks"}


@dataclass
class RejectedStageMove:
    contact_id: str
    current: str
    requested: str
    at_ms: int


@dataclass
class WriteOutcome:
    """Result of writing properties to one record."""

    errors: list[dict[str, Any]] = field(default_factory=list)
    changed: bool = False
    rejected_moves: list[RejectedStageMove] = field(default_factory=list)


class PropertyRegistry:
    """Property definitions and groups per object type (contacts, tasks)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.props: dict[str, dict[str, PropertyDef]] = {
            "contacts": {p.name: p for p in contact_properties()},
            "tasks": {p.name: p for p in task_properties()},
        }
        for registry in self.props.values():
            for order, p in enumerate(registry.values()):
                p.display_order = order
        self.groups: dict[str, dict[str, dict[str, Any]]] = {
            t: {g["name"]: g for g in default_groups(t)} for t in ("contacts", "tasks")
        }

    def get(self, object_type: str, name: str) -> PropertyDef | None:
        return self.props[object_type].get(name)

    def stage_order(self) -> list[str]:
        """Lifecycle stage values in display order (custom stages included)."""
        options = self.props["contacts"]["lifecyclestage"].options
        return [str(o["value"]) for o in sorted(options, key=lambda o: o.get("displayOrder", 0))]


class ContactView:
    """Contacts as search sees them: live, or as they were before writes still lagging."""

    def __init__(self, portal: SandboxPortal) -> None:
        self._portal = portal

    def candidate_indices(self) -> Iterable[int]:
        return self._portal.contacts.live_indices()

    def value(self, idx: int, name: str) -> str | None:
        return self._portal.contacts.get(idx, name)

    def property_def(self, name: str) -> PropertyDef | None:
        return self._portal.properties.get("contacts", name)

    def numeric_column(self, name: str) -> Callable[[int], int] | None:
        store = self._portal.contacts
        if name == "lastmodifieddate":
            lm = store.lastmodified
            return lm.__getitem__
        if name == "createdate":
            return store.createdate.__getitem__
        if name == "hs_object_id":
            return lambda i: i + 1001
        return None


@dataclass
class Task:
    id: str
    properties: dict[str, str | None]
    created_ms: int
    updated_ms: int
    contacts: list[str] = field(default_factory=list)
    archived: bool = False


class TaskStore:
    """Tasks created through the API (the seeded portal has none)."""

    def __init__(self, portal: SandboxPortal) -> None:
        self._portal = portal
        self.tasks: list[Task] = []
        self.by_contact: dict[str, list[int]] = {}

    def index_of(self, task_id: Any) -> int | None:
        text = str(task_id)
        if not text.isdigit():
            return None
        idx = int(text) - TASK_ID_OFFSET
        if 0 <= idx < len(self.tasks) and not self.tasks[idx].archived:
            return idx
        return None

    def candidate_indices(self) -> Iterable[int]:
        return (i for i, t in enumerate(self.tasks) if not t.archived)

    def value(self, idx: int, name: str) -> str | None:
        task = self.tasks[idx]
        if name == "hs_object_id":
            return task.id
        if name in {"hs_createdate", "createdate"}:
            return iso_from_ms(task.created_ms)
        if name in {"hs_lastmodifieddate", "lastmodifieddate"}:
            return iso_from_ms(task.updated_ms)
        return task.properties.get(name)

    def property_def(self, name: str) -> PropertyDef | None:
        return self._portal.properties.get("tasks", name)

    def numeric_column(self, name: str) -> Callable[[int], int] | None:
        return None


@dataclass
class Submission:
    """A form submission made through the submit endpoint."""

    at_ms: int
    seq: int
    form_index: int
    contact_idx: int
    values: list[dict[str, str]]
    page_url: str | None
    conversion_id: str


@dataclass
class InjectedEvent:
    at_ms: int
    seq: int
    type: str
    contact_idx: int
    recipient: str
    campaign_id: int
    extra: dict[str, Any]


class SandboxPortal:
    """Everything the API serves; mutated only on the server's event-loop thread."""

    def __init__(self, seeded: SeededPortal, clock: Callable[[], int]) -> None:
        self.seeded = seeded
        self.clock = clock
        self.contacts = ContactStore(seeded)
        self.properties = PropertyRegistry()
        self.contact_view = ContactView(self)
        self.search_lag_ms = 0
        # 207 for a batch create with some bad inputs (what leadscore's issue asks for); False
        # gives HubSpot's default without multi-status error handling: the whole batch fails.
        self.batch_create_multi_status = True
        self.reset()

    def reset(self) -> None:
        """Back to the freshly seeded portal."""
        self.contacts.reset()
        self.properties.reset()
        self.tasks = TaskStore(self)
        self.owners: list[Owner] = list(self.seeded.owners)
        self.rejected_moves: list[RejectedStageMove] = []
        self.submissions: list[Submission] = []  # newest last
        self.injected_events: list[Added[InjectedEvent]] = []  # sorted by (at, seq) ascending
        self.submissions_by_form: dict[int, list[Added[Submission]]] = {}  # sorted ascending
        self._seeded_form_positions: dict[int, array[int]] = {}
        self._seq = 0
        # contact index -> (visible from, old values of the written properties or None if new)
        self.search_stale: dict[int, tuple[int, dict[str, str | None] | None, int]] = {}

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    # owners ------------------------------------------------------------------------
    def owner_ids(self) -> set[str]:
        return {o.id for o in self.owners}

    def add_owner(self, email: str, first: str, last: str, archived: bool) -> Owner:
        k = len(self.owners)
        owner = Owner(
            id=str(80_000_001 + k * 13),
            email=email,
            first_name=first,
            last_name=last,
            user_id=9_200_000 + k,
            archived=archived,
            created_ms=self.clock(),
        )
        self.owners.append(owner)
        return owner

    # forms ---------------------------------------------------------------------------
    def form_index(self, form_id: str) -> int | None:
        for k, f in enumerate(self.seeded.forms):
            if f.id == form_id:
                return k
        return None

    # writing contacts ----------------------------------------------------------------
    def validate(self, object_type: str, props: dict[str, Any]) -> list[dict[str, Any]]:
        """HubSpot validation results for every bad value (empty when all are fine)."""
        results = []
        owners = self.owner_ids()
        for name, value in props.items():
            result = validation_error(self.properties.get(object_type, name), name, value, owners)
            if result is not None:
                results.append(result)
        return results

    def write_contact(
        self, idx: int, props: dict[str, Any], *, created: bool = False
    ) -> WriteOutcome:
        """Validate then apply; lifecycle stages only move forward unless cleared first."""
        outcome = WriteOutcome()
        outcome.errors = self.validate("contacts", props)
        if outcome.errors:
            return outcome
        store = self.contacts
        now = self.clock()
        snapshot: dict[str, str | None] = {}
        for name, raw in props.items():
            prop = self.properties.get("contacts", name)
            assert prop is not None
            value = None if raw is None or raw == "" else normalise_value(prop, raw)
            current = store.get(idx, name)
            if name == "email" and value:
                value = value.lower()
            if name == "lifecyclestage":
                self._write_stage(idx, current, value, now, outcome, snapshot)
                continue
            if current == value:
                continue
            snapshot.setdefault(name, current)
            store.set(idx, name, value)
            outcome.changed = True
        if outcome.changed or created:
            self._remember_for_search_lag(idx, snapshot, created, now)
            store.touch(idx, now)
        return outcome

    def _write_stage(
        self,
        idx: int,
        current: str | None,
        value: str | None,
        now: int,
        outcome: WriteOutcome,
        snapshot: dict[str, str | None],
    ) -> None:
        store = self.contacts
        if value == current:
            return
        order = self.properties.stage_order()
        moving_back = (
            value is not None
            and current is not None
            and value in order
            and current in order
            and order.index(value) < order.index(current)
        )
        if moving_back:
            assert current is not None and value is not None
            move = RejectedStageMove(store.id_of(idx), current, value, now)
            outcome.rejected_moves.append(move)
            self.rejected_moves.append(move)
            return
        snapshot.setdefault("lifecyclestage", current)
        store.set(idx, "lifecyclestage", value)
        outcome.changed = True
        if value is None:
            return
        # Entering a stage stamps its date; moving back (after a clear) drops later stamps.
        position = order.index(value)
        for k, stage in enumerate(order):
            date_prop = f"hs_lifecyclestage_{stage}_date"
            if self.properties.get("contacts", date_prop) is None:
                continue
            if k == position and store.get(idx, date_prop) is None:
                store.set(idx, date_prop, iso_from_ms(now))
            elif k > position and store.get(idx, date_prop) is not None:
                store.set(idx, date_prop, None)

    def _remember_for_search_lag(
        self, idx: int, snapshot: dict[str, str | None], created: bool, now: int
    ) -> None:
        lag = self.search_lag_ms
        if lag <= 0:
            return
        old_lm = self.contacts.lastmodified[idx]
        entry = self.search_stale.get(idx)
        if entry is not None and entry[0] > now:
            _visible, old, first_lm = entry
            if old is not None:
                for k, v in snapshot.items():
                    old.setdefault(k, v)
            self.search_stale[idx] = (now + lag, old, first_lm)
        else:
            self.search_stale[idx] = (now + lag, None if created else dict(snapshot), old_lm)

    def stale_contacts(self, now: int) -> dict[int, tuple[int, dict[str, str | None] | None, int]]:
        """Contacts whose latest writes search does not see yet."""
        if not self.search_stale:
            return {}
        expired = [i for i, (visible, _, _) in self.search_stale.items() if visible <= now]
        for i in expired:
            del self.search_stale[i]
        return self.search_stale

    def create_contact(self, props: dict[str, Any]) -> tuple[int | None, WriteOutcome]:
        outcome = WriteOutcome(errors=self.validate("contacts", props))
        if outcome.errors:
            return None, outcome
        idx = self.contacts.create(self.clock())
        # A new contact starts as a lead unless told otherwise, as in HubSpot.
        values = dict(props)
        if not values.get("lifecyclestage"):
            values["lifecyclestage"] = "lead"
        outcome = self.write_contact(idx, values, created=True)
        return idx, outcome

    # tasks -----------------------------------------------------------------------------
    def create_task(self, props: dict[str, Any], contact_ids: list[str]) -> Task:
        now = self.clock()
        values: dict[str, str | None] = {}
        for name, raw in props.items():
            prop = self.properties.get("tasks", name)
            assert prop is not None
            values[name] = None if raw in (None, "") else normalise_value(prop, raw)
        values.setdefault("hs_task_status", "NOT_STARTED")
        values.setdefault("hs_task_priority", "NONE")
        values.setdefault("hs_task_type", "TODO")
        idx = len(self.tasks.tasks)
        task = Task(str(TASK_ID_OFFSET + idx), values, now, now, list(dict.fromkeys(contact_ids)))
        self.tasks.tasks.append(task)
        for cid in task.contacts:
            self.tasks.by_contact.setdefault(cid, []).append(idx)
        return task

    def update_task(self, idx: int, props: dict[str, Any]) -> Task:
        """Write validated properties to a task; its modified time always moves forward."""
        task = self.tasks.tasks[idx]
        for name, value in props.items():
            task.properties[name] = None if value in (None, "") else str(value)
        task.updated_ms = max(task.updated_ms + 1, self.clock())
        return task

    # form submissions ----------------------------------------------------------------
    def submit_form(
        self, form_index: int, fields: dict[str, str], page_url: str | None, at_ms: int
    ) -> tuple[int, Submission]:
        """Create or update the contact by email, record the submission, update conversions."""
        form = self.seeded.forms[form_index]
        email = fields["email"].strip().lower()
        idx = self.contacts.find_by_email(email)
        known = {k: v for k, v in fields.items() if self.properties.get("contacts", k) is not None}
        writable = {
            k: v
            for k, v in known.items()
            if not self.properties.props["contacts"][k].read_only and k != "lifecyclestage"
        }
        if idx is None:
            created_idx, _outcome = self.create_contact({**writable, "email": email})
            assert created_idx is not None
            idx = created_idx
        else:
            self.write_contact(idx, {k: v for k, v in writable.items() if v != ""})
        submission = Submission(
            at_ms=at_ms,
            seq=self.next_seq(),
            form_index=form_index,
            contact_idx=idx,
            values=[{"name": k, "value": v} for k, v in fields.items()],
            page_url=page_url or form.page_url,
            conversion_id=str(uuid.uuid4()),
        )
        self.submissions.append(submission)
        bisect.insort(
            self.submissions_by_form.setdefault(form_index, []),
            Added(at_ms, submission.seq, submission),
            key=lambda a: (a.at_ms, a.seq),
        )
        self._update_conversions(idx, form, at_ms)
        return idx, submission

    def _update_conversions(self, idx: int, form: FormDef, at_ms: int) -> None:
        store = self.contacts
        count = int(store.get(idx, "num_conversion_events") or 0) + 1
        forms_seen = {
            self.seeded.forms[s.form_index].name for s in self.submissions if s.contact_idx == idx
        }
        for k in self.seeded_submission_positions(idx):
            forms_seen.add(self.seeded.forms[self.seeded.submissions.kind[k]].name)
        store.set(idx, "num_conversion_events", str(count))
        store.set(idx, "num_unique_conversion_events", str(len(forms_seen)))
        recent = store.get(idx, "recent_conversion_date")
        if recent is None or (parse_time_ms(recent) or 0) <= at_ms:
            store.set(idx, "recent_conversion_event_name", form.name)
            store.set(idx, "recent_conversion_date", iso_from_ms(at_ms))
        if store.get(idx, "first_conversion_date") is None:
            store.set(idx, "first_conversion_event_name", form.name)
            store.set(idx, "first_conversion_date", iso_from_ms(at_ms))
        store.touch(idx, self.clock())

    def seeded_submission_positions(self, idx: int) -> list[int]:
        log = self.seeded.submissions
        if idx >= self.seeded.contacts.n:
            return []
        return [
            log.by_contact[k] for k in range(log.contact_start[idx], log.contact_start[idx + 1])
        ]

    # email events ----------------------------------------------------------------------
    def inject_email_event(
        self, contact_idx: int, type_: str, at_ms: int, campaign_id: int, extra: dict[str, Any]
    ) -> InjectedEvent:
        """Add an event and keep the contact's email summary properties consistent."""
        recipient = self.contacts.get(contact_idx, "email") or ""
        event = InjectedEvent(
            at_ms, self.next_seq(), type_, contact_idx, recipient, campaign_id, extra
        )
        bisect.insort(
            self.injected_events, Added(at_ms, event.seq, event), key=lambda a: (a.at_ms, a.seq)
        )
        store = self.contacts
        counters = {
            "DELIVERED": ("hs_email_delivered", None),
            "OPEN": ("hs_email_open", "hs_email_last_open_date"),
            "CLICK": ("hs_email_click", "hs_email_last_click_date"),
            "BOUNCE": ("hs_email_bounce", None),
            "SENT": (None, "hs_email_last_send_date"),
        }
        counter, last = counters.get(type_, (None, None))
        if counter:
            store.set(contact_idx, counter, str(int(store.get(contact_idx, counter) or 0) + 1))
        if last:
            previous = store.get(contact_idx, last)
            if previous is None or (parse_time_ms(previous) or 0) < at_ms:
                store.set(contact_idx, last, iso_from_ms(at_ms))
        if type_ == "STATUSCHANGE" and extra.get("unsubscribe", True):
            store.set(contact_idx, "hs_email_optout", "true")
        store.touch(contact_idx, self.clock())
        return event

    def seeded_form_positions(self, form_index: int) -> array[int]:
        """Positions (newest first) of the seeded submissions of one form, built on first use."""
        cached = self._seeded_form_positions.get(form_index)
        if cached is None:
            kinds = self.seeded.submissions.kind
            cached = array("i", (k for k in range(len(kinds)) if kinds[k] == form_index))
            self._seeded_form_positions[form_index] = cached
        return cached

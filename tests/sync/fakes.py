"""Test doubles for the sync unit tests: an in-memory HubSpotPort and a tiny scoring model.

The fake port keeps HubSpot's rules that the pipeline depends on: lifecycle stage only moves
forward unless cleared first, every write bumps lastmodifieddate, 207-style per-contact
failures, numbers handed back in HubSpot's own format, and task creation once per key.
End-to-end behaviour against real HTTP is covered by the sandbox tests.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from leadscore.gateway.port import (
    ContactUpdate,
    EmailEventRecord,
    GatewayStats,
    PropertySpec,
    StageMove,
    SubmissionRecord,
    TaskOutcome,
    TaskSpec,
    WriteFailure,
    WriteReport,
)
from leadscore.records import DEFAULT_STAGE_ORDER, Contact, Form, Owner, StageOrder
from leadscore.rules.evaluation import Contribution, Evaluation, ScoreResult, StageTarget

DAY = 86_400_000
NUMBER_PROPS = {"leadscore_total"}


@dataclass
class FakeTask:
    key: str
    contact_id: str
    owner_id: str | None
    subject: str
    body: str


@dataclass
class FakeHubSpot:
    """An in-memory portal implementing HubSpotPort."""

    now_ms: int = 1_700_000_000_000
    contacts: dict[str, dict[str, str | None]] = field(default_factory=dict)
    owners: list[Owner] = field(default_factory=list)
    forms: list[Form] = field(default_factory=list)
    submissions: list[SubmissionRecord] = field(default_factory=list)
    events: list[EmailEventRecord] = field(default_factory=list)
    tasks: list[FakeTask] = field(default_factory=list)
    # contact id -> error message: every write to that contact fails like a 207 entry.
    failing: dict[str, str] = field(default_factory=dict)
    writes: list[list[ContactUpdate]] = field(default_factory=list)
    rejected_stage_moves: list[tuple[str, str, str]] = field(default_factory=list)
    page_size: int = 100
    _stats: GatewayStats = field(default_factory=GatewayStats)

    # --- helpers for tests -------------------------------------------------------
    def add_contact(self, cid: str, **props: str | None) -> None:
        props.setdefault("email", f"c{cid}@example.com")
        props.setdefault("lifecyclestage", "lead")
        props["hs_object_id"] = cid
        props["lastmodifieddate"] = str(self.now_ms)
        self.contacts[cid] = dict(props)

    def touch(self, cid: str, **props: str | None) -> None:
        """A change made by someone else in HubSpot."""
        self.now_ms += 1
        self.contacts[cid].update(props)
        self.contacts[cid]["lastmodifieddate"] = str(self.now_ms)

    def write_count(self) -> int:
        return sum(len(w) for w in self.writes) + len(self.tasks)

    def _call(self, op: str) -> None:
        self._stats.calls += 1
        self._stats.calls_by_operation[op] = self._stats.calls_by_operation.get(op, 0) + 1

    def _contact(self, cid: str, properties: Sequence[str]) -> Contact:
        props = self.contacts[cid]
        return Contact(cid, {p: props.get(p) for p in properties})

    # --- reads -------------------------------------------------------------------
    def iter_contacts(self, properties: Sequence[str]) -> Iterator[list[Contact]]:
        ids = sorted(self.contacts, key=int)
        for start in range(0, len(ids), self.page_size):
            self._call("list_contacts")
            yield [self._contact(c, properties) for c in ids[start : start + self.page_size]]

    def iter_contacts_modified_since(
        self, since_ms: int, properties: Sequence[str]
    ) -> Iterator[list[Contact]]:
        ids = sorted(
            (c for c, p in self.contacts.items() if int(p["lastmodifieddate"] or 0) >= since_ms),
            key=lambda c: (int(self.contacts[c]["lastmodifieddate"] or 0), int(c)),
        )
        self._call("search_contacts")
        for start in range(0, len(ids), 200):
            if start:
                self._call("search_contacts")
            yield [self._contact(c, properties) for c in ids[start : start + 200]]

    def read_contacts(self, ids: Sequence[str], properties: Sequence[str]) -> list[Contact]:
        self._call("read_contacts")
        return [self._contact(c, properties) for c in ids if c in self.contacts]

    def get_contact(self, id_or_email: str, properties: Sequence[str]) -> Contact | None:
        self._call("get_contact")
        for cid, props in self.contacts.items():
            if id_or_email in (cid, props.get("email")):
                return self._contact(cid, properties)
        return None

    def list_owners(self) -> list[Owner]:
        self._call("list_owners")
        return list(self.owners)

    def list_forms(self) -> list[Form]:
        self._call("list_forms")
        return list(self.forms)

    def iter_form_submissions(self, form_id: str, since_ms: int) -> Iterator[SubmissionRecord]:
        self._call("form_submissions")
        yield from (
            s for s in self.submissions if s.form_id == form_id and s.submitted_at >= since_ms
        )

    def iter_email_events(self, since_ms: int, until_ms: int) -> Iterator[EmailEventRecord]:
        self._call("email_events")
        yield from (e for e in self.events if since_ms <= e.created < until_ms)

    def lifecycle_stages(self) -> StageOrder:
        self._call("lifecycle_stages")
        return DEFAULT_STAGE_ORDER

    # --- writes ------------------------------------------------------------------
    def ensure_properties(self, specs: Sequence[PropertySpec]) -> None:
        self._call("ensure_properties")

    def update_contacts(self, updates: Sequence[ContactUpdate]) -> WriteReport:
        self._call("update_contacts")
        ids = [u.contact_id for u in updates]
        assert len(ids) == len(set(ids)), "duplicate ids in one batch"
        assert len(ids) <= 100
        self.writes.append(list(updates))
        report = WriteReport()
        for u in updates:
            if u.contact_id in self.failing:
                report.failed.append(WriteFailure(u.contact_id, self.failing[u.contact_id], 400))
                continue
            props = self.contacts[u.contact_id]
            for name, value in u.properties.items():
                if name == "lifecyclestage" and value and props.get(name):
                    order = DEFAULT_STAGE_ORDER
                    if order.index(value) < order.index(props[name]):
                        self.rejected_stage_moves.append((u.contact_id, props[name] or "", value))
                        continue
                if name in NUMBER_PROPS and value:
                    # HubSpot hands numbers back in its own format.
                    value = f"{float(value):.1f}"
                props[name] = value
            self.now_ms += 1
            props["lastmodifieddate"] = str(self.now_ms)
            report.succeeded.append(u.contact_id)
        return report

    def move_stages(self, moves: Sequence[StageMove]) -> WriteReport:
        raise AssertionError("the applier writes stages through update_contacts")

    def create_tasks(self, tasks: Sequence[TaskSpec]) -> list[TaskOutcome]:
        self._call("create_tasks")
        out = []
        for t in tasks:
            existing = next((i for i, x in enumerate(self.tasks) if x.key == t.key), None)
            if existing is not None:
                out.append(TaskOutcome(t.key, t.contact_id, f"task-{existing}", created=False))
                continue
            self.tasks.append(FakeTask(t.key, t.contact_id, t.owner_id, t.subject, t.body))
            out.append(TaskOutcome(t.key, t.contact_id, f"task-{len(self.tasks) - 1}", True))
        return out

    @property
    def stats(self) -> GatewayStats:
        return self._stats


class PointsModel:
    """A small scoring model: `points` property + 30 per demo form + 5 per open in 30 days.

    MQL at 35, SQL at 65; customers and opportunities are excluded; an open stops
    counting 30 days after it happened (that is the contact's next due time).
    """

    version = "fake-v1"
    contact_properties = (
        "email",
        "firstname",
        "points",
        "lifecyclestage",
        "hubspot_owner_id",
        "hs_object_id",
        "lastmodifieddate",
        "leadscore_total",
        "leadscore_reasons",
    )
    output_properties = (
        PropertySpec("leadscore_total", "Lead score"),
        PropertySpec("leadscore_reasons", "Why", type="string", field_type="textarea"),
    )
    handoff_stage = "salesqualifiedlead"
    activity_horizon_days: int | None = 30

    def evaluate(self, contact: Contact, now_ms: int) -> Evaluation:
        base = float(contact.properties.get("points") or 0)
        demos = [f for f in contact.form_submissions if f.form_id == "demo"]
        opens = [
            e for e in contact.email_events if e.type == "OPEN" and now_ms - e.created < 30 * DAY
        ]
        contributions = (
            Contribution("points property", base, base != 0, f"points = {base:g}"),
            Contribution("demo form", 30.0 * len(demos), bool(demos), f"{len(demos)} demo forms"),
            Contribution("recent opens", 5.0 * len(opens), bool(opens), f"{len(opens)} opens"),
        )
        total = sum(c.points for c in contributions)
        current = contact.properties.get("lifecyclestage") or ""
        exclusion = (
            f"stage {current} is protected" if current in ("customer", "opportunity") else None
        )
        if exclusion:
            stage = StageTarget(None, f"excluded: {exclusion}")
        elif total >= 65:
            stage = StageTarget("salesqualifiedlead", f"total {total:g} >= 65")
        elif total >= 35:
            stage = StageTarget("marketingqualifiedlead", f"total {total:g} >= 35")
        else:
            stage = StageTarget("lead", f"total {total:g} < 35")
        due = min((e.created + 30 * DAY for e in opens), default=None)
        score = ScoreResult("total", "leadscore_total", total, contributions)
        reasons = "; ".join(score.top_reasons())
        return Evaluation(
            contact_id=contact.id,
            scores={"total": score},
            stage=stage,
            exclusion=exclusion,
            next_due_ms=due,
            properties={"leadscore_total": f"{total:g}", "leadscore_reasons": reasons},
        )

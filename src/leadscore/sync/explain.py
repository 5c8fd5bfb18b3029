"""Online explain: fetch one contact from HubSpot, attach its stored activity, score it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from leadscore.errors import InputError
from leadscore.records import Contact
from leadscore.rules.evaluation import Evaluation
from leadscore.settings import Settings
from leadscore.state.store import StateStore
from leadscore.sync.pull import ActivityView
from leadscore.sync.scoring import Scorer

DAY_MS = 86_400_000


class ContactLookup(Protocol):
    """The one read `explain` needs (part of `HubSpotPort`)."""

    def get_contact(self, id_or_email: str, properties: Sequence[str]) -> Contact | None: ...


@dataclass(frozen=True, slots=True)
class OnlineExplanation:
    """A contact as HubSpot has it (plus stored activity) and its evaluation now."""

    contact: Contact
    evaluation: Evaluation
    activity_source: str


def explain_contact(
    id_or_email: str,
    *,
    lookup: ContactLookup,
    model: Scorer,
    store: StateStore | None,
    now_ms: int,
) -> OnlineExplanation:
    """Score one contact by id or email. Activity comes from the state store (last sync)."""
    key = id_or_email.strip()
    if not key:
        raise InputError("explain: give a contact id or an email address")
    contact = lookup.get_contact(key, model.contact_properties)
    if contact is None:
        raise InputError(f"explain: no HubSpot contact with id or email {key!r}")
    horizon = model.activity_horizon_days
    since = now_ms - horizon * DAY_MS if horizon is not None else None
    if store is not None:
        contact = ActivityView([store], since).attach([contact])[0]
        source = (
            f"{len(contact.form_submissions)} form submissions and "
            f"{len(contact.email_events)} email events from the state store (as of the last sync)"
        )
    else:
        source = "no state store yet: activity (forms, email events) not included; run a sync"
    return OnlineExplanation(contact, model.evaluate(contact, now_ms), source)


def explain_online(
    id_or_email: str, settings: Settings, model: Scorer, now_ms: int
) -> OnlineExplanation:
    """`leadscore explain CONTACT_ID_OR_EMAIL`: look the contact up in HubSpot and score it.

    The state store is only read (and not created when it does not exist yet).
    """
    from leadscore.gateway import build_gateway
    from leadscore.sync.runner import open_state_for_reading

    settings.require_hubspot_credentials("or explain a contact dump with --contact-file")
    store = open_state_for_reading(settings)
    try:
        with build_gateway(settings) as gateway:
            return explain_contact(
                id_or_email, lookup=gateway, model=model, store=store, now_ms=now_ms
            )
    finally:
        if store is not None:
            store.close()

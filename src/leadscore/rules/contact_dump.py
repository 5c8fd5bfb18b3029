"""Reads one contact from a JSON dump (HubSpot's contact shape plus its activity)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from leadscore.errors import InputError
from leadscore.records import Contact, EmailEvent, FormSubmission
from leadscore.rules.values import read_timestamp_ms


def load_contact_file(path: Path | str) -> Contact:
    """Read a contact dump; a missing file, bad JSON or a bad field is one InputError line."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{p}: contact file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: cannot read contact file: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{p}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    return contact_from_json(data, str(p))


def contact_from_json(data: Any, source: str = "<contact>") -> Contact:
    """Build a Contact from dump data: {"id", "properties", "form_submissions", "email_events"}.

    Accepts HubSpot's camelCase spellings too (formId, submittedAt, emailCampaignId).
    Timestamps may be epoch ms or ISO 8601 text. Property values that are numbers or
    booleans are turned into the strings HubSpot would send.
    """

    def fail(field: str, message: str) -> InputError:
        return InputError(f"{source}: {field}: {message}")

    if not isinstance(data, dict):
        raise fail("(top level)", "expected a JSON object with id and properties")
    props_raw = data.get("properties", {})
    if not isinstance(props_raw, dict):
        raise fail("properties", "expected an object of property name to value")
    properties: dict[str, str | None] = {}
    for name, value in props_raw.items():
        if isinstance(value, dict | list):
            raise fail(f"properties.{name}", "expected text, a number, true/false or null")
        properties[name] = _as_text(value)
    contact_id = data.get("id", properties.get("hs_object_id"))
    if contact_id is None or isinstance(contact_id, dict | list | bool) or str(contact_id) == "":
        raise fail("id", "missing contact id (or properties.hs_object_id)")

    submissions = []
    for i, item in enumerate(_list(data, ("form_submissions", "formSubmissions"), fail)):
        where = f"form_submissions[{i}]"
        if not isinstance(item, dict):
            raise fail(where, "expected an object")
        form_id = _pick(item, ("form_id", "formId", "formGuid"))
        if form_id in (None, ""):
            raise fail(f"{where}.form_id", "missing")
        submissions.append(
            FormSubmission(
                form_id=str(form_id),
                submitted_at=_time(
                    _pick(item, ("submitted_at", "submittedAt")), f"{where}.submitted_at", fail
                ),
                form_name=_opt_text(_pick(item, ("form_name", "formName"))),
                page_url=_opt_text(_pick(item, ("page_url", "pageUrl"))),
                conversion_id=_opt_text(_pick(item, ("conversion_id", "conversionId"))),
            )
        )
    events = []
    for i, item in enumerate(_list(data, ("email_events", "emailEvents"), fail)):
        where = f"email_events[{i}]"
        if not isinstance(item, dict):
            raise fail(where, "expected an object")
        kind = item.get("type")
        if not isinstance(kind, str) or not kind:
            raise fail(f"{where}.type", "missing (OPEN, CLICK, ...)")
        events.append(
            EmailEvent(
                type=kind.upper(),
                created=_time(item.get("created"), f"{where}.created", fail),
                campaign_id=_opt_text(
                    _pick(item, ("campaign_id", "emailCampaignId", "campaignId"))
                ),
                event_id=_opt_text(_pick(item, ("event_id", "id"))),
                url=_opt_text(item.get("url")),
            )
        )
    return Contact(str(contact_id), properties, tuple(submissions), tuple(events))


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _opt_text(value: Any) -> str | None:
    return None if value is None else str(value)


def _pick(item: Mapping[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        if name in item:
            return item[name]
    return None


def _list(data: Mapping[str, Any], names: tuple[str, ...], fail: Any) -> list[Any]:
    value = _pick(data, names)
    if value is None:
        return []
    if not isinstance(value, list):
        raise fail(names[0], "expected a list")
    return value


def _time(value: Any, field: str, fail: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        at = read_timestamp_ms(value)
        if at is not None:
            return at
    raise fail(field, f"expected epoch milliseconds or an ISO 8601 time, got {json.dumps(value)}")

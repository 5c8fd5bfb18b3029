"""Property definitions of the sandbox portal (contacts and tasks) and HubSpot-style value checks."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

from leadscore.records import DEFAULT_STAGE_ORDER

# HubSpot's default lifecycle stages (value, label) in order: records.py is the one list.
STAGES: tuple[tuple[str, str], ...] = tuple((s.value, s.label) for s in DEFAULT_STAGE_ORDER.stages)

ANALYTICS_SOURCES: tuple[str, ...] = (
    "ORGANIC_SEARCH",
    "PAID_SEARCH",
    "EMAIL_MARKETING",
    "SOCIAL_MEDIA",
    "REFERRALS",
    "OTHER_CAMPAIGNS",
    "DIRECT_TRAFFIC",
    "OFFLINE",
    "PAID_SOCIAL",
)

LEAD_STATUSES: tuple[str, ...] = (
    "NEW",
    "OPEN",
    "IN_PROGRESS",
    "OPEN_DEAL",
    "UNQUALIFIED",
    "ATTEMPTED_TO_CONTACT",
    "CONNECTED",
    "BAD_TIMING",
)

_NUMBER = re.compile(r"^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass
class PropertyDef:
    """One property of an object type, as GET /crm/v3/properties returns it."""

    name: str
    label: str
    type: str  # string, number, enumeration, datetime, date, bool
    field_type: str
    group_name: str
    options: list[dict[str, Any]] = field(default_factory=list)
    description: str = ""
    hubspot_defined: bool = True
    read_only: bool = False
    display_order: int = -1
    created_at: str = "2020-01-01T00:00:00Z"
    updated_at: str = "2020-01-01T00:00:00Z"
    has_unique_value: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "fieldType": self.field_type,
            "description": self.description,
            "groupName": self.group_name,
            "options": self.options,
            "displayOrder": self.display_order,
            "calculated": False,
            "externalOptions": self.name == "hubspot_owner_id",
            "hasUniqueValue": self.has_unique_value,
            "hidden": False,
            "hubspotDefined": self.hubspot_defined,
            "formField": not self.read_only and self.type != "datetime",
            "modificationMetadata": {
                "archivable": not self.hubspot_defined,
                "readOnlyDefinition": self.hubspot_defined,
                "readOnlyValue": self.read_only,
            },
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "archived": False,
            "createdUserId": "0",
            "updatedUserId": "0",
        }

    def option_values(self) -> list[str]:
        return [str(o["value"]) for o in self.options]


def _options(values: tuple[tuple[str, str], ...] | tuple[str, ...]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, item in enumerate(values):
        if isinstance(item, str):
            value, label = item, item.replace("_", " ").title()
        else:
            value, label = item
        out.append(
            {"label": label, "value": value, "displayOrder": i, "hidden": False, "description": ""}
        )
    return out


_BOOL = _options((("true", "Yes"), ("false", "No")))


def _p(
    name: str,
    label: str,
    type_: str = "string",
    group: str = "contactinformation",
    options: list[dict[str, Any]] | None = None,
    read_only: bool = False,
) -> PropertyDef:
    field_type = {
        "string": "text",
        "number": "number",
        "enumeration": "select",
        "datetime": "date",
        "date": "date",
        "bool": "booleancheckbox",
    }[type_]
    if type_ == "bool":
        type_, options = "enumeration", _BOOL
    return PropertyDef(name, label, type_, field_type, group, options or [], read_only=read_only)


def contact_properties() -> list[PropertyDef]:
    """The contact properties of a fresh sandbox portal."""
    stages = _options(STAGES)
    sources = _options(ANALYTICS_SOURCES)
    props = [
        _p("email", "Email"),
        _p("firstname", "First Name"),
        _p("lastname", "Last Name"),
        _p("company", "Company Name"),
        _p("jobtitle", "Job Title"),
        _p("industry", "Industry"),
        _p("numemployees", "Number of Employees"),
        _p("annualrevenue", "Annual Revenue"),
        _p("country", "Country/Region"),
        _p("city", "City"),
        _p("phone", "Phone Number"),
        _p("website", "Website URL"),
        _p("hs_email_domain", "Email Domain", read_only=True),
        _p("lifecyclestage", "Lifecycle Stage", "enumeration", options=stages),
        _p("hs_lead_status", "Lead Status", "enumeration", options=_options(LEAD_STATUSES)),
        _p("hubspot_owner_id", "Contact owner", "enumeration", group="sales_properties"),
        _p("hubspotscore", "HubSpot Score", "number"),
        _p("createdate", "Create Date", "datetime", read_only=True),
        _p("lastmodifieddate", "Last Modified Date", "datetime", read_only=True),
        _p("hs_object_id", "Record ID", "number", read_only=True),
        _p(
            "hs_analytics_source",
            "Original Source",
            "enumeration",
            "analyticsinformation",
            sources,
            True,
        ),
        _p(
            "hs_latest_source",
            "Latest Source",
            "enumeration",
            "analyticsinformation",
            sources,
            True,
        ),
        _p(
            "hs_analytics_num_visits",
            "Number of Sessions",
            "number",
            "analyticsinformation",
            read_only=True,
        ),
        _p(
            "hs_analytics_num_page_views",
            "Number of Pageviews",
            "number",
            "analyticsinformation",
            read_only=True,
        ),
        _p(
            "hs_analytics_last_visit_timestamp",
            "Time of Last Session",
            "datetime",
            "analyticsinformation",
            read_only=True,
        ),
        _p(
            "hs_email_optout",
            "Unsubscribed from all email",
            "bool",
            "emailinformation",
            read_only=True,
        ),
        _p(
            "hs_email_delivered",
            "Marketing emails delivered",
            "number",
            "emailinformation",
            read_only=True,
        ),
        _p(
            "hs_email_open", "Marketing emails opened", "number", "emailinformation", read_only=True
        ),
        _p(
            "hs_email_click",
            "Marketing emails clicked",
            "number",
            "emailinformation",
            read_only=True,
        ),
        _p(
            "hs_email_bounce",
            "Marketing emails bounced",
            "number",
            "emailinformation",
            read_only=True,
        ),
        _p(
            "hs_email_last_send_date",
            "Last marketing email send date",
            "datetime",
            "emailinformation",
            read_only=True,
        ),
        _p(
            "hs_email_last_open_date",
            "Last marketing email open date",
            "datetime",
            "emailinformation",
            read_only=True,
        ),
        _p(
            "hs_email_last_click_date",
            "Last marketing email click date",
            "datetime",
            "emailinformation",
            read_only=True,
        ),
        _p(
            "num_conversion_events",
            "Number of Form Submissions",
            "number",
            "conversioninformation",
            read_only=True,
        ),
        _p(
            "num_unique_conversion_events",
            "Number of Unique Forms Submitted",
            "number",
            "conversioninformation",
            read_only=True,
        ),
        _p(
            "recent_conversion_event_name",
            "Recent Conversion",
            "string",
            "conversioninformation",
            read_only=True,
        ),
        _p(
            "recent_conversion_date",
            "Recent Conversion Date",
            "datetime",
            "conversioninformation",
            read_only=True,
        ),
        _p(
            "first_conversion_event_name",
            "First Conversion",
            "string",
            "conversioninformation",
            read_only=True,
        ),
        _p(
            "first_conversion_date",
            "First Conversion Date",
            "datetime",
            "conversioninformation",
            read_only=True,
        ),
    ]
    for value, label in STAGES:
        props.append(
            _p(
                f"hs_lifecyclestage_{value}_date",
                f"Became a {label} Date",
                "datetime",
                read_only=True,
            )
        )
    return props


def task_properties() -> list[PropertyDef]:
    """The task properties of a fresh sandbox portal."""
    return [
        _p("hs_timestamp", "Due date", "datetime", "task"),
        _p("hs_task_subject", "Task Title", group="task"),
        _p("hs_task_body", "Notes", group="task"),
        _p(
            "hs_task_status",
            "Task Status",
            "enumeration",
            "task",
            _options(("NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED")),
        ),
        _p(
            "hs_task_priority",
            "Priority",
            "enumeration",
            "task",
            _options(("NONE", "LOW", "MEDIUM", "HIGH")),
        ),
        _p("hs_task_type", "Task Type", "enumeration", "task", _options(("EMAIL", "CALL", "TODO"))),
        _p("hubspot_owner_id", "Assigned to", "enumeration", "task"),
        _p("hs_createdate", "Create Date", "datetime", "task", read_only=True),
        _p("hs_lastmodifieddate", "Last Modified Date", "datetime", "task", read_only=True),
        _p("hs_object_id", "Record ID", "number", "task", read_only=True),
    ]


def default_groups(object_type: str) -> list[dict[str, Any]]:
    """Property groups of a fresh portal for one object type."""
    if object_type == "tasks":
        names = [("task", "Task information")]
    else:
        names = [
            ("contactinformation", "Contact information"),
            ("sales_properties", "Sales properties"),
            ("analyticsinformation", "Web analytics history"),
            ("emailinformation", "Email information"),
            ("conversioninformation", "Conversion information"),
        ]
    return [
        {"name": n, "label": label, "displayOrder": i, "archived": False}
        for i, (n, label) in enumerate(names)
    ]


def validation_error(
    prop: PropertyDef | None, name: str, value: Any, owner_ids: set[str] | None = None
) -> dict[str, Any] | None:
    """The HubSpot validation result for one property value, or None when the value is fine."""
    if prop is None:
        msg = f'Property "{name}" does not exist'
        return _invalid(name, msg, "PROPERTY_DOESNT_EXIST")
    if prop.read_only and name not in {"lifecyclestage"}:
        msg = f'"{name}" is a read only property; its value cannot be set.'
        return _invalid(name, msg, "READ_ONLY_VALUE")
    if value is None or value == "":
        return None
    text = value if isinstance(value, str) else _scalar_text(value)
    if prop.type == "number" and not _NUMBER.match(text.strip()):
        return _invalid(name, f"{text} was not a valid number.", "INVALID_DECIMAL")
    if prop.type == "enumeration":
        allowed = prop.option_values()
        if name == "hubspot_owner_id":
            if owner_ids is not None and text not in owner_ids:
                return _invalid(name, f"{text} is not a valid owner id", "INVALID_OWNER_ID")
            return None
        # Multi-select values are ';'-separated; single selects have one value.
        parts = text.split(";") if prop.field_type == "checkbox" else [text]
        for part in parts:
            if part not in allowed:
                msg = f"{part} was not one of the allowed options: [{', '.join(allowed)}]"
                return _invalid(name, msg, "INVALID_OPTION")
    if prop.type in {"datetime", "date"} and parse_time_ms(text) is None:
        return _invalid(name, f"{text} was not a valid date/time.", "INVALID_DATE")
    return None


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _invalid(name: str, message: str, error: str) -> dict[str, Any]:
    return {
        "isValid": False,
        "message": message,
        "error": error,
        "name": name,
        "localizedErrorMessage": message,
    }


def normalise_value(prop: PropertyDef, value: Any) -> str:
    """The string HubSpot stores for a valid value (numbers keep their text, datetimes -> ISO)."""
    text = _scalar_text(value)
    if prop.type in {"datetime", "date"} and text:
        ms = parse_time_ms(text)
        if ms is not None:
            return iso_from_ms(ms)
    return text


def parse_time_ms(text: str) -> int | None:
    """Epoch ms from an epoch-ms string or an ISO 8601 timestamp; None when neither."""
    from datetime import UTC, datetime

    text = text.strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def iso_from_ms(ms: int) -> str:
    """HubSpot's ISO 8601 rendering of an epoch-ms instant: 2024-05-01T12:00:00.123Z."""
    day, rest = divmod(ms, 86_400_000)
    seconds, millis = divmod(rest, 1000)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    return f"{_iso_day(day)}T{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}Z"


@functools.lru_cache(maxsize=4096)
def _iso_day(day: int) -> str:
    from datetime import date, timedelta

    return (date(1970, 1, 1) + timedelta(days=day)).isoformat()


def valid_new_property_name(name: str) -> bool:
    """Internal property names: lowercase letters, digits and underscores, starting with a letter."""
    return bool(_NAME.match(name))

"""Reading HubSpot batch answers (200, 201 and 207 Multi-Status) into per-input outcomes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from leadscore.gateway.errors import one_line
from leadscore.gateway.port import WriteFailure, WriteReport

BATCH_LIMIT = 100
"""HubSpot batch endpoints take at most this many inputs."""

_DIGITS = re.compile(r"\b\d+\b")


def chunked(items: Sequence[Any], size: int = BATCH_LIMIT) -> list[list[Any]]:
    """Consecutive slices of at most `size` items."""
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def field(obj: Any, name: str, wire_name: str | None = None) -> Any:
    """An attribute of an SDK model, or a key of a raw JSON object."""
    if isinstance(obj, Mapping):
        return obj.get(wire_name or name)
    return getattr(obj, name, None)


def error_ids(error: Any, candidates: Iterable[str]) -> list[str]:
    """The input ids a 207 error entry is about: its context, else ids quoted in its message."""
    wanted = set(candidates)
    context = field(error, "context") or {}
    found: list[str] = []
    if isinstance(context, Mapping):
        for key in ("ids", "id", "objectId", "objectIds", "contactId"):
            values = context.get(key) or []
            if isinstance(values, str):
                values = [values]
            for value in values:
                text = str(value)
                if text in wanted and text not in found:
                    found.append(text)
    if not found:
        message = str(field(error, "message") or "")
        found = [m for m in dict.fromkeys(_DIGITS.findall(message)) if m in wanted]
    return found


def write_report(ids: Sequence[str], data: Any) -> WriteReport:
    """Per-id outcome of a batch update answered 200 or 207."""
    report = WriteReport()
    wanted = set(ids)
    succeeded: set[str] = set()
    for result in field(data, "results") or []:
        rid = str(field(result, "id"))
        if rid in wanted and rid not in succeeded:
            succeeded.add(rid)
            report.succeeded.append(rid)
    failed: set[str] = set()
    remaining = [i for i in ids if i not in succeeded]
    for error in field(data, "errors") or []:
        # HubSpot's text ends up in logs and the state store: one line, no secrets.
        message = one_line(str(field(error, "message") or "rejected"))
        category = field(error, "category")
        status = field(error, "status")
        for rid in error_ids(error, remaining):
            if rid not in failed:
                failed.add(rid)
                report.failed.append(
                    WriteFailure(
                        rid,
                        message,
                        int(status) if str(status).isdigit() else None,
                        str(category) if category else None,
                    )
                )
    for rid in remaining:
        if rid not in failed:
            report.failed.append(
                WriteFailure(rid, "HubSpot returned no result for this input", None, "MISSING")
            )
    return report

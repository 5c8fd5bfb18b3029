"""Request bodies and response shapes shared by the CRM endpoints: JSON bodies, batch inputs
and answers (200/201/207), paging links."""

from __future__ import annotations

import time
from typing import Any

from leadscore.sandbox import hubspot_errors as errs
from leadscore.sandbox.http_server import Response
from leadscore.sandbox.portal_state import OBJECT_TYPES
from leadscore.sandbox.property_catalog import iso_from_ms
from leadscore.sandbox.routing import Call

MAX_BATCH = 100
# The `{objectType}` path segment of the CRM object and property endpoints.
OBJECT_TYPE_PATTERN = f"(?P<obj>{'|'.join(OBJECT_TYPES)})"


def now_iso() -> str:
    """The current instant as HubSpot writes it (batch startedAt/completedAt)."""
    return iso_from_ms(int(time.time() * 1000))


def json_object_body(call: Call) -> dict[str, Any] | Response:
    """The request body as a JSON object, or the 400 HubSpot answers for anything else."""
    try:
        body = call.json_body()
    except ValueError:
        return errs.bad_request("Invalid input JSON on line 1, column 1: Cannot build request body")
    if not isinstance(body, dict):
        return errs.bad_request("Invalid input JSON: expected an object")
    return body


def paging_next(call: Call, after: str) -> dict[str, Any]:
    """`paging` of a page that has a next one: the cursor and a link to it."""
    link = f"{call.base_url}{call.request.path}?after={after}"
    return {"next": {"after": after, "link": link}}


def batch_request(
    call: Call, max_inputs: int = MAX_BATCH
) -> tuple[dict[str, Any], list[Any]] | Response:
    """A batch request's body and its `inputs` (at most `max_inputs` of them), or the 400."""
    body = json_object_body(call)
    if isinstance(body, Response):
        return body
    inputs = body.get("inputs")
    if not isinstance(inputs, list):
        return errs.bad_request("Invalid input JSON: inputs must be a list")
    if len(inputs) > max_inputs:
        return errs.bad_request(
            f"Batch input cannot exceed {max_inputs} inputs, got {len(inputs)}",
            context={"maxInputs": [str(max_inputs)]},
        )
    return body, inputs


def batch_response(
    results: list[dict[str, Any]], errors: list[dict[str, Any]], started: str, ok_status: int = 200
) -> Response:
    """A batch answer: `ok_status` when every input succeeded, else 207 with the errors."""
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": started,
        "completedAt": now_iso(),
    }
    if errors:
        body["numErrors"] = len(errors)
        body["errors"] = errors
        return Response(207, body)
    return Response(ok_status, body)

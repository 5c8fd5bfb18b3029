"""Marketing endpoints: forms (v3), form submissions (v1), the public submit endpoint (v3),
and marketing email events (legacy v1)."""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from typing import Any

from leadscore.sandbox import hubspot_errors as errs
from leadscore.sandbox.activity_paging import decode_cursor, encode_cursor, iterate_desc
from leadscore.sandbox.http_server import Response
from leadscore.sandbox.property_catalog import iso_from_ms
from leadscore.sandbox.routing import Call, Router
from leadscore.sandbox.seeded_portal import EVENT_TYPES, PORTAL_ID, FormDef

MAX_SUBMISSIONS_PAGE = 50
MAX_EVENTS_PAGE = 1000
MAX_FORMS_PAGE = 500
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 Version/17.2 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
)


def _form_fields(form: FormDef) -> list[dict[str, Any]]:
    def text(name: str, label: str, required: bool) -> dict[str, Any]:
        return {
            "objectTypeId": "0-1",
            "name": name,
            "label": label,
            "required": required,
            "hidden": False,
            "fieldType": "single_line_text",
            "dependentFields": [],
        }

    fields = [
        {
            "objectTypeId": "0-1",
            "name": "email",
            "label": "Email",
            "required": True,
            "hidden": False,
            "fieldType": "email",
            "validation": {"blockedEmailDomains": [], "useDefaultBlockList": False},
            "dependentFields": [],
        },
        text("firstname", "First name", form.tier != "TOFU"),
        text("lastname", "Last name", form.tier != "TOFU"),
    ]
    if form.tier != "TOFU":
        fields.append(text("company", "Company name", True))
        fields.append(text("jobtitle", "Job title", False))
    if form.tier == "BOFU":
        fields.append(text("phone", "Phone number", False))
        fields.append(text("numemployees", "Company size", False))
    return fields


def form_json(form: FormDef) -> dict[str, Any]:
    created = iso_from_ms(form.created_ms)
    return {
        "id": form.id,
        "name": form.name,
        "formType": "hubspot",
        "createdAt": created,
        "updatedAt": created,
        "archived": False,
        "fieldGroups": [
            {"groupType": "default_group", "richTextType": "text", "fields": [f]}
            for f in _form_fields(form)
        ],
        "configuration": {
            "language": "en",
            "cloneable": True,
            "postSubmitAction": {"type": "thank_you", "value": "Thanks for submitting the form."},
            "editable": True,
            "archivable": True,
            "recaptchaEnabled": False,
            "notifyContactOwner": False,
            "notifyRecipients": [],
            "createNewContactForNewEmail": False,
            "prePopulateKnownValues": True,
            "allowLinkToResetKnownValues": False,
            "lifecycleStages": [],
        },
        "displayOptions": {
            "renderRawHtml": False,
            "cssClass": "",
            "theme": "default_style",
            "submitButtonText": "Submit",
            "style": {
                "labelTextSize": "13px",
                "legalConsentTextColor": "#33475b",
                "fontFamily": "arial, helvetica, sans-serif",
                "legalConsentTextSize": "14px",
                "backgroundWidth": "100%",
                "helpTextSize": "11px",
                "submitFontColor": "#ffffff",
                "labelTextColor": "#33475b",
                "submitAlignment": "left",
                "submitSize": "12px",
                "helpTextColor": "#7C98B6",
                "submitColor": "#ff7a59",
            },
        },
        "legalConsentOptions": {"type": "none"},
    }


def list_forms(call: Call) -> Response:
    req = call.request
    try:
        limit = int(req.param("limit") or 20)
        start = int(req.param("after") or 0)
    except ValueError:
        return errs.bad_request("limit and after must be integers")
    if limit < 1 or limit > MAX_FORMS_PAGE:
        return errs.bad_request(f"limit must be between 1 and {MAX_FORMS_PAGE}")
    archived = (req.param("archived") or "false").lower() == "true"
    forms = [] if archived else call.portal.seeded.forms
    page = forms[start : start + limit]
    body: dict[str, Any] = {"results": [form_json(f) for f in page]}
    if start + limit < len(forms):
        after = str(start + limit)
        body["paging"] = {
            "next": {"after": after, "link": f"{call.base_url}/marketing/v3/forms?after={after}"}
        }
    return Response(200, body)


def get_form(call: Call) -> Response:
    k = call.portal.form_index(call.params["form"])
    if k is None:
        return errs.not_found(f"Form {call.params['form']} does not exist")
    return Response(200, form_json(call.portal.seeded.forms[k]))


def _seeded_conversion_id(seed: int, position: int) -> str:
    digest = hashlib.blake2b(f"{seed}:{position}".encode(), digest_size=16).digest()
    return str(uuid.UUID(bytes=digest, version=4))


def list_submissions(call: Call) -> Response:
    portal = call.portal
    req = call.request
    k = portal.form_index(call.params["form"])
    if k is None:
        return errs.not_found(f"Form {call.params['form']} does not exist")
    try:
        limit = int(req.param("limit") or 20)
    except ValueError:
        return errs.bad_request("limit must be an integer")
    if limit < 1 or limit > MAX_SUBMISSIONS_PAGE:
        return errs.bad_request(f"limit must be between 1 and {MAX_SUBMISSIONS_PAGE}")
    cursor = None
    after = req.param("after")
    if after:
        cursor = decode_cursor(after)
        if cursor is None:
            return errs.bad_request(f"Invalid after cursor {after!r}")
    form = portal.seeded.forms[k]
    log = portal.seeded.submissions
    store = portal.contacts
    results: list[dict[str, Any]] = []
    next_after = None
    last_key: tuple[int, int, int] | None = None
    stream = iterate_desc(
        portal.seeded_form_positions(k),
        log.at.__getitem__,
        portal.submissions_by_form.get(k, []),
        cursor,
        None,
    )
    for key, pos, added in stream:
        if len(results) == limit and last_key is not None:
            next_after = encode_cursor(last_key)
            break
        last_key = key
        if added is not None:
            results.append(
                {
                    "conversionId": added.conversion_id,
                    "submittedAt": added.at_ms,
                    "values": [{**v, "objectTypeId": "0-1"} for v in added.values],
                    "pageUrl": added.page_url,
                }
            )
            continue
        assert pos is not None
        idx = log.contact[pos]
        values = []
        for name in [f["name"] for f in _form_fields(form)]:
            value = store.get(idx, name)
            if value:
                values.append({"name": name, "value": value, "objectTypeId": "0-1"})
        results.append(
            {
                "conversionId": _seeded_conversion_id(portal.seeded.seed, pos),
                "submittedAt": log.at[pos],
                "values": values,
                "pageUrl": form.page_url,
            }
        )
    body: dict[str, Any] = {"results": results}
    if next_after is not None:
        link = f"{call.base_url}{req.path}?after={next_after}"
        body["paging"] = {"next": {"after": next_after, "link": link}}
    return Response(200, body)


def _submit_error(message: str, error_type: str, status: int = 400) -> Response:
    return Response(
        status,
        {
            "status": "error",
            "message": "The request is not valid",
            "correlationId": errs.correlation_id(),
            "errors": [{"message": message, "errorType": error_type}],
        },
    )


def submit_form(call: Call) -> Response:
    portal = call.portal
    if call.params["portal"] != str(PORTAL_ID):
        return _submit_error(
            f"Portal {call.params['portal']} does not exist", "INVALID_PORTAL_ID", 404
        )
    k = portal.form_index(call.params["form"])
    if k is None:
        return _submit_error(f"Form {call.params['form']} does not exist", "FORM_NOT_FOUND", 404)
    try:
        body = call.json_body()
    except ValueError:
        return _submit_error("Invalid JSON body", "INVALID_JSON")
    if not isinstance(body, dict) or not isinstance(body.get("fields"), list):
        return _submit_error("fields is required", "REQUIRED_FIELD")
    fields: dict[str, str] = {}
    for f in body["fields"]:
        if not isinstance(f, dict) or "name" not in f:
            return _submit_error("every field needs a name and a value", "INVALID_FIELD")
        fields[str(f["name"])] = "" if f.get("value") is None else str(f["value"])
    form = portal.seeded.forms[k]
    for spec in _form_fields(form):
        if spec["required"] and not fields.get(spec["name"]):
            return _submit_error(
                f"Error in 'fields.{spec['name']}'. Required field is missing", "REQUIRED_FIELD"
            )
    email = fields.get("email", "")
    if not _EMAIL.match(email):
        return _submit_error("Error in 'fields.email'. Invalid email address", "INVALID_EMAIL")
    now = int(time.time() * 1000)
    at = int(body.get("submittedAt") or now)
    page_url = ((body.get("context") or {}).get("pageUri")) or None
    portal.submit_form(k, fields, page_url, min(at, now))
    return Response(200, {"inlineMessage": "Thanks for submitting the form."})


def _event_json(
    call: Call,
    key: tuple[int, int, int],
    type_: str,
    contact_idx: int,
    campaign_id: int,
    extra: dict[str, Any] | None,
) -> dict[str, Any]:
    at = key[0]
    event_id = f"{'i' if key[1] else 's'}{abs(key[2])}-{at:x}"
    recipient = call.portal.contacts.get(contact_idx, "email") or ""
    event: dict[str, Any] = {
        "id": event_id,
        "created": at,
        "type": type_,
        "recipient": recipient,
        "portalId": PORTAL_ID,
        "appId": 113,
        "appName": "BatchEmail",
        "emailCampaignId": campaign_id,
        "sentBy": {"id": f"sent-{campaign_id}-{contact_idx}", "created": at},
    }
    if type_ in {"OPEN", "CLICK"}:
        ua = _USER_AGENTS[(contact_idx + campaign_id) % len(_USER_AGENTS)]
        event["userAgent"] = ua
        event["browser"] = {"name": "Chrome" if "Chrome" in ua else "Safari", "family": "Browser"}
        event["location"] = {"country": "United States", "state": "", "city": ""}
        event["deviceType"] = "MOBILE" if "iPhone" in ua else "COMPUTER"
    if type_ == "CLICK":
        event["url"] = f"https://www.sandbox-portal.example/blog/post-{campaign_id % 97}"
    if type_ == "DELIVERED":
        event["response"] = "250 2.0.0 OK"
        event["smtpId"] = f"<{campaign_id}.{contact_idx}@sandbox.hubspotemail.net>"
    if type_ == "BOUNCE":
        event["category"] = "HARD_BOUNCE" if contact_idx % 3 == 0 else "MAILBOX_FULL"
        event["status"] = "5.1.1"
    if type_ == "SENT":
        event["subject"] = f"Newsletter {campaign_id}"
        event["fromEmail"] = "marketing@sandbox-portal.example"
    if type_ == "STATUSCHANGE":
        event["source"] = "SOURCE_RECIPIENT"
        event["subscriptions"] = [{"id": 1, "status": "UNSUBSCRIBED"}]
        event["portalSubscriptionStatus"] = "UNSUBSCRIBED"
        event["changeType"] = "SUBSCRIPTION"
    if extra:
        event.update(extra)
    return event


def list_email_events(call: Call) -> Response:
    portal = call.portal
    req = call.request
    try:
        limit = int(req.param("limit") or 100)
        start_raw, end_raw = req.param("startTimestamp"), req.param("endTimestamp")
        start_ms = int(start_raw) if start_raw else None
        end_ms = int(end_raw) if end_raw else None
    except ValueError:
        return errs.bad_request("limit, startTimestamp and endTimestamp must be integers")
    if limit < 1 or limit > MAX_EVENTS_PAGE:
        return errs.bad_request(f"limit must be between 1 and {MAX_EVENTS_PAGE}")
    event_type = (req.param("eventType") or "").upper() or None
    if event_type is not None and event_type not in {
        *EVENT_TYPES,
        "DROPPED",
        "DEFERRED",
        "PRINT",
        "FORWARD",
        "SPAMREPORT",
        "SUPPRESSED",
    }:
        return errs.bad_request(f"Invalid eventType {event_type}")
    cursor = None
    offset = req.param("offset")
    if offset:
        cursor = decode_cursor(offset)
        if cursor is None:
            return errs.bad_request(f"Invalid offset {offset!r}")
    log = portal.seeded.email_events
    recipient = req.param("recipient")
    added = portal.injected_events
    positions: Any = range(len(log.at))
    if recipient:
        idx = portal.contacts.find_by_email(recipient)
        if idx is None or idx >= log.contact_start.__len__() - 1:
            positions = []
        else:
            positions = sorted(
                log.by_contact[k] for k in range(log.contact_start[idx], log.contact_start[idx + 1])
            )
        wanted = idx
        added = [a for a in added if a.item.contact_idx == wanted]
    events: list[dict[str, Any]] = []
    has_more = False
    last_key = cursor
    for key, pos, item in iterate_desc(positions, log.at.__getitem__, added, cursor, end_ms):
        if start_ms is not None and key[0] < start_ms:
            break
        if pos is not None:
            type_ = EVENT_TYPES[log.kind[pos]]
            contact_idx, campaign, extra = log.contact[pos], log.campaign[pos], None
        else:
            assert item is not None
            type_, contact_idx, campaign, extra = (
                item.type,
                item.contact_idx,
                item.campaign_id,
                item.extra,
            )
        if event_type is not None and type_ != event_type:
            continue
        if len(events) == limit:
            has_more = True
            break
        events.append(_event_json(call, key, type_, contact_idx, campaign, extra))
        last_key = key
    body: dict[str, Any] = {"events": events, "hasMore": has_more}
    if has_more and last_key is not None:
        body["offset"] = encode_cursor(last_key)
    return Response(200, body)


def register(router: Router) -> None:
    """Add the marketing routes."""
    router.add("GET", r"^/marketing/v3/forms/?$", "GET /marketing/v3/forms", list_forms)
    router.add(
        "GET",
        r"^/marketing/v3/forms/(?P<form>[^/]+)/?$",
        "GET /marketing/v3/forms/{formId}",
        get_form,
    )
    router.add(
        "GET",
        r"^/form-integrations/v1/submissions/forms/(?P<form>[^/]+)/?$",
        "GET /form-integrations/v1/submissions/forms/{formGuid}",
        list_submissions,
    )
    router.add(
        "POST",
        r"^/submissions/v3/integration/submit/(?P<portal>\d+)/(?P<form>[^/]+)/?$",
        "POST /submissions/v3/integration/submit/{portalId}/{formGuid}",
        submit_form,
        "public",
    )
    router.add(
        "GET", r"^/email/public/v1/events/?$", "GET /email/public/v1/events", list_email_events
    )

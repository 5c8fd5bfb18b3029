"""`HttpGateway`: the HubSpotPort over real HTTP, and `build_gateway(settings)`."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx

from leadscore.errors import ConfigError
from leadscore.gateway.auth import Credential, OAuthCredential, StaticToken
from leadscore.gateway.batch_results import BATCH_LIMIT, chunked, field, write_report
from leadscore.gateway.calls import CallRunner, CallStats, Reply
from leadscore.gateway.clients import HttpxClient, SdkCrmClient
from leadscore.gateway.endpoints import Endpoints
from leadscore.gateway.errors import (
    GatewayError,
    NotFoundError,
    ValidationError,
)
from leadscore.gateway.paging import (
    AfterCursor,
    ModifiedSinceCursor,
    OffsetCursor,
    SearchHit,
    read_ahead,
)
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
from leadscore.gateway.ratelimit import RateLimits, shared_limits
from leadscore.gateway.retry import Backoff, RetryPolicy
from leadscore.gateway.tasks import TaskCreator
from leadscore.logs import get_logger
from leadscore.records import Contact, Form, LifecycleStage, Owner, StageOrder
from leadscore.settings import Settings

T = TypeVar("T")
R = TypeVar("R")

log = get_logger("leadscore.gateway")

PROPERTY_GROUP = "leadscore"
PROPERTY_GROUP_LABEL = "Lead scoring (leadscore)"
BISECT_BUDGET = 40
"""Extra requests one rejected batch of 100 may spend isolating bad inputs (one costs ~14)."""
SEARCH_BODY_LIMIT = 3_000
"""HubSpot rejects search bodies longer than this many characters."""

# Responses are taken as plain JSON ("object") rather than the SDK's models: the models
# parse createdAt/updatedAt with dateutil, about 1 ms per record, which made a 20,000-contact
# read CPU-bound (see docs/gateway.md). 207 bodies keep HubSpot's results/errors shape.
_RAW = {200: "object", 201: "object", 207: "object"}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def _contact(obj: Any) -> Contact:
    props = field(obj, "properties") or {}
    return Contact(id=str(field(obj, "id")), properties=dict(props))


def _timestamp_ms(raw: Any) -> int | None:
    """lastmodifieddate as epoch ms: HubSpot sends ISO-8601 (search and reads) or epoch ms.

    Kept here rather than borrowed from the rule engine so the gateway does not import it.
    """
    if raw is None:
        return None
    text = str(raw).strip()
    if text.isdigit():
        return int(text)
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return (stamp - _EPOCH) // _MS


def _next_after(data: Any) -> str | None:
    paging = field(data, "paging")
    nxt = field(paging, "next") if paging is not None else None
    after = field(nxt, "after") if nxt is not None else None
    return str(after) if after not in (None, "") else None


class HttpGateway:
    """Everything leadscore reads from and writes to HubSpot, over HTTP.

    Thread-safe. Batch operations fan out over a pool of `max_concurrency` threads; every
    request, from any thread, takes a slot from the token's shared rate limiters.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        credential: Credential,
        limits: RateLimits,
        retry: RetryPolicy,
        http_transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._settings = settings
        self._endpoints = Endpoints(settings.hubspot_api_version)
        self._credential = credential
        self._limits = limits
        self._stats = CallStats()
        self._runner = CallRunner(
            credential=credential, limits=limits, retry=retry, stats=self._stats
        )
        pool = settings.max_concurrency
        timeout = settings.request_timeout_seconds
        self._crm = SdkCrmClient(
            base_url=settings.hubspot_base_url, timeout=timeout, pool_size=pool
        )
        self._http = HttpxClient(
            base_url=settings.hubspot_base_url,
            timeout=timeout,
            pool_size=pool,
            transport=http_transport,
        )
        self._pool = ThreadPoolExecutor(max_workers=pool, thread_name_prefix="hubspot")
        self._closed = False
        self._lock = threading.Lock()
        self._tasks = TaskCreator(
            lookup=self._find_tasks_by_key,
            create=self._create_task_batch,
            retry=retry,
        )

    # --- lifecycle -----------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._crm.close()
        self._http.close()
        self._credential.close()

    def __enter__(self) -> HttpGateway:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def stats(self) -> GatewayStats:
        return self._stats.snapshot(self._limits.daily.remaining)

    # --- plumbing --------------------------------------------------------------------
    def _crm_call(
        self,
        operation: str,
        api: Any,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, str]] = (),
        body: Any = None,
        types: Mapping[int, str] | None = None,
        search: bool = False,
        idempotent: bool = True,
        accept: Callable[[int], bool] | None = None,
    ) -> Reply:
        def send(bearer: str) -> Reply:
            return self._crm.call(
                api, method, path, bearer=bearer, query=query, body=body, types=types
            )

        return self._runner.run(
            operation, send, search=search, idempotent=idempotent, accept=accept
        )

    def _http_get(self, operation: str, path: str, params: Sequence[tuple[str, str]]) -> Reply:
        def send(bearer: str) -> Reply:
            return self._http.call("GET", path, bearer=bearer, params=params)

        return self._runner.run(operation, send)

    def _http_pages(
        self, operation: str, path: str, limit: int, cursor_name: str
    ) -> Iterator[list[Any]]:
        """The `results` pages of an httpx endpoint paged by an `after` cursor."""

        def fetch(after: str | None) -> tuple[list[Any], str | None]:
            params = [("limit", str(limit))]
            if after:
                params.append(("after", after))
            data = self._http_get(operation, path, params).data or {}
            return list(data.get("results") or []), _next_after(data)

        return AfterCursor(cursor_name).pages(fetch)

    def _parallel(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """fn over items on the pool, results in order; the first error cancels the rest."""
        if len(items) <= 1:
            return [fn(item) for item in items]
        futures: list[Future[R]] = [self._pool.submit(fn, item) for item in items]
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for fut in done:
            exc = fut.exception()
            if exc is not None:
                for other in pending:
                    other.cancel()
                wait(pending)
                raise exc
        return [fut.result() for fut in futures]

    # --- contacts: reads ---------------------------------------------------------------
    def iter_contacts(self, properties: Sequence[str]) -> Iterator[list[Contact]]:
        return read_ahead(self._list_contacts(properties))

    def _list_contacts(self, properties: Sequence[str]) -> Iterator[list[Contact]]:
        path = self._endpoints.objects("contacts")
        props = ",".join(dict.fromkeys(properties))

        def fetch(after: str | None) -> tuple[list[Contact], str | None]:
            query = [("limit", "100"), ("archived", "false")]
            if props:
                query.append(("properties", props))
            if after:
                query.append(("after", after))
            reply = self._crm_call(
                "list contacts", self._crm.objects, "GET", path, query=query, types=_RAW
            )
            return [_contact(o) for o in field(reply.data, "results") or []], _next_after(
                reply.data
            )

        yield from AfterCursor("list contacts").pages(fetch)

    def iter_contacts_modified_since(
        self, since_ms: int, properties: Sequence[str]
    ) -> Iterator[list[Contact]]:
        return read_ahead(self._search_contacts(since_ms, properties))

    def _search_contacts(self, since_ms: int, properties: Sequence[str]) -> Iterator[list[Contact]]:
        cursor: ModifiedSinceCursor[Contact] = ModifiedSinceCursor(since_ms)
        wanted = list(dict.fromkeys([*properties, cursor.timestamp_property, cursor.id_property]))
        path = self._endpoints.search("contacts")
        # The whole body must stay under 3,000 characters: with a long property list, search
        # for ids only and batch-read the properties (one extra request per 100 contacts).
        probe = self._search_body(cursor.peek_query(), wanted)
        read_separately = len(json.dumps(probe)) > SEARCH_BODY_LIMIT
        search_props = (
            [cursor.timestamp_property, cursor.id_property] if read_separately else wanted
        )
        while (query := cursor.next_query()) is not None:
            body = self._search_body(query, search_props)
            reply = self._crm_call(
                "search contacts",
                self._crm.objects,
                "POST",
                path,
                body=body,
                types=_RAW,
                search=True,
            )
            hits: list[SearchHit[Contact]] = []
            for obj in field(reply.data, "results") or []:
                contact = _contact(obj)
                stamp = _timestamp_ms(contact.properties.get(cursor.timestamp_property))
                hits.append(
                    SearchHit(contact.id, stamp if stamp is not None else since_ms, contact)
                )
            fresh = cursor.advance(hits, _next_after(reply.data) is not None)
            if fresh and read_separately:
                by_id = {c.id: c for c in self.read_contacts([c.id for c in fresh], wanted)}
                fresh = [by_id[c.id] for c in fresh if c.id in by_id]
            if fresh:
                yield fresh

    @staticmethod
    def _search_body(query: Any, properties: Sequence[str]) -> dict[str, Any]:
        return {
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": f.property, "operator": f.operator, "value": f.value}
                        for f in query.filters
                    ]
                }
            ],
            "sorts": [{"propertyName": query.sort_property, "direction": "ASCENDING"}],
            "properties": list(properties),
            "limit": query.limit,
            "after": 0,
        }

    def read_contacts(self, ids: Sequence[str], properties: Sequence[str]) -> list[Contact]:
        unique = list(dict.fromkeys(str(i) for i in ids))
        path = self._endpoints.batch("contacts", "read")
        props = list(dict.fromkeys(properties))

        def read(chunk: list[str]) -> list[Contact]:
            reply = self._crm_call(
                "read contacts",
                self._crm.objects,
                "POST",
                path,
                body={"inputs": [{"id": i} for i in chunk], "properties": props},
                types=_RAW,
                # 404: none of the ids exist. Unknown ids are simply left out.
                accept=lambda status: status == 404,
            )
            return [_contact(o) for o in field(reply.data, "results") or []]

        pages = self._parallel(read, chunked(unique))
        return [c for page in pages for c in page]

    def get_contact(self, id_or_email: str, properties: Sequence[str]) -> Contact | None:
        key = id_or_email.strip()
        query: list[tuple[str, str]] = []
        if props := ",".join(dict.fromkeys(properties)):
            query.append(("properties", props))
        if "@" in key:
            query.append(("idProperty", "email"))
        reply = self._crm_call(
            "get contact",
            self._crm.objects,
            "GET",
            self._endpoints.object("contacts", key),
            query=query,
            types=_RAW,
            accept=lambda status: status == 404,
        )
        return None if reply.status == 404 else _contact(reply.data)

    # --- owners, forms, activity -------------------------------------------------------
    def list_owners(self) -> list[Owner]:
        path = self._endpoints.owners()
        owners: dict[str, Owner] = {}
        for archived in (False, True):

            def fetch(after: str | None, archived: bool = archived) -> tuple[list[Any], str | None]:
                query = [("limit", "100"), ("archived", "true" if archived else "false")]
                if after:
                    query.append(("after", after))
                reply = self._crm_call(
                    "list owners",
                    self._crm.owners,
                    "GET",
                    path,
                    query=query,
                    types=_RAW,
                )
                return list(field(reply.data, "results") or []), _next_after(reply.data)

            for page in AfterCursor("list owners").pages(fetch):
                for o in page:
                    oid = str(field(o, "id"))
                    owners.setdefault(
                        oid,
                        Owner(
                            id=oid,
                            email=field(o, "email"),
                            first_name=field(o, "first_name", "firstName"),
                            last_name=field(o, "last_name", "lastName"),
                            archived=bool(field(o, "archived")) or archived,
                        ),
                    )
        return list(owners.values())

    def list_forms(self) -> list[Form]:
        forms: list[Form] = []
        for page in self._http_pages("list forms", Endpoints.forms, 100, "list forms"):
            forms.extend(
                Form(
                    id=str(f["id"]), name=str(f.get("name") or f["id"]), form_type=f.get("formType")
                )
                for f in page
            )
        return forms

    def iter_form_submissions(self, form_id: str, since_ms: int) -> Iterator[SubmissionRecord]:
        pages = self._http_pages(
            "list form submissions",
            Endpoints.form_submissions(form_id),
            50,
            f"form {form_id} submissions",
        )
        # Newest first: stop at the first page that reaches back before `since_ms`.
        for page in pages:
            reached_older = False
            for item in page:
                submitted = int(item.get("submittedAt") or 0)
                if submitted < since_ms:
                    reached_older = True
                    continue
                email = next(
                    (
                        str(v.get("value"))
                        for v in item.get("values") or []
                        if str(v.get("name", "")).lower() == "email" and v.get("value")
                    ),
                    None,
                )
                yield SubmissionRecord(
                    form_id=form_id,
                    submitted_at=submitted,
                    email=email.strip().lower() if email else None,
                    conversion_id=item.get("conversionId"),
                    page_url=item.get("pageUrl"),
                )
            if reached_older:
                return

    def iter_email_events(self, since_ms: int, until_ms: int) -> Iterator[EmailEventRecord]:
        if until_ms <= since_ms:
            return

        def fetch(offset: str | None) -> tuple[list[Any], bool, str | None]:
            params = [
                ("startTimestamp", str(since_ms)),
                # HubSpot's endTimestamp is inclusive; the port's interval is half-open.
                ("endTimestamp", str(until_ms - 1)),
                ("limit", "1000"),
            ]
            if offset:
                params.append(("offset", offset))
            data = self._http_get("list email events", Endpoints.email_events, params).data or {}
            nxt = data.get("offset")
            return (
                list(data.get("events") or []),
                bool(data.get("hasMore")),
                str(nxt) if nxt else None,
            )

        for page in OffsetCursor("email events").pages(fetch):
            for e in page:
                created = int(e.get("created") or 0)
                recipient = e.get("recipient")
                if not recipient or not since_ms <= created < until_ms:
                    continue
                yield EmailEventRecord(
                    event_id=str(e.get("id")),
                    type=str(e.get("type") or ""),
                    created=created,
                    recipient=str(recipient).strip().lower(),
                    campaign_id=str(e["emailCampaignId"]) if e.get("emailCampaignId") else None,
                    url=e.get("url"),
                )

    def lifecycle_stages(self) -> StageOrder:
        reply = self._crm_call(
            "read lifecyclestage options",
            self._crm.properties,
            "GET",
            self._endpoints.property("contacts", "lifecyclestage"),
            types=_RAW,
        )
        options = (reply.data or {}).get("options") or []
        ordered = sorted(
            enumerate(options), key=lambda pair: (int(pair[1].get("displayOrder", -1)), pair[0])
        )
        return StageOrder(
            tuple(
                LifecycleStage(
                    value=str(o["value"]),
                    label=str(o.get("label") or o["value"]),
                    display_order=i,
                    hidden=bool(o.get("hidden", False)),
                )
                for i, (_, o) in enumerate(ordered)
            )
        )

    # --- writes ----------------------------------------------------------------------
    def ensure_properties(self, specs: Sequence[PropertySpec]) -> None:
        self._ensure_group("contacts", PROPERTY_GROUP, PROPERTY_GROUP_LABEL)
        existing = self._property_names("contacts")
        for spec in specs:
            if spec.name in existing:
                continue
            self._create_property(
                "contacts",
                {
                    "name": spec.name,
                    "label": spec.label,
                    "type": spec.type,
                    "fieldType": spec.field_type,
                    "groupName": PROPERTY_GROUP,
                    "description": spec.description,
                },
            )
        task_props = self._property_names("tasks")
        if TaskCreator.KEY_PROPERTY not in task_props:
            self._create_property("tasks", TaskCreator.key_property_definition())

    def _ensure_group(self, object_type: str, name: str, label: str) -> None:
        reply = self._crm_call(
            "read property group",
            self._crm.properties,
            "GET",
            self._endpoints.property_group(object_type, name),
            types=_RAW,
            accept=lambda status: status == 404,
        )
        if reply.status != 404:
            return
        self._crm_call(
            "create property group",
            self._crm.properties,
            "POST",
            self._endpoints.property_groups(object_type),
            body={"name": name, "label": label, "displayOrder": -1},
            types=_RAW,
            accept=lambda status: status == 409,  # created meanwhile by another run
        )

    def _property_names(self, object_type: str) -> set[str]:
        reply = self._crm_call(
            f"list {object_type} properties",
            self._crm.properties,
            "GET",
            self._endpoints.properties(object_type),
            types=_RAW,
        )
        return {str(p.get("name")) for p in (reply.data or {}).get("results") or []}

    def _create_property(self, object_type: str, definition: Mapping[str, Any]) -> None:
        self._crm_call(
            f"create {object_type} property",
            self._crm.properties,
            "POST",
            self._endpoints.properties(object_type),
            body=dict(definition),
            types=_RAW,
            accept=lambda status: status == 409,
        )

    def update_contacts(self, updates: Sequence[ContactUpdate]) -> WriteReport:
        merged: dict[str, dict[str, str]] = {}
        for update in updates:
            # The same id twice in one batch fails the whole batch: merge, later values win.
            merged.setdefault(str(update.contact_id), {}).update(update.properties)
        return self._write_contacts("update contacts", list(merged.items()))

    def move_stages(self, moves: Sequence[StageMove]) -> WriteReport:
        latest: dict[str, StageMove] = {}
        for move in moves:
            latest[str(move.contact_id)] = move
        # Phase 1: forward moves land, backward moves are cleared, in the same batches.
        first = [
            (cid, {"lifecyclestage": "" if m.backward else m.to_stage}) for cid, m in latest.items()
        ]
        report = self._write_contacts("move lifecycle stages", first)
        cleared = set(report.succeeded)
        backward = [(cid, m) for cid, m in latest.items() if m.backward]
        if not backward:
            return report
        # Phase 2, strictly after phase 1 answered: set the earlier stage on cleared contacts.
        final = WriteReport(
            succeeded=[cid for cid in report.succeeded if not latest[cid].backward],
            failed=list(report.failed),
        )
        second = [(cid, {"lifecyclestage": m.to_stage}) for cid, m in backward if cid in cleared]
        final.merge(self._write_contacts("set lifecycle stages after clear", second))
        return final

    def _write_contacts(
        self, operation: str, items: Sequence[tuple[str, Mapping[str, str]]]
    ) -> WriteReport:
        path = self._endpoints.batch("contacts", "update")

        def write(chunk: list[tuple[str, Mapping[str, str]]]) -> WriteReport:
            return self._write_chunk(operation, path, chunk, [BISECT_BUDGET])

        report = WriteReport()
        for part in self._parallel(write, chunked(list(items), BATCH_LIMIT)):
            report.merge(part)
        return report

    def _write_chunk(
        self,
        operation: str,
        path: str,
        chunk: list[tuple[str, Mapping[str, str]]],
        budget: list[int],
    ) -> WriteReport:
        """Write one batch; on a whole-batch 400/404, bisect within `budget` extra requests."""
        ids = [cid for cid, _ in chunk]
        try:
            reply = self._crm_call(
                operation,
                self._crm.objects,
                "POST",
                path,
                body={"inputs": [{"id": cid, "properties": dict(p)} for cid, p in chunk]},
                types=_RAW,
            )
        except (ValidationError, NotFoundError) as err:
            if len(chunk) == 1:
                return WriteReport(
                    failed=[WriteFailure(ids[0], str(err), err.status, err.category)]
                )
            if budget[0] < 2:
                # So many inputs are rejected that the cause is systemic (an unknown
                # property, say): stop splitting and report the rest as rejected.
                return WriteReport(
                    failed=[WriteFailure(cid, str(err), err.status, err.category) for cid in ids]
                )
            # HubSpot rejected the whole batch for some input: bisect to isolate it.
            budget[0] -= 2
            mid = len(chunk) // 2
            report = self._write_chunk(operation, path, chunk[:mid], budget)
            report.merge(self._write_chunk(operation, path, chunk[mid:], budget))
            return report
        except GatewayError as err:
            if not err.retriable:
                raise
            # Retries exhausted on a transient failure: these contacts are not written this
            # time (the next run re-plans them); their neighbours in other batches still land.
            category = "RATE_LIMIT" if err.status == 429 else "TRANSIENT"
            return WriteReport(
                failed=[WriteFailure(cid, str(err), err.status, category) for cid in ids]
            )
        return write_report(ids, reply.data)

    # --- tasks -------------------------------------------------------------------------
    def create_tasks(self, tasks: Sequence[TaskSpec]) -> list[TaskOutcome]:
        unique = list({t.key: t for t in tasks}.values())
        outcomes: dict[str, TaskOutcome] = {}
        for part in self._parallel(self._tasks.create, chunked(unique, BATCH_LIMIT)):
            for outcome in part:
                outcomes[outcome.key] = outcome
        return [outcomes[t.key] for t in unique]

    def _find_tasks_by_key(self, specs: Sequence[TaskSpec]) -> dict[str, str]:
        """Existing tasks carrying any of the specs' keys, as key -> task id.

        Looked up through the contacts' task associations, then a batch read of those tasks:
        unlike search, neither lags behind a write, so a task created by a request whose
        answer was lost is found at once.
        """
        keys = {s.key for s in specs}
        key_prop = TaskCreator.KEY_PROPERTY
        contact_ids = list(dict.fromkeys(s.contact_id for s in specs))
        task_ids: list[str] = []
        for chunk in chunked(contact_ids, BATCH_LIMIT):
            reply = self._crm_call(
                "read contact task associations",
                self._crm.objects,
                "POST",
                self._endpoints.association_batch_read("contacts", "tasks"),
                body={"inputs": [{"id": cid} for cid in chunk]},
                types=_RAW,
                # No 404 allowance here: "no associations" comes back as a 207 entry, and
                # taking a 404 as "no tasks" would let a wrong path duplicate every task.
            )
            for result in (reply.data or {}).get("results") or []:
                task_ids.extend(str(t.get("toObjectId")) for t in result.get("to") or [])
        found: dict[str, str] = {}
        for chunk in chunked(list(dict.fromkeys(task_ids)), BATCH_LIMIT):
            reply = self._crm_call(
                "read tasks",
                self._crm.objects,
                "POST",
                self._endpoints.batch("tasks", "read"),
                body={"inputs": [{"id": tid} for tid in chunk], "properties": [key_prop]},
                types=_RAW,
                accept=lambda status: status == 404,
            )
            for obj in (reply.data or {}).get("results") or []:
                key = (obj.get("properties") or {}).get(key_prop)
                if key in keys:
                    found.setdefault(str(key), str(obj.get("id")))
        return found

    def _create_task_batch(self, specs: Sequence[TaskSpec]) -> Reply:
        inputs = [
            {
                "properties": TaskCreator.properties_of(spec),
                "associations": [
                    {
                        "to": {"id": spec.contact_id},
                        "types": [
                            {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 204}
                        ],
                    }
                ],
            }
            for spec in specs
        ]
        # Not idempotent: only failures that prove nothing was created are retried here;
        # TaskCreator reconciles the ambiguous ones by looking the keys up.
        return self._crm_call(
            "create tasks",
            self._crm.objects,
            "POST",
            self._endpoints.batch("tasks", "create"),
            body={"inputs": inputs},
            types=_RAW,
            idempotent=False,
        )


def build_credential(settings: Settings, *, http: httpx.Client | None = None) -> Credential:
    """The credential the settings describe: OAuth when fully configured, else the token."""
    if (
        settings.hubspot_client_id
        and settings.hubspot_client_secret
        and settings.hubspot_refresh_token
    ):
        return OAuthCredential(
            client_id=settings.hubspot_client_id,
            client_secret=settings.hubspot_client_secret.get_secret_value(),
            refresh_token=settings.hubspot_refresh_token.get_secret_value(),
            base_url=settings.hubspot_base_url,
            http=http,
            timeout=settings.request_timeout_seconds,
        )
    token = (
        settings.hubspot_access_token.get_secret_value() if settings.hubspot_access_token else ""
    )
    if not token:
        raise ConfigError(
            "no HubSpot credentials: set HUBSPOT_ACCESS_TOKEN, or HUBSPOT_CLIENT_ID, "
            "HUBSPOT_CLIENT_SECRET and HUBSPOT_REFRESH_TOKEN"
        )
    return StaticToken(token)


def build_gateway(
    settings: Settings,
    *,
    credential: Credential | None = None,
    limits: RateLimits | None = None,
    retry: RetryPolicy | None = None,
    backoff: Backoff | None = None,
    http_transport: httpx.BaseTransport | None = None,
) -> HttpGateway:
    """The gateway for these settings. Every collaborator can be injected for tests."""
    credential = credential or build_credential(settings)
    limits = limits or shared_limits(
        f"{settings.hubspot_base_url}\0{credential.identity}", settings.hubspot_tier
    )
    retry = retry or RetryPolicy(max_retries=settings.max_retries, backoff=backoff)
    return HttpGateway(
        settings,
        credential=credential,
        limits=limits,
        retry=retry,
        http_transport=http_transport,
    )

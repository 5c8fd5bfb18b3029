"""The two HTTP clients under the gateway: hubspot-api-client for CRM, httpx for the rest.

Both return a `Reply` for any HTTP status and let transport failures propagate; the
`CallRunner` classifies them. Neither retries on its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import hubspot
import urllib3
from hubspot.crm.objects.exceptions import ApiException as ObjectsApiException
from hubspot.crm.owners.exceptions import ApiException as OwnersApiException
from hubspot.crm.properties.exceptions import ApiException as PropertiesApiException

from leadscore.gateway.calls import Reply

# Each SDK sub-package raises its own ApiException class: catch all the ones we use.
SDK_API_EXCEPTIONS: tuple[type[Exception], ...] = (
    ObjectsApiException,
    OwnersApiException,
    PropertiesApiException,
)

_JSON_HEADERS = {"Accept": "application/json", "Content-Type": "application/json"}


class SdkCrmClient:
    """hubspot-api-client's generated API clients, pointed at the configured base URL.

    Requests go through each sub-package's `ApiClient.call_api` (the entry point its
    generated methods use) so that the path, and with it the CRM API version, comes from
    `Endpoints` instead of the SDK's hard-coded /crm/v3 strings. Responses are
    deserialised into the SDK's models; a 207 comes back as a `...WithErrors` model.
    """

    def __init__(self, *, base_url: str, timeout: float, pool_size: int) -> None:
        base = base_url.rstrip("/")
        # retry=Retry(total=False): urllib3 must not retry or follow anything; our policy is
        # the only one. client_side_validation=False: tolerate optional fields HubSpot omits.
        client = hubspot.Client.create(
            host=base,
            base_url=base,
            retry=urllib3.util.Retry(total=False, redirect=False, raise_on_status=False),
            connection_pool_maxsize=pool_size,
            client_side_validation=False,
        )
        self._timeout = timeout
        # Each property access builds a new ApiClient (and connection pool): build once.
        self.objects = client.crm.objects.basic_api.api_client
        self.owners = client.crm.owners.owners_api.api_client
        self.properties = client.crm.properties.core_api.api_client
        self._all = (self.objects, self.owners, self.properties)

    def call(
        self,
        api_client: Any,
        method: str,
        path: str,
        *,
        bearer: str,
        query: Sequence[tuple[str, str]] = (),
        body: Any = None,
        types: Mapping[int, str] | None = None,
    ) -> Reply:
        """One request; `types` maps status codes to SDK model names ("object" = raw JSON)."""
        try:
            data, status, headers = api_client.call_api(
                path,
                method,
                {},
                list(query),
                dict(_JSON_HEADERS),
                body=body,
                response_types_map=dict(types or {}),
                auth_settings=["oauth2"],
                _return_http_data_only=False,
                _preload_content=True,
                _request_timeout=self._timeout,
                collection_formats={},
                _request_auth={
                    "in": "header",
                    "key": "Authorization",
                    "type": "oauth2",
                    "value": f"Bearer {bearer}",
                },
            )
        except SDK_API_EXCEPTIONS as exc:
            status_code = getattr(exc, "status", None)
            if not status_code:
                # status 0: the SDK wrapped an SSL failure; it never produced an answer.
                raise ConnectionError(str(getattr(exc, "reason", "SSL error"))) from None
            return Reply(
                int(status_code),
                dict(getattr(exc, "headers", None) or {}),
                None,
                getattr(exc, "body", None),
            )
        return Reply(int(status), dict(headers or {}), data)

    def close(self) -> None:
        for api_client in self._all:
            api_client.rest_client.pool_manager.clear()
            api_client.close()


class HttpxClient:
    """httpx for the endpoints hubspot-api-client lacks (v1 submissions, email events, forms)."""

    def __init__(
        self,
        *,
        base_url: str,
        timeout: float,
        pool_size: int,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            transport=transport,
            limits=httpx.Limits(max_connections=pool_size, max_keepalive_connections=pool_size),
            follow_redirects=False,
        )

    def call(
        self,
        method: str,
        path: str,
        *,
        bearer: str,
        params: Sequence[tuple[str, str]] = (),
        json_body: Any = None,
    ) -> Reply:
        response = self._http.request(
            method,
            path,
            params=list(params),
            json=json_body,
            headers={"Authorization": f"Bearer {bearer}", "Accept": "application/json"},
        )
        data: Any = None
        if 200 <= response.status_code < 300 and response.content:
            try:
                data = response.json()
            except ValueError:
                data = None
        return Reply(response.status_code, dict(response.headers), data, response.content)

    def close(self) -> None:
        self._http.close()

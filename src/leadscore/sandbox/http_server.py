"""A lean asyncio HTTP/1.1 server (httptools parser, keep-alive) that can also drop connections."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, unquote

import httptools

_MAX_BODY = 10 * 1024 * 1024


@dataclass(slots=True)
class Request:
    """One parsed HTTP request."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    client: str = ""

    def param(self, name: str, default: str | None = None) -> str | None:
        """First value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else default

    def param_list(self, name: str) -> list[str]:
        """Every value of a repeated or comma-separated query parameter."""
        out: list[str] = []
        for raw in self.query.get(name, []):
            out.extend(v for v in raw.split(",") if v)
        return out

    def json(self) -> Any:
        """The body as JSON; raises ValueError when it is not valid JSON."""
        if not self.body:
            raise ValueError("empty body")
        return json.loads(self.body)


@dataclass(slots=True)
class Response:
    """An HTTP response; `body` is JSON-encoded unless it is already bytes."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self, keep_alive: bool) -> bytes:
        if self.body is None:
            payload = b""
        elif isinstance(self.body, bytes):
            payload = self.body
        else:
            payload = json.dumps(self.body, separators=(",", ":")).encode()
        try:
            reason = HTTPStatus(self.status).phrase
        except ValueError:
            reason = "Unknown"
        lines = [f"HTTP/1.1 {self.status} {reason}"]
        if payload and "Content-Type" not in self.headers:
            lines.append("Content-Type: application/json;charset=utf-8")
        for name, value in self.headers.items():
            lines.append(f"{name}: {value}")
        lines.append(f"Content-Length: {len(payload)}")
        lines.append("Connection: keep-alive" if keep_alive else "Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload


Handler = Callable[[Request], Awaitable[Response | None]]
"""Turns a request into a response; None means: drop the connection without answering."""


class _Connection(asyncio.Protocol):
    """One client connection: parses requests and answers them in order."""

    def __init__(self, handler: Handler, open_connections: set[_Connection]) -> None:
        self._handler = handler
        self._open = open_connections
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._url = b""
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self._size = 0
        self._pending: deque[tuple[Request, bool]] = deque()
        self._worker: asyncio.Task[None] | None = None
        self._client = ""

    # asyncio.Protocol -------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._open.add(self)
        peer = transport.get_extra_info("peername")
        self._client = f"{peer[0]}:{peer[1]}" if peer else ""

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            self._write_and_close(Response(400, {"status": "error", "message": "Bad request"}))

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._open.discard(self)
        if self._worker is not None and not self._worker.done():
            self._worker.cancel()

    # httptools callbacks ------------------------------------------------------
    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = {}
        self._body = []
        self._size = 0

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        # curl sends large bodies only after a 100 Continue (or a one-second wait).
        if self._headers.get("expect", "").lower() == "100-continue" and self._transport:
            self._transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        self._size += len(body)
        if self._size <= _MAX_BODY:
            self._body.append(body)

    def on_message_complete(self) -> None:
        parsed = httptools.parse_url(self._url)
        path = unquote(parsed.path.decode("latin-1"))
        query = parse_qs(parsed.query.decode("latin-1")) if parsed.query else {}
        request = Request(
            method=self._parser.get_method().decode("latin-1"),
            path=path,
            query=query,
            headers=self._headers,
            body=b"".join(self._body),
            client=self._client,
        )
        self._pending.append((request, self._parser.should_keep_alive()))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._drain())

    # answering ----------------------------------------------------------------
    async def _drain(self) -> None:
        while self._pending and self._transport is not None:
            request, keep_alive = self._pending.popleft()
            try:
                response = await self._handler(request)
            except Exception as exc:  # a handler bug must not kill the server
                response = Response(
                    500, {"status": "error", "message": f"internal error: {exc!r}"[:500]}
                )
            if self._transport is None:
                return
            if response is None:
                self._transport.abort()
                return
            self._transport.write(response.encode(keep_alive))
            if not keep_alive:
                self._transport.close()
                return

    def _write_and_close(self, response: Response) -> None:
        if self._transport is not None:
            self._transport.write(response.encode(False))
            self._transport.close()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()


class HttpServer:
    """A listening socket plus the connections it accepted (closed together on shutdown)."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._connections: set[_Connection] = set()
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen; returns the bound port (useful with port 0)."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Connection(self._handler, self._connections),
            host=host,
            port=port,
            reuse_address=True,
            backlog=1024,
        )
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for conn in list(self._connections):
            conn.abort()
        if self._server is not None:
            await self._server.wait_closed()

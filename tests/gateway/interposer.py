"""A tiny HTTP proxy for contract tests: forwards to the sandbox, and on chosen requests loses
the answer after the write happened, stalls past the client's timeout, or answers itself
(a whole-batch 400, a 403 for a missing scope) -- failures the sandbox cannot inject."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx


@dataclass(frozen=True)
class Forward:
    """Pass the request on and return the answer."""


@dataclass(frozen=True)
class LoseAnswer:
    """Pass the request on (HubSpot acts on it), then close the connection without answering."""


@dataclass(frozen=True)
class Stall:
    """Pass the request on, then hold the answer for `seconds` (past the client's timeout)."""

    seconds: float


@dataclass(frozen=True)
class Answer:
    """Do not pass the request on; answer with this status and JSON body."""

    status: int
    body: dict[str, Any]


Action = Forward | LoseAnswer | Stall | Answer


@dataclass(frozen=True)
class Forwarded:
    """A request that reached the sandbox, with the sandbox's status (the client may not see it)."""

    method: str
    path: str
    status: int
    body: bytes

    def input_ids(self) -> list[str]:
        inputs = json.loads(self.body).get("inputs") if self.body else None
        return [str(i["id"]) for i in inputs or [] if "id" in i]


Rule = Callable[[str, str, bytes], Action]


class Interposer:
    """Runs on 127.0.0.1 in a background thread; `rule(method, path, body)` decides each request."""

    def __init__(self, upstream: str, rule: Rule) -> None:
        self.rule = rule
        self.seen: list[tuple[str, str, str]] = []  # (method, path, action name)
        self.forwarded: list[Forwarded] = []
        upstream_client = httpx.Client(base_url=upstream, timeout=60.0)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes: without TCP_NODELAY each answer
            # waits for the client's delayed ACK (~40 ms).
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path_only = self.path.split("?", 1)[0]
                action = proxy.rule(self.command, path_only, body)
                proxy.seen.append((self.command, path_only, type(action).__name__))
                if isinstance(action, Answer):
                    self._reply(action.status, json.dumps(action.body).encode(), {})
                    return
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() in {"authorization", "content-type", "accept"}
                }
                try:
                    upstream = upstream_client.request(
                        self.command, self.path, content=body, headers=headers
                    )
                except httpx.TransportError:
                    # The sandbox dropped the connection: drop ours too.
                    self.close_connection = True
                    return
                proxy.forwarded.append(
                    Forwarded(self.command, path_only, upstream.status_code, body)
                )
                if isinstance(action, LoseAnswer):
                    self.close_connection = True
                    return
                if isinstance(action, Stall):
                    time.sleep(action.seconds)
                passed = {
                    k: v
                    for k, v in upstream.headers.items()
                    if k.lower().startswith("x-hubspot") or k.lower() == "retry-after"
                }
                self._reply(upstream.status_code, upstream.content, passed)

            def _reply(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=utf-8")
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = _handle
            do_POST = _handle
            do_PATCH = _handle

        self._upstream = upstream_client
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._upstream.close()

    def __enter__(self) -> Interposer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

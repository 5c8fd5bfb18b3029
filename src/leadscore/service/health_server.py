"""/healthz, /readyz and /metrics on a small standard-library HTTP server in a thread."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from leadscore.errors import LeadscoreError
from leadscore.logs import get_logger, redact_text
from leadscore.service.metrics import METRICS_CONTENT_TYPE, ServiceMetrics

log = get_logger(__name__)

# A readiness check returns normally when its dependency answers and raises when it does not.
ReadinessCheck = Callable[[], None]


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Outcome of one readiness check: "ok" or the one-line reason it failed."""

    ok: bool
    detail: str


class ReadinessProbe:
    """Runs the readiness checks, caching the answer briefly.

    Probes arrive every few seconds from every kubelet and load balancer; caching keeps
    them from costing a HubSpot API call each.
    """

    def __init__(
        self,
        checks: Mapping[str, ReadinessCheck],
        *,
        cache_seconds: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._checks = dict(checks)
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: dict[str, CheckResult] | None = None
        self._cached_at = 0.0

    def results(self) -> dict[str, CheckResult]:
        """Every check's result, from the cache when it is fresh enough."""
        with self._lock:
            now = self._clock()
            if self._cached is not None and now - self._cached_at < self._cache_seconds:
                return self._cached
            results = {name: _run_check(check) for name, check in self._checks.items()}
            self._cached, self._cached_at = results, self._clock()
            return results


def _run_check(check: ReadinessCheck) -> CheckResult:
    try:
        check()
    except LeadscoreError as exc:
        return CheckResult(False, redact_text(exc.message))
    except Exception as exc:  # a probe must answer, whatever the dependency did
        text = str(exc).strip().splitlines()
        reason = text[0] if text else ""
        return CheckResult(False, redact_text(f"{type(exc).__name__}: {reason}".rstrip(": ")))
    return CheckResult(True, "ok")


class HealthServer:
    """Serves the three endpoints on `port` (0 picks a free one) until stopped."""

    def __init__(
        self,
        *,
        port: int,
        metrics: ServiceMetrics,
        readiness: ReadinessProbe,
        liveness: Callable[[], bool],
        host: str = "0.0.0.0",
    ) -> None:
        self._metrics = metrics
        self._readiness = readiness
        self._liveness = liveness
        try:
            self._server = ThreadingHTTPServer((host, port), self._handler_class())
        except OSError as exc:
            raise LeadscoreError(
                f"cannot listen on {host}:{port} for /healthz: {exc.strerror or exc}"
            ) from None
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port actually bound."""
        return int(self._server.server_address[1])

    def start(self) -> None:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="leadscore-http", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "leadscore"

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/healthz":
                    alive = server._liveness()
                    self._send_json(
                        HTTPStatus.OK if alive else HTTPStatus.SERVICE_UNAVAILABLE,
                        {"status": "ok" if alive else "scheduler not running"},
                    )
                elif path == "/readyz":
                    results = server._readiness.results()
                    ready = all(r.ok for r in results.values())
                    self._send_json(
                        HTTPStatus.OK if ready else HTTPStatus.SERVICE_UNAVAILABLE,
                        {
                            "status": "ready" if ready else "not ready",
                            "checks": {name: r.detail for name, r in results.items()},
                        },
                    )
                elif path == "/metrics":
                    self._send(HTTPStatus.OK, server._metrics.render(), METRICS_CONTENT_TYPE)
                else:
                    self._send_json(HTTPStatus.NOT_FOUND, {"status": "not found"})

            def _send_json(self, status: HTTPStatus, body: dict[str, Any]) -> None:
                self._send(status, json.dumps(body).encode(), "application/json")

            def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                # Probes hit these endpoints every few seconds: keep them out of INFO logs.
                log.debug("http request", client=self.client_address[0], line=format % args)

        return Handler

"""/healthz, /readyz and /metrics: status codes, bodies, caching, and the metric values."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from leadscore.errors import LeadscoreError
from leadscore.logs import register_secret
from leadscore.service.health_server import HealthServer, ReadinessProbe
from leadscore.service.metrics import RunFigures, ServiceMetrics


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus exposition, keyed by name and sorted labels."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingCheck:
    def __init__(self, error: Exception | None = None) -> None:
        self.calls = 0
        self.error = error

    def __call__(self) -> None:
        self.calls += 1
        if self.error is not None:
            raise self.error


@pytest.fixture()
def metrics() -> ServiceMetrics:
    return ServiceMetrics()


def test_record_run_folds_a_summary_into_the_metrics(metrics: ServiceMetrics) -> None:
    metrics.record_run(
        RunFigures(
            outcome="success",
            duration_seconds=12.5,
            finished_at=1_790_000_000.0,
            contacts_scored=40,
            actions_by_kind={"set_score": 30, "set_stage": 4, "create_task": 1, "clear_stage": 0},
            api_calls=17,
            rate_limited=2,
        )
    )
    metrics.record_run(
        RunFigures(
            outcome="interrupted",
            duration_seconds=3.0,
            finished_at=1_790_000_900.0,
            actions_by_kind={"set_score": 5},
            api_calls=4,
        )
    )
    got = samples(metrics.render().decode())
    assert got[("leadscore_runs_total", (("outcome", "success"),))] == 1
    assert got[("leadscore_runs_total", (("outcome", "interrupted"),))] == 1
    assert got[("leadscore_actions_total", (("kind", "set_score"),))] == 35
    assert got[("leadscore_actions_total", (("kind", "set_stage"),))] == 4
    assert got[("leadscore_actions_total", (("kind", "create_task"),))] == 1
    assert ("leadscore_actions_total", (("kind", "clear_stage"),)) not in got
    assert got[("leadscore_hubspot_api_calls_total", ())] == 21
    assert got[("leadscore_hubspot_rate_limited_total", ())] == 2
    assert got[("leadscore_contacts_scored_total", ())] == 40
    # Only the successful run moves the last-success time.
    assert got[("leadscore_last_success_timestamp_seconds", ())] == 1_790_000_000.0
    assert got[("leadscore_run_duration_seconds_count", ())] == 2
    assert got[("leadscore_run_duration_seconds_sum", ())] == 15.5
    assert got[("leadscore_run_duration_seconds_bucket", (("le", "5.0"),))] == 1
    assert got[("leadscore_run_in_progress", ())] == 0


def test_registries_are_per_instance() -> None:
    first, second = ServiceMetrics(), ServiceMetrics()
    first.record_run(RunFigures(outcome="success", duration_seconds=1, finished_at=1))
    assert ("leadscore_runs_total", (("outcome", "success"),)) not in samples(
        second.render().decode()
    )


def test_readiness_caches_results_briefly() -> None:
    clock = FakeClock()
    check = CountingCheck()
    probe = ReadinessProbe({"db": check}, cache_seconds=10, clock=clock)
    assert probe.results()["db"].ok
    clock.now += 9
    probe.results()
    assert check.calls == 1
    clock.now += 2
    probe.results()
    assert check.calls == 2


def test_readiness_reports_each_failure_on_one_line_without_secrets() -> None:
    register_secret("pat-na1-readyz-secret-0001")
    probe = ReadinessProbe(
        {
            "ok": CountingCheck(),
            "known": CountingCheck(LeadscoreError("HubSpot rejected the access token (401)")),
            "bug": CountingCheck(RuntimeError("boom with pat-na1-readyz-secret-0001\nsecond line")),
        }
    )
    results = probe.results()
    assert results["ok"].ok and results["ok"].detail == "ok"
    assert not results["known"].ok
    assert results["known"].detail == "HubSpot rejected the access token (401)"
    assert results["bug"].detail == "RuntimeError: boom with [REDACTED]"


@dataclass
class Served:
    """A running HealthServer and the knobs its checks read."""

    base: str
    state_store: CountingCheck = field(default_factory=CountingCheck)
    hubspot: CountingCheck = field(default_factory=CountingCheck)
    alive: bool = True


@pytest.fixture()
def served(metrics: ServiceMetrics) -> Iterator[Served]:
    state = Served(base="")
    readiness = ReadinessProbe(
        {"state_store": state.state_store, "hubspot": state.hubspot}, cache_seconds=0
    )
    server = HealthServer(
        port=0, host="127.0.0.1", metrics=metrics, readiness=readiness, liveness=lambda: state.alive
    )
    server.start()
    state.base = f"http://127.0.0.1:{server.port}"
    try:
        yield state
    finally:
        server.stop()


def test_healthz_follows_liveness(served: Served) -> None:
    response = httpx.get(f"{served.base}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    served.alive = False
    response = httpx.get(f"{served.base}/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "scheduler not running"}


def test_readyz_is_503_naming_the_failing_dependency(served: Served) -> None:
    response = httpx.get(f"{served.base}/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"state_store": "ok", "hubspot": "ok"}}
    served.hubspot.error = LeadscoreError(
        "HubSpot rejected the access token on lifecycle stages (401)"
    )
    response = httpx.get(f"{served.base}/readyz")
    assert response.status_code == 503
    assert json.loads(response.text) == {
        "status": "not ready",
        "checks": {
            "state_store": "ok",
            "hubspot": "HubSpot rejected the access token on lifecycle stages (401)",
        },
    }


def test_metrics_endpoint_serves_prometheus_text(served: Served, metrics: ServiceMetrics) -> None:
    metrics.record_run(
        RunFigures(outcome="failed", duration_seconds=2, finished_at=5, api_calls=3, rate_limited=1)
    )
    response = httpx.get(f"{served.base}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    got = samples(response.text)
    assert got[("leadscore_runs_total", (("outcome", "failed"),))] == 1
    assert got[("leadscore_hubspot_rate_limited_total", ())] == 1
    assert got[("leadscore_last_success_timestamp_seconds", ())] == 0


def test_unknown_path_is_404(served: Served) -> None:
    assert httpx.get(f"{served.base}/admin").status_code == 404


def test_busy_port_is_one_line(metrics: ServiceMetrics) -> None:
    first = HealthServer(
        port=0,
        host="127.0.0.1",
        metrics=metrics,
        readiness=ReadinessProbe({}),
        liveness=lambda: True,
    )
    try:
        with pytest.raises(LeadscoreError, match=rf"cannot listen on 127.0.0.1:{first.port} "):
            HealthServer(
                port=first.port,
                host="127.0.0.1",
                metrics=metrics,
                readiness=ReadinessProbe({}),
                liveness=lambda: True,
            )
    finally:
        first.stop()


def run_healthcheck(port: int, path: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEADSCORE_", "HUBSPOT_"))}
    return subprocess.run(
        [sys.executable, "-m", "leadscore.service.healthcheck", path],
        env={**env, "LEADSCORE_HTTP_PORT": str(port)},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_container_healthcheck_follows_the_endpoint_status(served: Served) -> None:
    port = int(served.base.rsplit(":", 1)[1])
    assert run_healthcheck(port, "/healthz").returncode == 0
    served.alive = False
    failed = run_healthcheck(port, "/healthz")
    assert failed.returncode == 1
    assert failed.stderr == f"unhealthy: http://127.0.0.1:{port}/healthz answered 503\n"
    served.hubspot.error = LeadscoreError("HubSpot unreachable")
    assert run_healthcheck(port, "/readyz").returncode == 1

"""Prometheus metrics of the service, in a registry of its own (nothing global)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

METRICS_CONTENT_TYPE = CONTENT_TYPE_LATEST

# Syncs range from seconds (a quiet incremental tick) to hours (a first run on a big portal).
_DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, float("inf"))


@dataclass(frozen=True, slots=True)
class RunFigures:
    """What the metrics need from one finished run (a RunSummary, or a failure)."""

    outcome: str
    duration_seconds: float
    finished_at: float
    contacts_scored: int = 0
    actions_by_kind: Mapping[str, int] = field(default_factory=dict)
    api_calls: int = 0
    rate_limited: int = 0


class ServiceMetrics:
    """Counters and gauges updated by the scheduler, exposed on /metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.runs = Counter(
            "leadscore_runs",
            "Sync runs finished, by outcome (success, partial, failed, interrupted).",
            ["outcome"],
            registry=self.registry,
        )
        self.runs_skipped = Counter(
            "leadscore_runs_skipped",
            "Scheduled ticks skipped because another run held the run lock.",
            registry=self.registry,
        )
        self.actions = Counter(
            "leadscore_actions",
            "Actions applied to HubSpot, by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.contacts_scored = Counter(
            "leadscore_contacts_scored", "Contacts scored by sync runs.", registry=self.registry
        )
        self.api_calls = Counter(
            "leadscore_hubspot_api_calls", "HTTP calls made to HubSpot.", registry=self.registry
        )
        self.rate_limited = Counter(
            "leadscore_hubspot_rate_limited",
            "HubSpot responses with status 429.",
            registry=self.registry,
        )
        self.last_success = Gauge(
            "leadscore_last_success_timestamp_seconds",
            "Unix time at which the last successful run finished (0: none yet).",
            registry=self.registry,
        )
        self.run_in_progress = Gauge(
            "leadscore_run_in_progress", "1 while a sync run is executing.", registry=self.registry
        )
        self.run_duration = Histogram(
            "leadscore_run_duration_seconds",
            "Wall-clock duration of sync runs.",
            buckets=_DURATION_BUCKETS,
            registry=self.registry,
        )

    def record_run(self, figures: RunFigures) -> None:
        """Fold one finished run into the metrics."""
        self.runs.labels(outcome=figures.outcome).inc()
        self.run_duration.observe(max(figures.duration_seconds, 0.0))
        self.contacts_scored.inc(max(figures.contacts_scored, 0))
        for kind, count in figures.actions_by_kind.items():
            if count > 0:
                self.actions.labels(kind=kind).inc(count)
        self.api_calls.inc(max(figures.api_calls, 0))
        self.rate_limited.inc(max(figures.rate_limited, 0))
        if figures.outcome == "success":
            self.last_success.set(figures.finished_at)

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)

"""Injected failures, reproducible by seed: 5xx shares, 429 bursts, latency, drops, search lag."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

_ERROR_STATUSES = (500, 502, 503, 504)


@dataclass
class FaultSpec:
    """What to inject. Rates are probabilities per API request (0..1)."""

    error_rates: dict[int, float] = field(default_factory=dict)  # status -> share
    burst_429_rate: float = 0.0  # chance that a request starts a burst of 429s
    burst_429_length: int = 5  # requests answered 429 per burst (including the first)
    drop_rate: float = 0.0  # connection closed without an answer
    latency_ms: int = 0  # added to every API request
    jitter_ms: int = 0  # plus up to this much, drawn per request
    search_lag_ms: int = 0  # writes show up in search only this long after they happen

    @classmethod
    def parse(cls, spec: str | Mapping[str, Any] | FaultSpec | None) -> FaultSpec:
        """From `500=0.02,503=0.01,429burst=0.01x5,drop=0.005,latency=20,jitter=10,searchlag=2000`
        or from a mapping with the same keys (or the field names)."""
        if spec is None:
            return cls()
        if isinstance(spec, FaultSpec):
            return spec
        items: list[tuple[str, Any]]
        if isinstance(spec, str):
            items = []
            for part in (p.strip() for p in spec.split(",")):
                if not part:
                    continue
                if "=" not in part:
                    raise ValueError(f"fault {part!r}: expected key=value")
                key, value = part.split("=", 1)
                items.append((key.strip(), value.strip()))
        else:
            items = list(spec.items())
        out = cls()
        for key, value in items:
            out._apply(str(key).lower(), value)
        return out

    def _apply(self, key: str, value: Any) -> None:
        try:
            if key.isdigit() and int(key) in _ERROR_STATUSES:
                self.error_rates[int(key)] = _rate(key, value)
            elif key in {"error_rates"} and isinstance(value, Mapping):
                for status, rate in value.items():
                    self._apply(str(status), rate)
            elif key in {"429burst", "burst_429_rate", "burst429"}:
                text = str(value)
                if "x" in text:
                    rate, length = text.split("x", 1)
                    self.burst_429_rate = _rate(key, rate)
                    self.burst_429_length = max(1, int(length))
                else:
                    self.burst_429_rate = _rate(key, text)
            elif key in {"burst_429_length", "burstlength"}:
                self.burst_429_length = max(1, int(value))
            elif key in {"drop", "drop_rate"}:
                self.drop_rate = _rate(key, value)
            elif key in {"latency", "latency_ms"}:
                self.latency_ms = max(0, int(value))
            elif key in {"jitter", "jitter_ms"}:
                self.jitter_ms = max(0, int(value))
            elif key in {"searchlag", "search_lag", "search_lag_ms"}:
                self.search_lag_ms = max(0, int(value))
            else:
                raise ValueError(f"unknown fault {key!r}")
        except (TypeError, ValueError) as exc:
            if "unknown fault" in str(exc) or "between 0 and 1" in str(exc):
                raise
            raise ValueError(f"fault {key}: bad value {value!r}") from None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["error_rates"] = {str(k): v for k, v in self.error_rates.items()}
        return data


def _rate(key: str, value: Any) -> float:
    rate = float(value)
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"fault {key}: rate {rate} must be between 0 and 1")
    return rate


@dataclass
class FaultDecision:
    """What to do to one request."""

    status: int | None = None  # 5xx or 429 to answer instead of serving
    drop: bool = False
    delay_ms: int = 0


class FaultInjector:
    """Draws one decision per API request from a seeded generator, in arrival order."""

    def __init__(self, spec: FaultSpec, seed: int) -> None:
        self.spec = spec
        self._seed = seed
        self.reset()

    def reset(self) -> None:
        self._rng = random.Random(self._seed * 7919 + 17)
        self._burst_left = 0
        self.injected: dict[str, int] = {}

    def configure(self, spec: FaultSpec) -> None:
        self.spec = spec
        self.reset()

    def decide(self) -> FaultDecision:
        s = self.spec
        rng = self._rng
        decision = FaultDecision()
        delay = s.latency_ms + (rng.randrange(s.jitter_ms + 1) if s.jitter_ms else 0)
        decision.delay_ms = delay
        if self._burst_left > 0:
            self._burst_left -= 1
            decision.status = 429
        elif s.burst_429_rate and rng.random() < s.burst_429_rate:
            self._burst_left = s.burst_429_length - 1
            decision.status = 429
        elif s.drop_rate and rng.random() < s.drop_rate:
            decision.drop = True
        elif s.error_rates:
            r = rng.random()
            acc = 0.0
            for status in _ERROR_STATUSES:
                acc += s.error_rates.get(status, 0.0)
                if r < acc:
                    decision.status = status
                    break
        if decision.drop:
            self._count("drop")
        elif decision.status is not None:
            self._count(str(decision.status))
        return decision

    def _count(self, key: str) -> None:
        self.injected[key] = self.injected.get(key, 0) + 1

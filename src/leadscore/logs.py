"""structlog configuration: JSON off a terminal, readable console on one, secrets redacted."""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Iterable, MutableMapping
from typing import Any

import structlog

REDACTED = "[REDACTED]"

_SENSITIVE_KEY = re.compile(r"(token|secret|authorization|password|api[_-]?key)", re.IGNORECASE)
_BEARER = re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+")
_HUBSPOT_TOKEN = re.compile(r"\bpat-[a-z0-9]+-[A-Za-z0-9-]{8,}")

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Remember a secret value so that it is scrubbed from every log line and error text.

    Values shorter than 8 characters are not registered: they are ordinary words more
    often than secrets, and masking them would garble messages (real tokens are longer).
    """
    if value and len(value) >= 8:
        with _secrets_lock:
            _secrets.add(value)


def redact_text(text: str) -> str:
    """Scrub registered secrets, bearer tokens and private-app tokens from a string."""
    for secret in tuple(_secrets):
        if secret in text:
            text = text.replace(secret, REDACTED)
    text = _BEARER.sub(f"Bearer {REDACTED}", text)
    return _HUBSPOT_TOKEN.sub(REDACTED, text)


def _redact_value(key: str | None, value: Any) -> Any:
    if key is not None and _SENSITIVE_KEY.search(key) and value not in (None, ""):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, MutableMapping):
        return {k: _redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redact_value(None, v) for v in value)
    if isinstance(value, BaseException):
        return redact_text(str(value))
    return value


def redact_processor(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: redact sensitive keys and secret values anywhere in the event."""
    for key in list(event_dict):
        event_dict[key] = _redact_value(key if key != "event" else None, event_dict[key])
    return event_dict


def _redact_exc_info(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in ("exception", "stack"):
        if isinstance(event_dict.get(key), str):
            event_dict[key] = redact_text(event_dict[key])
    return event_dict


def configure_logging(level: str = "INFO", fmt: str = "auto", stream: Any = None) -> None:
    """Configure structlog once for the process. `fmt` is auto, json or console."""
    out = stream if stream is not None else sys.stderr
    use_console = fmt == "console" or (fmt == "auto" and hasattr(out, "isatty") and out.isatty())
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_processor,
    ]
    renderer: Any
    if use_console:
        renderer = structlog.dev.ConsoleRenderer(colors=hasattr(out, "isatty") and out.isatty())
    else:
        processors.append(structlog.processors.format_exc_info)
        processors.append(_redact_exc_info)
        renderer = structlog.processors.JSONRenderer(sort_keys=False)
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    # Libraries logging through the standard library (urllib3, httpx, uvicorn, alembic)
    # must not leak headers either: route them through the same redaction.
    handler = logging.StreamHandler(out)
    handler.addFilter(_StdlibRedactFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(numeric, logging.WARNING))


class _StdlibRedactFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact_text(record.getMessage())
        record.args = None
        return True


def get_logger(name: str | None = None, **initial: Any) -> Any:
    """A bound structlog logger."""
    return structlog.get_logger(name, **initial)


def secrets_in(texts: Iterable[str]) -> list[str]:
    """Registered secrets that occur in any of `texts` (used by tests and self-checks)."""
    found = []
    for secret in tuple(_secrets):
        if any(secret in t for t in texts):
            found.append(secret)
    return found

"""The `run` schedule: an interval or a standard 5-field crontab (UTC), validated at startup."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from leadscore.errors import ConfigError
from leadscore.settings import Settings

_WEEKDAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


@dataclass(frozen=True, slots=True)
class Schedule:
    """A validated schedule: the APScheduler trigger and a description for logs."""

    trigger: BaseTrigger
    description: str
    # Interval schedules sync once at startup; cron schedules wait for their first slot.
    run_at_start: bool


def schedule_from_settings(settings: Settings) -> Schedule:
    """The cron schedule when LEADSCORE_SCHEDULE_CRON is set, else the interval."""
    if settings.schedule_cron is not None and settings.schedule_cron.strip():
        expr = settings.schedule_cron.strip()
        return Schedule(parse_crontab(expr), f"cron '{expr}' (UTC)", run_at_start=False)
    if settings.schedule_interval_seconds is None:
        raise ConfigError(
            "no schedule: set LEADSCORE_SCHEDULE_INTERVAL_SECONDS or LEADSCORE_SCHEDULE_CRON"
        )
    seconds = settings.schedule_interval_seconds
    return Schedule(
        IntervalTrigger(seconds=seconds, timezone=UTC),
        f"every {seconds} s",
        run_at_start=True,
    )


def parse_crontab(expr: str) -> CronTrigger:
    """A CronTrigger for a standard crontab line; a bad one is a one-line ConfigError."""
    fields = expr.split()
    try:
        if len(fields) != 5:
            raise ValueError(
                f"expected 5 fields (minute hour day month weekday), got {len(fields)}"
            )
        minute, hour, day, month, weekday = fields
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=standard_weekdays(weekday),
            timezone=UTC,
        )
    except ValueError as exc:
        raise ConfigError(f"invalid setting schedule_cron '{expr}': {exc}") from None


def standard_weekdays(field: str) -> str:
    """Rewrite a crontab weekday field as day names.

    APScheduler 3 numbers weekdays from Monday = 0, crontab from Sunday = 0 (7 is Sunday
    too); names mean the same to both, so numbers are resolved here with crontab's meaning.
    """
    if field == "*":
        return field
    days: set[int] = set()
    for part in field.split(","):
        base, has_step, step_text = part.partition("/")
        step = int(step_text) if has_step and step_text.isdigit() else 1
        if has_step and (not step_text.isdigit() or step < 1):
            raise ValueError(f"bad weekday step in '{part}'")
        if base == "*":
            low, high = 0, 6
        elif "-" in base:
            low_text, high_text = base.split("-", 1)
            low, high = _weekday_number(low_text), _weekday_number(high_text)
            if high < low:
                raise ValueError(f"weekday range '{base}' runs backwards")
        else:
            low = _weekday_number(base)
            high = 6 if has_step else low
        days.update(day % 7 for day in range(low, high + 1, step))
    return ",".join(_WEEKDAY_NAMES[day] for day in sorted(days))


def _weekday_number(token: str) -> int:
    token = token.strip().lower()
    if token.isdigit() and 0 <= int(token) <= 7:
        return int(token)
    if token in _WEEKDAY_NAMES:
        return _WEEKDAY_NAMES.index(token)
    raise ValueError(f"unknown weekday '{token}' (use 0-7 or sun..sat)")

"""The `run` schedule: interval or crontab from settings, crontab weekdays as cron means them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from leadscore.errors import ConfigError
from leadscore.service.schedule import parse_crontab, schedule_from_settings, standard_weekdays
from leadscore.settings import Settings

# A Sunday, so weekday numbering mistakes show up as a wrong day.
SUNDAY_NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def next_fires(trigger: CronTrigger, start: datetime, count: int) -> list[datetime]:
    fires: list[datetime] = []
    previous = None
    now = start
    for _ in range(count):
        fire = trigger.get_next_fire_time(previous, now)
        assert fire is not None
        fires.append(fire)
        previous, now = fire, fire + timedelta(seconds=1)
    return fires


def test_interval_is_the_default_and_runs_at_start() -> None:
    schedule = schedule_from_settings(Settings(schedule_interval_seconds=60))
    assert isinstance(schedule.trigger, IntervalTrigger)
    assert schedule.trigger.interval == timedelta(seconds=60)
    assert schedule.run_at_start
    assert schedule.description == "every 60 s"


def test_cron_overrides_the_interval_and_waits_for_its_slot() -> None:
    schedule = schedule_from_settings(
        Settings(schedule_interval_seconds=60, schedule_cron="*/15 * * * *")
    )
    assert isinstance(schedule.trigger, CronTrigger)
    assert not schedule.run_at_start
    fires = next_fires(schedule.trigger, SUNDAY_NOON + timedelta(minutes=1), 3)
    assert [f.strftime("%H:%M") for f in fires] == ["12:15", "12:30", "12:45"]


def test_cron_weekday_numbers_mean_what_crontab_means() -> None:
    # crontab: 1-5 is Monday to Friday (APScheduler alone would read Tuesday to Saturday).
    fires = next_fires(parse_crontab("0 9 * * 1-5"), SUNDAY_NOON, 6)
    assert [f.strftime("%a %H:%M") for f in fires] == [
        "Mon 09:00",
        "Tue 09:00",
        "Wed 09:00",
        "Thu 09:00",
        "Fri 09:00",
        "Mon 09:00",
    ]
    assert [f.strftime("%a") for f in next_fires(parse_crontab("0 0 * * 0"), SUNDAY_NOON, 2)] == [
        "Sun",
        "Sun",
    ]


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("*", "*"),
        ("0", "sun"),
        ("7", "sun"),
        ("1-5", "mon,tue,wed,thu,fri"),
        ("mon-fri", "mon,tue,wed,thu,fri"),
        ("*/2", "sun,tue,thu,sat"),
        ("6,7", "sun,sat"),
        ("SAT", "sat"),
        ("1/3", "mon,thu"),
    ],
)
def test_standard_weekdays(field: str, expected: str) -> None:
    assert standard_weekdays(field) == expected


@pytest.mark.parametrize(
    ("expr", "reason"),
    [
        ("*/5 * * *", "expected 5 fields"),
        ("61 * * * *", "higher than the maximum"),
        ("0 9 * * 8", "unknown weekday '8'"),
        ("0 9 * * fri-mon", "runs backwards"),
        ("every day", "expected 5 fields"),
    ],
)
def test_bad_cron_is_one_clear_line(expr: str, reason: str) -> None:
    with pytest.raises(ConfigError) as info:
        schedule_from_settings(Settings(schedule_cron=expr))
    message = str(info.value)
    assert message.startswith(f"invalid setting schedule_cron '{expr}': ")
    assert reason in message
    assert "\n" not in message
    assert info.value.exit_code == 2


def test_no_schedule_at_all_is_refused() -> None:
    with pytest.raises(ConfigError, match="no schedule"):
        schedule_from_settings(Settings(schedule_interval_seconds=None))

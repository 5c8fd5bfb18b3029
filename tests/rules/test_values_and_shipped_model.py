"""Reading HubSpot values, formatting scores, and the shipped example model end to end."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.rules.builders import NOW_MS, contact, email, form, rule

from leadscore.rules import load_model
from leadscore.rules.values import format_points, read_number, read_timestamp_ms

SHIPPED = load_model(Path(__file__).resolve().parents[2] / "config" / "scoring.yaml")
DEMO_FORM = next(f.id for f in SHIPPED.forms_by_id.values() if f.name == "Request a demo")
SALES_FORM = next(f.id for f in SHIPPED.forms_by_id.values() if f.name == "Contact sales")


@pytest.mark.parametrize(
    ("raw", "value", "note"),
    [
        ("42", 42.0, None),
        (" 3.5 ", 3.5, None),
        ("1,000", 1000.0, "'1,000' read as 1000"),
        ("$2,500,000", 2500000.0, "'$2,500,000' read as 2500000"),
        ("10k", 10000.0, "'10k' read as 10000"),
        ("50-100", 75.0, "'50-100' read as 75 (midpoint of the range)"),
        ("1000+", 1000.0, "'1000+' read as 1000 (lower bound)"),
        ("", None, "empty"),
        (None, None, "unknown"),
        ("n/a", None, "'n/a' is not a number"),
        ("nan", None, "'nan' is not a number"),
        ("-Infinity", None, "'-Infinity' is not a number"),
    ],
)
def test_read_number(raw: str | None, value: float | None, note: str | None) -> None:
    assert read_number(raw) == (value, note)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (5.0, "5"),
        (-100.0, "-100"),
        (12.5, "12.5"),
        (0.1 + 0.2, "0.3"),
        (47.004, "47"),
        (1 / 3, "0.33"),
        (-0.0, "0"),
    ],
)
def test_format_points_is_stable(value: float, text: str) -> None:
    assert format_points(value) == text


@pytest.mark.parametrize(
    ("raw", "ms"),
    [
        ("1795435200000", 1795435200000),
        ("2026-11-23T12:00:00Z", 1795435200000),
        ("2026-11-23T13:00:00+01:00", 1795435200000),
        ("2026-11-23", 1795392000000),
        ("", None),
        ("soon", None),
        ("²", None),  # a digit to str.isdigit, not to int()
        ("-", None),
    ],
)
def test_read_timestamp(raw: str, ms: int | None) -> None:
    assert read_timestamp_ms(raw) == ms


def test_shipped_model_shape() -> None:
    assert SHIPPED.score_names == ("fit", "engagement", "total")
    assert SHIPPED.handoff_stage == "salesqualifiedlead"
    assert SHIPPED.activity_horizon_days == 365
    assert SHIPPED.stages is not None and SHIPPED.stages.thresholds == (
        ("marketingqualifiedlead", 35.0),
        ("salesqualifiedlead", 65.0),
    )
    assert {f.tier for f in SHIPPED.forms_by_id.values()} == {"TOFU", "MOFU", "BOFU"}


def test_shipped_model_demo_request_from_a_decision_maker_is_sql() -> None:
    result = SHIPPED.evaluate(
        contact(
            email="ceo@northwind.example",
            jobtitle="CEO",
            numemployees="200",
            lifecyclestage="lead",
            forms=(form(DEMO_FORM, 1),),
            emails=(email("OPEN", 2), email("CLICK", 2, url="https://x.example/pricing")),
        ),
        NOW_MS,
    )
    assert rule(result, "Requested a demo", "engagement").points == 49.24
    assert result.stage.stage == "salesqualifiedlead"
    assert result.properties["leadscore_reasons"] == (
        "Requested a demo +49.24; Company size +15; Decision-maker title +15"
    )


def test_shipped_model_spam_competitor_and_employees() -> None:
    spam = SHIPPED.evaluate(
        contact(email="x@gmail.com", firstname="asdf", lastname="qwer", lifecyclestage="lead"),
        NOW_MS,
    )
    assert spam.scores["fit"].total == -35  # free email -10, mash -20, lower-case -5
    assert spam.stage.stage == "lead"
    rival = SHIPPED.evaluate(contact(email="a@rivalcrm.example", lifecyclestage="lead"), NOW_MS)
    assert rule(rival, "Competitor", "fit").points == -100
    employee = SHIPPED.evaluate(
        contact(email="me@ourcompany.example", lifecyclestage="lead", forms=(form(SALES_FORM, 1),)),
        NOW_MS,
    )
    assert employee.exclusion == "employee domain ourcompany.example"
    assert employee.stage.stage is None
    assert employee.stage.reason == (
        "excluded: employee domain ourcompany.example; the score alone would make it salesqualifiedlead"
    )


def test_shipped_model_sales_feedback_parks_a_contact() -> None:
    base = {"email": "ceo@acme.example", "jobtitle": "CEO", "lifecyclestage": "salesqualifiedlead"}
    hot = (form(DEMO_FORM, 1),)
    not_ready = SHIPPED.evaluate(
        contact(**base, leadscore_sales_feedback="Not ready", forms=hot), NOW_MS
    )
    assert not_ready.scores["total"].total == 34.24
    assert not_ready.stage.stage == "marketingqualifiedlead"  # 34.24 >= 35 - hysteresis 5
    unqualified = SHIPPED.evaluate(
        contact(**base, leadscore_sales_feedback="Unqualified", forms=hot), NOW_MS
    )
    assert (
        unqualified.exclusion
        == "Marked unqualified by sales: leadscore_sales_feedback = 'Unqualified'"
    )

"""Property criteria: equals / one_of / contains / matches / numbers / known / dates."""

from __future__ import annotations

from tests.rules.builders import DAY_MS, NOW_MS, TODAY_START_MS, contact, days_ago, one_score, rule


def test_equals_ignores_case_and_whitespace_by_default() -> None:
    model = one_score("- {name: r, when: {property: industry, equals: Software}, points: 5}")
    hit = model.evaluate(contact(industry=" SOFTWARE "), NOW_MS)
    assert rule(hit, "r").met and rule(hit, "r").points == 5
    assert rule(hit, "r").reason == "industry = ' SOFTWARE '"
    miss = model.evaluate(contact(industry="Retail"), NOW_MS)
    assert not rule(miss, "r").met
    assert rule(miss, "r").reason == "not met: industry is not 'Software'"


def test_equals_case_sensitive_when_asked() -> None:
    model = one_score(
        "- {name: r, when: {property: industry, equals: Software, ignore_case: false}, points: 5}"
    )
    assert not rule(model.evaluate(contact(industry="software"), NOW_MS), "r").met
    assert rule(model.evaluate(contact(industry="Software"), NOW_MS), "r").met


def test_one_of_and_yaml_booleans_become_hubspot_text() -> None:
    model = one_score(
        """
        - {name: region, when: {property: country, one_of: [Germany, France]}, points: 3}
        - {name: flag, when: {property: is_partner, equals: true}, points: 2}
        """
    )
    result = model.evaluate(contact(country="france", is_partner="true"), NOW_MS)
    assert rule(result, "region").points == 3
    assert rule(result, "flag").points == 2
    assert rule(model.evaluate(contact(country="Spain"), NOW_MS), "region").reason == (
        "not met: country is not one of 'Germany', 'France'"
    )


def test_contains_any_of_several_needles() -> None:
    model = one_score(
        "- {name: r, when: {property: jobtitle, contains: [marketing, growth]}, points: 4}"
    )
    hit = model.evaluate(contact(jobtitle="Head of Growth"), NOW_MS)
    assert rule(hit, "r").reason == "jobtitle = 'Head of Growth' contains 'growth'"
    assert not rule(model.evaluate(contact(jobtitle="Engineer"), NOW_MS), "r").met
    assert not rule(model.evaluate(contact(), NOW_MS), "r").met


def test_regex_matches_case_insensitively() -> None:
    model = one_score(
        r"- {name: r, when: {property: jobtitle, matches: '\b(cto|ceo)\b'}, points: 9}"
    )
    assert rule(model.evaluate(contact(jobtitle="Founder & CTO"), NOW_MS), "r").points == 9
    assert not rule(model.evaluate(contact(jobtitle="Director"), NOW_MS), "r").met


def test_numeric_comparisons_tolerate_separators_and_say_what_they_read() -> None:
    model = one_score("- {name: big, when: {property: numemployees, gte: 1000}, points: 10}")
    hit = model.evaluate(contact(numemployees="1,000"), NOW_MS)
    assert rule(hit, "big").met
    assert rule(hit, "big").reason == "numemployees = '1,000' read as 1000 ≥ 1000"
    plain = model.evaluate(contact(numemployees="2500"), NOW_MS)
    assert rule(plain, "big").reason == "numemployees = 2500 ≥ 1000"


def test_numeric_empty_value_is_not_met_and_said_so() -> None:
    model = one_score("- {name: big, when: {property: numemployees, gt: 10}, points: 10}")
    empty = rule(model.evaluate(contact(numemployees=""), NOW_MS), "big")
    assert not empty.met
    assert empty.reason == "not met: numemployees is empty, not a number > 10"
    missing = rule(model.evaluate(contact(), NOW_MS), "big")
    assert missing.reason == "not met: numemployees is unknown, not a number > 10"
    junk = rule(model.evaluate(contact(numemployees="lots"), NOW_MS), "big")
    assert junk.reason == "not met: numemployees is 'lots' is not a number, not a number > 10"


def test_range_value_is_read_as_its_midpoint_and_explained() -> None:
    model = one_score(
        "- {name: mid, when: {property: numemployees, between: [50, 100]}, points: 6}"
    )
    hit = rule(model.evaluate(contact(numemployees="50-100"), NOW_MS), "mid")
    assert hit.met
    assert hit.reason == (
        "numemployees = '50-100' read as 75 (midpoint of the range) ≥ 50 and ≤ 100"
    )
    miss = rule(model.evaluate(contact(numemployees="200-400"), NOW_MS), "mid")
    assert miss.reason == (
        "not met: numemployees = '200-400' read as 300 (midpoint of the range), not ≥ 50 and ≤ 100"
    )


def test_combined_numeric_bounds() -> None:
    model = one_score("- {name: r, when: {property: x, gt: 1, lt: 5}, points: 1}")
    assert [
        rule(model.evaluate(contact(x=v), NOW_MS), "r").met for v in ("1", "2", "4.9", "5")
    ] == [
        False,
        True,
        True,
        False,
    ]


def test_known_and_unknown() -> None:
    model = one_score(
        """
        - {name: has phone, when: {property: phone, known: true}, points: 3}
        - {name: no phone, when: {property: phone, known: false}, points: -1}
        """
    )
    with_phone = model.evaluate(contact(phone="+1 555"), NOW_MS)
    assert rule(with_phone, "has phone").met and not rule(with_phone, "no phone").met
    blank = model.evaluate(contact(phone="  "), NOW_MS)
    assert not rule(blank, "has phone").met and rule(blank, "no phone").met
    assert rule(blank, "has phone").reason == "not met: phone is unknown"


def test_date_newer_than_and_when_it_stops_being_true() -> None:
    model = one_score(
        "- {name: recent, when: {property: last_visit, newer_than_days: 14}, points: 5}"
    )
    visited = days_ago(3)
    result = model.evaluate(contact(last_visit=str(visited)), NOW_MS)
    assert rule(result, "recent").met
    assert rule(result, "recent").reason == "last_visit was 3 days ago"
    # Counted in UTC days: true until the start of day (visit day + 14).
    assert result.next_due_ms == (visited // DAY_MS + 14) * DAY_MS
    assert not rule(
        model.evaluate(contact(last_visit=str(visited)), result.next_due_ms), "recent"
    ).met
    assert rule(
        model.evaluate(contact(last_visit=str(visited)), result.next_due_ms - 1), "recent"
    ).met


def test_date_older_than_reads_iso_dates() -> None:
    model = one_score("- {name: old, when: {property: createdate, older_than_days: 30}, points: 2}")
    assert rule(model.evaluate(contact(createdate="2026-01-01"), NOW_MS), "old").met
    fresh = model.evaluate(contact(createdate="2026-11-20T08:00:00Z"), NOW_MS)
    assert not rule(fresh, "old").met
    assert fresh.next_due_ms == TODAY_START_MS + 27 * DAY_MS
    bad = rule(model.evaluate(contact(createdate="yesterday"), NOW_MS), "old")
    assert bad.reason == "not met: createdate = 'yesterday' is not a date"


def test_all_any_not_combinations() -> None:
    model = one_score(
        """
        - name: senior buyer
          when:
            all:
              - {property: jobtitle, contains: director}
              - any:
                  - {property: industry, equals: software}
                  - {property: industry, equals: finance}
              - not: {property: country, equals: Antarctica}
          points: 12
        """
    )
    good = model.evaluate(
        contact(jobtitle="IT Director", industry="Finance", country="Spain"), NOW_MS
    )
    assert rule(good, "senior buyer").points == 12
    assert rule(good, "senior buyer").reason == (
        "jobtitle = 'IT Director' contains 'director' and industry = 'Finance' and country is not 'Antarctica'"
    )
    wrong_industry = model.evaluate(contact(jobtitle="Director", industry="Retail"), NOW_MS)
    assert rule(wrong_industry, "senior buyer").reason == (
        "not met: none of: (industry is 'software') or (industry is 'finance')"
    )
    excluded = model.evaluate(
        contact(jobtitle="Director", industry="software", country="antarctica"), NOW_MS
    )
    assert rule(excluded, "senior buyer").reason == "not met: country = 'antarctica'"


def test_negative_points() -> None:
    model = one_score(
        "- {name: student, when: {property: jobtitle, contains: student}, points: -25}"
    )
    result = model.evaluate(contact(jobtitle="PhD Student"), NOW_MS)
    assert rule(result, "student").points == -25
    assert result.scores["s"].total == -25

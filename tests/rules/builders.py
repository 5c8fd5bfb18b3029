"""Builders for rule-engine tests: models from YAML text, contacts, activity, a frozen now."""

from __future__ import annotations

import textwrap
from typing import Any

from leadscore.records import Contact, EmailEvent, FormSubmission
from leadscore.rules import ScoringModel, compile_document
from leadscore.rules.document import parse_rules_text
from leadscore.rules.evaluation import Contribution, Evaluation

DAY_MS = 86_400_000
# 2026-11-23T12:00:00Z: mid-day, so "N days ago" and window edges are easy to reason about.
NOW_MS = 1_795_435_200_000
TODAY_START_MS = NOW_MS - NOW_MS % DAY_MS


def model_from(text: str, source: str = "rules.yaml") -> ScoringModel:
    """Compile a rules file given as (indented) YAML text."""
    return compile_document(parse_rules_text(textwrap.dedent(text), source))


def one_score(rules_yaml: str, **score_options: Any) -> ScoringModel:
    """A model with a single score `s` made of the given rules (a YAML list, dedented)."""
    body = textwrap.indent(textwrap.dedent(rules_yaml).strip(), "      ")
    options = "".join(f"    {k}: {v}\n" for k, v in score_options.items())
    return model_from(f"scores:\n  s:\n{options}    rules:\n{body}\n")


def contact(
    cid: str = "1",
    *,
    forms: tuple[FormSubmission, ...] = (),
    emails: tuple[EmailEvent, ...] = (),
    **props: str | None,
) -> Contact:
    return Contact(cid, dict(props), forms, emails)


def days_ago(days: float) -> int:
    """Epoch ms `days` before NOW_MS."""
    return int(NOW_MS - days * DAY_MS)


def form(form_id: str, age_days: float, name: str | None = None) -> FormSubmission:
    return FormSubmission(form_id, days_ago(age_days), form_name=name)


def email(
    kind: str, age_days: float, campaign: str | None = None, url: str | None = None
) -> EmailEvent:
    return EmailEvent(kind, days_ago(age_days), campaign, url=url)


def rule(evaluation: Evaluation, name: str, score: str = "s") -> Contribution:
    """The contribution of one rule, by name."""
    for c in evaluation.scores[score].contributions:
        if c.rule == name:
            return c
    raise AssertionError(f"no contribution {name!r} in score {score!r}")


def total(evaluation: Evaluation, score: str = "s") -> float:
    return evaluation.scores[score].total

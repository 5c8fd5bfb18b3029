"""Human and JSON renderings of an evaluation (rule by rule) and of a model's summary."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.console import Console

from leadscore.rules.evaluation import Evaluation
from leadscore.rules.model import ScoringModel
from leadscore.rules.values import format_points, signed_points


def iso_ms(ms: int) -> str:
    """Epoch ms as an ISO 8601 UTC time."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z")


def explanation_lines(evaluation: Evaluation, model: ScoringModel) -> list[str]:
    """The rule-by-rule breakdown as plain lines: per score every rule, met or not, with
    points and why; then grid, target stage, exclusion, next re-score and the writes."""
    lines: list[str] = [f"contact {evaluation.contact_id} (rules {model.version})"]
    for score in evaluation.scores.values():
        lines.append("")
        lines.append(f"{score.name} = {format_points(score.total)}  -> {score.property}")
        for c in score.contributions:
            mark = "[met]" if c.met else "[   ]"
            points = signed_points(c.points) if c.met else "0"
            group = f" [{c.group}]" if c.group else ""
            lines.append(f"  {mark} {points:>8}  {c.rule}{group}: {c.reason}")
    lines.append("")
    if evaluation.grid is not None:
        lines.append(f"grid: {evaluation.grid}")
    target = evaluation.stage.stage or "(no change)"
    lines.append(f"target stage: {target}: {evaluation.stage.reason}")
    if evaluation.exclusion is not None:
        lines.append(f"excluded: {evaluation.exclusion} (scored, never moved or tasked)")
    if evaluation.next_due_ms is not None:
        lines.append(f"re-score due: {iso_ms(evaluation.next_due_ms)}")
    lines.append("writes:")
    for name, value in evaluation.properties.items():
        lines.append(f"  {name} = {value!r}")
    return lines


def render_explanation(evaluation: Evaluation, model: ScoringModel, console: Console) -> None:
    """Print the rule-by-rule breakdown of one evaluation."""
    for line in explanation_lines(evaluation, model):
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def explanation_dict(evaluation: Evaluation, model: ScoringModel) -> dict[str, Any]:
    """The same breakdown as JSON-ready data."""
    return {
        "contact_id": evaluation.contact_id,
        "rules_version": model.version,
        "scores": {
            s.name: {
                "property": s.property,
                "total": s.total,
                "contributions": [
                    {
                        "rule": c.rule,
                        "met": c.met,
                        "points": c.points,
                        "reason": c.reason,
                        "group": c.group,
                    }
                    for c in s.contributions
                ],
            }
            for s in evaluation.scores.values()
        },
        "grid": evaluation.grid,
        "stage": {"target": evaluation.stage.stage, "reason": evaluation.stage.reason},
        "exclusion": evaluation.exclusion,
        "next_due_ms": evaluation.next_due_ms,
        "properties": dict(evaluation.properties),
    }


def model_summary_lines(model: ScoringModel) -> list[str]:
    """What `validate` prints: scores, rules per score, thresholds, outputs."""
    lines = [f"{model.source}: valid (rules version {model.version})", "scores:"]
    for score in model.scores:
        parts = []
        if score.includes:
            parts.append(
                "includes "
                + ", ".join(n if w == 1 else f"{n} x {format_points(w)}" for n, w in score.includes)
            )
        parts.append(f"{len(score.rules)} rule{'s' if len(score.rules) != 1 else ''}")
        for group, (low, high) in score.group_caps.items():
            parts.append(f"group {group}{_range_text(low, high)}")
        if score.low is not None or score.high is not None:
            parts.append(f"total{_range_text(score.low, score.high)}")
        lines.append(f"  {score.name} -> {score.property}: {'; '.join(parts)}")
        for rule in score.rules:
            lines.append(f"    - {rule.name} ({rule.kind})")
    stages = model.stages
    if stages is None:
        lines.append("stages: not managed")
    else:
        thresholds = ", ".join(f"{s} >= {format_points(t)}" for s, t in stages.thresholds)
        promote = ", ".join(sorted(s or "(no stage)" for s in stages.promote_from)) or "nothing"
        lines.append(
            f"stages (by {stages.score}): {thresholds}; hysteresis "
            f"{format_points(stages.hysteresis)}; floor {stages.floor}; promote from {promote}"
        )
        for q in stages.qualifiers:
            lines.append(f"  qualify: {q.name} -> {q.stage}")
        lines.append(f"handoff stage: {model.handoff_stage}")
    ex = model.exclusions
    excluded = [f"protected stages {', '.join(sorted(ex.protected_stages)) or 'none'}"]
    if ex.employee_domains:
        excluded.append(f"employee domains {', '.join(sorted(ex.employee_domains))}")
    if ex.partner_domains:
        excluded.append(f"partner domains {', '.join(sorted(ex.partner_domains))}")
    if ex.opted_out:
        excluded.append("opted-out contacts")
    excluded.extend(name for name, _ in ex.conditions)
    lines.append(f"exclusions: {'; '.join(excluded)}")
    if model.grid is not None:
        g = model.grid
        lines.append(
            f"grid -> {g.property}: {g.rows.score} ({_axis_text(g.rows.bands)}) x "
            f"{g.columns.score} ({_axis_text(g.columns.bands)})"
        )
    horizon = model.activity_horizon_days
    lines.append(f"activity horizon: {f'{horizon} days' if horizon else 'any age'}")
    lines.append(
        "output properties: " + ", ".join(f"{p.name} ({p.type})" for p in model.output_properties)
    )
    return lines


def _range_text(low: float | None, high: float | None) -> str:
    out = ""
    if low is not None:
        out += f" min {format_points(low)}"
    if high is not None:
        out += f" max {format_points(high)}"
    return out


def _axis_text(bands: tuple[tuple[str, float | None], ...]) -> str:
    return ", ".join(
        label if minimum is None else f"{label} >= {format_points(minimum)}"
        for label, minimum in bands
    )

"""Generates one straight-line Python function per score from its compiled rules.

`ScoreProgram.evaluate` loops over the rules and calls each one's `apply`; that loop and
those calls are most of what scoring a contact costs. The generated function does the same
work in the same order without the dispatch: rules cached by property values are looked
up inline, condition and activity rules call their test or scan directly (a scan that finds
nothing needs no further call), anything else goes through its pre-bound `apply`, and the
score's groups are local variables. It must give exactly what `ScoreProgram.evaluate` gives
(tests/rules/test_generated_scores.py); the source is kept (`ScoringModel.debug_source()`)
so it can be read and stepped through.
"""

from __future__ import annotations

import linecache
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from leadscore.rules.evaluation import Contribution, ScoreResult
from leadscore.rules.runtime import NO_DUE, BandsRule, Ctx, EachRule, RuleProgram, WhenRule
from leadscore.rules.values import round_cents

if TYPE_CHECKING:
    from leadscore.rules.model import ScoreProgram

# (ctx, scores done so far, append for contributions that gave points) -> the score.
ScoreFunction = Callable[
    [Ctx, Mapping[str, ScoreResult], Callable[[Contribution], None]], ScoreResult
]
# The engine's own contributions, shared with the reference loop in model.py:
# included(name, weight, total), group_cap(group, capped, subtotal), total_cap(name, capped, total).
IncludedMaker = Callable[[str, float, float], Contribution]
CapMaker = Callable[[str, float, float], Contribution]

_INDENT = "        "


def generate_score(
    score: ScoreProgram, included: IncludedMaker, group_cap: CapMaker, total_cap: CapMaker
) -> tuple[str, ScoreFunction]:
    """The source of `score`'s function and the function itself.

    The source defines a factory whose parameters are the objects the score needs (rules'
    caches and `apply` methods, caps, names): inside the score function they are closure
    variables, as cheap to read as locals, and the generated text stays free of literals
    that would have to round-trip exactly through `repr`.
    """
    bound: dict[str, object] = {
        "score_name": score.name,
        "score_property": score.property,
        "high": score.high,
        "low": score.low,
    }
    body: list[str] = ["props_get = ctx.props.get", "total = 0.0"]
    parts: list[str] = []
    for i, (name, weight) in enumerate(score.includes):
        bound[f"include_{i}"] = name
        bound[f"weight_{i}"] = weight
        body += [
            f"# included score {name!r}",
            f"i{i} = included(include_{i}, weight_{i}, done[include_{i}].total)",
            f"total += i{i}.points",
        ]
        parts.append(f"i{i}")
    groups = list(score.group_caps)
    for g, group in enumerate(groups):
        body.append(f"g{g} = 0.0  # subtotal of group {group!r}")
    for r, rule in enumerate(score.rules):
        bound[f"apply_{r}"] = rule.apply
        body.append(f"# rule {r}: {rule.name!r} ({rule.kind})")
        body += _rule_lines(r, rule, bound)
        body += [f"points = c{r}.points", "if points:", "    total += points", f"    met(c{r})"]
        if groups and rule.group is not None:
            body.append(f"    g{groups.index(rule.group)} += points")
        parts.append(f"c{r}")
    items = "".join(f"{p}, " for p in parts)
    if groups or score.low is not None or score.high is not None:
        # Caps may add contributions after the rules'.
        body.append(f"contributions = [{items}]")
        for g, (group, (g_low, g_high)) in enumerate(score.group_caps.items()):
            bound[f"group_{g}"] = group
            bound[f"group_low_{g}"] = g_low
            bound[f"group_high_{g}"] = g_high
            body += [
                f"# cap on group {group!r}",
                f"subtotal = round_cents(g{g})",
                *_clip_lines(
                    "capped", "subtotal", g_low, g_high, f"group_low_{g}", f"group_high_{g}"
                ),
                "if capped != subtotal:",
                f"    cap = group_cap(group_{g}, capped, subtotal)",
                "    total += cap.points",
                "    contributions.append(cap)",
            ]
        body.append("total = round_cents(total)")
        if score.high is not None or score.low is not None:
            body.append("# cap on the score")
            branch = "if"
            if score.high is not None:
                body += [
                    "if total > high:",
                    "    contributions.append(total_cap(score_name, high, total))",
                    "    total = high",
                ]
                branch = "elif"
            if score.low is not None:
                body += [
                    f"{branch} total < low:",
                    "    contributions.append(total_cap(score_name, low, total))",
                    "    total = low",
                ]
        body.append("return ScoreResult(score_name, score_property, total, tuple(contributions))")
    else:
        body += [
            "total = round_cents(total)",
            f"return ScoreResult(score_name, score_property, total, ({items}))",
        ]
    params = ", ".join(bound)
    function = f"score_{_identifier(score.name)}"
    source = (
        f"# generated from score {score.name!r} by leadscore.rules.codegen\n"
        f"def make_score({params}):\n"
        f"    def {function}(ctx, done, met):\n"
        + "".join(f"{_INDENT}{line}\n" for line in body)
        + f"    return {function}\n"
    )
    namespace: dict[str, object] = {
        "NO_DUE": NO_DUE,
        "ScoreResult": ScoreResult,
        "round_cents": round_cents,
        "included": included,
        "group_cap": group_cap,
        "total_cap": total_cap,
    }
    filename = f"<leadscore score {score.name!r} {id(score):x}>"
    # Registered with linecache so tracebacks and debuggers show the generated lines.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)
    factory = namespace["make_score"]
    assert callable(factory)
    run: ScoreFunction = factory(**bound)
    return source, run


def _rule_lines(r: int, rule: RuleProgram, bound: dict[str, object]) -> list[str]:
    """Lines that set `c{r}` to the rule's contribution, as its `apply` would."""
    if type(rule) is WhenRule and rule.reads is not None:
        # WhenRule.apply's cache lookup, inline (same key); on a miss `apply` does the rest.
        bound[f"static_{r}"] = rule.static.get
        names = []
        for p, prop in enumerate(rule.reads):
            bound[f"prop_{r}_{p}"] = prop
            names.append(f"props_get(prop_{r}_{p})")
        key = names[0] if len(names) == 1 else f"({', '.join(names)},)"
        if rule.by_day:
            key = f"({key}, ctx.today)"
        return [
            f"hit = static_{r}({key})",
            "if hit is None:",
            f"    c{r} = apply_{r}(ctx)",
            "else:",
            f"    c{r}, due = hit",
            # Ctx.due_at, inline. NO_DUE (nothing changes) is never below ctx.due.
            "    if ctx.now < due < ctx.due:",
            "        ctx.due = due",
        ]
    if type(rule) is BandsRule and rule.reads is not None:
        bound[f"static_{r}"] = rule.static.get
        bound[f"prop_{r}"] = rule.reads
        return [
            f"c{r} = static_{r}(props_get(prop_{r}))",
            f"if c{r} is None:",
            f"    c{r} = apply_{r}(ctx)",
        ]
    if type(rule) is WhenRule and rule.decayed is not None and rule.finder is not None:
        # WhenRule._evaluate's activity branch: nothing found is the common case.
        bound[f"scan_{r}"] = rule.finder.scan
        bound[f"not_met_{r}"] = rule.not_met
        bound[f"found_{r}"] = rule.decayed_met
        return [
            f"found = scan_{r}(ctx)",
            f"c{r} = not_met_{r} if found is None else found_{r}(ctx, found)",
        ]
    if type(rule) is WhenRule:
        # WhenRule._evaluate's condition branch (no cache: `reads` is None); `_met`'s
        # cache lookup inline.
        bound[f"test_{r}"] = rule.test
        bound[f"neg_{r}"] = rule.neg_text
        bound[f"not_met_{r}"] = rule.not_met
        bound[f"points_{r}"] = rule.points
        bound[f"cached_{r}"] = rule._cache.get
        bound[f"make_met_{r}"] = rule._met
        bound[f"make_unmet_{r}"] = rule._unmet
        return [
            f"ok, reason = test_{r}(ctx)",
            "if ok:",
            f"    c{r} = cached_{r}((points_{r}, reason))",
            f"    if c{r} is None:",
            f"        c{r} = make_met_{r}(points_{r}, reason)",
            f"elif reason is neg_{r}:",
            f"    c{r} = not_met_{r}",
            "else:",
            f"    c{r} = make_unmet_{r}(reason)",
        ]
    if type(rule) is EachRule:
        bound[f"scan_{r}"] = rule.finder.scan
        bound[f"not_met_{r}"] = rule.not_met
        bound[f"found_{r}"] = rule.counted
        return [
            f"found = scan_{r}(ctx)",
            f"c{r} = not_met_{r} if found is None else found_{r}(ctx, found)",
        ]
    return [f"c{r} = apply_{r}(ctx)"]


def _clip_lines(
    out: str, value: str, low: float | None, high: float | None, low_name: str, high_name: str
) -> list[str]:
    """`out = clip(value, low, high)` without the call, for the bounds that exist."""
    lines = [f"{out} = {value}"]
    if high is not None:
        lines += [f"if {value} > {high_name}:", f"    {out} = {high_name}"]
    if low is not None:
        lines += [
            f"{'elif' if high is not None else 'if'} {value} < {low_name}:",
            f"    {out} = {low_name}",
        ]
    return lines


def _identifier(name: str) -> str:
    """An ASCII identifier fragment for a score name (for readable tracebacks only)."""
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch == "_") else "_" for ch in name)

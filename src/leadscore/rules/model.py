"""The compiled scoring model: scores, stage policy, exclusions, grid; `evaluate` is pure."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from leadscore.gateway.port import PropertySpec
from leadscore.records import Contact
from leadscore.rules.codegen import ModelFunction, generate_model
from leadscore.rules.conditions import FormSpec
from leadscore.rules.evaluation import (
    Contribution,
    Evaluation,
    ScoreResult,
    StageTarget,
    contribution,
    stage_target,
)
from leadscore.rules.runtime import NO_DUE, Ctx, RuleProgram, Test, clip
from leadscore.rules.values import domain_in, format_points, round_cents, signed_points

# Contributions the engine adds itself (not rules): caps and included scores.
CAP_PREFIX = "cap: "
INCLUDE_PREFIX = "score: "
REASONS_MAX_CHARS = 1000
NO_STAGES = StageTarget(None, "the rules manage no lifecycle stages")
TARGET_CACHE_SIZE = 8192


@dataclass(frozen=True, slots=True)
class ScoreProgram:
    """One named score: its rules, group and total caps, and the scores it adds up."""

    name: str
    property: str
    label: str
    description: str
    rules: tuple[RuleProgram, ...]
    # Scores added into this one, with their weight (a total is fit + engagement).
    includes: tuple[tuple[str, float], ...] = ()
    group_caps: Mapping[str, tuple[float | None, float | None]] = field(default_factory=dict)
    low: float | None = None
    high: float | None = None
    # The rules' bound `apply` methods, looked up once rather than for every contact.
    _applies: tuple[Callable[[Ctx], Contribution], ...] = field(
        init=False, repr=False, compare=False, default=()
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_applies", tuple(rule.apply for rule in self.rules))
        # Bounds as floats, so every total is a float (a total capped at an integer bound
        # would otherwise be an int, and 60 and 60.0 are one key in the caches of totals).
        for bound in ("low", "high"):
            value = getattr(self, bound)
            if value is not None:
                object.__setattr__(self, bound, float(value))

    def evaluate(
        self, ctx: Ctx, done: Mapping[str, ScoreResult], met: list[Contribution]
    ) -> ScoreResult:
        """Score one contact; appends the rule contributions that gave points to `met`.

        The reference loop: the model's generated function (codegen.py) must give exactly the
        same result and is what `ScoringModel.evaluate` uses.
        """
        contributions: list[Contribution] = []
        append = contributions.append
        total = 0.0
        for name, weight in self.includes:
            part_contribution = _included(name, weight, done[name].total)
            append(part_contribution)
            total += part_contribution.points
        group_caps = self.group_caps
        subtotals = dict.fromkeys(group_caps, 0.0)
        for apply in self._applies:
            c = apply(ctx)
            append(c)
            points = c.points
            if points:
                total += points
                met.append(c)
                if c.group is not None and group_caps:
                    subtotals[c.group] += points
        for group, (low, high) in group_caps.items():
            subtotal = round_cents(subtotals[group])
            capped = clip(subtotal, low, high)
            if capped != subtotal:
                cap = _group_cap(group, capped, subtotal)
                total += cap.points
                append(cap)
        total = round_cents(total)
        # clip() inlined: this runs for every score of every contact.
        high, low = self.high, self.low
        if high is not None and total > high:
            append(_total_cap(self.name, high, total))
            total = high
        elif low is not None and total < low:
            append(_total_cap(self.name, low, total))
            total = low
        return ScoreResult(self.name, self.property, total, tuple(contributions))


# Cap contributions are immutable and repeat across contacts (the same capped subtotals):
# shared, like included-score contributions. typed: 5 and 5.0 must not share an entry.
@functools.lru_cache(maxsize=8192, typed=True)
def _group_cap(group: str, capped: float, subtotal: float) -> Contribution:
    return contribution(
        f"{CAP_PREFIX}group {group}",
        round(capped - subtotal, 2),
        True,
        f"group {group} limited to {format_points(capped)} (rules gave {format_points(subtotal)})",
        group,
    )


@functools.lru_cache(maxsize=8192, typed=True)
def _total_cap(name: str, capped: float, total: float) -> Contribution:
    return contribution(
        f"{CAP_PREFIX}total",
        round(capped - total, 2),
        True,
        f"{name} limited to {format_points(capped)} (rules gave {format_points(total)})",
    )


def _included(name: str, weight: float, included: float) -> Contribution:
    """The contribution of an included score (shared: totals repeat across contacts).

    A zero total is made afresh: 0.0 and -0.0 are equal cache keys, and the points' sign
    would depend on which contact came first.
    """
    if not included:
        return _make_included(name, weight, included)
    return _shared_included(name, weight, included)


def _make_included(name: str, weight: float, included: float) -> Contribution:
    times = "" if weight == 1 else f" x {format_points(weight)}"
    return contribution(
        f"{INCLUDE_PREFIX}{name}",
        round(included * weight, 2),
        True,
        f"{name} score {format_points(included)}{times}",
    )


# typed: a total capped by an integer bound (60) and an equal float (60.0) must not share an
# entry, or the contribution's points would depend on which contact came first.
_shared_included = functools.lru_cache(maxsize=8192, typed=True)(_make_included)


@dataclass(frozen=True, slots=True)
class Qualifier:
    """A rule-based qualification: when its condition holds the contact reaches `stage`
    whatever its score ("asked for sales follow-up" makes an SQL)."""

    name: str
    stage: str
    test: Test


@dataclass(frozen=True, slots=True)
class StagePolicy:
    """Which stages the service manages and how a score maps to them.

    `thresholds` ascend. Managed stages are `floor` plus the threshold stages: a managed
    contact below the lowest threshold goes back to `floor`. Contacts in a stage listed in
    `promote_from` ("" = no stage) move up when they reach a threshold but are never put
    on the floor. Any other stage is left alone.
    """

    score: str
    thresholds: tuple[tuple[str, float], ...]
    floor: str
    hysteresis: float = 0.0
    promote_from: frozenset[str] = frozenset()
    qualifiers: tuple[Qualifier, ...] = ()
    _ranks: Mapping[str, int] = field(init=False, repr=False, compare=False, default_factory=dict)
    _targets: dict[tuple[float, str, int], StageTarget] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    # Per current rank: (rank, threshold in effect) of every threshold stage, hysteresis
    # applied to the stages the contact has already reached.
    _effective: Mapping[int, tuple[tuple[int, float], ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    # Targets for contacts in a stage the rules do not manage, by stage.
    _unmanaged: dict[str, StageTarget] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    @property
    def managed(self) -> tuple[str, ...]:
        return (self.floor, *(stage for stage, _ in self.thresholds))

    def target(self, value: float, current: str, ctx: Ctx) -> StageTarget:
        """The stage `value` calls for, given the contact's current stage."""
        ranks = self._ranks
        cur_rank = ranks.get(current)
        if cur_rank is None:
            if current not in self.promote_from:
                unmanaged = self._unmanaged.get(current)
                if unmanaged is None:
                    unmanaged = stage_target(
                        None, f"stage {current or '(no stage)'} is not managed by the rules"
                    )
                    if len(self._unmanaged) >= TARGET_CACHE_SIZE:
                        self._unmanaged.clear()
                    self._unmanaged[current] = unmanaged
                return unmanaged
            cur_rank = -1
        best = -1
        for rank, effective in self._effective[cur_rank]:
            if value >= effective:
                best = rank
        qualified = None
        for qualifier in self.qualifiers:
            if ranks[qualifier.stage] > best:
                met, reason = qualifier.test(ctx)
                if met:
                    best = ranks[qualifier.stage]
                    qualified = f"qualified by rule {qualifier.name!r}: {reason}"
        if qualified is not None:
            return self._explain(value, current, cur_rank, best, qualified)
        # Same score, stage and outcome give the same target: share it across contacts.
        key = (value, current, best)
        target = self._targets.get(key)
        if target is None:
            target = self._explain(value, current, cur_rank, best, None)
            if len(self._targets) >= TARGET_CACHE_SIZE:
                self._targets.clear()
            self._targets[key] = target
        return target

    def _explain(
        self, value: float, current: str, cur_rank: int, best: int, qualified: str | None
    ) -> StageTarget:
        shown = format_points(value)
        if best > 0:
            stage, threshold = self.thresholds[best - 1]
            if qualified is not None:
                return stage_target(stage, qualified)
            if value >= threshold:
                return stage_target(
                    stage, f"{self.score} {shown} ≥ {format_points(threshold)} ({stage} threshold)"
                )
            return stage_target(
                stage,
                f"{self.score} {shown} ≥ {format_points(threshold - self.hysteresis)} "
                f"({stage} threshold {format_points(threshold)} minus hysteresis "
                f"{format_points(self.hysteresis)}, already {current})",
            )
        lowest_stage, lowest = self.thresholds[0]
        below = (
            f"{self.score} {shown} is below the {lowest_stage} threshold {format_points(lowest)}"
        )
        if cur_rank >= 0:
            if current == self.floor:
                return stage_target(self.floor, f"{below}: stays {self.floor}")
            return stage_target(self.floor, f"{below}: back to {self.floor}")
        return stage_target(None, f"{below}: {current or '(no stage)'} is left as it is")

    def __post_init__(self) -> None:
        ranks = {stage: i + 1 for i, (stage, _) in enumerate(self.thresholds)}
        ranks[self.floor] = 0
        object.__setattr__(self, "_ranks", ranks)
        hysteresis = self.hysteresis
        effective = {
            cur_rank: tuple(
                (rank, threshold - hysteresis if cur_rank >= rank else threshold)
                for rank, (_stage, threshold) in enumerate(self.thresholds, start=1)
            )
            for cur_rank in range(-1, len(self.thresholds) + 1)
        }
        object.__setattr__(self, "_effective", effective)


@dataclass(frozen=True, slots=True)
class ExclusionPolicy:
    """Contacts the service scores but never moves or tasks."""

    protected_stages: frozenset[str] = frozenset()
    employee_domains: frozenset[str] = frozenset()
    partner_domains: frozenset[str] = frozenset()
    opted_out: bool = False
    conditions: tuple[tuple[str, Test], ...] = ()
    # The properties the answer depends on besides the stage and the email domain (the
    # generated evaluate caches answers by them); None when a condition depends on more.
    reads: tuple[str, ...] | None = None

    def check(self, ctx: Ctx, current: str) -> str | None:
        if current in self.protected_stages:
            return f"stage {current} is protected"
        if self.employee_domains or self.partner_domains:
            domain = ctx.domain
            if domain_in(domain, self.employee_domains):
                return f"employee domain {domain}"
            if domain_in(domain, self.partner_domains):
                return f"partner domain {domain}"
        if self.opted_out:
            raw = ctx.props.get("hs_email_optout")
            if raw is not None and raw.strip().lower() == "true":
                return "opted out of all email"
        for name, test in self.conditions:
            met, reason = test(ctx)
            if met:
                return f"{name}: {reason}"
        return None


@dataclass(frozen=True, slots=True)
class GridAxis:
    """Bands on one score: the first band whose minimum the score reaches names it."""

    score: str
    bands: tuple[tuple[str, float | None], ...]

    def label(self, value: float) -> str:
        for label, minimum in self.bands:
            if minimum is None or value >= minimum:
                return label
        return self.bands[-1][0]


@dataclass(frozen=True, slots=True)
class GridSpec:
    """The fit x engagement grid (A1..C3) written to a property."""

    property: str
    rows: GridAxis
    columns: GridAxis


@dataclass(frozen=True, slots=True)
class ReasonsSpec:
    """The text property holding the top reasons behind a score."""

    property: str
    score: str
    count: int
    # The score and every score it includes, whose rule contributions are candidates.
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ScoringModel:
    """A compiled, validated rules file. `evaluate` scores one contact without I/O."""

    version: str
    source: str
    scores: tuple[ScoreProgram, ...]
    contact_properties: tuple[str, ...]
    output_properties: tuple[PropertySpec, ...]
    handoff_stage: str
    activity_horizon_days: int | None
    forms_by_id: Mapping[str, FormSpec]
    stages: StagePolicy | None
    exclusions: ExclusionPolicy
    grid: GridSpec | None = None
    reasons: ReasonsSpec | None = None
    # Stage targets of excluded contacts, by (exclusion, the stage the score calls for).
    _excluded: dict[tuple[str, str | None], StageTarget] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    # The generated equivalent of `evaluate_reference` (see codegen.py) and its source.
    _run: ModelFunction = field(init=False, repr=False, compare=False)
    _source: str = field(init=False, repr=False, compare=False, default="")

    def __post_init__(self) -> None:
        source, run = generate_model(self, _included, _group_cap, _total_cap)
        object.__setattr__(self, "_source", source)
        object.__setattr__(self, "_run", run)

    @property
    def score_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.scores)

    def debug_source(self) -> str:
        """The generated Python source of the evaluate function, for reading and debugging."""
        return self._source

    def evaluate(self, contact: Contact, now_ms: int) -> Evaluation:
        """Score `contact` as of `now_ms` (epoch ms). Pure: same input, same output."""
        return self._run(contact, now_ms)

    def evaluate_reference(self, contact: Contact, now_ms: int) -> Evaluation:
        """`evaluate` through the scores' plain rule loops instead of the generated code:
        the straightforward path the generated one must agree with (used by tests)."""
        ctx = Ctx(contact, now_ms)
        results: dict[str, ScoreResult] = {}
        met: dict[str, list[Contribution]] = {}
        properties: dict[str, str] = {}
        for score in self.scores:
            gave: list[Contribution] = []
            result = score.evaluate(ctx, results, gave)
            results[score.name] = result
            met[score.name] = gave
            properties[score.property] = format_points(result.total)
        ranked = None
        if self.reasons is not None:
            ranked = [reason_rank(c.rule, c.points) for n in self.reasons.sources for c in met[n]]
        return self._finish(contact, ctx, results, ranked, properties)

    def _finish(
        self,
        contact: Contact,
        ctx: Ctx,
        results: dict[str, ScoreResult],
        ranked: list[ReasonRank] | None,
        properties: dict[str, str],
    ) -> Evaluation:
        """What follows the scores, for both paths: stage, exclusion, grid, reasons.

        `ranked` holds `reason_rank` of every rule contribution that gave points to the
        reasons score or a score it includes (None when the model writes no reasons).
        """
        current = (contact.properties.get("lifecyclestage") or "").strip()
        exclusion = self.exclusions.check(ctx, current)
        if self.stages is None:
            stage = NO_STAGES
        else:
            stage = self.stages.target(results[self.stages.score].total, current, ctx)
            if exclusion is not None:
                stage = excluded_target(self._excluded, exclusion, stage)
        grid = None
        if self.grid is not None:
            grid = self.grid.rows.label(results[self.grid.rows.score].total) + (
                self.grid.columns.label(results[self.grid.columns.score].total)
            )
            properties[self.grid.property] = grid
        if self.reasons is not None and ranked is not None:
            properties[self.reasons.property] = reasons_text(ranked, self.reasons.count)
        due = ctx.due
        # Positional: keyword arguments cost measurably on this per-contact path.
        return Evaluation(
            contact.id, results, stage, grid, exclusion, None if due == NO_DUE else due, properties
        )


def excluded_target(
    cache: dict[tuple[str, str | None], StageTarget], exclusion: str, stage: StageTarget
) -> StageTarget:
    """The target of an excluded contact: no stage, saying what the score called for
    (remembered in the model's `cache`)."""
    key = (exclusion, stage.stage)
    excluded = cache.get(key)
    if excluded is None:
        would = f"; the score alone would make it {stage.stage}" if stage.stage else ""
        excluded = stage_target(None, f"excluded: {exclusion}{would}")
        if len(cache) >= TARGET_CACHE_SIZE:
            cache.clear()
        cache[key] = excluded
    return excluded


# A rule contribution as the reasons property ranks it: largest points first (either
# sign), then by rule name. The generated evaluate builds these tuples inline.
ReasonRank = tuple[float, str, float]


def reason_rank(rule: str, points: float) -> ReasonRank:
    return (-abs(points), rule, points)


# Reasons texts by their ranked contributions: the same rules give the same points across
# contacts, and the same few lead.
_REASONS_TEXTS: dict[tuple[ReasonRank, ...], str] = {}
# Their parts ("rule +p") by contribution: most repeat even where the whole text does not.
_REASON_PARTS: dict[ReasonRank, str] = {}


def reasons_text(ranked: list[ReasonRank], count: int) -> str:
    """The `count` contributions with the largest points, as "rule +p; rule -p"."""
    ranked.sort()
    top = tuple(ranked[:count])
    text = _REASONS_TEXTS.get(top)
    if text is None:
        parts = []
        for rank in top:
            part = _REASON_PARTS.get(rank)
            if part is None:
                part = f"{rank[1]} {signed_points(rank[2])}"
                if len(_REASON_PARTS) >= TARGET_CACHE_SIZE:
                    _REASON_PARTS.clear()
                _REASON_PARTS[rank] = part
            parts.append(part)
        text = "; ".join(parts)[:REASONS_MAX_CHARS]
        if len(_REASONS_TEXTS) >= TARGET_CACHE_SIZE:
            _REASONS_TEXTS.clear()
        _REASONS_TEXTS[top] = text
    return text

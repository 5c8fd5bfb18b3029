"""Compiled rule programs: the precomputed closures the engine runs for every contact."""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from leadscore.records import Contact, EmailEvent, FormSubmission
from leadscore.rules.evaluation import Contribution, contribution
from leadscore.rules.values import (
    DAY_MS,
    email_domain,
    format_points,
    remembered_round,
    round_cents,
)

NO_DUE = 1 << 62
CONTRIBUTION_CACHE_SIZE = 4096
ANSWER_CACHE_SIZE = 4096
DECAY_TABLE_DAYS = 3660
# Cache-key points of "not met" entries: met points are finite, so this never collides.
UNMET = float("-inf")


class Ctx:
    """What the rules see for one contact at one instant; `due` collects the earliest time
    at which a time-dependent test would change its answer."""

    __slots__ = ("_by_type", "contact", "domain", "due", "forms", "now", "props", "today")

    def __init__(self, contact: Contact, now_ms: int) -> None:
        self.contact = contact
        self.props: Mapping[str, str | None] = contact.properties
        self.now = now_ms
        # Time is counted in whole UTC days: windows, decay and date tests change only at
        # 00:00 UTC, so a re-run on the same day gives identical results.
        self.today = now_ms // DAY_MS
        self.forms: tuple[FormSubmission, ...] = contact.form_submissions
        self._by_type: dict[str, list[EmailEvent]] | None = None
        self.due = NO_DUE
        self.domain = email_domain(contact.properties.get("email"))

    @property
    def emails_by_type(self) -> dict[str, list[EmailEvent]]:
        """The contact's email events grouped by upper-cased type, in record order (built
        on first use: the generated evaluate reads the events in its own single pass)."""
        by_type = self._by_type
        if by_type is None:
            by_type = {}
            for event in self.contact.email_events:
                kind = event.type.upper()
                bucket = by_type.get(kind)
                if bucket is None:
                    by_type[kind] = [event]
                else:
                    bucket.append(event)
            self._by_type = by_type
        return by_type

    def due_at(self, when_ms: int) -> None:
        """Record that the result changes at `when_ms` (only future instants matter)."""
        if self.now < when_ms < self.due:
            self.due = when_ms


# A compiled test: (met, reason). Reasons for "not met" are usually precomputed constants.
Test = Callable[[Ctx], tuple[bool, str]]

# What an activity criterion matched, or None when nothing did: the epoch-ms instant of
# every matching occurrence in record order (sums follow that order), the newest instant
# and its record (the first one found when several share it).
Found = tuple[list[int], int, object]
# Below any timestamp: the "window start" of a criterion that looks at any age.
NO_SINCE = -(1 << 62)


@dataclass(frozen=True, slots=True)
class FormCriterion:
    """What a form criterion counts: submissions of the `accepted` form ids or of a form
    named in `accepted_names` (casefolded), or of any form when `accepted` is None; within
    the last `window` days (None: any age)."""

    accepted: frozenset[str] | None
    accepted_names: frozenset[str]
    window: int | None

    def accepts(self, form_id: str, form_name: str | None) -> bool:
        if self.accepted is None or form_id in self.accepted:
            return True
        return form_name is not None and form_name.casefold() in self.accepted_names


@dataclass(frozen=True, slots=True)
class EmailCriterion:
    """What an email criterion counts: events of these upper-cased `types` (in this order),
    of one of `campaigns` (None: any), on a link containing one of `url_parts` (casefolded;
    None: any), within the last `window` days (None: any age)."""

    types: tuple[str, ...]
    campaigns: frozenset[str] | None
    url_parts: tuple[str, ...] | None
    window: int | None


class ActivityFinder:
    """Scans an activity criterion's matching occurrences in one pass, noting in the context
    when a window will drop one or a future-dated one starts to count. `criterion` says
    what it matches, so the generated evaluate can do the same scan inline."""

    __slots__ = ("criterion", "label", "scan")

    def __init__(
        self,
        scan: Callable[[Ctx], Found | None],
        label: Callable[[Ctx, object], str],
        criterion: FormCriterion | EmailCriterion,
    ) -> None:
        self.scan = scan
        self.label = label
        self.criterion = criterion


@dataclass(frozen=True, slots=True)
class Decay:
    """Points lost by age: a half-life, or a linear percentage per period.

    Age is counted in whole UTC days so a re-run on the same day gives identical points;
    the result changes at the next UTC midnight (half-life) or period boundary (linear).
    """

    half_life_days: float | None = None
    linear_percent: float | None = None
    every_days: int = 1

    def factor_at_age(self, age_days: int) -> float:
        """The share of the points left at this age (in whole days)."""
        if self.half_life_days is not None:
            return float(0.5 ** (max(0, age_days) / self.half_life_days))
        steps = max(0, age_days) // self.every_days
        return max(0.0, 1.0 - (self.linear_percent or 0.0) / 100.0 * steps)

    def note_change(self, ctx: Ctx, day: int, age_days: int) -> None:
        """Tell the context when the points of an occurrence from `day` change next."""
        if self.half_life_days is not None:
            ctx.due_at((ctx.today + 1) * DAY_MS)
            return
        steps = max(0, age_days) // self.every_days
        if 1.0 - (self.linear_percent or 0.0) / 100.0 * steps > 0:
            ctx.due_at((day + (steps + 1) * self.every_days) * DAY_MS)

    def describe(self) -> str:
        if self.half_life_days is not None:
            return f"half-life {format_points(self.half_life_days)} days"
        return f"-{format_points(self.linear_percent or 0)}% every {self.every_days} days"

    def zero_after_days(self) -> int | None:
        """Age in days after which nothing is left, or None (a half-life never reaches 0)."""
        if self.linear_percent is None:
            return None
        steps = -(-100 // self.linear_percent)
        return int(steps * self.every_days)


class DecayedPoints:
    """A rule's points by age in days, rounded to cents once at compile time so the same
    age always gives the same points."""

    __slots__ = ("decay", "half_life", "points", "table", "text")

    def __init__(self, decay: Decay, points: float) -> None:
        self.decay = decay
        self.half_life = decay.half_life_days is not None
        self.points = points
        self.table = [
            round(points * decay.factor_at_age(age), 2) for age in range(DECAY_TABLE_DAYS)
        ]
        self.text = decay.describe()

    def sum(self, ctx: Ctx, ats: list[int]) -> float:
        """Decayed points of every occurrence (epoch ms), added up in order."""
        if not self.half_life:
            return sum(self.at(ctx, at) for at in ats)
        table, today, total = self.table, ctx.today, 0.0
        for at in ats:
            age = today - at // DAY_MS
            if age < 0:
                age = 0
            total += table[age] if age < DECAY_TABLE_DAYS else self._far(age)
        # Ctx.due_at, inline: every point changes at the next UTC midnight.
        tomorrow = (today + 1) * DAY_MS
        if tomorrow < ctx.due:
            ctx.due = tomorrow
        return total

    def _far(self, age: int) -> float:
        return round(self.points * self.decay.factor_at_age(age), 2)

    def at(self, ctx: Ctx, at_ms: int) -> float:
        day = at_ms // DAY_MS
        age = ctx.today - day
        if age < 0:
            age = 0
        self.decay.note_change(ctx, day, age)
        if age < DECAY_TABLE_DAYS:
            return self.table[age]
        return self._far(age)


def clip(points: float, low: float | None, high: float | None) -> float:
    if high is not None and points > high:
        return high
    if low is not None and points < low:
        return low
    return points


class RuleProgram(abc.ABC):
    """One compiled rule: turns a contact context into its Contribution."""

    __slots__ = (
        "_by_occurrence",
        "_cache",
        "group",
        "high",
        "kind",
        "low",
        "name",
        "not_met",
        "spec_text",
    )

    def __init__(
        self,
        name: str,
        kind: str,
        group: str | None,
        low: float | None,
        high: float | None,
        spec_text: str,
    ) -> None:
        self.name = name
        self.kind = kind
        self.group = group
        self.low = low
        self.high = high
        self.spec_text = spec_text
        self.not_met = Contribution(name, 0.0, False, f"not met: {spec_text}", group)
        self._cache: dict[tuple[float, str], Contribution] = {}
        # Activity contributions by what determines them (points, count, newest occurrence's
        # label): the reason text is only built on a miss.
        self._by_occurrence: dict[tuple[float, int, str], Contribution] = {}

    @abc.abstractmethod
    def apply(self, ctx: Ctx) -> Contribution:
        """This rule's contribution for one contact."""

    def _met(self, points: float, reason: str) -> Contribution:
        key = (points, reason)
        made = self._cache.get(key)
        if made is not None:
            return made
        made = self._capped(points, reason)
        self._remember(key, made)
        return made

    def _capped(self, points: float, reason: str) -> Contribution:
        """A met contribution, its points clipped to the rule's cap (the reason says so)."""
        # clip(), inline: most activity contributions are new and come through here.
        capped = points
        high, low = self.high, self.low
        if high is not None and points > high:
            capped = high
        elif low is not None and points < low:
            capped = low
        if capped != points:
            reason = f"{reason}; capped at {format_points(capped)}"
        return contribution(self.name, round_cents(capped), True, reason, self.group)

    def _occurrence_met(
        self, key: tuple[float, int, str], points: float, reason: str
    ) -> Contribution:
        """`_met`, remembered under `key` (which determines `reason`) for `_by_occurrence`."""
        made = self._capped(points, reason)
        if len(self._by_occurrence) >= CONTRIBUTION_CACHE_SIZE:
            self._by_occurrence.clear()
        self._by_occurrence[key] = made
        return made

    def _unmet(self, reason: str) -> Contribution:
        key = (UNMET, reason)
        made = self._cache.get(key)
        if made is None:
            made = contribution(self.name, 0.0, False, f"not met: {reason}", self.group)
            self._remember(key, made)
        return made

    def _remember(self, key: tuple[float, str], made: Contribution) -> None:
        # Contributions are immutable and most reasons repeat across contacts (the same
        # industry, the same band), so sharing them saves most of the per-contact cost.
        # Bounded so a model over free-text values cannot grow without limit; emptied when
        # full so a long-running service keeps caching what repeats today.
        if len(self._cache) >= CONTRIBUTION_CACHE_SIZE:
            self._cache.clear()
        self._cache[key] = made


class WhenRule(RuleProgram):
    """Fixed points when a condition holds (decayed by the age of the newest occurrence)."""

    __slots__ = (
        "answer",
        "by_day",
        "by_domain",
        "decayed",
        "finder",
        "inactive",
        "neg_text",
        "only_prop",
        "points",
        "reads",
        "static",
        "test",
    )

    def __init__(
        self,
        name: str,
        group: str | None,
        low: float | None,
        high: float | None,
        test: Test,
        neg_text: str,
        points: float,
        decay: Decay | None,
        finder: ActivityFinder | None,
        reads: tuple[str, ...] | None,
        by_day: bool = False,
        answer: Callable[[Ctx, Found], tuple[bool, str]] | None = None,
        inactive: Callable[[Ctx, int, int], tuple[bool, str]] | None = None,
        by_domain: bool = False,
    ) -> None:
        super().__init__(name, "when", group, low, high, neg_text)
        # The contribution depends on the contact's email domain alone.
        self.by_domain = by_domain and reads is None and finder is None
        # The condition's parts the generated evaluate calls after scanning inline (see
        # Condition.answer and Condition.inactive).
        self.answer = answer
        self.inactive = inactive
        self.test = test
        self.neg_text = neg_text
        self.points = points
        self.decayed = DecayedPoints(decay, points) if decay is not None and finder else None
        self.finder = finder
        # A condition on properties alone (and the day, for date tests) gives the same
        # contribution, and the same next change, for the same values: cache it.
        self.reads = reads if self.decayed is None else None
        self.by_day = by_day
        self.static: dict[object, tuple[Contribution, int]] = {}
        # The common case, one property and no date test, has the shortest path.
        self.only_prop = (
            self.reads[0]
            if self.reads is not None and len(self.reads) == 1 and not by_day
            else None
        )

    def apply(self, ctx: Ctx) -> Contribution:
        prop = self.only_prop
        if prop is not None:
            hit = self.static.get(ctx.props.get(prop))
            if hit is not None:
                if hit[1] != NO_DUE:
                    ctx.due_at(hit[1])
                return hit[0]
        reads = self.reads
        if reads is None:
            return self._evaluate(ctx)
        props = ctx.props
        key: object = props.get(reads[0]) if len(reads) == 1 else tuple(map(props.get, reads))
        if self.by_day:
            key = (key, ctx.today)
        hit = self.static.get(key)
        if hit is not None:
            if hit[1] != NO_DUE:
                ctx.due_at(hit[1])
            return hit[0]
        outer_due = ctx.due
        ctx.due = NO_DUE
        made = self._evaluate(ctx)
        due = ctx.due
        ctx.due = min(due, outer_due)
        if len(self.static) >= CONTRIBUTION_CACHE_SIZE:
            self.static.clear()
        self.static[key] = (made, due)
        return made

    def decayed_met(self, ctx: Ctx, found: Found) -> Contribution:
        """The contribution of a decayed activity condition, given what its finder found."""
        decayed = self.decayed
        assert decayed is not None and self.finder is not None
        _, at, record = found
        points = decayed.at(ctx, at)
        label = self.finder.label(ctx, record)
        key = (points, 1, label)
        made = self._by_occurrence.get(key)
        if made is not None:
            return made
        return self._occurrence_met(
            key,
            points,
            f"{label}; {format_points(self.points)} decayed to "
            f"{format_points(points)} ({decayed.text})",
        )

    def _evaluate(self, ctx: Ctx) -> Contribution:
        if self.decayed is not None:
            assert self.finder is not None
            found = self.finder.scan(ctx)
            if found is None:
                return self.not_met
            return self.decayed_met(ctx, found)
        met, reason = self.test(ctx)
        if not met:
            if reason is self.neg_text:
                return self.not_met
            return self._unmet(reason)
        return self._met(self.points, reason)


class EachRule(RuleProgram):
    """Points per matching occurrence, optionally decayed per occurrence, with a cap."""

    __slots__ = ("decayed", "each_text", "finder", "label", "points")

    def __init__(
        self,
        name: str,
        group: str | None,
        low: float | None,
        high: float | None,
        spec_text: str,
        finder: ActivityFinder,
        points: float,
        decay: Decay | None,
    ) -> None:
        super().__init__(name, "each", group, low, high, spec_text)
        self.finder = finder
        self.label = finder.label
        self.points = points
        self.each_text = format_points(points)
        self.decayed = DecayedPoints(decay, points) if decay is not None else None

    def apply(self, ctx: Ctx) -> Contribution:
        found = self.finder.scan(ctx)
        if found is None:
            return self.not_met
        return self.counted(ctx, found)

    def counted(self, ctx: Ctx, found: Found) -> Contribution:
        """The contribution for the occurrences the finder found."""
        ats, _, record = found
        n = len(ats)
        decayed = self.decayed
        if decayed is None:
            total = self.points * n
        else:
            total = decayed.sum(ctx, ats)
            total = remembered_round(total) or round_cents(total)
        return self.tallied(ctx, n, total, record)

    def tallied(self, ctx: Ctx, n: int, total: float, record: object) -> Contribution:
        """The contribution for `n` occurrences worth `total` points, `record` the newest
        (the generated evaluate counts and adds up in its passes, then calls this)."""
        newest = self.label(ctx, record)
        decayed = self.decayed
        key = (total, n, newest)
        made = self._by_occurrence.get(key)
        if made is not None:
            return made
        if n > 1:
            newest += " (newest)"
        each = self.each_text
        if decayed is None:
            reason = f"{n} x {each}: {newest}"
        else:
            reason = f"{n} x {each} decayed to {format_points(total)} ({decayed.text}): {newest}"
        return self._occurrence_met(key, total, reason)


@dataclass(frozen=True, slots=True)
class Band:
    """One exclusive band: points when low <= value <= high (None = open end)."""

    low: float | None
    high: float | None
    points: float

    def describe(self) -> str:
        if self.low is not None and self.high is not None:
            return f"{format_points(self.low)}-{format_points(self.high)}"
        if self.low is not None:
            return f"{format_points(self.low)}+"
        return f"up to {format_points(self.high or 0)}"


# Reads the number a bands rule is about: (value or None, text describing it).
NumberSource = Callable[[Ctx], tuple[float | None, str]]


class BandsRule(RuleProgram):
    """Exclusive bands on one number: at most one band awards points, they never stack."""

    __slots__ = ("bands", "reads", "source", "static")

    def __init__(
        self,
        name: str,
        group: str | None,
        low: float | None,
        high: float | None,
        spec_text: str,
        source: NumberSource,
        bands: tuple[Band, ...],
        reads: str | None = None,
    ) -> None:
        super().__init__(name, "bands", group, low, high, spec_text)
        self.source = source
        self.bands = bands
        # Bands on a property depend on its value alone: cache by value.
        self.reads = reads
        self.static: dict[str | None, Contribution] = {}

    def apply(self, ctx: Ctx) -> Contribution:
        prop = self.reads
        if prop is None:
            return self._evaluate(ctx)
        raw = ctx.props.get(prop)
        made = self.static.get(raw)
        if made is None:
            made = self._evaluate(ctx)
            if len(self.static) >= CONTRIBUTION_CACHE_SIZE:
                self.static.clear()
            self.static[raw] = made
        return made

    def _evaluate(self, ctx: Ctx) -> Contribution:
        value, text = self.source(ctx)
        if value is None:
            return self._unmet(text)
        for band in self.bands:
            if (band.low is None or value >= band.low) and (
                band.high is None or value <= band.high
            ):
                return self._met(band.points, f"{text} is in band {band.describe()}")
        return self._unmet(f"{text} is in no band")


class MapRule(RuleProgram):
    """Points looked up from a property's value (sales feedback, lead status, ...)."""

    __slots__ = ("ignore_case", "prop", "values")

    def __init__(
        self,
        name: str,
        group: str | None,
        low: float | None,
        high: float | None,
        spec_text: str,
        prop: str,
        values: Mapping[str, float],
        ignore_case: bool,
    ) -> None:
        super().__init__(name, "map", group, low, high, spec_text)
        self.not_met = Contribution(name, 0.0, False, f"not met: {prop} is empty", group)
        self.prop = prop
        self.values = values
        self.ignore_case = ignore_case

    def apply(self, ctx: Ctx) -> Contribution:
        raw = ctx.props.get(self.prop)
        if not raw:
            return self.not_met
        key = raw.strip().casefold() if self.ignore_case else raw.strip()
        points = self.values.get(key)
        if points is None:
            return self._unmet(f"{self.prop} = {raw!r} has no points")
        return self._met(points, f"{self.prop} = {raw!r}")

"""Compiles the condition language (property, activity and built-in tests, all/any/not)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from leadscore.records import EmailEvent, FormSubmission
from leadscore.rules.document import Field
from leadscore.rules.predicates import keyboard_mash, uncapitalised
from leadscore.rules.runtime import (
    ANSWER_CACHE_SIZE,
    DAY_MS,
    NO_DUE,
    NO_SINCE,
    ActivityFinder,
    Ctx,
    EmailCriterion,
    FormCriterion,
    Found,
    Test,
)
from leadscore.rules.values import (
    days_ago,
    domain_in,
    format_points,
    read_number,
    read_timestamp_ms,
)

FUNNEL_TIERS = ("TOFU", "MOFU", "BOFU")

PROPERTY_OPERATORS = (
    "equals",
    "one_of",
    "contains",
    "matches",
    "gt",
    "gte",
    "lt",
    "lte",
    "between",
    "known",
    "older_than_days",
    "newer_than_days",
)
_NUMERIC_OPS = ("gt", "gte", "lt", "lte")
ACTIVITY_KINDS = ("form_submitted", "email_opened", "email_clicked", "email_event")
CONDITION_KINDS = (
    "all",
    "any",
    "not",
    "property",
    *ACTIVITY_KINDS,
    "free_email_domain",
    "competitor_domain",
    "keyboard_mash",
    "uncapitalised_name",
    "opted_out",
    "inactive",
)
# Email event types that count as engagement for `inactive`.
ENGAGEMENT_EMAIL_TYPES = ("OPEN", "CLICK")
DEFAULT_NAME_PROPERTIES = ("firstname", "lastname")


@dataclass(frozen=True, slots=True)
class FormSpec:
    """A form named in the rules file, with its funnel tier."""

    id: str
    name: str
    tier: str | None = None


@dataclass(frozen=True, slots=True)
class Condition:
    """A compiled condition: its test, its text, and its activity finder when it is one
    activity criterion (so rules can count occurrences and decay by age)."""

    test: Test
    text: str
    # The constant "why not" text the test returns when it has nothing more specific to say.
    neg: str
    finder: ActivityFinder | None = None
    # The properties the answer depends on when it depends on nothing else (no activity,
    # no time): the rule engine then caches results by those properties' values.
    reads: tuple[str, ...] | None = None
    # True when the answer also depends on the current UTC day (date tests).
    by_day: bool = False
    # True when the answer depends on the email domain alone (domain predicates).
    by_domain: bool = False
    # For an activity criterion with a finder: the answer given what the finder found (not
    # None), so the generated evaluate can scan inline and still explain the same way.
    answer: Callable[[Ctx, Found], tuple[bool, str]] | None = None
    # For `inactive`: the answer given the newest past engagement instant in forms and
    # email events (-1 when none) and the soonest future-dated one (NO_DUE when none).
    inactive: Callable[[Ctx, int, int], tuple[bool, str]] | None = None


@dataclass
class ConditionScope:
    """What conditions may refer to, and what compiling them found out."""

    forms: tuple[FormSpec, ...]
    free_email_domains: frozenset[str]
    competitor_domains: frozenset[str]
    properties: set[str] = field(default_factory=set)
    # Window (days) of every activity criterion; None for one that looks at any age.
    activity_windows: list[int | None] = field(default_factory=list)


class ConditionCompiler:
    """Turns condition mappings into Condition closures, validating as it goes."""

    def __init__(self, scope: ConditionScope) -> None:
        self.scope = scope
        # Rules may name a declared form by its id or its name (case-insensitive).
        self._forms_by_ref = {f.name.casefold(): f for f in scope.forms} | {
            f.id.casefold(): f for f in scope.forms
        }
        self._form_names = {f.id: f.name for f in scope.forms}
        self._form_tiers = {f.id: f.tier for f in scope.forms}
        self._tiers_by_name = {f.name.casefold(): f.tier for f in scope.forms}

    # --- entry point ----------------------------------------------------------
    def compile(self, node: Field) -> Condition:
        if not isinstance(node.value, dict):
            raise node.error(
                f"expected a condition mapping with one of: {', '.join(CONDITION_KINDS)}"
            )
        kinds = [k for k in node.value if k in CONDITION_KINDS]
        if not kinds:
            unknown = next(iter(node.value), None)
            if unknown is None:
                raise node.error("empty condition")
            node.keys(CONDITION_KINDS, what="condition")  # raises naming the unknown key
        if len(kinds) > 1:
            raise Field(node.doc, (*node.path, kinds[1]), None).error(
                f"one condition per mapping: {kinds[0]!r} and {kinds[1]!r} given "
                "(combine them with all: or any:)"
            )
        kind = kinds[0]
        if kind == "property":
            return self._property(node)
        fields = node.keys(CONDITION_KINDS, what="condition")
        arg = fields[kind]
        if kind in ("all", "any"):
            return self._all_any(kind, arg)
        if kind == "not":
            return self._not(arg)
        if kind in ACTIVITY_KINDS:
            return self._activity(kind, arg)
        handler: Callable[[Field], Condition] = getattr(self, f"_{kind}")
        return handler(arg)

    # --- combinations -----------------------------------------------------------
    def _all_any(self, kind: str, arg: Field) -> Condition:
        items = arg.items()
        if not items:
            raise arg.error(f"{kind} needs at least one condition")
        parts = tuple(self.compile(item) for item in items)
        tests = tuple(p.test for p in parts)
        joiner = " and " if kind == "all" else " or "
        text = joiner.join(f"({p.text})" if len(parts) > 1 else p.text for p in parts)
        if kind == "all":
            neg = f"not all of: {text}"

            def all_test(ctx: Ctx) -> tuple[bool, str]:
                reasons = []
                for test in tests:
                    met, reason = test(ctx)
                    if not met:
                        return False, reason
                    reasons.append(reason)
                return True, " and ".join(reasons)

            return Condition(all_test, text, neg, None, _static(parts), _by_day(parts))
        neg = f"none of: {text}"

        def any_test(ctx: Ctx) -> tuple[bool, str]:
            for test in tests:
                met, reason = test(ctx)
                if met:
                    return True, reason
            return False, neg

        return Condition(any_test, text, neg, None, _static(parts), _by_day(parts))

    def _not(self, arg: Field) -> Condition:
        inner = self.compile(arg)
        inner_test = inner.test
        text = f"not ({inner.text})"
        neg = f"{inner.text}"

        def not_test(ctx: Ctx) -> tuple[bool, str]:
            met, reason = inner_test(ctx)
            if met:
                return False, reason if reason else neg
            return True, reason

        return Condition(not_test, text, neg, None, inner.reads, inner.by_day)

    # --- property criteria ---------------------------------------------------------
    def _property(self, node: Field) -> Condition:
        fields = node.keys(("property", *PROPERTY_OPERATORS, "ignore_case"), what="key")
        prop = fields["property"].identifier()
        self.scope.properties.add(prop)
        ops = [k for k in fields if k in PROPERTY_OPERATORS]
        if not ops:
            raise fields["property"].error(
                f"property criterion needs an operator: {', '.join(PROPERTY_OPERATORS)}"
            )
        numeric = [k for k in ops if k in _NUMERIC_OPS]
        if len(ops) > 1 and len(numeric) != len(ops):
            raise fields[ops[1]].error(
                f"one operator per property criterion: {ops[0]!r} and {ops[1]!r} given "
                "(only gt/gte/lt/lte combine; use all: for the rest)"
            )
        ignore_case = fields["ignore_case"].boolean() if "ignore_case" in fields else True
        if "ignore_case" in fields and ops[0] not in ("equals", "one_of", "contains", "matches"):
            raise fields["ignore_case"].error(f"ignore_case does not apply to {ops[0]}")
        op = ops[0]
        if numeric:
            bounds = {k: fields[k].number() for k in numeric}
            return self._numeric(prop, bounds)
        arg = fields[op]
        if op in ("equals", "one_of"):
            values = [_value_text(i) for i in ([arg] if op == "equals" else arg.items())]
            if not values:
                raise arg.error("one_of needs at least one value")
            return self._one_of(prop, values, ignore_case, op)
        if op == "contains":
            needles = [_value_text(i) for i in arg.items(allow_scalar=True)]
            if not needles:
                raise arg.error("contains needs at least one value")
            return self._contains(prop, needles, ignore_case)
        if op == "matches":
            pattern = arg.text()
            try:
                regex = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
            except re.error as exc:
                raise arg.error(f"bad regular expression {pattern!r}: {exc}") from None
            return self._matches(prop, regex)
        if op == "between":
            items = arg.items()
            if len(items) != 2:
                raise arg.error("between needs two numbers: [low, high]")
            low, high = items[0].number(), items[1].number()
            if low > high:
                raise arg.error(
                    f"between: low {format_points(low)} is above high {format_points(high)}"
                )
            return self._numeric(prop, {"gte": low, "lte": high})
        if op == "known":
            return self._known(prop, arg.boolean())
        days = arg.integer(minimum=0)
        return self._date(prop, days, older=(op == "older_than_days"))

    def _one_of(self, prop: str, values: list[str], ignore_case: bool, op: str) -> Condition:
        wanted = frozenset(v.strip().casefold() if ignore_case else v.strip() for v in values)
        shown = repr(values[0]) if op == "equals" else "one of " + ", ".join(map(repr, values))
        text = f"{prop} is {shown}"
        neg = f"{prop} is not {shown}"

        def test(ctx: Ctx) -> tuple[bool, str]:
            raw = ctx.props.get(prop)
            if raw is None:
                return False, neg
            key = raw.strip().casefold() if ignore_case else raw.strip()
            if key in wanted:
                return True, f"{prop} = {raw!r}"
            return False, neg

        return Condition(test, text, neg, None, (prop,))

    def _contains(self, prop: str, needles: list[str], ignore_case: bool) -> Condition:
        keys = tuple(n.casefold() if ignore_case else n for n in needles)
        shown = " or ".join(map(repr, needles))
        text = f"{prop} contains {shown}"
        neg = f"{prop} does not contain {shown}"

        def test(ctx: Ctx) -> tuple[bool, str]:
            raw = ctx.props.get(prop)
            if not raw:
                return False, neg
            hay = raw.casefold() if ignore_case else raw
            for needle in keys:
                if needle in hay:
                    return True, f"{prop} = {raw!r} contains {needle!r}"
            return False, neg

        return Condition(test, text, neg, None, (prop,))

    def _matches(self, prop: str, regex: re.Pattern[str]) -> Condition:
        search = regex.search
        text = f"{prop} matches /{regex.pattern}/"
        neg = f"{prop} does not match /{regex.pattern}/"

        def test(ctx: Ctx) -> tuple[bool, str]:
            raw = ctx.props.get(prop)
            if raw and search(raw):
                return True, f"{prop} = {raw!r} matches /{regex.pattern}/"
            return False, neg

        return Condition(test, text, neg, None, (prop,))

    def _numeric(self, prop: str, bounds: Mapping[str, float]) -> Condition:
        gt, gte, lt, lte = (bounds.get(k) for k in _NUMERIC_OPS)
        symbols = {"gt": ">", "gte": "≥", "lt": "<", "lte": "≤"}
        need = " and ".join(f"{symbols[k]} {format_points(v)}" for k, v in bounds.items())
        text = f"{prop} {need}"
        neg = f"{prop} is not {need}"

        def test(ctx: Ctx) -> tuple[bool, str]:
            raw = ctx.props.get(prop)
            value, note = read_number(raw)
            if value is None:
                return False, f"{prop} is {note}, not a number {need}"
            ok = (
                (gt is None or value > gt)
                and (gte is None or value >= gte)
                and (lt is None or value < lt)
                and (lte is None or value <= lte)
            )
            shown = f"{prop} = {note}" if note else f"{prop} = {format_points(value)}"
            if ok:
                return True, f"{shown} {need}"
            if note:
                return False, f"{shown}, not {need}"
            return False, neg

        return Condition(test, text, neg, None, (prop,))

    def _known(self, prop: str, known: bool) -> Condition:
        text = f"{prop} is {'known' if known else 'unknown'}"
        yes_known = f"{prop} is known"
        yes_unknown = f"{prop} is unknown"

        def test(ctx: Ctx) -> tuple[bool, str]:
            raw = ctx.props.get(prop)
            is_known = raw is not None and raw.strip() != ""
            if is_known:
                return known, yes_known
            return not known, yes_unknown

        return Condition(test, text, yes_unknown if known else yes_known, None, (prop,))

    def _date(self, prop: str, days: int, *, older: bool) -> Condition:
        text = f"{prop} {'older' if older else 'newer'} than {days} days"
        neg = f"{prop} is not {'older' if older else 'newer'} than {days} days"
        unknown = f"{prop} is unknown"

        def test(ctx: Ctx) -> tuple[bool, str]:
            raw = ctx.props.get(prop)
            at = read_timestamp_ms(raw)
            if at is None:
                return False, unknown if not raw else f"{prop} = {raw!r} is not a date"
            day = at // DAY_MS
            ctx.due_at((day + days) * DAY_MS)
            if (ctx.today - day >= days) == older:
                return True, f"{prop} was {days_ago(ctx.now, at)}"
            return False, f"{prop} was {days_ago(ctx.now, at)}"

        return Condition(test, text, neg, None, (prop,), by_day=True)

    # --- activity criteria -------------------------------------------------------------
    def _activity(self, kind: str, arg: Field) -> Condition:
        if arg.value is True:
            opts: dict[str, Field] = {}
        else:
            allowed = ["within_days", "at_least"]
            if kind == "form_submitted":
                allowed += ["form", "tier"]
            else:
                allowed += ["campaign"]
                if kind == "email_clicked":
                    allowed.append("url_contains")
                if kind == "email_event":
                    allowed.append("type")
            if not isinstance(arg.value, dict):
                raise arg.error(f"expected true or a mapping with: {', '.join(allowed)}")
            opts = arg.keys(allowed, what="option")
        window_days = opts["within_days"].integer(minimum=1) if "within_days" in opts else None
        at_least = opts["at_least"].integer(minimum=1) if "at_least" in opts else 1
        self.scope.activity_windows.append(window_days)
        window = window_days
        when_text = f" in the last {window_days} days" if window_days else ""
        if kind == "form_submitted":
            finder, what = self._form_finder(opts, window)
        else:
            finder, what = self._email_finder(kind, arg, opts, window)
        times = f"at least {at_least} x " if at_least > 1 else ""
        text = f"{times}{what}{when_text}"
        neg = f"no {what}{when_text}" if at_least == 1 else f"fewer than {at_least} x {what}"
        scan, label = finder.scan, finder.label

        def answer(ctx: Ctx, found: Found) -> tuple[bool, str]:
            n = len(found[0])
            if n >= at_least:
                newest = label(ctx, found[2])
                return True, newest if n == 1 else f"{n} x {what}{when_text}, newest: {newest}"
            return False, f"only {n} x {what}{when_text} (needs {at_least})"

        def test(ctx: Ctx) -> tuple[bool, str]:
            found = scan(ctx)
            if found is None:
                return False, neg
            return answer(ctx, found)

        if at_least == 1:
            return Condition(test, text, neg, finder, answer=answer)
        return Condition(test, text, neg)

    def _form_finder(
        self, opts: Mapping[str, Field], window: int | None
    ) -> tuple[ActivityFinder, str]:
        declared: list[FormSpec] | None = None  # forms from `forms:` that match
        undeclared: list[str] = []  # other form ids or names, matched as given
        what = "form submission"
        if "form" in opts:
            declared, shown = [], []
            for item in opts["form"].items(allow_scalar=True):
                ref = item.text()
                spec = self._forms_by_ref.get(ref.casefold())
                if spec is not None:
                    declared.append(spec)
                    shown.append(repr(spec.name))
                else:
                    undeclared.append(ref)
                    shown.append(repr(ref))
            what = f"submission of form {' or '.join(shown)}"
        if "tier" in opts:
            tiers = []
            for item in opts["tier"].items(allow_scalar=True):
                tier = item.text().upper()
                if tier not in FUNNEL_TIERS:
                    raise item.error(
                        f"unknown form tier {item.value!r}; expected one of: {', '.join(FUNNEL_TIERS)}"
                    )
                if not any(f.tier == tier for f in self.scope.forms):
                    raise item.error(f"no form under `forms` has tier {tier}")
                tiers.append(tier)
            # A tier only exists on declared forms: a form that is not declared has none.
            pool = self.scope.forms if declared is None else tuple(declared)
            declared = [f for f in pool if f.tier in tiers]
            undeclared = []
            tier_text = "/".join(tiers)
            what = f"{tier_text} {what}" if "form" in opts else f"{tier_text} form submission"
        accepted: frozenset[str] | None = None
        accepted_names: frozenset[str] = frozenset()
        if declared is not None:
            # A submission matches by form id, or by the form name the gateway attached.
            accepted = frozenset([*(f.id for f in declared), *undeclared])
            accepted_names = frozenset(
                [*(f.name.casefold() for f in declared), *(u.casefold() for u in undeclared)]
            )
        criterion = FormCriterion(accepted, accepted_names, window)
        form_names = self._form_names
        form_tiers = self._form_tiers
        tiers_by_name = self._tiers_by_name

        def scan(ctx: Ctx) -> Found | None:
            forms = ctx.forms
            if not forms:
                return None
            now = ctx.now
            since = (ctx.today - window + 1) * DAY_MS if window is not None else NO_SINCE
            ats: list[int] = []
            newest_at, newest, oldest = NO_SINCE, None, NO_DUE
            for sub in forms:
                if accepted is not None and sub.form_id not in accepted:
                    name = sub.form_name
                    if name is None or name.casefold() not in accepted_names:
                        continue
                at = sub.submitted_at
                if at > now:
                    # Dated in the future: it counts from then on.
                    if at < ctx.due:
                        ctx.due = at
                    continue
                if at < since:
                    continue
                ats.append(at)
                if at > newest_at:
                    newest_at, newest = at, sub
                if at < oldest:
                    oldest = at
            if not ats:
                return None
            if window is not None:
                # The oldest counted occurrence is the first to leave the window.
                ctx.due_at((oldest // DAY_MS + window) * DAY_MS)
            return ats, newest_at, newest

        labels: dict[tuple[str, str | None, int], str] = {}

        def label(ctx: Ctx, record: object) -> str:
            assert isinstance(record, FormSubmission)
            # The text depends on the form and its age in days alone, and repeats.
            key = (record.form_id, record.form_name, ctx.today - record.submitted_at // DAY_MS)
            text = labels.get(key)
            if text is None:
                name = form_names.get(record.form_id) or record.form_name or record.form_id
                tier = form_tiers.get(record.form_id) or tiers_by_name.get(name.casefold())
                tier_text = f" ({tier})" if tier else ""
                text = f"submitted {name!r}{tier_text} {days_ago(ctx.now, record.submitted_at)}"
                if len(labels) >= ANSWER_CACHE_SIZE:
                    labels.clear()
                labels[key] = text
            return text

        return ActivityFinder(scan, label, criterion), what

    def _email_finder(
        self, kind: str, arg: Field, opts: Mapping[str, Field], window: int | None
    ) -> tuple[ActivityFinder, str]:
        if kind == "email_event":
            if "type" not in opts:
                raise arg.error("email_event needs type: (OPEN, CLICK, BOUNCE, ...)")
            types = tuple(i.text().upper() for i in opts["type"].items(allow_scalar=True))
        else:
            types = ("OPEN",) if kind == "email_opened" else ("CLICK",)
        campaigns = (
            frozenset(i.text() for i in opts["campaign"].items(allow_scalar=True))
            if "campaign" in opts
            else None
        )
        url_parts = (
            tuple(i.text().casefold() for i in opts["url_contains"].items(allow_scalar=True))
            if "url_contains" in opts
            else None
        )
        verb = {"OPEN": "email open", "CLICK": "email click"}
        what = " or ".join(verb.get(t, f"email {t}") for t in types)
        if campaigns is not None:
            what += f" of campaign {' or '.join(sorted(campaigns))}"
        if url_parts is not None:
            what += f" on a link containing {' or '.join(map(repr, url_parts))}"

        def scan(ctx: Ctx) -> Found | None:
            by_type = ctx.emails_by_type
            if not by_type:
                return None
            now = ctx.now
            # Window check on epoch ms: the first instant of the oldest day still counted.
            since = (ctx.today - window + 1) * DAY_MS if window is not None else NO_SINCE
            ats: list[int] = []
            newest_at, newest, oldest = NO_SINCE, None, NO_DUE
            for t in types:
                events = by_type.get(t)
                if not events:
                    continue
                for ev in events:
                    at = ev.created
                    if at < since:
                        continue
                    if campaigns is not None and ev.campaign_id not in campaigns:
                        continue
                    if url_parts is not None:
                        url = (ev.url or "").casefold()
                        if not any(p in url for p in url_parts):
                            continue
                    if at > now:
                        # Dated in the future: it counts from then on.
                        if at < ctx.due:
                            ctx.due = at
                        continue
                    ats.append(at)
                    if at > newest_at:
                        newest_at, newest = at, ev
                    if at < oldest:
                        oldest = at
            if not ats:
                return None
            if window is not None:
                ctx.due_at((oldest // DAY_MS + window) * DAY_MS)
            return ats, newest_at, newest

        labels: dict[tuple[str, str | None, int], str] = {}

        def label(ctx: Ctx, record: object) -> str:
            assert isinstance(record, EmailEvent)
            # The text depends on the type, campaign and age in days alone, and repeats.
            key = (record.type, record.campaign_id, ctx.today - record.created // DAY_MS)
            text = labels.get(key)
            if text is None:
                campaign = f" (campaign {record.campaign_id})" if record.campaign_id else ""
                kind = verb.get(record.type.upper(), "email " + record.type)
                text = f"{kind}{campaign} {days_ago(ctx.now, record.created)}"
                if len(labels) >= ANSWER_CACHE_SIZE:
                    labels.clear()
                labels[key] = text
            return text

        criterion = EmailCriterion(types, campaigns, url_parts, window)
        return ActivityFinder(scan, label, criterion), what

    # --- built-in predicates ------------------------------------------------------------
    def _free_email_domain(self, arg: Field) -> Condition:
        return self._domain_test(arg, self.scope.free_email_domains, "a free email provider")

    def _competitor_domain(self, arg: Field) -> Condition:
        if not self.scope.competitor_domains:
            raise arg.error("no competitor domains listed under domains.competitors")
        return self._domain_test(arg, self.scope.competitor_domains, "a competitor")

    def _domain_test(self, arg: Field, domains: frozenset[str], what: str) -> Condition:
        wanted = arg.boolean()
        self.scope.properties.add("email")
        text = f"email domain is {'' if wanted else 'not '}{what}"
        neg = f"email domain is {'not ' if wanted else ''}{what}"
        no_email = "email is unknown"

        answers: dict[str, tuple[bool, str]] = {}

        def test(ctx: Ctx) -> tuple[bool, str]:
            domain = ctx.domain
            if domain is None:
                return False, no_email
            answer = answers.get(domain)
            if answer is None:
                if domain_in(domain, domains) is not None:
                    answer = (wanted, f"{domain} is {what}")
                else:
                    answer = (not wanted, f"{domain} is not {what}")
                if len(answers) >= ANSWER_CACHE_SIZE:
                    answers.clear()
                answers[domain] = answer
            return answer

        # Not cached by `reads` (every email differs); the answer is cached by domain.
        return Condition(test, text, neg, by_domain=True)

    def _name_properties(self, arg: Field) -> tuple[str, ...]:
        props: tuple[str, ...]
        if arg.value is True:
            props = DEFAULT_NAME_PROPERTIES
        else:
            if arg.value is False:
                raise arg.error("use not: to negate a predicate; expected true or a list")
            props = tuple(i.identifier() for i in arg.items())
        self.scope.properties.update(props)
        return props

    def _keyboard_mash(self, arg: Field) -> Condition:
        props = self._name_properties(arg)
        text = f"keyboard mash in {', '.join(props)}"
        neg = f"no keyboard mash in {', '.join(props)}"

        def test(ctx: Ctx) -> tuple[bool, str]:
            for prop in props:
                raw = ctx.props.get(prop)
                if raw:
                    run = keyboard_mash(raw)
                    if run is not None:
                        return True, f"{prop} = {raw!r} contains keyboard mash {run!r}"
            return False, neg

        return Condition(test, text, neg, None, props)

    def _uncapitalised_name(self, arg: Field) -> Condition:
        props = self._name_properties(arg)
        text = f"uncapitalised {', '.join(props)}"
        neg = f"{', '.join(props)} capitalised or empty"

        def test(ctx: Ctx) -> tuple[bool, str]:
            for prop in props:
                raw = ctx.props.get(prop)
                if raw and uncapitalised(raw):
                    return True, f"{prop} = {raw!r} is not capitalised"
            return False, neg

        return Condition(test, text, neg, None, props)

    def _opted_out(self, arg: Field) -> Condition:
        wanted = arg.boolean()
        self.scope.properties.add("hs_email_optout")
        text = "opted out of all email" if wanted else "not opted out of email"
        yes, no = "opted out of all email (hs_email_optout)", "not opted out of email"

        def test(ctx: Ctx) -> tuple[bool, str]:
            raw = ctx.props.get("hs_email_optout")
            out = raw is not None and raw.strip().lower() == "true"
            return (out == wanted), (yes if out else no)

        return Condition(test, text, no if wanted else yes, None, ("hs_email_optout",))

    def _inactive(self, arg: Field) -> Condition:
        opts = arg.keys(("days", "also_properties"), what="option")
        if "days" not in opts:
            raise arg.error("inactive needs days:")
        days = opts["days"].integer(minimum=1)
        extra = (
            tuple(i.identifier() for i in opts["also_properties"].items())
            if "also_properties" in opts
            else ()
        )
        self.scope.properties.update((*extra, "createdate"))
        self.scope.activity_windows.append(days)
        text = f"no engagement in {days} days"
        neg = f"engaged in the last {days} days"
        answer = _inactivity_answer(days, extra, neg)
        return Condition(_inactivity_test(answer), text, neg, inactive=answer)


def _inactivity_test(answer: Callable[[Ctx, int, int], tuple[bool, str]]) -> Test:
    """Inactive: the newest engagement (form submission, email open/click, or a listed date
    property) is `days` or more old. A contact with no engagement at all counts from its
    createdate, so a brand-new contact is not penalised."""

    def test(ctx: Ctx) -> tuple[bool, str]:
        now = ctx.now
        last = -1
        upcoming = NO_DUE
        for sub in ctx.forms:
            at = sub.submitted_at
            if at > last:
                if at <= now:
                    last = at
                elif at < upcoming:
                    upcoming = at
        by_type = ctx.emails_by_type
        for kind in ENGAGEMENT_EMAIL_TYPES:
            events = by_type.get(kind)
            if events:
                for ev in events:
                    at = ev.created
                    if at > last:
                        if at <= now:
                            last = at
                        elif at < upcoming:
                            upcoming = at
        return answer(ctx, last, upcoming)

    return test


def _inactivity_answer(
    days: int, extra: tuple[str, ...], neg: str
) -> Callable[[Ctx, int, int], tuple[bool, str]]:
    """The rest of the inactivity test, given the newest past engagement instant in forms
    and email events (-1 when none) and the soonest future-dated one (NO_DUE when none)."""

    # Reasons by (source, age in days): they repeat across contacts.
    texts: dict[tuple[str, int], str] = {}

    def answer(ctx: Ctx, last: int, upcoming: int) -> tuple[bool, str]:
        now = ctx.now
        props = ctx.props
        for prop in extra:
            stamp = read_timestamp_ms(props.get(prop))
            if stamp is not None and stamp > last:
                if stamp <= now:
                    last = stamp
                elif stamp < upcoming:
                    upcoming = stamp
        # Engagement dated in the future counts once it happens: the result may change then.
        # (Ctx.due_at, inline, here and below.)
        if now < upcoming < ctx.due:
            ctx.due = upcoming
        source = "last engagement"
        if last < 0:
            created = read_timestamp_ms(props.get("createdate"))
            if created is None:
                return False, "no engagement recorded and createdate unknown"
            last, source = created, "no engagement since creation"
        last_day = last // DAY_MS
        age = ctx.today - last_day
        if age >= days:
            text = texts.get((source, age))
            if text is None:
                text = f"{source} {days_ago(now, last)} (≥ {days} days)"
                if len(texts) >= ANSWER_CACHE_SIZE:
                    texts.clear()
                texts[source, age] = text
            return True, text
        changes = (last_day + days) * DAY_MS
        if now < changes < ctx.due:
            ctx.due = changes
        return False, neg

    return answer


def _by_day(parts: tuple[Condition, ...]) -> bool:
    return any(part.by_day for part in parts)


def _static(parts: tuple[Condition, ...]) -> tuple[str, ...] | None:
    """The combined reads of parts that all depend on properties alone, else None."""
    reads: list[str] = []
    for part in parts:
        if part.reads is None:
            return None
        reads.extend(r for r in part.reads if r not in reads)
    return tuple(reads)


def _value_text(node: Field) -> str:
    """A rule value as HubSpot text: YAML true/false become HubSpot's "true"/"false"."""
    value = node.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return node.text()

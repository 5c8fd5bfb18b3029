"""Validates a rules document and compiles it into a ScoringModel (once, before any run)."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from leadscore.gateway.port import PropertySpec
from leadscore.rules.conditions import (
    ACTIVITY_KINDS,
    FUNNEL_TIERS,
    Condition,
    ConditionCompiler,
    ConditionScope,
    FormSpec,
)
from leadscore.rules.document import Field, RulesDocument, read_rules_file
from leadscore.rules.model import (
    CAP_PREFIX,
    INCLUDE_PREFIX,
    ExclusionPolicy,
    GridAxis,
    GridSpec,
    Qualifier,
    ReasonsSpec,
    ScoreProgram,
    ScoringModel,
    StagePolicy,
)
from leadscore.rules.predicates import FREE_EMAIL_DOMAINS
from leadscore.rules.runtime import (
    Band,
    BandsRule,
    Ctx,
    Decay,
    EachRule,
    MapRule,
    RuleProgram,
    WhenRule,
)
from leadscore.rules.values import format_points, read_number

TOP_KEYS = (
    "version",
    "handoff_stage",
    "activity_horizon_days",
    "domains",
    "forms",
    "scores",
    "stages",
    "exclusions",
    "grid",
    "reasons",
)
SCORE_KEYS = (
    "property",
    "label",
    "description",
    "includes",
    "groups",
    "min",
    "max",
    "decay",
    "rules",
)
RULE_KINDS = ("when", "each", "bands", "map")
RULE_KEYS = ("name", "description", "group", *RULE_KINDS, "points", "min", "max", "decay")
DEFAULT_PROTECTED_STAGES = ("opportunity", "customer", "evangelist", "other")
DEFAULT_THRESHOLDS = (("marketingqualifiedlead", 35.0), ("salesqualifiedlead", 65.0))
# Properties every run needs whatever the rules read.
BASE_PROPERTIES = (
    "email",
    "lifecyclestage",
    "hubspot_owner_id",
    "hs_object_id",
    "lastmodifieddate",
    "firstname",
    "lastname",
)
NO_STAGE = "none"


def load_model(path: Path | str) -> ScoringModel:
    """Read, validate and compile a rules file; any problem is one `file:line: field: what`
    ConfigError."""
    return compile_document(read_rules_file(path))


def compile_model(data: Mapping[str, Any], source: str = "<rules>") -> ScoringModel:
    """Validate and compile rules given as plain data (no line numbers in errors)."""
    return compile_document(RulesDocument(dict(data), source))


def compile_document(doc: RulesDocument) -> ScoringModel:
    """Validate and compile a parsed rules document."""
    return _ModelCompiler(doc).compile()


def _version(data: Any) -> str:
    canonical = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


class _ModelCompiler:
    def __init__(self, doc: RulesDocument) -> None:
        self.doc = doc
        self.root = Field(doc, (), doc.data)
        self.outputs: dict[str, str] = {}  # property -> what writes it

    def compile(self) -> ScoringModel:
        top = self.root.keys(TOP_KEYS)
        if "version" in top and top["version"].value not in (1, "1"):
            raise top["version"].error("unsupported rules format version; expected 1")
        forms = self._forms(top.get("forms"))
        free, competitors = self._domains(top.get("domains"))
        self.scope = ConditionScope(forms, free, competitors)
        self.conditions = ConditionCompiler(self.scope)
        if "scores" not in top:
            raise self.root.error("missing scores: (at least one named score)")
        scores = self._scores(top["scores"])
        by_name = {s.name: s for s in scores}
        stages = self._stages(top.get("stages"), by_name)
        handoff = "salesqualifiedlead"
        if "handoff_stage" in top:
            handoff = top["handoff_stage"].text()
        if stages is not None and handoff not in {s for s, _ in stages.thresholds}:
            node = top.get("handoff_stage") or top["stages"]
            raise node.error(
                f"handoff stage {handoff!r} is not a threshold stage "
                f"({', '.join(s for s, _ in stages.thresholds)})"
            )
        exclusions = self._exclusions(top.get("exclusions"), stages)
        grid = self._grid(top.get("grid"), by_name)
        reasons = self._reasons(top.get("reasons"), by_name, stages)
        horizon: int | None
        if "activity_horizon_days" in top:
            horizon = top["activity_horizon_days"].integer(minimum=1)
        elif any(w is None for w in self.scope.activity_windows):
            horizon = None
        else:
            horizon = max((w for w in self.scope.activity_windows if w is not None), default=0)
            horizon = horizon or None
        outputs = [
            PropertySpec(s.property, s.label, "number", "number", s.description) for s in scores
        ]
        if grid is not None:
            outputs.append(
                PropertySpec(
                    grid.property,
                    "Lead score grid",
                    "string",
                    "text",
                    f"{grid.rows.score} band x {grid.columns.score} band (leadscore)",
                )
            )
        if reasons is not None:
            outputs.append(
                PropertySpec(
                    reasons.property,
                    "Lead score reasons",
                    "string",
                    "textarea",
                    f"Top reasons behind the {reasons.score} score (leadscore)",
                )
            )
        read = set(self.scope.properties)
        if exclusions.opted_out:
            read.add("hs_email_optout")
        fixed = [p for p in BASE_PROPERTIES]
        rest = sorted(read - set(fixed) - {o.name for o in outputs})
        contact_properties = tuple(fixed + rest + [o.name for o in outputs])
        return ScoringModel(
            version=_version(self.doc.data),
            source=self.doc.source,
            scores=scores,
            contact_properties=contact_properties,
            output_properties=tuple(outputs),
            handoff_stage=handoff,
            activity_horizon_days=horizon,
            forms_by_id={f.id: f for f in forms},
            stages=stages,
            exclusions=exclusions,
            grid=grid,
            reasons=reasons,
        )

    # --- forms and domain lists ------------------------------------------------------
    def _forms(self, node: Field | None) -> tuple[FormSpec, ...]:
        if node is None:
            return ()
        forms: list[FormSpec] = []
        ids: set[str] = set()
        names: set[str] = set()
        for item in node.items():
            f = item.keys(("id", "name", "tier"))
            if "id" not in f:
                raise item.error("a form needs id: (the HubSpot form GUID)")
            form_id = f["id"].text()
            name = f["name"].text() if "name" in f else form_id
            tier = None
            if "tier" in f:
                tier = f["tier"].text().upper()
                if tier not in FUNNEL_TIERS:
                    raise f["tier"].error(
                        f"unknown form tier {f['tier'].value!r}; expected one of: {', '.join(FUNNEL_TIERS)}"
                    )
            if form_id in ids:
                raise f["id"].error(f"duplicate form id {form_id!r}")
            if name.casefold() in names:
                raise (f.get("name") or item).error(f"duplicate form name {name!r}")
            ids.add(form_id)
            names.add(name.casefold())
            forms.append(FormSpec(form_id, name, tier))
        return tuple(forms)

    def _domains(self, node: Field | None) -> tuple[frozenset[str], frozenset[str]]:
        free = FREE_EMAIL_DOMAINS
        competitors: frozenset[str] = frozenset()
        if node is None:
            return free, competitors
        d = node.keys(("free_email", "competitors"))
        if "free_email" in d:
            fe = d["free_email"]
            if isinstance(fe.value, list):
                free = _domain_list(fe)
            else:
                opts = fe.keys(("builtin", "add", "remove"), what="option")
                base = FREE_EMAIL_DOMAINS
                if "builtin" in opts and not opts["builtin"].boolean():
                    base = frozenset()
                add = _domain_list(opts["add"]) if "add" in opts else frozenset()
                remove = _domain_list(opts["remove"]) if "remove" in opts else frozenset()
                free = (base | add) - remove
        if "competitors" in d:
            competitors = _domain_list(d["competitors"])
        return free, competitors

    # --- scores and rules -----------------------------------------------------------------
    def _scores(self, node: Field) -> tuple[ScoreProgram, ...]:
        entries = node.entries()
        if not entries:
            raise node.error("at least one score is needed")
        names = [n for n, _ in entries]
        raw: dict[str, dict[str, Field]] = {}
        for name, field in entries:
            Field(self.doc, field.path, name).identifier()
            raw[name] = field.keys(SCORE_KEYS)
        order = self._include_order(raw, names)
        compiled: dict[str, ScoreProgram] = {}
        for name in order:
            compiled[name] = self._score(name, dict(entries)[name], raw[name])
        # Evaluate in dependency order; report in file order through the model's tuple.
        return tuple(compiled[n] for n in order)

    def _include_order(self, raw: Mapping[str, dict[str, Field]], names: list[str]) -> list[str]:
        deps: dict[str, list[str]] = {}
        for name in names:
            node = raw[name].get("includes")
            deps[name] = []
            if node is None:
                continue
            items = (
                [Field(self.doc, (*node.path, k), k) for k in node.value]
                if isinstance(node.value, dict)
                else node.items()
            )
            for item in items:
                other = item.text()
                if other not in raw:
                    raise item.error(f"unknown score {other!r}; scores are: {', '.join(names)}")
                if other == name:
                    raise item.error(f"score {name!r} cannot include itself")
                deps[name].append(other)
        order: list[str] = []
        state: dict[str, int] = {}

        def visit(n: str, trail: list[str]) -> None:
            if state.get(n) == 2:
                return
            if state.get(n) == 1:
                raise raw[trail[0]]["includes"].error(
                    f"scores include each other: {' -> '.join([*trail, n])}"
                )
            state[n] = 1
            for d in deps[n]:
                visit(d, [*trail, n])
            state[n] = 2
            order.append(n)

        for n in names:
            visit(n, [])
        return order

    def _score(self, name: str, node: Field, f: dict[str, Field]) -> ScoreProgram:
        prop = f["property"].identifier() if "property" in f else f"leadscore_{name}"
        self._claim_output(prop, f"score {name}", f.get("property") or node)
        label = f["label"].text() if "label" in f else f"Lead score: {name}"
        description = f["description"].text() if "description" in f else ""
        includes: list[tuple[str, float]] = []
        if "includes" in f:
            inc = f["includes"]
            if isinstance(inc.value, dict):
                includes = [(k, v.number()) for k, v in inc.entries()]
            else:
                includes = [(i.text(), 1.0) for i in inc.items()]
        groups: dict[str, tuple[float | None, float | None]] = {}
        if "groups" in f:
            for gname, gnode in f["groups"].entries():
                g = gnode.keys(("min", "max"))
                groups[gname] = self._bounds(g, gnode)
        low, high = self._bounds(f, node)
        default_decay = self._decay(f["decay"]) if "decay" in f else None
        rules: list[RuleProgram] = []
        seen: dict[str, Field] = {}
        for item in f["rules"].items() if "rules" in f else []:
            rule = self._rule(item, groups, default_decay)
            if rule.name in seen:
                raise Field(self.doc, (*item.path, "name"), None).error(
                    f"duplicate rule name {rule.name!r} in score {name!r}"
                )
            seen[rule.name] = item
            rules.append(rule)
        if not rules and not includes:
            raise node.error(f"score {name!r} has no rules and includes no other score")
        return ScoreProgram(
            name=name,
            property=prop,
            label=label,
            description=description,
            rules=tuple(rules),
            includes=tuple(includes),
            group_caps=groups,
            low=low,
            high=high,
        )

    def _bounds(self, f: Mapping[str, Field], node: Field) -> tuple[float | None, float | None]:
        low = f["min"].number() if "min" in f else None
        high = f["max"].number() if "max" in f else None
        if low is not None and high is not None and low > high:
            raise f["min"].error(f"min {format_points(low)} is above max {format_points(high)}")
        return low, high

    def _decay(self, node: Field) -> Decay | None:
        if node.value == NO_STAGE or node.value is False:
            return None
        d = node.keys(("half_life_days", "linear_percent", "every_days"), what="decay option")
        if "half_life_days" in d:
            if "linear_percent" in d or "every_days" in d:
                raise node.error("decay is either half_life_days or linear_percent, not both")
            days = d["half_life_days"].number()
            if days <= 0:
                raise d["half_life_days"].error("half_life_days must be above 0")
            return Decay(half_life_days=days)
        if "linear_percent" in d:
            pct = d["linear_percent"].number()
            if not 0 < pct <= 100:
                raise d["linear_percent"].error("linear_percent must be above 0 and at most 100")
            every = d["every_days"].integer(minimum=1) if "every_days" in d else 1
            return Decay(linear_percent=pct, every_days=every)
        raise node.error("decay needs half_life_days, or linear_percent (with every_days), or none")

    def _rule(
        self,
        node: Field,
        groups: Mapping[str, tuple[float | None, float | None]],
        default_decay: Decay | None,
    ) -> RuleProgram:
        f = node.keys(RULE_KEYS)
        if "name" not in f:
            raise node.error("a rule needs name:")
        name = f["name"].text().strip()
        if name.startswith((CAP_PREFIX, INCLUDE_PREFIX)):
            raise f["name"].error(f"rule names cannot start with {name.split(':')[0]!r}:")
        kinds = [k for k in RULE_KINDS if k in f]
        if len(kinds) != 1:
            where = f[kinds[1]] if len(kinds) > 1 else node
            raise where.error(f"a rule needs exactly one of: {', '.join(RULE_KINDS)}")
        kind = kinds[0]
        group = None
        if "group" in f:
            group = f["group"].text()
            if group not in groups:
                raise f["group"].error(
                    f"unknown group {group!r}; declare it under the score's groups:"
                )
        low, high = self._bounds(f, node)
        if kind in ("when", "each"):
            if "points" not in f:
                raise node.error(f"a {kind} rule needs points:")
            points = f["points"].number()
        elif "points" in f:
            raise f["points"].error(
                f"a {kind} rule gives points per {'band' if kind == 'bands' else 'value'}, not points:"
            )
        windows_before = len(self.scope.activity_windows)
        explicit_decay = "decay" in f
        decay = self._decay(f["decay"]) if explicit_decay else None
        if kind == "when":
            cond = self.conditions.compile(f["when"])
            if explicit_decay and decay is not None and cond.finder is None:
                raise f["decay"].error(
                    "decay needs a single activity condition (form_submitted, email_opened, ...)"
                )
            if not explicit_decay and cond.finder is not None:
                decay = default_decay
            self._bound_windows(windows_before, decay)
            return WhenRule(
                name,
                group,
                low,
                high,
                cond.test,
                cond.neg,
                points,
                decay,
                cond.finder,
                cond.reads,
                cond.by_day,
                cond.answer,
                cond.inactive,
                cond.by_domain,
            )
        if kind == "each":
            cond = self._activity_condition(f["each"])
            if cond.finder is None:
                raise f["each"].error("each counts occurrences, so at_least does not apply")
            if not explicit_decay:
                decay = default_decay
            self._bound_windows(windows_before, decay)
            return EachRule(name, group, low, high, cond.text, cond.finder, points, decay)
        if explicit_decay:
            raise f["decay"].error(f"decay applies to when and each rules, not to {kind}")
        if kind == "bands":
            return self._bands(name, group, low, high, f["bands"])
        return self._map(name, group, low, high, f["map"])

    def _bound_windows(self, start: int, decay: Decay | None) -> None:
        """An activity criterion without a window still has a horizon when linear decay
        takes its points to zero."""
        limit = decay.zero_after_days() if decay is not None else None
        if limit is None:
            return
        windows = self.scope.activity_windows
        for i in range(start, len(windows)):
            if windows[i] is None:
                windows[i] = limit

    def _activity_condition(self, node: Field) -> Condition:
        if not isinstance(node.value, dict) or len(node.value) != 1:
            raise node.error(f"expected one activity criterion: {', '.join(ACTIVITY_KINDS)}")
        kind = next(iter(node.value))
        if kind not in ACTIVITY_KINDS:
            raise Field(self.doc, (*node.path, kind), None).error(
                f"each needs an activity criterion ({', '.join(ACTIVITY_KINDS)}), not {kind!r}"
            )
        return self.conditions.compile(node)

    def _bands(
        self, name: str, group: str | None, low: float | None, high: float | None, node: Field
    ) -> RuleProgram:
        b = node.keys(("property", "count", "ranges"))
        if ("property" in b) == ("count" in b):
            raise node.error("bands need exactly one of property: or count:")
        if "ranges" not in b:
            raise node.error("bands need ranges: [{min, max, points}, ...]")
        bands: list[tuple[Band, Field]] = []
        for item in b["ranges"].items():
            r = item.keys(("min", "max", "points"))
            if "points" not in r:
                raise item.error("a band needs points:")
            if "min" not in r and "max" not in r:
                raise item.error("a band needs min:, max: or both")
            lo, hi = self._bounds(r, item)
            bands.append((Band(lo, hi, r["points"].number()), item))
        if not bands:
            raise b["ranges"].error("bands need at least one range")
        ordered = sorted(bands, key=lambda bf: float("-inf") if bf[0].low is None else bf[0].low)
        for (prev, _), (cur, cur_node) in itertools.pairwise(ordered):
            prev_high = float("inf") if prev.high is None else prev.high
            cur_low = float("-inf") if cur.low is None else cur.low
            if cur_low <= prev_high:
                raise cur_node.error(
                    f"band {cur.describe()} overlaps band {prev.describe()}; bands must not overlap"
                )
        spec_bands = tuple(b for b, _ in ordered)
        shown = ", ".join(f"{b.describe()}: {format_points(b.points)}" for b in spec_bands)
        if "property" in b:
            prop = b["property"].identifier()
            self.scope.properties.add(prop)
            text = f"{prop} in bands {shown}"

            def source(ctx: Ctx) -> tuple[float | None, str]:
                value, note = read_number(ctx.props.get(prop))
                if value is None:
                    return None, f"{prop} is {note}"
                return value, f"{prop} = {note}" if note else f"{prop} = {format_points(value)}"

            return BandsRule(name, group, low, high, text, source, spec_bands, prop)
        cond = self._activity_condition(b["count"])
        assert cond.finder is not None
        scan = cond.finder.scan
        what = cond.text
        text = f"number of {what} in bands {shown}"

        def count_source(ctx: Ctx) -> tuple[float | None, str]:
            found = scan(ctx)
            n = 0 if found is None else len(found[0])
            return float(n), f"{n} x {what}"

        return BandsRule(name, group, low, high, text, count_source, spec_bands)

    def _map(
        self, name: str, group: str | None, low: float | None, high: float | None, node: Field
    ) -> RuleProgram:
        m = node.keys(("property", "values", "ignore_case"))
        if "property" not in m or "values" not in m:
            raise node.error("map needs property: and values: {value: points}")
        prop = m["property"].identifier()
        self.scope.properties.add(prop)
        ignore_case = m["ignore_case"].boolean() if "ignore_case" in m else True
        values: dict[str, float] = {}
        for key, vnode in m["values"].entries():
            k = key.strip().casefold() if ignore_case else key.strip()
            if k in values:
                raise vnode.error(f"duplicate value {key!r}")
            values[k] = vnode.number()
        if not values:
            raise m["values"].error("map needs at least one value")
        shown = ", ".join(f"{k!r}: {format_points(v)}" for k, v in m["values"].value.items())
        return MapRule(
            name, group, low, high, f"{prop} is one of {shown}", prop, values, ignore_case
        )

    # --- stages, exclusions, grid, reasons -------------------------------------------------
    def _stages(self, node: Field | None, scores: Mapping[str, ScoreProgram]) -> StagePolicy | None:
        if node is None:
            return None
        s = node.keys(("score", "thresholds", "hysteresis", "floor", "promote_from", "qualify"))
        if "score" not in s:
            raise node.error("stages need score: (the score that sets the stage)")
        score = s["score"].text()
        if score not in scores:
            raise s["score"].error(
                f"threshold on unknown score {score!r}; scores are: {', '.join(scores)}"
            )
        thresholds: list[tuple[str, float]] = list(DEFAULT_THRESHOLDS)
        if "thresholds" in s:
            thresholds = []
            previous: float | None = None
            for stage, tnode in s["thresholds"].entries():
                value = tnode.number()
                if previous is not None and value <= previous:
                    raise tnode.error(
                        f"thresholds must increase: {stage} {format_points(value)} "
                        f"is not above {format_points(previous)}"
                    )
                previous = value
                thresholds.append((stage, value))
            if not thresholds:
                raise s["thresholds"].error("at least one threshold is needed")
        floor = s["floor"].text() if "floor" in s else "lead"
        if floor in {st for st, _ in thresholds}:
            raise s["floor"].error(f"floor {floor!r} is also a threshold stage")
        hysteresis = 0.0
        if "hysteresis" in s:
            hysteresis = s["hysteresis"].number()
            if hysteresis < 0:
                raise s["hysteresis"].error("hysteresis must be 0 or more")
        promote: set[str] = set()
        if "promote_from" in s:
            for item in s["promote_from"].items():
                st = item.text()
                if st == floor or st in {t for t, _ in thresholds}:
                    raise item.error(f"{st!r} is already managed; promote_from lists other stages")
                promote.add("" if st == NO_STAGE else st)
        stage_names = [st for st, _ in thresholds]
        qualifiers: list[Qualifier] = []
        if "qualify" in s:
            seen: set[str] = set()
            for item in s["qualify"].items():
                q = item.keys(("name", "stage", "when"))
                for required in ("name", "stage", "when"):
                    if required not in q:
                        raise item.error(f"a qualify rule needs {required}:")
                qname = q["name"].text()
                if qname in seen:
                    raise q["name"].error(f"duplicate qualify rule name {qname!r}")
                seen.add(qname)
                stage = q["stage"].text()
                if stage not in stage_names:
                    raise q["stage"].error(
                        f"{stage!r} is not a threshold stage ({', '.join(stage_names)})"
                    )
                cond = self.conditions.compile(q["when"])
                qualifiers.append(Qualifier(qname, stage, cond.test))
        return StagePolicy(
            score=score,
            thresholds=tuple(thresholds),
            floor=floor,
            hysteresis=hysteresis,
            promote_from=frozenset(promote),
            qualifiers=tuple(qualifiers),
        )

    def _exclusions(self, node: Field | None, stages: StagePolicy | None) -> ExclusionPolicy:
        protected = frozenset(DEFAULT_PROTECTED_STAGES)
        if node is None:
            return ExclusionPolicy(
                protected_stages=protected, opted_out=True, reads=("hs_email_optout",)
            )
        e = node.keys(
            ("protected_stages", "employee_domains", "partner_domains", "opted_out", "conditions")
        )
        if "protected_stages" in e:
            protected = frozenset(i.text() for i in e["protected_stages"].items())
            if stages is not None:
                for item in e["protected_stages"].items():
                    if item.value in stages.managed:
                        raise item.error(
                            f"stage {item.value!r} is managed by stages:, so it cannot be protected"
                        )
        employees = _domain_list(e["employee_domains"]) if "employee_domains" in e else frozenset()
        partners = _domain_list(e["partner_domains"]) if "partner_domains" in e else frozenset()
        if employees or partners:
            self.scope.properties.add("email")
        opted_out = e["opted_out"].boolean() if "opted_out" in e else True
        conditions: list[tuple[str, Any]] = []
        # What the answer depends on besides the stage and the email domain, while every
        # condition depends on property values alone.
        reads: list[str] | None = ["hs_email_optout"] if opted_out else []
        if "conditions" in e:
            for item in e["conditions"].items():
                c = item.keys(("name", "when"))
                if "name" not in c or "when" not in c:
                    raise item.error("an exclusion condition needs name: and when:")
                cond = self.conditions.compile(c["when"])
                conditions.append((c["name"].text(), cond.test))
                if reads is not None and (cond.reads is None or cond.by_day):
                    reads = None
                elif reads is not None and cond.reads is not None:
                    reads += [r for r in cond.reads if r not in reads]
        return ExclusionPolicy(
            protected,
            employees,
            partners,
            opted_out,
            tuple(conditions),
            None if reads is None else tuple(reads),
        )

    def _grid(self, node: Field | None, scores: Mapping[str, ScoreProgram]) -> GridSpec | None:
        if node is None:
            return None
        g = node.keys(("property", "rows", "columns"))
        for required in ("rows", "columns"):
            if required not in g:
                raise node.error(f"grid needs {required}: {{score, bands}}")
        prop = g["property"].identifier() if "property" in g else "leadscore_grid"
        self._claim_output(prop, "the grid", g.get("property") or node)
        return GridSpec(prop, self._axis(g["rows"], scores), self._axis(g["columns"], scores))

    def _axis(self, node: Field, scores: Mapping[str, ScoreProgram]) -> GridAxis:
        a = node.keys(("score", "bands"))
        if "score" not in a or "bands" not in a:
            raise node.error("a grid axis needs score: and bands: [{label, min}, ...]")
        score = a["score"].text()
        if score not in scores:
            raise a["score"].error(f"unknown score {score!r}; scores are: {', '.join(scores)}")
        bands: list[tuple[str, float | None]] = []
        items = a["bands"].items()
        if len(items) < 2:
            raise a["bands"].error("a grid axis needs at least two bands")
        labels: set[str] = set()
        previous: float | None = None
        for i, item in enumerate(items):
            b = item.keys(("label", "min"))
            if "label" not in b:
                raise item.error("a grid band needs label:")
            label = b["label"].text()
            if label in labels:
                raise b["label"].error(f"duplicate grid label {label!r}")
            labels.add(label)
            last = i == len(items) - 1
            if last:
                if "min" in b:
                    raise b["min"].error("the last band catches everything below: leave out min:")
                bands.append((label, None))
                continue
            if "min" not in b:
                raise item.error("every band but the last needs min:")
            minimum = b["min"].number()
            if previous is not None and minimum >= previous:
                raise b["min"].error(
                    f"grid bands go from high to low: min {format_points(minimum)} "
                    f"is not below {format_points(previous)}"
                )
            previous = minimum
            bands.append((label, minimum))
        return GridAxis(score, tuple(bands))

    def _reasons(
        self,
        node: Field | None,
        scores: Mapping[str, ScoreProgram],
        stages: StagePolicy | None,
    ) -> ReasonsSpec | None:
        if node is None:
            return None
        r = node.keys(("property", "score", "count"))
        prop = r["property"].identifier() if "property" in r else "leadscore_reasons"
        self._claim_output(prop, "the reasons", r.get("property") or node)
        if "score" in r:
            score = r["score"].text()
            if score not in scores:
                raise r["score"].error(f"unknown score {score!r}; scores are: {', '.join(scores)}")
        elif stages is not None:
            score = stages.score
        else:
            score = next(iter(scores))
        count = 3
        if "count" in r:
            count = r["count"].integer(minimum=1)
            if count > 10:
                raise r["count"].error("count must be at most 10")
        sources: list[str] = []

        def add(name: str) -> None:
            if name in sources:
                return
            sources.append(name)
            for inc, _ in scores[name].includes:
                add(inc)

        add(score)
        return ReasonsSpec(prop, score, count, tuple(sources))

    def _claim_output(self, prop: str, what: str, node: Field) -> None:
        if prop in self.outputs:
            raise node.error(f"property {prop!r} is already written by {self.outputs[prop]}")
        if prop in ("lifecyclestage", "hubspotscore", "email", "hs_object_id"):
            raise node.error(f"property {prop!r} belongs to HubSpot; write scores to your own")
        self.outputs[prop] = what


def _domain_list(node: Field) -> frozenset[str]:
    out: set[str] = set()
    for item in node.items():
        domain = item.text().strip().lower().lstrip("@")
        if "." not in domain or " " in domain:
            raise item.error(f"{item.value!r} is not a domain")
        out.add(domain)
    return frozenset(out)

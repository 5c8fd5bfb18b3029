"""Generates one straight-line Python function that scores a contact for a whole model.

`ScoringModel.evaluate_reference` loops over the scores and their rules and calls each
rule's `apply`; every activity rule scans the contact's forms or email events on its own.
That dispatch and those repeated scans are most of what scoring a contact costs. The
generated function does the same work without them:

- every activity criterion a rule counts on is matched in one pass over the form
  submissions and one pass over the email events (inactivity's "newest engagement" too),
  with the criterion's filters written out;
- each property a cached rule reads is read once; rules cached by property values are
  looked up inline;
- condition rules call their test directly, activity rules their answer only when the
  pass found something; anything else goes through its pre-bound `apply`;
- scores, groups and caps are local variables.

It must give exactly what the reference path gives (tests/rules/test_generated_scores.py).
The source is kept (`ScoringModel.debug_source()`) and registered with linecache, so it can
be read, and tracebacks and debuggers show it.
"""

from __future__ import annotations

import hashlib
import linecache
from collections.abc import Callable
from typing import TYPE_CHECKING

from leadscore.records import Contact
from leadscore.rules.conditions import ENGAGEMENT_EMAIL_TYPES
from leadscore.rules.evaluation import Contribution, Evaluation, evaluation, score_result
from leadscore.rules.runtime import (
    ANSWER_CACHE_SIZE,
    CONTRIBUTION_CACHE_SIZE,
    DAY_MS,
    DECAY_TABLE_DAYS,
    NO_DUE,
    NO_SINCE,
    UNMET,
    BandsRule,
    Ctx,
    EachRule,
    EmailCriterion,
    FormCriterion,
    MapRule,
    RuleProgram,
    WhenRule,
)
from leadscore.rules.values import (
    format_points,
    remembered_format,
    remembered_round,
    round_cents,
)

if TYPE_CHECKING:
    from leadscore.rules.model import GridAxis, ScoreProgram, ScoringModel

# (contact, now_ms) -> the evaluation.
ModelFunction = Callable[[Contact, int], Evaluation]
# The engine's own contributions, shared with the reference loop in model.py:
# included(name, weight, total), group_cap(group, capped, subtotal), total_cap(name, capped, total).
IncludedMaker = Callable[[str, float, float], Contribution]
CapMaker = Callable[[str, float, float], Contribution]
# What a property-only rule's cache holds: its contribution, points and reason rank.
Entry = tuple[Contribution, float, tuple[float, str, float]]

_INDENT = "    "


class _Source:
    """Lines of generated code and the objects they refer to by name.

    Objects are passed to a factory as parameters, so inside the generated function they
    are closure variables (as cheap to read as locals) and the text needs no literals that
    would have to round-trip exactly through `repr`.
    """

    def __init__(self) -> None:
        self.bound: dict[str, object] = {}
        self.lines: list[str] = []
        self.depth = 2
        # Properties read once at the top, as `value_<n>`.
        self.reads: list[str] = []

    def bind(self, name: str, value: object) -> str:
        assert name not in self.bound, name
        self.bound[name] = value
        return name

    def add(self, *lines: str) -> None:
        pad = _INDENT * self.depth
        self.lines.extend(f"{pad}{line}" if line else "" for line in lines)


class _Activity:
    """The activity criteria matched in the shared passes, and which rule uses which."""

    def __init__(self, rules: list[RuleProgram]) -> None:
        self.forms: list[tuple[int, FormCriterion]] = []
        # Email criteria by their one type (a criterion on several types keeps its own scan:
        # its occurrences are counted type by type, and sums follow that order).
        self.emails: dict[str, list[tuple[int, EmailCriterion]]] = {}
        self.slot: dict[int, int] = {}  # id(rule) -> criterion number
        self.windows: dict[int, int | None] = {}  # criterion number -> its window
        # Every criterion, by number.
        self.criteria: list[tuple[int, FormCriterion | EmailCriterion]] = []
        self.inactive = False
        # Criteria of `each` rules that the passes count and add up themselves, by number:
        # the rule's decayed points by age in days, or None when its points do not decay.
        self.tallies: dict[int, list[float] | None] = {}
        for rule in rules:
            finder = _fused_finder(rule)
            if finder is not None:
                k = len(self.slot)
                self.slot[id(rule)] = k
                self.windows[k] = finder.window
                self.criteria.append((k, finder))
                if type(rule) is EachRule and _tallied(rule, finder.window):
                    self.tallies[k] = None if rule.decayed is None else rule.decayed.table
                if isinstance(finder, FormCriterion):
                    self.forms.append((k, finder))
                else:
                    self.emails.setdefault(finder.types[0], []).append((k, finder))
            if type(rule) is WhenRule and rule.inactive is not None and rule.reads is None:
                self.inactive = True


def _tallied(rule: EachRule, window: int | None) -> bool:
    """Whether the passes can count the rule's occurrences and add up their points: no
    decay, or a half-life whose table covers every age the window lets in."""
    decayed = rule.decayed
    if decayed is None:
        return True
    return decayed.half_life and window is not None and window <= DECAY_TABLE_DAYS


def _fused_finder(rule: RuleProgram) -> FormCriterion | EmailCriterion | None:
    """The criterion of a rule whose activity the shared passes can match, else None."""
    if type(rule) is EachRule:
        finder = rule.finder
    elif type(rule) is WhenRule and rule.finder is not None and rule.reads is None:
        if rule.decayed is None and rule.answer is None:
            return None
        finder = rule.finder
    else:
        return None
    criterion = finder.criterion
    if isinstance(criterion, EmailCriterion) and len(criterion.types) != 1:
        return None
    return criterion


def generate_model(
    model: ScoringModel,
    included: IncludedMaker,
    group_cap: CapMaker,
    total_cap: CapMaker,
) -> tuple[str, ModelFunction]:
    """The source of `model`'s evaluate function and the function itself."""
    src = _Source()
    rules = [rule for score in model.scores for rule in score.rules]
    activity = _Activity(rules)
    src.add(
        "ctx = Ctx(contact, now_ms)",
        "props_get = contact.properties.get",
        "today = ctx.today",
    )
    _activity_lines(src, activity)
    _property_reads(src, model)
    if model.reasons is not None:
        # Every rule contribution that gives points to the reasons score or a score it
        # includes, as model.reason_rank ranks it.
        src.add("ranked = []")
    for s, score in enumerate(model.scores):
        _score_lines(src, s, score, model, activity, included)
    _finish_lines(src, model)
    src.bind("group_cap", group_cap)
    src.bind("total_cap", total_cap)
    params = ", ".join(src.bound)
    source = (
        f"# generated from {model.source!r} (rules version {model.version}) "
        "by leadscore.rules.codegen\n"
        f"def make_evaluate({params}):\n"
        f"{_INDENT}def evaluate_model(contact, now_ms):\n"
        + "".join(f"{line}\n" for line in src.lines)
        + f"{_INDENT}return evaluate_model\n"
    )
    namespace: dict[str, object] = {
        "Ctx": Ctx,
        "DAY_MS": DAY_MS,
        "NO_DUE": NO_DUE,
        "NO_SINCE": NO_SINCE,
        "UNMET": UNMET,
        "UNKNOWN": object(),
        "score_result": score_result,
        "evaluation": evaluation,
        "round_cents": round_cents,
        "remembered_round": remembered_round,
        "format_points": format_points,
        "remembered_format": remembered_format,
    }
    # Registered with linecache so tracebacks and debuggers show the generated lines. Named
    # by the source's hash, so recompiling the same rules (the service reloads them on
    # every run) reuses one entry instead of adding one per compile.
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    filename = f"<leadscore model {model.version} {digest}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)
    factory = namespace["make_evaluate"]
    assert callable(factory)
    run: ModelFunction = factory(**src.bound)
    return source, run


def _finish_lines(src: _Source, model: ScoringModel) -> None:
    """ScoringModel._finish, written out: stage, exclusion, grid, reasons, the result."""
    # model.py imports this module.
    from leadscore.rules.model import NO_STAGES, excluded_target, reasons_text

    order = [sc.name for sc in model.scores]
    names = [src.bind(f"score_name_{s}", score.name) for s, score in enumerate(model.scores)]
    props = [src.bind(f"score_property_{s}", sc.property) for s, sc in enumerate(model.scores)]
    src.add(
        "",
        "# stage, exclusion, grid and reasons (as ScoringModel._finish)",
        "current = props_get('lifecyclestage')",
        'current = current.strip() if current else ""',
    )
    check = src.bind("exclusion_check", model.exclusions.check)
    if model.exclusions.reads is None:
        src.add(f"exclusion = {check}(ctx, current)")
    else:
        # The answer depends on the stage, the domain and `reads` alone: remembered.
        exclusions, remember = _exclusion_cache(model.exclusions.check)
        values = "".join(f", {_value(src, prop)}" for prop in model.exclusions.reads)
        src.add(
            f"exclusion_key = (current, ctx.domain{values})",
            f"exclusion = {src.bind('exclusions', exclusions.get)}(exclusion_key, UNKNOWN)",
            "if exclusion is UNKNOWN:",
            f"    exclusion = {src.bind('remember_exclusion', remember)}(ctx, current, exclusion_key)",
        )
    if model.stages is None:
        src.add(f"stage = {src.bind('no_stages', NO_STAGES)}")
    else:
        target = src.bind("stage_target", model.stages.target)
        src.add(
            f"stage = {target}(result_{order.index(model.stages.score)}.total, current, ctx)",
            "if exclusion is not None:",
            f"    stage = {src.bind('excluded_target', excluded_target)}"
            f"({src.bind('excluded_targets', model._excluded)}, exclusion, stage)",
        )
    entries = [
        f"{p}: remembered_format(result_{s}.total) or format_points(result_{s}.total)"
        for s, p in enumerate(props)
    ]
    grid = "None"
    if model.grid is not None:
        for part, axis in (("row", model.grid.rows), ("column", model.grid.columns)):
            _label_lines(src, part, axis, order.index(axis.score))
        src.add("grid = row + column")
        grid = "grid"
        entries.append(f"{src.bind('grid_property', model.grid.property)}: grid")
    if model.reasons is not None:
        src.bind("reasons_property", model.reasons.property)
        src.bind("reasons_count", model.reasons.count)
        src.bind("reasons_text", reasons_text)
        entries.append("reasons_property: reasons_text(ranked, reasons_count)")
    src.add(
        "results = {" + ", ".join(f"{n}: result_{s}" for s, n in enumerate(names)) + "}",
        "properties = {" + ", ".join(entries) + "}",
        "due = ctx.due",
        f"return evaluation(contact.id, results, stage, {grid}, exclusion, "
        "None if due == NO_DUE else due, properties)",
    )


def _exclusion_cache(
    check: Callable[[Ctx, str], str | None],
) -> tuple[dict[object, str | None], Callable[[Ctx, str, object], str | None]]:
    answers: dict[object, str | None] = {}

    def remember(ctx: Ctx, current: str, key: object) -> str | None:
        answer = check(ctx, current)
        if len(answers) >= ANSWER_CACHE_SIZE:
            answers.clear()
        answers[key] = answer
        return answer

    return answers, remember


def _label_lines(src: _Source, part: str, axis: GridAxis, s: int) -> None:
    """`part` = GridAxis.label(result_s.total), as comparisons."""
    src.add(f"value = result_{s}.total")
    branch = "if"
    for i, (label, minimum) in enumerate(axis.bands):
        name = src.bind(f"{part}_label_{i}", label)
        if minimum is None:
            src.add("else:" if branch == "elif" else "if True:", f"    {part} = {name}")
            return
        src.add(
            f"{branch} value >= {src.bind(f'{part}_min_{i}', minimum)}:", f"    {part} = {name}"
        )
        branch = "elif"
    src.add("else:", f"    {part} = {src.bind(f'{part}_last', axis.bands[-1][0])}")


# --- activity ------------------------------------------------------------------------------


def _activity_lines(src: _Source, activity: _Activity) -> None:
    """One pass over forms and one over email events, filling each criterion's matches:
    `ats_k` (instants in record order), `newest_k` / `record_k` (the newest and its
    record, the first found on a tie) and, for a window, `oldest_k`. The rules then read
    them as the scan's `found` (see _found_lines). A tallied criterion keeps `n_k`, the
    number of matches, instead of `ats_k`, and `sum_k`, their decayed points added up in
    record order (as DecayedPoints.sum), when its points decay."""
    criteria = activity.criteria
    if not criteria and not activity.inactive:
        return
    src.add("# activity: one pass over form submissions, one over email events", "due = NO_DUE")
    windows = sorted({c.window for _, c in criteria if c.window is not None})
    for window in windows:
        # The first instant of the oldest day still counted.
        src.add(f"since_{window} = (today - {window} + 1) * DAY_MS")
    # The first match of criterion k sets ats_k (None until then), newest_k, record_k and
    # oldest_k; nothing reads them before.
    listed = [f"ats_{k}" for k, _ in criteria if k not in activity.tallies]
    if listed:
        src.add(" = ".join(listed) + " = None")
    if activity.tallies:
        src.add(" = ".join(f"n_{k}" for k in activity.tallies) + " = 0")
    for k, table in activity.tallies.items():
        if table is not None:
            src.bind(f"table_{k}", table)
    if any(table is not None for table in activity.tallies.values()):
        # When decayed points change next (DecayedPoints.sum).
        src.add("tomorrow = (today + 1) * DAY_MS")
    if activity.inactive:
        src.add("last = -1  # newest past engagement", "upcoming = NO_DUE  # soonest future one")
    if activity.forms or activity.inactive:
        _form_pass(src, activity)
    if activity.emails or activity.inactive:
        _email_pass(src, activity)
    src.add("ctx.due = due")


def _found_lines(src: _Source, k: int, activity: _Activity) -> str:
    """Inside `if ats_k:` of the rule using criterion k: what its scan would also do (note
    when the oldest counted occurrence leaves the window); returns the `found` tuple."""
    _leaves_lines(src, k, activity)
    return f"(ats_{k}, newest_{k}, record_{k})"


def _leaves_lines(src: _Source, k: int, activity: _Activity) -> None:
    window = activity.windows[k]
    if window is not None:
        src.add(
            f"leaves = (oldest_{k} // DAY_MS + {window}) * DAY_MS",
            "if now_ms < leaves < ctx.due:",
            "    ctx.due = leaves",
        )


def _form_pass(src: _Source, activity: _Activity) -> None:
    filtered = [(k, c) for k, c in activity.forms if c.accepted is not None]
    src.add("for sub in contact.form_submissions:")
    src.depth += 1
    src.add("at = sub.submitted_at")
    if activity.inactive:
        _engagement_lines(src)
    if filtered:
        # Which filtered criteria accept a (form id, form name): a bit each, remembered.
        bits = {k: 1 << i for i, (k, _) in enumerate(filtered)}
        masks, form_mask = _form_masks([c for _, c in filtered])
        src.bind("form_masks", masks.get)
        src.bind("form_mask", form_mask)
        src.add(
            "form_key = (sub.form_id, sub.form_name)",
            "mask = form_masks(form_key)",
            "if mask is None:",
            "    mask = form_mask(form_key)",
        )
    for k, criterion in activity.forms:
        if criterion.accepted is None:
            src.add(f"# criterion {k}: any form")
            _occurrence_lines(src, k, criterion.window, "sub", activity, since=True)
        else:
            src.add(f"if mask & {bits[k]}:  # criterion {k}")
            src.depth += 1
            _occurrence_lines(src, k, criterion.window, "sub", activity, since=True)
            src.depth -= 1
    src.depth -= 1


def _form_masks(
    criteria: list[FormCriterion],
) -> tuple[dict[tuple[str, str | None], int], Callable[[tuple[str, str | None]], int]]:
    """Remembered masks by (form id, form name), and the function that makes and
    remembers one: bit i is set when criteria[i] accepts the form."""
    masks: dict[tuple[str, str | None], int] = {}

    def form_mask(key: tuple[str, str | None]) -> int:
        mask = 0
        for i, criterion in enumerate(criteria):
            if criterion.accepts(*key):
                mask |= 1 << i
        if len(masks) >= ANSWER_CACHE_SIZE:
            masks.clear()
        masks[key] = mask
        return mask

    return masks, form_mask


def _email_pass(src: _Source, activity: _Activity) -> None:
    types = list(activity.emails)
    if activity.inactive:
        types += [t for t in ENGAGEMENT_EMAIL_TYPES if t not in types]
    src.add("for ev in contact.email_events:")
    src.depth += 1
    src.add("kind = ev.type.upper()")
    for i, kind in enumerate(types):
        name = src.bind(f"email_type_{i}", kind)
        src.add(f"{'if' if i == 0 else 'elif'} kind == {name}:  # {kind!r}")
        src.depth += 1
        src.add("at = ev.created")
        if activity.inactive and kind in ENGAGEMENT_EMAIL_TYPES:
            _engagement_lines(src)
        for k, criterion in activity.emails.get(kind, []):
            tests = []
            if criterion.window is not None:
                tests.append(f"at >= since_{criterion.window}")
            if criterion.campaigns is not None:
                tests.append(f"ev.campaign_id in {src.bind(f'campaigns_{k}', criterion.campaigns)}")
            src.add(f"# criterion {k}")
            if criterion.url_parts is not None:
                src.add("url = ev.url", 'url = url.casefold() if url else ""')
                parts = [
                    f"{src.bind(f'url_part_{k}_{p}', part)} in url"
                    for p, part in enumerate(criterion.url_parts)
                ]
                tests.append(f"({' or '.join(parts)})" if parts else "False")
            if tests:
                src.add(f"if {' and '.join(tests)}:")
                src.depth += 1
            _occurrence_lines(src, k, criterion.window, "ev", activity, since=False)
            if tests:
                src.depth -= 1
        src.depth -= 1
    src.depth -= 1


def _occurrence_lines(
    src: _Source, k: int, window: int | None, record: str, activity: _Activity, *, since: bool
) -> None:
    """Count an occurrence at `at` for criterion k: a future-dated one only sets `due`.
    `since`: check the window here (form criteria; email criteria check it first)."""
    src.add("if at > now_ms:", "    if at < due:", "        due = at")
    src.add(f"elif at >= since_{window}:" if since and window is not None else "else:")
    # Only a window needs the oldest: it is the first occurrence to leave it.
    oldest = window is not None
    newest = f"        newest_{k} = {'oldest_' + str(k) + ' = ' if oldest else ''}at"
    if k in activity.tallies:
        # Past and inside the window (_tallied), so 0 <= age < DECAY_TABLE_DAYS. The sum
        # starts from 0.0 as DecayedPoints.sum does (0.0 + -0.0 is 0.0).
        decayed = activity.tallies[k] is not None
        add = f"table_{k}[today - at // DAY_MS]"
        src.add(
            f"    if n_{k}:",
            f"        n_{k} += 1",
            *([f"        sum_{k} += {add}"] if decayed else []),
            f"        if at > newest_{k}:",
            f"            newest_{k} = at",
            f"            record_{k} = {record}",
        )
        if oldest:
            src.add(f"        if at < oldest_{k}:", f"            oldest_{k} = at")
        src.add(
            "    else:",
            f"        n_{k} = 1",
            *([f"        sum_{k} = 0.0 + {add}"] if decayed else []),
            newest,
            f"        record_{k} = {record}",
        )
        return
    src.add(
        f"    if ats_{k} is None:",
        f"        ats_{k} = [at]",
        newest,
        f"        record_{k} = {record}",
        "    else:",
        f"        ats_{k}.append(at)",
        f"        if at > newest_{k}:",
        f"            newest_{k} = at",
        f"            record_{k} = {record}",
    )
    if oldest:
        src.add(f"        if at < oldest_{k}:", f"            oldest_{k} = at")


def _engagement_lines(src: _Source) -> None:
    src.add(
        "if at > last:",
        "    if at <= now_ms:",
        "        last = at",
        "    elif at < upcoming:",
        "        upcoming = at",
    )


# --- scores ----------------------------------------------------------------------------------


def _property_reads(src: _Source, model: ScoringModel) -> None:
    """Read once every property a cached rule or the exclusion cache looks up by value:
    `value_<n>`."""
    reads = src.reads
    for score in model.scores:
        for rule in score.rules:
            for prop in _cache_reads(rule):
                if prop not in reads:
                    reads.append(prop)
    for prop in model.exclusions.reads or ():
        if prop not in reads:
            reads.append(prop)
    if reads:
        src.add("# properties that cached rules look up by value")
    for n, prop in enumerate(reads):
        src.bind(f"prop_{n}", prop)
        src.add(f"value_{n} = props_get(prop_{n})  # {prop!r}")


def _cache_reads(rule: RuleProgram) -> tuple[str, ...]:
    if type(rule) is WhenRule and rule.reads is not None:
        return rule.reads
    if type(rule) is BandsRule and rule.reads is not None:
        return (rule.reads,)
    if type(rule) is MapRule:
        return (rule.prop,)
    return ()


def _value(src: _Source, prop: str) -> str:
    return f"value_{src.reads.index(prop)}"


def _score_lines(
    src: _Source,
    s: int,
    score: ScoreProgram,
    model: ScoringModel,
    activity: _Activity,
    included: IncludedMaker,
) -> None:
    order = [sc.name for sc in model.scores]
    src.add("", f"# score {score.name!r} -> {score.property}", "total = 0.0")
    ranks = model.reasons is not None and score.name in model.reasons.sources
    parts: list[str] = []
    for i, (name, weight) in enumerate(score.includes):
        var = f"i{s}_{i}"
        shared, fill = _included_cache(included, name, weight)
        src.add(
            f"# included score {name!r}",
            f"value = result_{order.index(name)}.total",
            f"{var} = {src.bind(f'included_{s}_{i}', shared.get)}(value)",
            f"if {var} is None:",
            f"    {var} = {src.bind(f'include_fill_{s}_{i}', fill)}(value)",
            f"total += {var}.points",
        )
        parts.append(var)
    groups = list(score.group_caps)
    for g, group in enumerate(groups):
        src.add(f"g{s}_{g} = 0.0  # subtotal of group {group!r}")
    for r, rule in enumerate(score.rules):
        var = f"c{s}_{r}"
        src.add(f"# rule {r}: {rule.name!r} ({rule.kind})")
        if _entry_lines(src, f"{s}_{r}", var, rule):
            src.add("if points:", "    total += points")
            if ranks:
                src.add("    ranked.append(rank)")
        else:
            _rule_lines(src, f"{s}_{r}", var, rule, activity)
            src.add(f"points = {var}.points", "if points:", "    total += points")
            if ranks:
                src.add(f"    ranked.append((-abs(points), {var}.rule, points))")
        if groups and rule.group is not None:
            src.add(f"    g{s}_{groups.index(rule.group)} += points")
        parts.append(var)
    items = "".join(f"{p}, " for p in parts)
    src.bind(f"name_{s}", score.name)
    src.bind(f"property_{s}", score.property)
    if not groups and score.low is None and score.high is None:
        src.add(
            "total = remembered_round(total) or round_cents(total)",
            f"result_{s} = score_result(name_{s}, property_{s}, total, ({items}))",
        )
        return
    # Caps may add contributions after the rules'.
    src.add(f"contributions = [{items}]")
    for g, (group, (g_low, g_high)) in enumerate(score.group_caps.items()):
        src.bind(f"group_{s}_{g}", group)
        src.bind(f"group_low_{s}_{g}", g_low)
        src.bind(f"group_high_{s}_{g}", g_high)
        src.add(
            f"# cap on group {group!r}",
            f"subtotal = remembered_round(g{s}_{g}) or round_cents(g{s}_{g})",
            *_clip_lines(
                "capped", "subtotal", g_low, g_high, f"group_low_{s}_{g}", f"group_high_{s}_{g}"
            ),
            "if capped != subtotal:",
            f"    cap = group_cap(group_{s}_{g}, capped, subtotal)",
            "    total += cap.points",
            "    contributions.append(cap)",
        )
    src.add("total = remembered_round(total) or round_cents(total)")
    if score.high is not None or score.low is not None:
        src.add("# cap on the score")
        branch = "if"
        if score.high is not None:
            src.bind(f"high_{s}", score.high)
            src.add(
                f"if total > high_{s}:",
                f"    contributions.append(total_cap(name_{s}, high_{s}, total))",
                f"    total = high_{s}",
            )
            branch = "elif"
        if score.low is not None:
            src.bind(f"low_{s}", score.low)
            src.add(
                f"{branch} total < low_{s}:",
                f"    contributions.append(total_cap(name_{s}, low_{s}, total))",
                f"    total = low_{s}",
            )
    src.add(f"result_{s} = score_result(name_{s}, property_{s}, total, tuple(contributions))")


def _included_cache(
    included: IncludedMaker, name: str, weight: float
) -> tuple[dict[float, Contribution], Callable[[float], Contribution]]:
    """The contributions of an included score by its total, and the function that makes
    and remembers one. Totals are floats (ScoreProgram makes its bounds floats); a zero
    total is not remembered, as 0.0 and -0.0 are one key and the points keep its sign."""
    shared: dict[float, Contribution] = {}

    def fill(value: float) -> Contribution:
        made = included(name, weight, value)
        if value:
            if len(shared) >= CONTRIBUTION_CACHE_SIZE:
                shared.clear()
            shared[value] = made
        return made

    return shared, fill


def _entry_lines(src: _Source, r: str, var: str, rule: RuleProgram) -> bool:
    """For a rule whose contribution depends on property values alone (no date test) or on
    the email domain alone: lines that set `var`, `points` and `rank` (its reason_rank)
    from the function's own cache of those three by the values, filled through `apply` on
    a miss. False for other rules."""
    if type(rule) is WhenRule and rule.reads is not None and not rule.by_day:
        names = [_value(src, prop) for prop in rule.reads]
    elif type(rule) is BandsRule and rule.reads is not None:
        names = [_value(src, rule.reads)]
    elif type(rule) is MapRule:
        names = [_value(src, rule.prop)]
    elif type(rule) is WhenRule and rule.by_domain:
        names = ["ctx.domain"]
    else:
        return False
    key = names[0] if len(names) == 1 else f"({', '.join(names)},)"
    entries, fill = _entries(rule.apply)
    src.add(
        f"hit = {src.bind(f'entries_{r}', entries.get)}({key})",
        "if hit is None:",
        f"    hit = {src.bind(f'fill_{r}', fill)}(ctx, {key})",
        f"{var}, points, rank = hit",
    )
    return True


def _entries(
    apply: Callable[[Ctx], Contribution],
) -> tuple[dict[object, Entry], Callable[[Ctx, object], Entry]]:
    """A bounded cache of (contribution, points, reason rank) by property values, and the
    function that fills it from the rule's `apply` (deterministic for the same values)."""
    entries: dict[object, Entry] = {}

    def fill(ctx: Ctx, key: object) -> Entry:
        made = apply(ctx)
        points = made.points
        entry = (made, points, (-abs(points), made.rule, points))
        if len(entries) >= CONTRIBUTION_CACHE_SIZE:
            entries.clear()
        entries[key] = entry
        return entry

    return entries, fill


def _rule_lines(src: _Source, r: str, var: str, rule: RuleProgram, activity: _Activity) -> None:
    """Lines that set `var` to the rule's contribution, as its `apply` would."""
    slot = activity.slot.get(id(rule))
    if type(rule) is WhenRule and rule.reads is not None:
        # A date test (rules without one go through _entry_lines): WhenRule.apply's cache
        # lookup, inline (same key); on a miss `apply` does the rest.
        static = src.bind(f"static_{r}", rule.static.get)
        names = [_value(src, prop) for prop in rule.reads]
        key = names[0] if len(names) == 1 else f"({', '.join(names)},)"
        src.add(
            f"hit = {static}(({key}, today))",
            "if hit is None:",
            f"    {var} = {src.bind(f'apply_{r}', rule.apply)}(ctx)",
            "else:",
            f"    {var}, rule_due = hit",
            # Ctx.due_at, inline. NO_DUE (nothing changes) is never below ctx.due.
            "    if now_ms < rule_due < ctx.due:",
            "        ctx.due = rule_due",
        )
        return
    not_met = src.bind(f"not_met_{r}", rule.not_met)
    if type(rule) is EachRule or (type(rule) is WhenRule and rule.decayed is not None):
        assert isinstance(rule, (EachRule, WhenRule)) and rule.finder is not None
        if slot in activity.tallies:
            assert isinstance(rule, EachRule)
            _tally_lines(src, r, var, rule, slot, activity)
            src.add("else:", f"    {var} = {not_met}")
            return
        made = src.bind(
            f"found_met_{r}", rule.counted if isinstance(rule, EachRule) else rule.decayed_met
        )
        if slot is None:
            src.add(
                f"found = {src.bind(f'scan_{r}', rule.finder.scan)}(ctx)",
                f"{var} = {not_met} if found is None else {made}(ctx, found)",
            )
            return
        src.add(f"if ats_{slot}:")
        src.depth += 1
        src.add(f"{var} = {made}(ctx, {_found_lines(src, slot, activity)})")
        src.depth -= 1
        src.add("else:", f"    {var} = {not_met}")
        return
    if type(rule) is WhenRule:
        # WhenRule._evaluate's condition branch (no cache: `reads` is None).
        if slot is not None:
            assert rule.answer is not None
            answer = src.bind(f"answer_{r}", rule.answer)
            src.add(f"if ats_{slot}:")
            src.depth += 1
            src.add(f"ok, reason = {answer}(ctx, {_found_lines(src, slot, activity)})")
            _met_lines(src, r, var, rule, not_met)
            src.depth -= 1
            src.add("else:", f"    {var} = {not_met}")
            return
        if rule.inactive is not None:
            src.add(f"ok, reason = {src.bind(f'inactive_{r}', rule.inactive)}(ctx, last, upcoming)")
        else:
            src.add(f"ok, reason = {src.bind(f'test_{r}', rule.test)}(ctx)")
        _met_lines(src, r, var, rule, not_met)
        return
    src.add(f"{var} = {src.bind(f'apply_{r}', rule.apply)}(ctx)")


def _tally_lines(
    src: _Source, r: str, var: str, rule: EachRule, k: int, activity: _Activity
) -> None:
    """`if n_k:` and the rule's contribution from the tally, as EachRule.counted."""
    src.add(f"if n_{k}:")
    src.depth += 1
    _leaves_lines(src, k, activity)
    if activity.tallies[k] is None:
        src.add(f"tally = {src.bind(f'each_points_{r}', rule.points)} * n_{k}")
    else:
        src.add(
            # DecayedPoints.sum, inline: every point changes at the next UTC midnight.
            "if tomorrow < ctx.due:",
            "    ctx.due = tomorrow",
            f"tally = remembered_round(sum_{k}) or round_cents(sum_{k})",
        )
    tallied = src.bind(f"tallied_{r}", rule.tallied)
    src.add(f"{var} = {tallied}(ctx, n_{k}, tally, record_{k})")
    src.depth -= 1


def _met_lines(src: _Source, r: str, var: str, rule: WhenRule, not_met: str) -> None:
    """`var` from a condition's (ok, reason), as WhenRule._evaluate makes it; `_met`'s
    cache lookup inline."""
    points = src.bind(f"points_{r}", rule.points)
    cached = src.bind(f"cached_{r}", rule._cache.get)
    neg = src.bind(f"neg_{r}", rule.neg_text)
    src.add(
        "if ok:",
        f"    {var} = {cached}(({points}, reason))",
        f"    if {var} is None:",
        f"        {var} = {src.bind(f'make_met_{r}', rule._met)}({points}, reason)",
        f"elif reason is {neg}:",
        f"    {var} = {not_met}",
        "else:",
        f"    {var} = {cached}((UNMET, reason))",
        f"    if {var} is None:",
        f"        {var} = {src.bind(f'make_unmet_{r}', rule._unmet)}(reason)",
    )


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

"""The CRM search endpoint's semantics: filter groups, operators, one sort, offset paging, caps."""

from __future__ import annotations

import fnmatch
import heapq
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from leadscore.sandbox.property_catalog import PropertyDef, parse_time_ms

MAX_LIMIT = 200
MAX_RESULTS = 10_000
MAX_GROUPS = 5
MAX_FILTERS_PER_GROUP = 6
MAX_FILTERS = 18
MAX_BODY_CHARS = 3_000
OPERATORS = {
    "EQ",
    "NEQ",
    "LT",
    "LTE",
    "GT",
    "GTE",
    "BETWEEN",
    "IN",
    "NOT_IN",
    "HAS_PROPERTY",
    "NOT_HAS_PROPERTY",
    "CONTAINS_TOKEN",
    "NOT_CONTAINS_TOKEN",
}
_TOKEN_SPLIT = re.compile(r"[^0-9a-z@._*-]+")

Getter = Callable[[int, str], str | None]


class SearchableObjects(Protocol):
    """What search needs from an object store."""

    def candidate_indices(self) -> Iterable[int]: ...

    def value(self, idx: int, name: str) -> str | None: ...

    def property_def(self, name: str) -> PropertyDef | None: ...

    def numeric_column(self, name: str) -> Callable[[int], int] | None:
        """A fast epoch-ms / integer reader for a property, when the store has one."""
        ...


class SearchError(ValueError):
    """A search request HubSpot would reject with 400."""


@dataclass
class SearchRequest:
    groups: list[list[dict[str, Any]]]
    sort_property: str | None
    sort_descending: bool
    query: str | None
    properties: list[str] | None
    limit: int
    after: int


def parse_search(body: Any, raw_size: int) -> SearchRequest:
    """Validate a search body the way HubSpot does."""
    if raw_size > MAX_BODY_CHARS:
        raise SearchError(f"Search request body must be at most {MAX_BODY_CHARS} characters")
    if not isinstance(body, dict):
        raise SearchError("Invalid input JSON on line 1")
    groups_raw = body.get("filterGroups") or []
    if not isinstance(groups_raw, list):
        raise SearchError("filterGroups must be a list")
    if len(groups_raw) > MAX_GROUPS:
        raise SearchError(f"Too many filter groups: {len(groups_raw)} (at most {MAX_GROUPS})")
    groups: list[list[dict[str, Any]]] = []
    total = 0
    for g in groups_raw:
        filters = (g or {}).get("filters") or []
        if len(filters) > MAX_FILTERS_PER_GROUP:
            raise SearchError(
                f"Too many filters in a group: {len(filters)} (at most {MAX_FILTERS_PER_GROUP})"
            )
        total += len(filters)
        for f in filters:
            op = str(f.get("operator", "EQ")).upper()
            if op not in OPERATORS:
                raise SearchError(f"Unknown operator {op}")
            if not f.get("propertyName"):
                raise SearchError("filter is missing propertyName")
        groups.append(filters)
    if total > MAX_FILTERS:
        raise SearchError(f"Too many filters: {total} (at most {MAX_FILTERS})")
    sorts = body.get("sorts") or []
    if len(sorts) > 1:
        raise SearchError("Only one sort is allowed")
    sort_property, descending = None, False
    if sorts:
        s = sorts[0]
        if isinstance(s, str):  # HubSpot also accepts a bare property name
            sort_property = s
        else:
            sort_property = s.get("propertyName")
            descending = str(s.get("direction", "ASCENDING")).upper() == "DESCENDING"
    try:
        raw_limit = body.get("limit")
        limit = int(raw_limit) if raw_limit is not None else 10
        after = int(body.get("after") or 0)
    except (TypeError, ValueError):
        raise SearchError("limit and after must be integers") from None
    if limit < 1 or limit > MAX_LIMIT:
        raise SearchError(f"limit must be between 1 and {MAX_LIMIT}")
    if after < 0:
        raise SearchError("after must not be negative")
    if after + limit > MAX_RESULTS:
        raise SearchError(
            f"Paging past {MAX_RESULTS} results is not supported: after + limit must be at most "
            f"{MAX_RESULTS}. Narrow the query (for example with a lastmodifieddate filter)."
        )
    props = body.get("properties")
    return SearchRequest(
        groups=groups,
        sort_property=sort_property,
        sort_descending=descending,
        query=body.get("query") or None,
        properties=list(props) if props else None,
        limit=limit,
        after=after,
    )


def _number(prop: PropertyDef | None, text: Any) -> float | None:
    if text is None or text == "":
        return None
    s = str(text)
    if prop is not None and prop.type in {"datetime", "date"}:
        ms = parse_time_ms(s)
        return float(ms) if ms is not None else None
    try:
        return float(s)
    except ValueError:
        return None


def _is_numeric(prop: PropertyDef | None) -> bool:
    return prop is not None and prop.type in {"number", "datetime", "date"}


def _tokens(text: str) -> list[str]:
    return [t for t in _TOKEN_SPLIT.split(text.lower()) if t]


def _compile_filter(
    f: dict[str, Any], objects: SearchableObjects, getter: Getter, use_columns: bool
) -> Callable[[int], bool]:
    name = str(f["propertyName"])
    op = str(f.get("operator", "EQ")).upper()
    prop = objects.property_def(name)
    numeric = _is_numeric(prop)
    column = objects.numeric_column(name) if use_columns else None

    if op == "HAS_PROPERTY":
        return lambda i: getter(i, name) not in (None, "")
    if op == "NOT_HAS_PROPERTY":
        return lambda i: getter(i, name) in (None, "")

    if numeric:
        if column is not None:
            read_num: Callable[[int], float | None] = column
        else:

            def read_num(i: int) -> float | None:
                return _number(prop, getter(i, name))

        def bound(key: str) -> float:
            v = _number(prop, f.get(key))
            if v is None:
                raise SearchError(
                    f"filter on {name}: {f.get(key)!r} is not a valid {prop.type if prop else 'value'}"
                )
            return v

        if op in {"EQ", "NEQ", "LT", "LTE", "GT", "GTE"}:
            x = bound("value")
            cmp: Callable[[float, float], bool] = {
                "EQ": lambda a, b: a == b,
                "NEQ": lambda a, b: a != b,
                "LT": lambda a, b: a < b,
                "LTE": lambda a, b: a <= b,
                "GT": lambda a, b: a > b,
                "GTE": lambda a, b: a >= b,
            }[op]
            if op == "NEQ":
                return lambda i: (v := read_num(i)) is None or v != x
            if op == "GTE":
                return lambda i: (v := read_num(i)) is not None and v >= x
            if op == "LT":
                return lambda i: (v := read_num(i)) is not None and v < x
            return lambda i: (v := read_num(i)) is not None and cmp(v, x)
        if op == "BETWEEN":
            lo, hi = bound("value"), bound("highValue")
            return lambda i: (v := read_num(i)) is not None and lo <= v <= hi
        if op in {"IN", "NOT_IN"}:
            wanted = {_number(prop, v) for v in f.get("values") or []}
            if op == "IN":
                return lambda i: read_num(i) in wanted
            return lambda i: read_num(i) not in wanted

    def text(i: int) -> str | None:
        v = getter(i, name)
        return v.lower() if v else None

    if op in {"EQ", "NEQ"}:
        want = str(f.get("value", "")).lower()
        if op == "EQ":
            return lambda i: text(i) == want
        return lambda i: text(i) != want
    if op in {"IN", "NOT_IN"}:
        wanted_text = {str(v).lower() for v in f.get("values") or []}
        if op == "IN":
            return lambda i: text(i) in wanted_text
        return lambda i: text(i) not in wanted_text
    if op in {"CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"}:
        pattern = str(f.get("value", "")).lower()

        def contains(i: int) -> bool:
            v = text(i)
            if v is None:
                return False
            if "*" in pattern:
                return fnmatch.fnmatchcase(v, pattern) or any(
                    fnmatch.fnmatchcase(t, pattern) for t in _tokens(v)
                )
            return pattern in _tokens(v) or pattern == v

        if op == "CONTAINS_TOKEN":
            return contains
        return lambda i: not contains(i)
    # LT/GT on text: lexicographic, as HubSpot does for string properties
    x_text = str(f.get("value", "")).lower()
    if op == "BETWEEN":
        hi_text = str(f.get("highValue", "")).lower()
        return lambda i: (v := text(i)) is not None and x_text <= v <= hi_text
    ops: dict[str, Callable[[str], bool]] = {
        "LT": lambda v: v < x_text,
        "LTE": lambda v: v <= x_text,
        "GT": lambda v: v > x_text,
        "GTE": lambda v: v >= x_text,
    }
    test = ops[op]
    return lambda i: (v := text(i)) is not None and test(v)


def compile_groups(
    groups: list[list[dict[str, Any]]],
    objects: SearchableObjects,
    getter: Getter,
    use_columns: bool = True,
) -> Callable[[int], bool] | None:
    """One predicate for all groups (OR of ANDs); None when there are no filters."""
    compiled = [
        [_compile_filter(f, objects, getter, use_columns) for f in filters]
        for filters in groups
        if filters
    ]
    if not compiled:
        return None
    if len(compiled) == 1:
        preds = compiled[0]
        if len(preds) == 1:
            return preds[0]
        return lambda i: all(p(i) for p in preds)
    return lambda i: any(all(p(i) for p in preds) for preds in compiled)


def query_predicate(query: str, getter: Getter, fields: tuple[str, ...]) -> Callable[[int], bool]:
    """Free-text `query`: every word must prefix-match a token of one of the default fields."""
    words = _tokens(query)

    def match(i: int) -> bool:
        tokens: list[str] = []
        for f in fields:
            v = getter(i, f)
            if v:
                tokens.extend(_tokens(v))
                tokens.append(v.lower())
        return all(any(t.startswith(w) for t in tokens) for w in words)

    return match


def sort_key(
    name: str | None, objects: SearchableObjects, getter: Getter, use_columns: bool = True
) -> Callable[[int], Any]:
    """Key for ordering matches; ties break on the record's position (its id order)."""
    if name is None:
        return lambda i: i
    prop = objects.property_def(name)
    column = objects.numeric_column(name) if use_columns else None
    if column is not None:
        col = column
        return lambda i: (col(i), i)
    if _is_numeric(prop):

        def numeric_key(i: int) -> tuple[int, float, int]:
            v = _number(prop, getter(i, name))
            return (1, 0.0, i) if v is None else (0, v, i)

        return numeric_key

    def text_key(i: int) -> tuple[int, str, int]:
        v = getter(i, name)
        return (1, "", i) if not v else (0, v.lower(), i)

    return text_key


def top_matches(
    matches: list[int], key: Callable[[int], Any], descending: bool, needed: int
) -> list[int]:
    """The first `needed` matches in sort order, without sorting everything."""
    if needed >= len(matches):
        return sorted(matches, key=key, reverse=descending)
    if descending:
        return heapq.nlargest(needed, matches, key=key)
    return heapq.nsmallest(needed, matches, key=key)

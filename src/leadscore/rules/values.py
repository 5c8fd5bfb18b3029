"""Reading HubSpot property strings as numbers, dates and email domains, saying what was done."""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime

DAY_MS = 86_400_000

_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_SUFFIX = {"k": 1_000.0, "m": 1_000_000.0, "b": 1_000_000_000.0}
_RANGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:-|\u2013|to)\s*(\d+(?:\.\d+)?)\s*$")


def read_number(raw: str | None) -> tuple[float | None, str | None]:
    """A property value as a number, plus a note when it was not a plain number.

    Tolerates thousands separators ("1,000"), currency signs and spaces, k/m/b suffixes
    ("10k"), open ranges ("1000+": the lower bound) and closed ranges ("50-100": the
    midpoint). Returns (None, why) when there is no number to read, including "".
    """
    if raw is None:
        return None, "unknown"
    text = raw.strip()
    if not text:
        return None, "empty"
    try:
        value = float(text)
    except ValueError:
        pass
    else:
        # float() also reads "nan", "inf" and "1_000"; only finite numbers are numbers here.
        if math.isfinite(value):
            return value, None
        return None, f"{raw!r} is not a number"
    cleaned = text.replace(",", "").replace("_", "").replace(" ", "").lstrip("$€£¥")
    try:
        value = float(cleaned)
        if math.isfinite(value):
            return value, f"{raw!r} read as {_fmt(value)}"
    except ValueError:
        pass
    m = _RANGE.match(cleaned)
    if m:
        low, high = float(m.group(1)), float(m.group(2))
        mid = (low + high) / 2
        return mid, f"{raw!r} read as {_fmt(mid)} (midpoint of the range)"
    if cleaned.endswith("+"):
        bound, _ = read_number(cleaned[:-1])
        if bound is not None:
            return bound, f"{raw!r} read as {_fmt(bound)} (lower bound)"
    suffix = cleaned[-1:].lower()
    if suffix in _SUFFIX:
        m2 = _NUMBER.fullmatch(cleaned[:-1])
        if m2:
            value = float(m2.group(0)) * _SUFFIX[suffix]
            return value, f"{raw!r} read as {_fmt(value)}"
    return None, f"{raw!r} is not a number"


def read_timestamp_ms(raw: str | None) -> int | None:
    """A date property as epoch ms: HubSpot sends epoch ms, ISO datetimes or ISO dates."""
    if raw is None:
        return None
    text = raw.strip()
    if not text:
        return None
    if text.isascii() and (text.isdigit() or (text[0] == "-" and text[1:].isdigit())):
        return int(text)
    try:
        if len(text) == 10:
            d = date.fromisoformat(text)
            return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp() * 1000)
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def email_domain(email: str | None) -> str | None:
    """The lower-cased domain of an email address, or None."""
    if not email or "@" not in email:
        return None
    domain = email.rsplit("@", 1)[1].strip().lower().rstrip(".")
    return domain or None


def domain_in(domain: str | None, domains: frozenset[str]) -> str | None:
    """The listed domain that `domain` is, or is a subdomain of; None when not listed."""
    if domain is None:
        return None
    if domain in domains:
        return domain
    parts = domain.split(".")
    for i in range(1, len(parts) - 1):
        parent = ".".join(parts[i:])
        if parent in domains:
            return parent
    return None


# round(x, 2) and float formatting cost about a microsecond each and the engine does them
# many times per contact for values that repeat (totals, decayed points): memoised, bounded
# and emptied when full.
MEMO_SIZE = 65536
_ROUNDED: dict[float, float] = {}
_FORMATTED: dict[float, str] = {}


def round_cents(value: float) -> float:
    """`round(value, 2)`, memoised for floats (exactly the same result, sign of zero too)."""
    if type(value) is not float or not value:
        # ints stay ints and 0.0 / -0.0 keep their sign: both equal 0 as dict keys.
        return round(value, 2)
    rounded = _ROUNDED.get(value)
    if rounded is None:
        rounded = round(value, 2)
        if len(_ROUNDED) >= MEMO_SIZE:
            _ROUNDED.clear()
        _ROUNDED[value] = rounded
    return rounded


# The memos' own lookups (None on a miss), for the generated evaluate to try inline before
# calling the function: `remembered_round(x) or round_cents(x)` for a float x. A rounded 0.0
# is falsy and goes through the call, which keeps its sign.
remembered_round = _ROUNDED.get
remembered_format = _FORMATTED.get


def format_points(value: float | int) -> str:
    """Stable HubSpot text for a score: an integer when whole, else up to 2 decimals."""
    text = _FORMATTED.get(value)
    if text is None:
        text = _format_points(value)
        if len(_FORMATTED) >= MEMO_SIZE:
            _FORMATTED.clear()
        # Equal numbers (5 and 5.0, 0.0 and -0.0) have the same text, so one entry serves.
        _FORMATTED[value] = text
    return text


def _format_points(value: float | int) -> str:
    if isinstance(value, int) or value.is_integer():
        return str(int(value))
    rounded = round(value, 2)
    if rounded.is_integer():
        return str(int(rounded))
    return f"{rounded:.2f}".rstrip("0").rstrip(".")


def signed_points(value: float) -> str:
    """Points with their sign: "+50", "-10", "+2.5"."""
    text = format_points(value)
    return text if text.startswith("-") else f"+{text}"


def _fmt(value: float) -> str:
    return format_points(value)


def days_ago(now_ms: int, then_ms: int) -> str:
    """Human text for an age in UTC calendar days: "today", "1 day ago", "in 3 days"."""
    days = now_ms // DAY_MS - then_ms // DAY_MS
    if days < 0:
        return f"in {-days} days"
    if days == 0:
        return "today"
    return "1 day ago" if days == 1 else f"{days} days ago"

"""Contacts of the sandbox: read-only seeded columns plus per-property overlays of every write."""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Callable, Iterable
from typing import Any

from leadscore.sandbox.property_catalog import (
    ANALYTICS_SOURCES,
    LEAD_STATUSES,
    STAGES,
    iso_from_ms,
)
from leadscore.sandbox.seeded_portal import (
    COUNTRIES,
    FIRST_NAMES,
    FREE_DOMAINS,
    INDUSTRIES,
    JOB_TITLES,
    LAST_NAMES,
    NONE_CODE,
    NUM_EMPLOYEES,
    SPAM_DOMAINS,
    SPAM_NAMES,
    SeededPortal,
)

ID_OFFSET = 1001  # contact id = index + ID_OFFSET (ids are strings of digits, as in HubSpot)
_MISSING = object()


class ContactStore:
    """All contacts: index i <-> id str(i + ID_OFFSET); writes never touch the seeded columns."""

    def __init__(self, portal: SeededPortal) -> None:
        self._portal = portal
        self._base_n = portal.contacts.n
        self._readers = self._build_readers()
        self._lm_index: tuple[array[int], array[int]] | None = None
        self.reset()

    def reset(self) -> None:
        """Forget every write and every created contact."""
        self.count = self._base_n
        self._overlay: dict[str, dict[int, str | None]] = {}
        self.lastmodified = array("q", self._portal.contacts.lastmodified)
        self.createdate = array("q", self._portal.contacts.createdate)
        self._email_index: dict[str, int] = {}  # emails of created or re-addressed contacts
        self._archived: set[int] = set()
        self.touched: set[int] = set()  # contacts whose lastmodifieddate moved since the seed

    # identity -------------------------------------------------------------------
    @staticmethod
    def id_of(idx: int) -> str:
        return str(idx + ID_OFFSET)

    def index_of(self, contact_id: Any) -> int | None:
        """Index of a live contact with this id, or None."""
        text = str(contact_id).strip()
        if not text.isdigit():
            return None
        idx = int(text) - ID_OFFSET
        if 0 <= idx < self.count and idx not in self._archived:
            return idx
        return None

    def find_by_email(self, email: str) -> int | None:
        """Index of the live contact with this email (case-insensitive), or None."""
        email = email.strip().lower()
        idx = self._email_index.get(email)
        if idx is not None:
            return idx if self.get(idx, "email") == email else None
        # Seeded emails end their local part with the contact index: parse instead of indexing.
        local = email.split("@", 1)[0]
        digits = ""
        for ch in reversed(local):
            if not ch.isdigit():
                break
            digits = ch + digits
        if digits:
            cand = int(digits)
            if (
                cand < self._base_n
                and cand not in self._archived
                and self.get(cand, "email") == email
            ):
                return cand
        return None

    # reading -----------------------------------------------------------------------
    def get(self, idx: int, name: str) -> str | None:
        """Current value of one property (None when unset)."""
        layer = self._overlay.get(name)
        if layer is not None:
            value = layer.get(idx, _MISSING)
            if value is not _MISSING:
                return value  # type: ignore[return-value]
        if name == "lastmodifieddate":
            return iso_from_ms(self.lastmodified[idx])
        if name == "createdate":
            return iso_from_ms(self.createdate[idx])
        if name == "hs_object_id":
            return self.id_of(idx)
        if idx >= self._base_n:
            return None
        reader = self._readers.get(name)
        return reader(idx) if reader is not None else None

    def has_overlay(self, name: str) -> bool:
        return name in self._overlay

    def base_reader(self, name: str) -> Callable[[int], str | None] | None:
        return self._readers.get(name)

    def overlay(self, name: str) -> dict[int, str | None]:
        return self._overlay.get(name, {})

    def live_indices(self) -> Iterable[int]:
        archived = self._archived
        if not archived:
            return range(self.count)
        return (i for i in range(self.count) if i not in archived)

    def modified_since(self, lower_ms: int, inclusive: bool) -> list[int]:
        """Live contacts with lastmodifieddate >= (or >) lower_ms, without scanning everyone.

        Incremental syncs search on exactly this, so it is served from a sorted index of the
        seeded timestamps plus the (few) contacts written since.
        """
        order, values = self._seeded_lastmodified_index()
        find = bisect.bisect_left if inclusive else bisect.bisect_right
        start = find(values, lower_ms)
        touched, archived = self.touched, self._archived
        out = [i for i in order[start:] if i not in touched and i not in archived]
        lm = self.lastmodified
        for i in touched:
            if i not in archived and (lm[i] >= lower_ms if inclusive else lm[i] > lower_ms):
                out.append(i)
        return out

    def _seeded_lastmodified_index(self) -> tuple[array[int], array[int]]:
        if self._lm_index is None:
            base = self._portal.contacts.lastmodified
            order = array("i", sorted(range(self._base_n), key=base.__getitem__))
            values = array("q", (base[i] for i in order))
            self._lm_index = (order, values)
        return self._lm_index

    # writing -----------------------------------------------------------------------
    def set(self, idx: int, name: str, value: str | None) -> None:
        """Store a value as is (validation is the caller's job)."""
        if name == "email" and value:
            value = value.strip().lower()
            self._email_index[value] = idx
        self._overlay.setdefault(name, {})[idx] = value

    def touch(self, idx: int, now_ms: int) -> None:
        """Bump lastmodifieddate; it never goes backwards, and two writes never share it."""
        self.lastmodified[idx] = max(now_ms, self.lastmodified[idx] + 1)
        self.touched.add(idx)

    def create(self, now_ms: int) -> int:
        """A new, empty contact; the caller sets its properties."""
        idx = self.count
        self.count += 1
        self.lastmodified.append(now_ms)
        self.createdate.append(now_ms)
        self.touched.add(idx)
        return idx

    def archive(self, idx: int) -> None:
        self._archived.add(idx)

    # seeded columns -> strings --------------------------------------------------
    def _build_readers(self) -> dict[str, Callable[[int], str | None]]:
        p = self._portal
        c = p.contacts
        owners = p.owners
        forms = p.forms
        names, domains = p.company_names, p.company_domains
        countries = [v for v, _ in COUNTRIES]

        def code(
            column: array[int], values: tuple[str, ...] | list[str], shift: int = 0
        ) -> Callable[[int], str | None]:
            def read(i: int) -> str | None:
                k = column[i] - shift
                if k < 0:
                    return None
                v = values[k]
                return v or None

            return read

        def count(column: array[int]) -> Callable[[int], str | None]:
            return lambda i: str(column[i])

        def when(column: array[int]) -> Callable[[int], str | None]:
            return lambda i: iso_from_ms(column[i]) if column[i] else None

        def firstname(i: int) -> str | None:
            s = c.spam[i]
            return SPAM_NAMES[s - 1][0] if s else FIRST_NAMES[c.first[i]].title()

        def lastname(i: int) -> str | None:
            s = c.spam[i]
            return SPAM_NAMES[s - 1][1] if s else LAST_NAMES[c.last[i]].title()

        def domain(i: int) -> str:
            if c.spam[i]:
                return SPAM_DOMAINS[i % len(SPAM_DOMAINS)]
            fd = c.free_domain[i]
            return FREE_DOMAINS[fd - 1] if fd else domains[c.company[i]]

        def email(i: int) -> str | None:
            s = c.spam[i]
            if s:
                return f"{SPAM_NAMES[s - 1][0]}{i}@{domain(i)}"
            return f"{FIRST_NAMES[c.first[i]]}.{LAST_NAMES[c.last[i]]}{i}@{domain(i)}"

        def company(i: int) -> str | None:
            if c.spam[i]:
                return None
            return names[c.company[i]] if c.free_domain[i] == 0 or i % 3 else None

        def website(i: int) -> str | None:
            return None if c.spam[i] or c.free_domain[i] else "https://www." + domains[c.company[i]]

        def owner(i: int) -> str | None:
            k = c.owner[i]
            return owners[k - 1].id if k else None

        def optout(i: int) -> str | None:
            return "true" if c.optout[i] else "false"

        def revenue(i: int) -> str | None:
            v = c.annualrevenue[i]
            return str(v * 1000) if v else None

        def form_name(column: array[int]) -> Callable[[int], str | None]:
            def read(i: int) -> str | None:
                k = column[i]
                return None if k == NONE_CODE else forms[k].name

            return read

        def conversions(column: array[int]) -> Callable[[int], str | None]:
            return lambda i: str(column[i]) if c.conversions[i] else None

        def stage_date(code_value: int) -> Callable[[int], str | None]:
            # The seed only knows the current stage; it was entered when the contact was created.
            return lambda i: iso_from_ms(c.createdate[i]) if c.stage[i] == code_value else None

        readers: dict[str, Callable[[int], str | None]] = {
            "email": email,
            "firstname": firstname,
            "lastname": lastname,
            "company": company,
            "website": website,
            "hs_email_domain": domain,
            "jobtitle": code(c.jobtitle, JOB_TITLES),
            "industry": code(c.industry, INDUSTRIES),
            "numemployees": code(c.numemployees, NUM_EMPLOYEES),
            "annualrevenue": revenue,
            "country": code(c.country, countries),
            "hs_analytics_source": code(c.source, ANALYTICS_SOURCES),
            "hs_latest_source": code(c.latest_source, ANALYTICS_SOURCES),
            "lifecyclestage": code(c.stage, [v for v, _ in STAGES], shift=1),
            "hs_lead_status": code(c.lead_status, LEAD_STATUSES, shift=1),
            "hubspot_owner_id": owner,
            "hs_email_optout": optout,
            "hs_analytics_num_visits": count(c.visits),
            "hs_analytics_num_page_views": count(c.pageviews),
            "hs_analytics_last_visit_timestamp": when(c.last_visit),
            "hs_email_delivered": count(c.delivered),
            "hs_email_open": count(c.opened),
            "hs_email_click": count(c.clicked),
            "hs_email_bounce": count(c.bounced),
            "hs_email_last_send_date": when(c.last_send),
            "hs_email_last_open_date": when(c.last_open),
            "hs_email_last_click_date": when(c.last_click),
            "num_conversion_events": conversions(c.conversions),
            "num_unique_conversion_events": conversions(c.unique_conversions),
            "first_conversion_event_name": form_name(c.first_form),
            "recent_conversion_event_name": form_name(c.recent_form),
            "first_conversion_date": when(c.first_conversion),
            "recent_conversion_date": when(c.recent_conversion),
        }
        for k, (value, _label) in enumerate(STAGES):
            readers[f"hs_lifecyclestage_{value}_date"] = stage_date(k + 1)
        return readers

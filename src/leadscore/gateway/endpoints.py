"""Every HubSpot path the gateway calls, in one place; the CRM version comes from settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import quote


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Paths relative to the API root. CRM paths carry `crm_version` (v3 or a date like 2026-03)."""

    crm_version: str = "v3"

    def _crm(self, section: str, rest: str = "") -> str:
        # v3 paths put the version first (/crm/v3/objects/contacts); date-versioned ones
        # put it after the section (/crm/objects/2026-03/contacts).
        version = quote(self.crm_version, safe="")
        tail = f"/{rest}" if rest else ""
        if self.crm_version[:1].lower() == "v":
            return f"/crm/{version}/{section}{tail}"
        return f"/crm/{section}/{version}{tail}"

    def objects(self, object_type: str) -> str:
        return self._crm("objects", object_type)

    def object(self, object_type: str, object_id: str) -> str:
        return self._crm("objects", f"{object_type}/{quote(object_id, safe='')}")

    def batch(self, object_type: str, action: str) -> str:
        return self._crm("objects", f"{object_type}/batch/{action}")

    def search(self, object_type: str) -> str:
        return self._crm("objects", f"{object_type}/search")

    def owners(self) -> str:
        return self._crm("owners")

    def properties(self, object_type: str) -> str:
        return self._crm("properties", object_type)

    def property(self, object_type: str, name: str) -> str:
        return self._crm("properties", f"{object_type}/{quote(name, safe='')}")

    def property_groups(self, object_type: str) -> str:
        return self._crm("properties", f"{object_type}/groups")

    def property_group(self, object_type: str, name: str) -> str:
        return self._crm("properties", f"{object_type}/groups/{quote(name, safe='')}")

    def association_batch_read(self, from_type: str, to_type: str) -> str:
        # Associations live in API v4 (the CRM v3 setting does not apply); dated versions
        # follow the same section-then-version layout as the other CRM paths.
        if self.crm_version[:1].lower() == "v":
            return f"/crm/v4/associations/{from_type}/{to_type}/batch/read"
        version = quote(self.crm_version, safe="")
        return f"/crm/associations/{version}/{from_type}/{to_type}/batch/read"

    # Endpoints outside the CRM API keep their own fixed versions.
    forms: ClassVar[str] = "/marketing/v3/forms"
    email_events: ClassVar[str] = "/email/public/v1/events"

    @staticmethod
    def form_submissions(form_id: str) -> str:
        return f"/form-integrations/v1/submissions/forms/{quote(form_id, safe='')}"

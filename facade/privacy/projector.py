"""The one projection of stored FHIR resources into a role's view, for REST reads and exports alike.

    projector = Projector.load(settings.mappings_dir, settings.profiles_dir, keys)
    shown = projector.project(View.DEIDENTIFIED, resource, subject="<regional pseudonym>")

``project`` works on plain JSON dicts (no model round trip) and returns a new dict holding only
what the view declares, or None when the view shows nothing of that resource type. ``subject``
keys the patient's date offset in the research view (see facade/privacy/dates.py); None there
means "patient unknown" and drops every date of a patient's resource (fail closed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from facade.privacy.dates import shift_days
from facade.privacy.plan import ViewPlans
from facade.privacy.walk import Ctx, Keys, Secrets, regional_of, walk
from facade.security.roles import View
from facade.settings import Settings

__all__ = ["Keys", "Projector", "regional_of"]


class Projector:
    """Compiled views plus the keys they need; build once per app (or export job)."""

    def __init__(self, plans: ViewPlans, keys: Keys) -> None:
        self.plans = plans
        self.keys = keys
        self.secrets = Secrets(keys)
        self._days: dict[str, int] = {}

    @classmethod
    def load(cls, mappings_dir: Path, profiles_dir: Path, keys: Keys) -> Projector:
        """Read and check ``mappings/views`` against the guide; ViewsError names what is wrong."""
        return cls(ViewPlans.load(mappings_dir, profiles_dir), keys)

    @classmethod
    def from_settings(cls, settings: Settings) -> Projector:
        """The projector of a configured facade (directories and secrets from ``settings``)."""
        keys = Keys(
            pseudonym_key=settings.secret("pseudonym_key"),
            research_key=settings.secret("research_key"),
            shift_max_days=settings.research_date_shift_max_days,
        )
        return cls.load(settings.mappings_dir, settings.profiles_dir, keys)

    def shows(self, view: View, resource_type: str) -> bool:
        """Whether the view shows resources of this type at all."""
        return view is View.STORED or resource_type in self.plans.nodes[view]

    def patient_id(self, resource: dict[str, Any]) -> str | None:
        """The stored id of the patient a resource is about, as its view file declares."""
        link = self.plans.patient_links.get(str(resource.get("resourceType")))
        if link == "self":
            rid = resource.get("id")
            return rid if isinstance(rid, str) else None
        if link == "subject":
            subject = resource.get("subject")
            ref = subject.get("reference") if isinstance(subject, dict) else None
            if isinstance(ref, str) and ref.startswith("Patient/") and ref.count("/") == 1:
                return ref[len("Patient/") :]
        return None

    def project(
        self, view: View, resource: dict[str, Any], subject: str | None = None
    ) -> dict[str, Any] | None:
        """``resource`` as ``view`` shows it; STORED returns it unchanged."""
        if view is View.STORED:
            return resource
        rtype = resource.get("resourceType")
        node = self.plans.nodes[view].get(rtype) if isinstance(rtype, str) else None
        if node is None or not isinstance(rtype, str):
            return None
        linked = self.plans.patient_links[rtype] != "none"
        days = None
        if view is View.DEIDENTIFIED and linked and subject is not None:
            days = self._days.get(subject)
            if days is None:
                if len(self._days) > 100_000:
                    self._days.clear()
                days = shift_days(self.keys.research_key, subject, self.keys.shift_max_days)
                self._days[subject] = days
        ctx = Ctx(rtype, linked, days, self.secrets, self.plans.lookups)
        return walk(node, resource, ctx, 0)

    def research_id(self, resource_type: str, real_id: str) -> str:
        """The research id of a stored id."""
        return self.secrets.research_id(resource_type, real_id)

    def real_id(self, resource_type: str, research_id: str) -> str | None:
        """The stored id behind a research id, or None when it is not one of ours."""
        return self.secrets.ids.decode(resource_type, research_id)

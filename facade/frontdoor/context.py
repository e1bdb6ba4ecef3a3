"""FrontDoor: the per-app services of the FHIR door (keys, views, caches), built once from Settings.

facade.services builds it; routes receive it as ``facade.api.deps.FrontDoorDep``.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import OrderedDict

from facade.frontdoor.limits import IntakeLimits
from facade.network.recorder import LinkageRecorder
from facade.privacy.ids import ResearchIds
from facade.privacy.projector import Projector
from facade.settings import Settings


class SubjectCache:
    """Patient id -> date-shift subject (regional pseudonym), kept briefly and bounded in size."""

    def __init__(self, size: int = 20_000, ttl_seconds: float = 600.0) -> None:
        self._items: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._size = size
        self._ttl = ttl_seconds

    def get(self, patient_id: str) -> str | None:
        """The cached subject, if fresh."""
        item = self._items.get(patient_id)
        if item is None or item[0] < time.monotonic():
            return None
        self._items.move_to_end(patient_id)
        return item[1]

    def put(self, patient_id: str, subject: str) -> None:
        """Remember a subject."""
        self._items[patient_id] = (time.monotonic() + self._ttl, subject)
        self._items.move_to_end(patient_id)
        while len(self._items) > self._size:
            self._items.popitem(last=False)


class FrontDoor:
    """What the FHIR door's routes share; ``projector`` is the role views (built if not given)."""

    def __init__(self, settings: Settings, projector: Projector | None = None) -> None:
        self.settings = settings
        self.fhir_base = settings.public_base_url + "/fhir"
        self.limits = IntakeLimits.from_settings(settings)
        self.pseudonym_key = settings.secret("pseudonym_key")
        self.projector = projector or Projector.from_settings(settings)
        self.research_ids: ResearchIds = self.projector.secrets.ids
        self._page_key = hmac.new(
            settings.secret("token_signing_key"), b"paging", hashlib.sha256
        ).digest()
        self.subjects = SubjectCache()
        # Province pseudonyms kept at intake for the network uplink (set by facade.services).
        self.linkage: LinkageRecorder | None = None

    def page_signature(self, client_id: str, page_id: str) -> str:
        """Binds a HAPI paging id to the client that started the search."""
        return hmac.new(
            self._page_key, f"{client_id}|{page_id}".encode(), hashlib.sha256
        ).hexdigest()[:32]

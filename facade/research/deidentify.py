"""The one door from research extraction to the research view: no de-identification rules live here.

``project_for_research`` shows resources exactly as a ``researcher`` sees them through FHIR REST:
it delegates to ``facade.frontdoor.present.show_resources`` with the researcher's view, which
applies the allow-list projection (``FrontDoor.projector``, view ``deidentified``, declared in
``mappings/views``) and finds each patient's date-shift subject (the regional pseudonym of the
Patient, looked up in HAPI when the Patient is not in the same batch; the FrontDoor's subject
cache keeps the ones already seen).
"""

from __future__ import annotations

from typing import Any

from facade.frontdoor.context import FrontDoor
from facade.frontdoor.present import show_resources
from facade.security.roles import Role
from facade.security.scopes import ScopeSet
from facade.security.tokens import Principal
from facade.upstream import UpstreamClient


def research_principal(researcher: str) -> Principal:
    """The researcher an extract is made for, as the view sees them (no token: a background job)."""
    return Principal(
        client_id=researcher,
        name=researcher,
        role=Role.RESEARCHER,
        org_code=None,
        scopes=ScopeSet(()),
        token_id="research-extract",  # noqa: S106 - a label, not a secret
    )


async def project_for_research(
    resources: list[dict[str, Any]],
    researcher: str,
    door: FrontDoor,
    upstream: UpstreamClient,
) -> list[dict[str, Any] | None]:
    """The resources as the research view shows them, in the same order (None: a type the view
    does not show at all)."""
    return await show_resources(resources, research_principal(researcher), door, upstream)

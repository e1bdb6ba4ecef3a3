"""The FHIR front door as one router: token endpoint, SMART discovery, FHIR read and write.

Its services (token service, caller check, FrontDoor, audit log) are built by
``facade.services.build_services``; the audit writer runs in ``facade.services.lifespan``.
AuditEvents are served from the facade's audit store (facade/audit/api.py), matched before the
generic read routes.
"""

from __future__ import annotations

from fastapi import APIRouter

from facade.audit import api as audit_api
from facade.frontdoor import read, write
from facade.security import api as security_api

router = APIRouter()
router.include_router(security_api.discovery)
router.include_router(security_api.router)
router.include_router(audit_api.router)
router.include_router(read.router)
router.include_router(write.router)

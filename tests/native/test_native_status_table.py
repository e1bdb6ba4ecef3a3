"""The one VTE-X code -> HTTP status table: complete, agreed with the error tree, used by audit, documented."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select

from facade import errors
from facade.audit.log import AuditLog
from facade.audit.tables import AuditRecord
from facade.db import Database
from facade.native.codes import HTTP_STATUS, Code, http_status, reject
from facade.settings import Settings

README = Path(__file__).resolve().parents[2] / "facade" / "native" / "README.md"
# The codes of native-protocol.md §2.10, copied here so a code dropped from Code is noticed.
PROTOCOL_CODES = (
    ["0"]
    + [str(c) for c in range(1001, 1013)]
    + [str(c) for c in range(2001, 2007)]
    + [str(c) for c in range(3001, 3009)]
    + ["5000", "5001"]
)
# Errors whose HTTP status is the FHIR door's own: HAPI's status passed through, or 502.
FHIR_ONLY = (errors.UpstreamError, errors.UpstreamRejected, errors.ProtocolRejected)


def test_every_code_of_the_protocol_has_one_status() -> None:
    assert sorted(c.value for c in HTTP_STATUS) == sorted(PROTOCOL_CODES)
    assert {c.value for c in Code} == set(PROTOCOL_CODES)
    assert http_status("9999") == 500


def test_error_classes_agree_with_the_table() -> None:
    classes = [errors.FacadeError, *_subclasses(errors.FacadeError)]
    checked = [cls for cls in classes if cls not in FHIR_ONLY]
    assert len(checked) >= 8
    for cls in checked:
        assert cls.status == http_status(cls.native_code), cls.__name__


@pytest.mark.parametrize("code", [c for c in Code if c is not Code.OK])
def test_a_refusal_carries_the_status_of_its_code(code: Code) -> None:
    assert errors.http_status_of(reject(code)) == HTTP_STATUS[code]


def test_the_audit_trail_records_the_status_of_each_code(
    settings: Settings, database: Database
) -> None:
    log = AuditLog(settings, database)
    for code in Code:
        log.record_native(app_id="H1", org_code=None, service_code="VTE.PING", outcome_code=code)
    with database.session() as session:
        bodies = [orjson.loads(body) for body in session.scalars(select(AuditRecord.body))]
    statuses = sorted(int(b["outcomeDesc"].split()[0]) for b in bodies)
    assert statuses == sorted(HTTP_STATUS.values())


def test_the_readme_shows_the_table() -> None:
    rows = re.findall(r"^\| `(\d+)` \| [^|]+ \| (\d{3}) \|$", README.read_text(), re.MULTILINE)
    assert {code: int(status) for code, status in rows} == {
        c.value: s for c, s in HTTP_STATUS.items()
    }


def _subclasses(cls: type) -> list[type]:
    return [sub for direct in cls.__subclasses__() for sub in (direct, *_subclasses(direct))]

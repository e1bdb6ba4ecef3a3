"""The production ``RecordProcessor`` of the native gateway: the dictionary decides what is valid.

Per record: find its record type from the service code, check that every record it links to by
recordId is live (3006), validate every field and rule (3001–3005, 3007, with the linked record's
facts for cross-record rules), then prepare the payload (normalised, pseudonymised, minimum
necessary) and keep the facts later records will need.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from datetime import datetime
from typing import Any

from facade.db import Database
from facade.dictionary.models import RecordType
from facade.errors import Issue
from facade.mapping import values
from facade.mapping.engine import MappingEngine
from facade.mapping.facts import FactStore, payload_digest
from facade.mapping.prepare import prepare_payload, warnings
from facade.mapping.validate import issue, location, validate_record
from facade.native.processor import IntakeContext, PreparedRecord
from facade.network.recorder import LinkageRecorder
from facade.settings import Settings

# The period of a record is the discharge of its stay (facade/periods/locks.py).
STAY_RECORD_TYPE = "case"
DISCHARGE_FIELD = "dischargeDateTime"


class DictionaryProcessor:
    """Validates and prepares native records with the data-element dictionary."""

    def __init__(
        self,
        engine: MappingEngine,
        facts: FactStore,
        pseudonym_key: bytes,
        linkage: LinkageRecorder | None = None,
    ) -> None:
        self.engine = engine
        self.facts = facts
        self._key = pseudonym_key
        # Province pseudonyms for the network uplink (facade/network/recorder.py), if configured.
        self.linkage = linkage

    @classmethod
    def from_settings(cls, settings: Settings, database: Database) -> DictionaryProcessor:
        """The processor for an app: dictionary and ConceptMaps from settings, facts in ``database``."""
        return cls(
            MappingEngine.from_settings(settings),
            FactStore.for_settings(settings, database),
            settings.secret("pseudonym_key"),
            LinkageRecorder.for_settings(settings, database),
        )

    @property
    def service_codes(self) -> frozenset[str]:
        """One upload service per record type of the dictionary (VTE.CASE.UPLOAD, VTE.RISK.UPLOAD, ...)."""
        return frozenset(rt.service_code for rt in self.engine.dictionary.record_types.values())

    @contextmanager
    def one_batch(
        self, context: IntakeContext, records: Sequence[Mapping[str, Any]]
    ) -> Iterator[None]:
        """The records the batch links to are looked up together, once, and what preparing the
        batch keeps (facts, linkage pairs) is written once, at its end."""
        with ExitStack() as stack:
            stack.enter_context(self.facts.one_pass())
            if self.linkage is not None:
                stack.enter_context(self.linkage.one_batch())
            rt = self.engine.for_service(context.service_code)
            linked = self.engine.linked_record_ids(rt, records) if rt is not None else {}
            for target, ids in linked.items():
                service = self.engine.record_type(target).service_code
                self.facts.prefetch(context.org_code, service, target, ids)
            yield

    def prepare(
        self, context: IntakeContext, index: int, record: Mapping[str, Any]
    ) -> PreparedRecord | list[Issue]:
        """The prepared record, or every problem found in it."""
        prefix = f"records[{index}]"
        rt = self.engine.for_service(context.service_code)
        if rt is None:
            return [
                issue(
                    prefix,
                    "3003",
                    "service-record-type",
                    f"服务 {context.service_code} 不对应数据字典中的记录类型，请按记录类型选用服务代码",
                )
            ]
        linked, problems = self._links(rt, record, context.org_code, prefix)
        problems += validate_record(
            rt,
            record,
            prefix,
            dictionary=self.engine.dictionary,
            envelope={"orgCode": context.org_code},
            linked=linked,
        )
        if problems:
            return problems
        payload, ignored = prepare_payload(self.engine, rt, record, self._key)
        if self.linkage is not None:
            self.linkage.remember_record(rt, record, payload)
        # Version 1 corrects nothing (a correction must raise recordVersion): no old stay to look up.
        correction = str(record.get("recordVersion", "1")).strip() not in ("", "1")
        anchors = self._period_anchors(rt, payload, linked, context.org_code, correction)
        self._remember(rt, context.org_code, payload)
        return PreparedRecord(payload, warnings(rt, record, ignored, prefix), anchors)

    def _period_anchors(
        self,
        rt: RecordType,
        payload: Mapping[str, Any],
        linked: Mapping[str, Mapping[str, Any] | None],
        org_code: str,
        correction: bool,
    ) -> tuple[datetime, ...]:
        """The discharge moments that put this record in reporting periods (facade/periods).

        A case: its own discharge, and the discharge of the version it corrects. Any record
        linking to a case: that case's discharge. Others (an institution): none.
        """
        texts: list[Any] = []
        if rt.record_type == STAY_RECORD_TYPE:
            texts.append(payload.get(DISCHARGE_FIELD))
            if correction:
                live, old = self.facts.linked(
                    org_code, rt.service_code, rt.record_type, str(payload["recordId"])
                )
                if live is not None:
                    texts.append((old or {}).get(DISCHARGE_FIELD))
        for ref in self.engine.links_by_record_id(rt):
            if ref.record_type == STAY_RECORD_TYPE:
                texts.append((linked.get(ref.by_field or "") or {}).get(DISCHARGE_FIELD))
        zone = self.engine.zone
        return tuple(
            values.parse_native(text).replace(tzinfo=zone)
            for text in texts
            if isinstance(text, str) and text
        )

    def _links(
        self, rt: RecordType, record: Mapping[str, Any], org_code: str, prefix: str
    ) -> tuple[dict[str, Mapping[str, Any] | None], list[Issue]]:
        """Facts of each record this one links to by recordId; 3006 for those never sent."""
        linked: dict[str, Mapping[str, Any] | None] = {}
        problems: list[Issue] = []
        for ref in self.engine.links_by_record_id(rt):
            name = ref.by_field or ""
            raw = record.get(name)
            if values.is_absent(raw) or not isinstance(raw, str):
                continue  # validation reports the missing or malformed field
            target = self.engine.record_type(ref.record_type or "")
            live, facts = self.facts.linked(
                org_code, target.service_code, target.record_type, raw.strip()
            )
            if live is None:
                problems.append(
                    issue(
                        location(prefix, name),
                        "3006",
                        "linked-record",
                        f"引用的{target.zh}记录未上报（请先通过 {target.service_code} 上报）",
                    )
                )
                continue
            linked[name] = facts
        return linked, problems

    def _remember(self, rt: RecordType, org_code: str, payload: Mapping[str, Any]) -> None:
        wanted = self.engine.fact_fields(rt.record_type)
        if not wanted:
            return
        facts = {name: payload[name] for name in sorted(wanted) if name in payload}
        digest = payload_digest(payload)
        self.facts.remember(org_code, rt.record_type, str(payload["recordId"]), digest, facts)

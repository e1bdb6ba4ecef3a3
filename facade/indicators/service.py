"""Evaluate, publish and read indicators: what the HTTP API and the CLI share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

from facade.db import Database
from facade.dictionary.loader import load_dictionary
from facade.errors import Forbidden
from facade.indicators.definitions import Definitions, load_definitions
from facade.indicators.engine import Evaluation, IndicatorEngine
from facade.indicators.incremental import LedgerRefresher
from facade.indicators.periods import Period, parse_period
from facade.indicators.report import (
    build_report,
    find_reports,
    publish_reports,
    region_key,
    report_identifier,
    scope_from_report,
    score_value,
)
from facade.indicators.results import Counts, ScopeResult
from facade.indicators.vocab import Vocabulary
from facade.settings import Settings
from facade.upstream import UpstreamClient


@dataclass(frozen=True)
class Catalog:
    """The loaded definitions and the vocabulary they are searched with."""

    definitions: Definitions
    vocab: Vocabulary


@cache
def _catalog(mappings_dir: Path) -> Catalog:
    return Catalog(
        load_definitions(mappings_dir / "indicators"),
        Vocabulary.from_dictionary(load_dictionary(mappings_dir)),
    )


def catalog(settings: Settings) -> Catalog:
    """Definitions and vocabulary of ``settings.mappings_dir`` (read once per process)."""
    return _catalog(settings.mappings_dir)


def engine(settings: Settings, upstream: UpstreamClient) -> IndicatorEngine:
    """An engine configured from settings."""
    loaded = catalog(settings)
    return IndicatorEngine(
        upstream,
        loaded.definitions,
        loaded.vocab,
        concurrency=settings.indicator_concurrency,
        page_size=settings.indicator_page_size,
        partition_stays=settings.indicator_partition_stays,
    )


@dataclass
class Row:
    """One line of an indicator table."""

    id: str
    name_zh: str
    name_en: str
    populations: Counts
    score: float | None
    methods: dict[str, str]
    report_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "id": self.id,
            "name": {"zh": self.name_zh, "en": self.name_en},
            "populations": self.populations,
            "score": self.score,
            "methods": self.methods,
            "measureReport": self.report_id,
        }


@dataclass
class Table:
    """Indicators of one scope and period."""

    period: str
    scope: str  # an org code, or the region key
    rows: list[Row]

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "period": self.period,
            "scope": self.scope,
            "indicators": [r.as_dict() for r in self.rows],
        }


def ledger(settings: Settings, upstream: UpstreamClient, database: Database) -> LedgerRefresher:
    """The incremental refresher (stay ledger) configured from settings."""
    return LedgerRefresher(
        engine(settings, upstream),
        database,
        margin_seconds=settings.indicator_incremental_margin_seconds,
        max_share=settings.indicator_incremental_max_share,
        reseed_after=timedelta(hours=settings.indicator_incremental_reseed_hours),
    )


async def evaluate_and_publish(
    settings: Settings,
    upstream: UpstreamClient,
    period: str,
    *,
    region: Sequence[str] | None = None,
    publish: Sequence[str | None] | None = None,
    indicators: list[str] | None = None,
    store: bool = True,
    database: Database | None = None,
) -> tuple[Evaluation, dict[str | None, Table]]:
    """Evaluate over ``region`` (None: every hospital) and publish reports for each scope in
    ``publish`` (an org code, or None for the region; None: the region and every hospital);
    return the evaluation and one table per scope.

    With a ``database`` (and every indicator) the figures come from the stay ledger, refreshed
    incrementally (``evaluation.ledger`` says how); otherwise from a full evaluation. The run's
    reports go to HAPI in one transaction: all of them are stored, or none.
    """
    if database is not None and not indicators:
        run = (await ledger(settings, upstream, database).refresh(period, region)).evaluation
    else:
        run = await engine(settings, upstream).evaluate(period, orgs=region, indicators=indicators)
    return run, await publish_evaluation(
        settings, upstream, run, region=region, publish=publish, store=store
    )


async def publish_evaluation(
    settings: Settings,
    upstream: UpstreamClient,
    run: Evaluation,
    *,
    region: Sequence[str] | None = None,
    publish: Sequence[str | None] | None = None,
    store: bool = True,
) -> dict[str | None, Table]:
    """Publish the reports of an evaluation (one transaction) and return one table per scope."""
    definitions = catalog(settings).definitions
    key = region_key(region)
    scopes = list(publish) if publish is not None else [None, *run.orgs]
    ids = list(run.results)
    report_ids: list[str | None] = [None] * (len(scopes) * len(ids))
    if store:
        reports = [
            build_report(
                definitions.indicators[i], run.results[i], run.period, org=scope, region=key
            )
            for scope in scopes
            for i in ids
        ]
        report_ids = list(await publish_reports(upstream, reports))
    tables: dict[str | None, Table] = {}
    for n, scope in enumerate(scopes):
        rows = [
            _row(i, definitions, run.results[i].scope(scope), run, report_ids[n * len(ids) + k])
            for k, i in enumerate(ids)
        ]
        tables[scope] = Table(run.period.label, scope or key, rows)
    return tables


def _row(
    indicator_id: str,
    definitions: Definitions,
    scoped: ScopeResult,
    run: Evaluation | None,
    report_id: str | None,
) -> Row:
    indicator = definitions.indicators[indicator_id]
    methods = {p.code: p.method for p in run.plans[indicator_id]} if run else {}
    return Row(
        indicator.id,
        indicator.name.zh,
        indicator.name.en,
        dict(scoped.populations),
        score_value(scoped.populations),
        methods,
        report_id,
    )


async def read_published(
    settings: Settings,
    upstream: UpstreamClient,
    period: str,
    scope: str | None,
    *,
    region: Sequence[str] | None = None,
) -> Table:
    """The stored reports of one scope and period as a table (indicators never published are left out)."""
    definitions = catalog(settings).definitions
    span: Period = parse_period(period, definitions.rules.tz)
    key = scope or region_key(region)
    wanted = {report_identifier(i, span, key): i.id for i in definitions.indicators.values()}
    found = await find_reports(upstream, sorted(wanted))
    rows = []
    for identifier, indicator_id in wanted.items():
        report = found.get(identifier)
        if report is None:
            continue
        row = _row(
            indicator_id,
            definitions,
            scope_from_report(report),
            None,
            f"MeasureReport/{report.get('id')}",
        )
        rows.append(row)
    rows.sort(key=lambda r: list(definitions.indicators).index(r.id))
    return Table(span.label, key, rows)


def visible_scope(role: str, own_org: str | None, requested: str | None) -> str | None:
    """The scope a caller may see: QC any hospital or the region; a hospital only itself."""
    if role == "qc":
        return requested
    if role == "hospital" and own_org:
        if requested not in (None, own_org):
            raise Forbidden("a hospital may only see its own indicators")
        return own_org
    raise Forbidden(f"role {role} may not read quality indicators")


class IndicatorService:
    """The indicators as one facade serves them: its settings, its upstream client, one catalog."""

    def __init__(self, settings: Settings, upstream: UpstreamClient) -> None:
        self.settings = settings
        self.upstream = upstream

    @property
    def catalog(self) -> Catalog:
        """Definitions and vocabulary (loaded on first use, once per process)."""
        return catalog(self.settings)

    async def evaluate_and_publish(
        self,
        period: str,
        *,
        region: Sequence[str] | None = None,
        publish: Sequence[str | None] | None = None,
    ) -> tuple[Evaluation, dict[str | None, Table]]:
        """Evaluate over ``region`` and publish the reports of each scope in ``publish``."""
        return await evaluate_and_publish(
            self.settings, self.upstream, period, region=region, publish=publish
        )

    async def read_published(
        self, period: str, scope: str | None, *, region: Sequence[str] | None = None
    ) -> Table:
        """The stored reports of one scope and period as a table."""
        return await read_published(self.settings, self.upstream, period, scope, region=region)

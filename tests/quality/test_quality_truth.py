"""Every data-quality check equals the generator's ground truth, through the real gateway, for three seeds."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
from quality_kit import replayed

from facade.db import Database
from facade.indicators.periods import parse_period
from facade.settings import Settings
from facade.synth.dq_truth import expected_quality


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_check_equals_the_ground_truth(
    settings: Settings, database: Database, seed: int
) -> None:
    with replayed(settings, database, seed) as run:
        rules, defects = run.rules, run.defects
        truth = expected_quality(defects, rules)
        today = date.fromtimestamp(run.clock() + 8 * 3600)  # the report's local day
        months = sorted({month for (_org, month, _check) in truth.tally})
        seen: Counter[str] = Counter()
        for org in [h.org_code for h in defects.hospitals]:
            for month in months:
                report = run.service.report(month, org)
                period = parse_period(month, rules.config.tz)
                first = period.start.date()
                last = period.end.date() - timedelta(days=1)
                daily = truth.daily(rules, org, first, last, today)
                for row in report["rules"]:
                    if row["id"] in daily:
                        want = daily[row["id"]]
                    else:
                        want = truth.counts(org, [month], row["id"])
                    got = (row["numerator"], row["denominator"])
                    assert got == want, (org, month, row["id"])
                    seen[row["id"]] += row["numerator"]
        # every check found something, and at least what was injected into it
        for check_id in rules.checks:
            assert seen[check_id] >= defects.injected[check_id] >= 1, check_id
        # a quarter is the sum of its months
        quarter = run.service.report("2026-Q1", defects.hospitals[0].org_code)
        row = next(r for r in quarter["rules"] if r["id"] == "conformance.refused.3001")
        org = defects.hospitals[0].org_code
        assert (row["numerator"], row["denominator"]) == truth.counts(
            org, ["2026-01", "2026-02", "2026-03"], "conformance.refused.3001"
        )

"""k-anonymity: the least generalisation that suppresses at most the allowed share, and k holds."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

from facade.research.privacy import StayQi, anonymise, class_values, load_rules, small_cell

RULES = load_rules(Path(__file__).resolve().parents[2] / "mappings" / "research" / "privacy.yaml")


def _stays(n: int) -> list[StayQi]:
    out = []
    for i in range(n):
        out.append(
            StayQi(
                stay=f"Encounter/s{i}",
                patient=f"p{i // 2}",
                age=20 + (i * 7) % 70,
                gender="male" if i % 3 else "female",
                region=None,
                admission=date(2026, 1 + i % 3, 1 + i % 27),
            )
        )
    return out


def test_every_released_class_has_at_least_k_stays() -> None:
    stays = _stays(120)
    report, kept = anonymise(stays, RULES, 5)
    sizes = Counter(kept.values())
    assert min(sizes.values()) >= 5
    assert report.smallest_class == min(sizes.values())
    assert report.stays_out == len(kept) == 120 - len(report.suppressed_stays)
    assert len(report.suppressed_stays) <= int(0.05 * 120)
    # generalised, not the finest level: 5-year bands x month could not reach k=5 here
    assert report.levels != {q.name: q.levels[0] for q in RULES.quasi_identifiers}
    # the released QI values are the class keys
    by_id = {s.stay: s for s in stays}
    for stay, key in kept.items():
        assert "|".join(class_values(RULES, report.levels, by_id[stay]).values()) == key


def test_a_unique_outlier_is_suppressed_with_its_patient() -> None:
    stays = [
        StayQi(f"Encounter/a{i}", f"p{i}", 40, "male", "浙江省", date(2026, 1, 5))
        for i in range(40)
    ]
    stays.append(StayQi("Encounter/odd", "lonely", 99, "female", "西藏自治区", date(2026, 1, 5)))
    report, kept = anonymise(stays, RULES, 5)
    assert report.levels == {
        "age_band": "band-5",
        "sex": "value",
        "region": "value",
        "admission": "month",
    }
    assert report.suppressed_stays == ["Encounter/odd"] and report.suppressed_patients == ["lonely"]
    assert "Encounter/odd" not in kept and len(kept) == 40


def test_too_few_stays_release_nothing() -> None:
    report, kept = anonymise(_stays(4), RULES, 5)
    assert kept == {} and report.stays_out == 0 and len(report.suppressed_stays) == 4


def test_small_cells_are_withheld() -> None:
    assert [small_cell(n, 5) for n in (0, 1, 4, 5, 17)] == [0, None, None, 5, 17]

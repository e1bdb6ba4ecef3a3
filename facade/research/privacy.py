"""Privacy checks before delivery: k-anonymity over declared quasi-identifiers, small-cell suppression.

Quasi-identifiers and their generalisation ladders are data (``mappings/research/privacy.yaml``).
Every released stay falls into an equivalence class (its quasi-identifiers at the chosen levels);
``anonymise`` picks the least generalised levels that leave at most ``max_suppressed_share`` of
the stays in classes smaller than k, suppresses those stays, and reports what it did.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from facade.errors import ConfigurationError

ANY = "*"
UNKNOWN = "unknown"


class QuasiIdentifier(BaseModel):
    """One declared quasi-identifier and its ladder, finest first."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    source: Literal["age", "gender", "region", "admission"]
    levels: list[str] = Field(min_length=1)


class PrivacyRules(BaseModel):
    """``privacy.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1)
    max_suppressed_share: float = Field(ge=0, le=1)
    quasi_identifiers: list[QuasiIdentifier] = Field(min_length=1)


_LEVELS = {
    "age": {"band-5", "band-10", "band-20", "any"},
    "gender": {"value", "any"},
    "region": {"value", "any"},
    "admission": {"day", "month", "quarter", "year", "any"},
}


def load_rules(path: Path) -> PrivacyRules:
    """Load and check the quasi-identifier declaration; errors name the file and key."""
    try:
        rules = PrivacyRules.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ConfigurationError(f"{path.name}: {exc}") from exc
    for index, qi in enumerate(rules.quasi_identifiers):
        unknown = set(qi.levels) - _LEVELS[qi.source]
        if unknown:
            raise ConfigurationError(
                f"{path.name}: quasi_identifiers[{index}].levels: unknown {sorted(unknown)} "
                f"for source {qi.source}"
            )
    return rules


@dataclass(frozen=True)
class StayQi:
    """What the quasi-identifiers of one released stay are read from (after the research view)."""

    stay: str  # Encounter/<research id>
    patient: str | None
    age: int | None
    gender: str | None
    region: str | None
    admission: date | None


def generalise(source: str, level: str, stay: StayQi) -> str:
    """One quasi-identifier of a stay at one level."""
    if level == "any":
        return ANY
    if source == "age":
        if stay.age is None:
            return UNKNOWN
        width = int(level.removeprefix("band-"))
        low = stay.age // width * width
        return f"{low}-{low + width - 1}"
    if source == "gender":
        return stay.gender or UNKNOWN
    if source == "region":
        return stay.region or UNKNOWN
    moment = stay.admission
    if moment is None:
        return UNKNOWN
    if level == "day":
        return moment.isoformat()
    if level == "month":
        return f"{moment.year:04d}-{moment.month:02d}"
    if level == "quarter":
        return f"{moment.year:04d}-Q{(moment.month - 1) // 3 + 1}"
    return f"{moment.year:04d}"


@dataclass
class PrivacyReport:
    """What k-anonymity did to one extract (goes into the manifest)."""

    k: int
    quasi_identifiers: list[str]
    levels: dict[str, str]
    stays_in: int
    stays_out: int
    suppressed_stays: list[str] = field(default_factory=list)
    suppressed_patients: list[str] = field(default_factory=list)
    classes: int = 0
    smallest_class: int = 0
    combinations_tried: int = 0

    def as_dict(self) -> dict[str, Any]:
        """Manifest form (suppressed ids are counted, not listed)."""
        return {
            "model": "k-anonymity",
            "k": self.k,
            "quasiIdentifiers": self.quasi_identifiers,
            "levels": self.levels,
            "staysBefore": self.stays_in,
            "staysReleased": self.stays_out,
            "staysSuppressed": len(self.suppressed_stays),
            "patientsSuppressed": len(self.suppressed_patients),
            "equivalenceClasses": self.classes,
            "smallestClass": self.smallest_class,
            "combinationsTried": self.combinations_tried,
        }


def anonymise(
    stays: list[StayQi], rules: PrivacyRules, k: int
) -> tuple[PrivacyReport, dict[str, str]]:
    """Choose levels, suppress small classes; returns the report and each kept stay's class key."""
    qis = rules.quasi_identifiers
    ladders = [range(len(q.levels)) for q in qis]
    # Finest first: by total generalisation, then generalise earlier quasi-identifiers first.
    combos = sorted(itertools.product(*ladders), key=lambda c: (sum(c), [-i for i in c]))
    allowed = int(rules.max_suppressed_share * len(stays))
    chosen: tuple[int, ...] = combos[-1]
    keys: dict[str, str] = {}
    tried = 0
    for combo in combos:
        tried += 1
        keys = {s.stay: _key(qis, combo, s) for s in stays}
        sizes = Counter(keys.values())
        small = sum(n for n in sizes.values() if n < k)
        if small <= allowed:
            chosen = combo
            break
    else:
        keys = {s.stay: _key(qis, chosen, s) for s in stays}
    sizes = Counter(keys.values())
    dropped = {stay for stay, key in keys.items() if sizes[key] < k}
    kept_patients = {s.patient for s in stays if s.stay not in dropped}
    lost_patients = sorted({s.patient for s in stays if s.patient} - kept_patients - {None})
    kept = {stay: key for stay, key in keys.items() if stay not in dropped}
    final = Counter(kept.values())
    report = PrivacyReport(
        k=k,
        quasi_identifiers=[q.name for q in qis],
        levels={q.name: q.levels[i] for q, i in zip(qis, chosen, strict=True)},
        stays_in=len(stays),
        stays_out=len(kept),
        suppressed_stays=sorted(dropped),
        suppressed_patients=[p for p in lost_patients if p is not None],
        classes=len(final),
        smallest_class=min(final.values()) if final else 0,
        combinations_tried=tried,
    )
    return report, kept


def class_values(rules: PrivacyRules, levels: dict[str, str], stay: StayQi) -> dict[str, str]:
    """A stay's quasi-identifiers at the chosen levels, by name (the released QI table's row)."""
    return {q.name: generalise(q.source, levels[q.name], stay) for q in rules.quasi_identifiers}


def _key(qis: list[QuasiIdentifier], combo: tuple[int, ...], stay: StayQi) -> str:
    return "|".join(
        generalise(q.source, q.levels[i], stay) for q, i in zip(qis, combo, strict=True)
    )


def small_cell(count: int, minimum: int) -> int | None:
    """An aggregate as released: exact when zero or at least ``minimum``, else withheld (None)."""
    return count if count == 0 or count >= minimum else None


def suppress_cells(counts: Iterable[tuple[str, int]], minimum: int) -> dict[str, int | None]:
    """Apply ``small_cell`` to every cell of a table of counts."""
    return {key: small_cell(value, minimum) for key, value in counts}

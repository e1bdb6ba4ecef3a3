"""OHDSI vocabulary for OMOP extracts: load an Athena export, look codes up, follow ``Maps to``.

``load`` reads ``CONCEPT.csv`` and ``CONCEPT_RELATIONSHIP.csv`` (tab-separated, as Athena ships
them; ``VOCABULARY.csv`` is read for the release name when present) in three streaming passes:
concepts of the source vocabularies the facade maps from (``mappings/research/omop.yaml``),
their valid ``Maps to`` relationships, then the standard concepts those point at. Nothing else
of a multi-gigabyte export is kept. A new load replaces the previous one in one transaction.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select

from facade.db import Database
from facade.errors import InvalidInput, Issue
from facade.research.tables import OmopConcept, OmopConceptMap, OmopVocabularyLoad

_BATCH = 5000
_REQUIRED = ("CONCEPT.csv", "CONCEPT_RELATIONSHIP.csv")


@dataclass(frozen=True)
class LoadResult:
    """What a load kept."""

    concepts: int
    mappings: int
    release: str | None


def _rows(path: Path) -> Iterator[dict[str, str]]:
    csv.field_size_limit(sys.maxsize)
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        yield from reader


def _check_columns(path: Path, needed: tuple[str, ...]) -> None:
    with path.open(encoding="utf-8") as handle:
        header = handle.readline().rstrip("\r\n").split("\t")
    missing = [c for c in needed if c not in header]
    if missing:
        raise InvalidInput(
            f"{path.name} lacks column(s) {', '.join(missing)} (is it tab-separated?)",
            issues=[Issue(path.name, "athena-columns", f"missing {', '.join(missing)}")],
        )


def load(database: Database, directory: Path, source_vocabularies: set[str]) -> LoadResult:
    """Replace the stored vocabulary with the relevant part of an Athena export in ``directory``."""
    for name in _REQUIRED:
        if not (directory / name).is_file():
            raise InvalidInput(
                f"{directory} has no {name}",
                issues=[Issue(name, "athena-export", "expected an OHDSI Athena vocabulary export")],
            )
    concept_file = directory / "CONCEPT.csv"
    relation_file = directory / "CONCEPT_RELATIONSHIP.csv"
    _check_columns(
        concept_file,
        (
            "concept_id",
            "concept_name",
            "domain_id",
            "vocabulary_id",
            "concept_class_id",
            "standard_concept",
            "concept_code",
            "invalid_reason",
        ),
    )
    _check_columns(
        relation_file, ("concept_id_1", "concept_id_2", "relationship_id", "invalid_reason")
    )
    kept: dict[int, OmopConcept] = {}
    for row in _rows(concept_file):
        if row["vocabulary_id"] in source_vocabularies:
            kept[int(row["concept_id"])] = _concept(row)
    maps: set[tuple[int, int]] = set()
    for row in _rows(relation_file):
        if row["relationship_id"] != "Maps to" or (row.get("invalid_reason") or "").strip():
            continue
        source = int(row["concept_id_1"])
        if source in kept:
            maps.add((source, int(row["concept_id_2"])))
    wanted = {target for _, target in maps} - set(kept)
    if wanted:
        for row in _rows(concept_file):
            cid = int(row["concept_id"])
            if cid in wanted:
                kept[cid] = _concept(row)
    release = _release(directory)
    with database.session() as session:
        session.execute(delete(OmopConceptMap))
        session.execute(delete(OmopConcept))
        concepts = list(kept.values())
        for start in range(0, len(concepts), _BATCH):
            session.add_all(concepts[start : start + _BATCH])
            session.flush()
        valid = [(s, t) for s, t in sorted(maps) if t in kept]
        for start in range(0, len(valid), _BATCH):
            session.add_all(
                OmopConceptMap(source_concept_id=s, target_concept_id=t)
                for s, t in valid[start : start + _BATCH]
            )
            session.flush()
        session.add(
            OmopVocabularyLoad(
                source=str(directory), release=release, concepts=len(concepts), mappings=len(valid)
            )
        )
    return LoadResult(len(kept), len(valid), release)


def _concept(row: dict[str, str]) -> OmopConcept:
    return OmopConcept(
        concept_id=int(row["concept_id"]),
        concept_name=row["concept_name"][:255],
        domain_id=row["domain_id"][:20],
        vocabulary_id=row["vocabulary_id"][:20],
        concept_class_id=row["concept_class_id"][:20],
        standard_concept=(row.get("standard_concept") or "").strip() or None,
        concept_code=row["concept_code"][:50],
        invalid_reason=(row.get("invalid_reason") or "").strip() or None,
    )


def _release(directory: Path) -> str | None:
    path = directory / "VOCABULARY.csv"
    if not path.is_file():
        return None
    for row in _rows(path):
        if row.get("vocabulary_id") == "None":
            return (row.get("vocabulary_version") or "").strip() or None
    return None


@dataclass(frozen=True)
class Concept:
    """What an OMOP row needs of a concept."""

    concept_id: int
    domain_id: str


class Vocabulary:
    """The loaded vocabulary in memory for one extract (empty when none was loaded)."""

    def __init__(
        self,
        codes: dict[tuple[str, str], Concept],
        standard: dict[int, Concept],
        release: str | None,
        known: frozenset[int] = frozenset(),
    ) -> None:
        self._codes = codes
        self._standard = standard
        self._known = known
        self.release = release

    @classmethod
    def from_database(cls, database: Database) -> Vocabulary:
        """Read the stored vocabulary (source concepts by code, and their standard targets)."""
        with database.session() as session:
            concepts = {c.concept_id: c for c in session.scalars(select(OmopConcept))}
            maps = list(
                session.execute(
                    select(OmopConceptMap.source_concept_id, OmopConceptMap.target_concept_id)
                )
            )
            last = session.scalars(
                select(OmopVocabularyLoad).order_by(OmopVocabularyLoad.id.desc()).limit(1)
            ).first()
        codes = {
            (c.vocabulary_id, c.concept_code): Concept(c.concept_id, c.domain_id)
            for c in concepts.values()
        }
        standard: dict[int, Concept] = {}
        for source, target in maps:
            found = concepts.get(target)
            if found is not None and found.standard_concept == "S":
                standard[source] = Concept(found.concept_id, found.domain_id)
        release = (last.release or f"loaded {last.loaded_at:%Y-%m-%d}") if last else None
        known = frozenset(c.concept_id for c in concepts.values() if c.standard_concept == "S")
        return cls(codes, standard, release, known)

    @classmethod
    def empty(cls) -> Vocabulary:
        """No vocabulary: every concept id is 0."""
        return cls({}, {}, None)

    def fixed(self, concept_id: int) -> int:
        """A CDM convention concept (e.g. 9201) if the loaded vocabulary has it as standard, else 0."""
        return concept_id if concept_id in self._known else 0

    @property
    def loaded(self) -> bool:
        """Whether any vocabulary is loaded."""
        return bool(self._codes)

    def source(self, vocabulary_id: str, code: str) -> Concept | None:
        """The source concept of a code; a national-edition code falls back to its shorter stems
        (``I80.200`` → ``I80.20`` → ``I80.2`` → ``I80``), the full code staying in source_value."""
        candidate = code
        while candidate:
            found = self._codes.get((vocabulary_id, candidate))
            if found is not None:
                return found
            candidate = candidate[:-1].rstrip(".")
            if len(candidate) < 3:
                return None
        return None

    def standard(self, source: Concept | None) -> Concept | None:
        """The standard concept a source concept maps to (itself when it is standard)."""
        if source is None:
            return None
        return self._standard.get(source.concept_id)

"""IdStore: derived ids, and the legacy ids an installation adopted from conditional updates."""

from __future__ import annotations

from facade.db import Database
from facade.db.statements import IN_LIST_SIZE
from facade.forward.ids import IdStore, derived_id


def _identity(n: int) -> str:
    return f"Encounter?identifier=urn:oid:2.16.156.1|E{n:05d}"


def test_legacy_ids_are_kept_and_used_and_the_rest_derived(database: Database) -> None:
    store = IdStore(database)
    # More than one IN list's worth, so the look-ups are split.
    adopted = {_identity(n): f"Encounter/{1000 + n}" for n in range(IN_LIST_SIZE + 20)}
    assert store.remember_legacy(adopted) == len(adopted)
    assert store.remember_legacy({_identity(0): "Encounter/other"}) == 0  # the first one stays
    store.set_scheme("derived")

    newcomer = _identity(IN_LIST_SIZE + 100)
    wanted = [*adopted, newcomer, "Patient?_has:Encounter:subject:identifier=x|y"]
    ids = store.ids(store.scheme(), wanted)

    assert ids.target(_identity(0)) == "Encounter/1000"
    assert ids.target(_identity(IN_LIST_SIZE + 19)) == f"Encounter/{1000 + IN_LIST_SIZE + 19}"
    assert ids.target(newcomer) == f"Encounter/{derived_id(newcomer)}"
    assert ids.literal_id(newcomer) == derived_id(newcomer)


def test_the_conditional_scheme_keeps_the_conditional_urls(database: Database) -> None:
    store = IdStore(database)
    assert store.scheme() == "derived"  # a new database starts derived (migration forward_0001)
    store.set_scheme("conditional")
    assert store.scheme() == "conditional"
    ids = store.ids(store.scheme(), [_identity(1)])
    assert ids.target(_identity(1)) == _identity(1)
    assert ids.literal_id(_identity(1)) is None

"""Invalid examples: each breaks one key constraint of a valid example (``profiles/invalid-examples.yaml``).

They are patches (RFC 6902 add/remove/replace) on the generated valid examples, so a change to a
valid example carries over, and each names the constraint HAPI's OperationOutcome must report.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from facade.dictionary.loader import DictionaryError
from facade.fhir.naming import profile_url

MANIFEST = "invalid-examples.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PatchOp(_Strict):
    """One JSON Patch operation (RFC 6902 subset)."""

    op: Literal["add", "remove", "replace"]
    path: str = Field(pattern=r"^(/[^/]*)+$")
    value: Any = None


class InvalidExample(_Strict):
    """A valid example with one constraint broken, and what HAPI must say about it."""

    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    base: str = Field(description="id of the valid example it is derived from")
    profile: str = Field(description="id of the profile validated against")
    constraint: str = Field(description="the rule broken: invariant key, or element + rule kind")
    description: str
    patch: list[PatchOp] = Field(min_length=1)
    expect: list[str] = Field(
        min_length=1, description="texts one error issue must contain (all of them)"
    )

    @property
    def profile_url(self) -> str:
        """Canonical URL of the profile."""
        return profile_url(self.profile)


class _Manifest(_Strict):
    version: int = Field(ge=1)
    examples: list[InvalidExample]


def load_invalid_examples(project_dir: Path) -> list[InvalidExample]:
    """Read the manifest; raise DictionaryError naming the key on a malformed entry."""
    path = project_dir / MANIFEST
    try:
        manifest = _Manifest.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise DictionaryError(f"profiles/{MANIFEST}: {where}: {first['msg']}") from exc
    ids = [e.id for e in manifest.examples]
    if len(set(ids)) != len(ids):
        raise DictionaryError(f"profiles/{MANIFEST}: examples: ids must be unique")
    return manifest.examples


def materialise(example: InvalidExample, resources_dir: Path) -> dict[str, Any]:
    """The invalid resource: the base example with the patch applied (and its own id)."""
    matches = [p for p in resources_dir.glob(f"*-{example.base}.json")]
    if len(matches) != 1:
        raise DictionaryError(
            f"profiles/{MANIFEST}: {example.id}: no single valid example {example.base!r}"
        )
    resource: dict[str, Any] = json.loads(matches[0].read_text(encoding="utf-8"))
    resource["id"] = example.id
    for op in example.patch:
        apply_op(resource, op)
    return resource


def apply_op(document: Any, op: PatchOp) -> None:
    """Apply one add/remove/replace to ``document`` in place; KeyError/IndexError if the path is absent."""
    *parents, last = [part.replace("~1", "/").replace("~0", "~") for part in op.path.split("/")[1:]]
    target = document
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    value = copy.deepcopy(op.value)
    if isinstance(target, list):
        index = len(target) if last == "-" else int(last)
        if op.op == "add":
            target.insert(index, value)
        elif op.op == "remove":
            del target[index]
        else:
            target[index] = value
        return
    if op.op == "remove":
        del target[last]
    elif op.op == "replace" and last not in target:
        raise KeyError(last)
    else:
        target[last] = value

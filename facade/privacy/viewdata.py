"""The role views as data (``mappings/views/*.yaml``), read into strict models at start-up.

Schema documentation: ``mappings/README.md`` ("Role views"). Whether the data covers every element
of every profile is checked in ``facade.privacy.coverage``; this module only reads and types it.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from facade.dictionary.loader import read_model
from facade.errors import ConfigurationError
from facade.security.roles import View

DATATYPES_FILE = "_datatypes.yaml"
EXTENSIONS_FILE = "_extensions.yaml"
# The views the data declares; STORED shows data as stored and needs no rules.
VIEWS: tuple[View, ...] = (View.PSEUDONYMISED, View.DEIDENTIFIED)


class ViewsError(ConfigurationError):
    """The view data is malformed or incomplete; the message names the file, key or element."""


class Transform(StrEnum):
    """What a view does to one element (README of mappings/views has the table with reasons)."""

    KEEP = "keep"  # primitive as stored; complex: shown through its own elements' rules
    DROP = "drop"
    DATE_SHIFT = "date-shift"  # by the patient's secret offset (facade/privacy/dates.py)
    YEAR = "year"  # a date generalised to its year
    PSEUDONYMISE = "pseudonymise"  # Identifier.value -> keyed token (regional pseudonym kept)
    RESEARCH_PSEUDONYM = "research-pseudonym"  # Patient.identifier -> the research pseudonym only
    DISPLAY = "display"  # Coding.display re-derived from the code system, else absent
    UCUM_UNIT = "ucum-unit"  # Quantity.unit re-derived from a UCUM code, else absent
    ENCRYPT_ID = "encrypt-id"  # Resource.id -> research id (facade/privacy/ids.py)
    RELATIVE_REFERENCE = "relative-reference"  # only Type/id references to stored resources
    RESEARCH_REFERENCE = "research-reference"  # Type/<research id>
    TAGS = "tags"  # Meta.tag: only the tags listed in _datatypes.yaml
    IG_PROFILES = "ig-profiles"  # Meta.profile: only the guide's own profiles
    DECLARED_EXTENSIONS = "declared-extensions"  # only extensions of _extensions.yaml


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _rule_input(value: Any) -> Any:
    """A bare transform name applies to every view."""
    if isinstance(value, str):
        return {view.value: value for view in VIEWS}
    return value


class Rule(_Strict):
    """One element's transform in each view, and why."""

    pseudonymised: Transform
    deidentified: Transform
    why: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _enums(cls, data: Any) -> Any:
        # strict mode takes enums only as members; YAML gives strings
        if isinstance(data, dict):
            data = dict(data)
            for view in VIEWS:
                if isinstance(data.get(view.value), str):
                    try:
                        data[view.value] = Transform(data[view.value])
                    except ValueError as exc:
                        raise ValueError(
                            f"{view.value}: {data[view.value]!r} is not a transform; "
                            f"one of {', '.join(t.value for t in Transform)}"
                        ) from exc
        return data

    def of(self, view: View) -> Transform:
        """The transform in one view."""
        return self.deidentified if view is View.DEIDENTIFIED else self.pseudonymised


RuleSpec = Annotated[Rule, BeforeValidator(_rule_input)]


class TagSpec(_Strict):
    """Meta.tag codings the ``tags`` transform keeps: a system, and optionally only some codes."""

    system: str
    codes: list[str] | None = None
    why: str | None = None


class DataTypesFile(_Strict):
    """``_datatypes.yaml``: rules for the elements of data types, shared by every resource."""

    version: int = Field(ge=1)
    tags: list[TagSpec]
    types: dict[str, dict[str, RuleSpec]]


class ExtensionRules(_Strict):
    """Rules of one of the guide's extensions: its value[x] choices, or its sub-extensions."""

    values: dict[str, RuleSpec] = Field(default_factory=dict)
    subs: dict[str, dict[str, RuleSpec]] = Field(default_factory=dict)
    why: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shape(cls, data: Any) -> Any:
        # YAML writes value names and "extension" side by side; split them here.
        if not isinstance(data, dict):
            return data
        out: dict[str, Any] = {"values": {}, "subs": {}}
        for key, value in data.items():
            if key == "why":
                out["why"] = value
            elif key == "extension":
                out["subs"] = value
            elif isinstance(key, str) and key.startswith("value"):
                out["values"][key] = value
            else:
                raise ValueError(f"{key}: only value[x] names, 'extension' and 'why' are allowed")
        return out


class ExtensionsFile(_Strict):
    """``_extensions.yaml``: the guide's extensions each view shows (any other is dropped)."""

    version: int = Field(ge=1)
    extensions: dict[str, ExtensionRules]


class ResourceView(_Strict):
    """``<type>.yaml``: one resource type's elements in each view."""

    version: int = Field(ge=1)
    type: str
    # How the resource names its patient (dates move by that patient's offset): "self" for
    # Patient, "subject" for Type.subject, "none" when it is about no person (its dates stay).
    patient: Literal["self", "subject", "none"]
    why: str | None = None
    elements: dict[str, RuleSpec]


class ViewData:
    """Every view file of ``mappings/views``, typed."""

    def __init__(
        self,
        root: Path,
        datatypes: DataTypesFile,
        extensions: ExtensionsFile,
        resources: dict[str, ResourceView],
    ) -> None:
        self.root = root
        self.datatypes = datatypes
        self.extensions = extensions
        self.resources = resources

    def file_of(self, resource_type: str | None) -> str:
        """The file a rule lives in, for messages."""
        if resource_type is None:
            return DATATYPES_FILE
        return f"{resource_type.lower()}.yaml"

    def type_rule(self, definition_path: str) -> Rule | None:
        """The data-type rule of ``Type.element`` (``Coding.display``), if declared."""
        owner, _, rest = definition_path.partition(".")
        return self.datatypes.types.get(owner, {}).get(rest)


def load_view_data(views_dir: Path) -> ViewData:
    """Read ``views_dir``; raise ViewsError naming the file and key on any problem."""
    datatypes = read_model(DataTypesFile, views_dir / DATATYPES_FILE, ViewsError)
    extensions = read_model(ExtensionsFile, views_dir / EXTENSIONS_FILE, ViewsError)
    resources: dict[str, ResourceView] = {}
    for path in sorted(views_dir.glob("*.yaml")):
        if path.name.startswith("_"):
            continue
        view = read_model(ResourceView, path, ViewsError)
        if view.type.lower() != path.stem:
            raise ViewsError(
                f"{_show(path)}: type: {view.type!r} must match the file name {path.stem!r}"
            )
        resources[view.type] = view
    return ViewData(views_dir, datatypes, extensions, resources)


def _show(path: Path) -> str:
    parts = path.parts
    return "/".join(parts[-3:]) if len(parts) >= 3 else str(path)

"""The data-element dictionary: record types, fields, code tables and their FHIR targets (mappings/)."""

from facade.dictionary.codetables import CodeTable, Concept, ConceptMapSpec
from facade.dictionary.loader import Dictionary, DictionaryError, load_dictionary
from facade.dictionary.models import MAIN, Field, Group, RecordType, Reference, ResourceSpec, Target
from facade.dictionary.paths import PathError, Step, parse, resolve

__all__ = [
    "MAIN",
    "CodeTable",
    "Concept",
    "ConceptMapSpec",
    "Dictionary",
    "DictionaryError",
    "Field",
    "Group",
    "PathError",
    "RecordType",
    "Reference",
    "ResourceSpec",
    "Step",
    "Target",
    "load_dictionary",
    "parse",
    "resolve",
]

"""Personal-data protection shared by every door: keyed pseudonyms and identity-number checks."""

from facade.privacy.pseudonym import regional_pseudonym, research_pseudonym

__all__ = ["regional_pseudonym", "research_pseudonym"]

"""Console texts in Chinese (first) and English, kept as data in ``locales/<lang>.yaml``.

Both files must define exactly the same keys (checked at load), and a template asking for an
unknown key fails loudly instead of showing the key to a user.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from facade.errors import ConfigurationError

LANGUAGES = ("zh-CN", "en")
LOCALES = Path(__file__).parent / "locales"


def _flatten(prefix: str, node: Any, out: dict[str, str], source: Path) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), value, out, source)
        return
    if not isinstance(node, str) or not node.strip():
        raise ConfigurationError(f"{source.name}: {prefix} must be a non-empty text")
    out[prefix] = node


@cache
def messages(directory: Path = LOCALES) -> dict[str, dict[str, str]]:
    """Texts per language, flattened to dotted keys (``nav.indicators``)."""
    loaded: dict[str, dict[str, str]] = {}
    for language in LANGUAGES:
        path = directory / f"{language}.yaml"
        flat: dict[str, str] = {}
        _flatten("", yaml.safe_load(path.read_text(encoding="utf-8")), flat, path)
        loaded[language] = flat
    first, *others = LANGUAGES
    for language in others:
        missing = sorted(set(loaded[first]) ^ set(loaded[language]))
        if missing:
            raise ConfigurationError(
                f"console texts differ between {first} and {language}: {', '.join(missing[:10])}"
            )
    return loaded


class Translator:
    """``t("nav.indicators")`` in one language; ``t("x", n=3)`` fills ``{n}``."""

    def __init__(self, language: str, texts: dict[str, str]) -> None:
        self.language = language
        self.texts = texts

    def __call__(self, key: str, **values: Any) -> str:
        text = self.texts[key]  # KeyError: a template names a text that does not exist
        return text.format(**values) if values else text


def translator(language: str) -> Translator:
    """The translator of a language (the first language for anything unknown)."""
    chosen = language if language in LANGUAGES else LANGUAGES[0]
    return Translator(chosen, messages()[chosen])

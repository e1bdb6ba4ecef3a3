"""The dictionary, layout and template one facade process serves, built once."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from fastapi import FastAPI

from facade.dictionary.loader import Dictionary, load_dictionary
from facade.excel.layout import Layout, build_layout
from facade.excel.template import build_template, template_filename
from facade.settings import Settings


@dataclass
class ExcelAssets:
    """What the Excel routes and CLI need from the dictionary; the template is generated on first use."""

    dictionary: Dictionary
    layout: Layout
    max_file_mb: int
    _template: bytes | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def filename(self) -> str:
        """The versioned file name of the template."""
        return template_filename(self.layout)

    def template(self) -> bytes:
        """The template workbook (built once per process)."""
        with self._lock:
            if self._template is None:
                self._template = build_template(
                    self.dictionary, self.layout, max_file_mb=self.max_file_mb
                )
            return self._template


def load_assets(settings: Settings, dictionary: Dictionary | None = None) -> ExcelAssets:
    """Assets from ``dictionary`` or, when not given, from ``settings.mappings_dir``."""
    loaded = dictionary or load_dictionary(settings.mappings_dir)
    layout = build_layout(loaded, settings.excel_max_rows_per_sheet)
    return ExcelAssets(loaded, layout, max(1, settings.excel_max_file_bytes // (1024 * 1024)))


def app_assets(app: FastAPI) -> ExcelAssets:
    """The app's assets, using the dictionary the app already loaded (``app.state.dictionary``) if any."""
    existing = getattr(app.state, "excel_assets", None)
    if isinstance(existing, ExcelAssets):
        return existing
    shared = getattr(app.state, "dictionary", None)
    assets = load_assets(app.state.settings, shared if isinstance(shared, Dictionary) else None)
    app.state.excel_assets = assets
    return assets

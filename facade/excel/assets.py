"""The dictionary, layout and template one facade process serves, each built once on first use."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from facade.dictionary.loader import Dictionary, load_dictionary
from facade.excel.layout import Layout, build_layout
from facade.excel.template import build_template, template_filename
from facade.settings import Settings


@dataclass
class ExcelAssets:
    """What the Excel routes and CLI need from the dictionary.

    The layout and the template are built on first use (a few hundred milliseconds each), so an
    app that never serves Excel never pays for them.
    """

    dictionary: Dictionary
    max_rows: int
    max_file_mb: int
    _layout: Layout | None = None
    _template: bytes | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def layout(self) -> Layout:
        """The template layout of the dictionary."""
        with self._lock:
            if self._layout is None:
                self._layout = build_layout(self.dictionary, self.max_rows)
            return self._layout

    @property
    def filename(self) -> str:
        """The versioned file name of the template."""
        return template_filename(self.layout)

    def template(self) -> bytes:
        """The template workbook (built once per process)."""
        layout = self.layout
        with self._lock:
            if self._template is None:
                self._template = build_template(
                    self.dictionary, layout, max_file_mb=self.max_file_mb
                )
            return self._template


def load_assets(settings: Settings, dictionary: Dictionary | None = None) -> ExcelAssets:
    """Assets from ``dictionary`` or, when not given, from ``settings.mappings_dir``."""
    loaded = dictionary or load_dictionary(settings.mappings_dir)
    return ExcelAssets(
        loaded,
        settings.excel_max_rows_per_sheet,
        max(1, settings.excel_max_file_bytes // (1024 * 1024)),
    )

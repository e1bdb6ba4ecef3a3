"""Imports every module that defines tables, so Alembic and tests see the whole schema."""

from facade.db import tables  # noqa: F401

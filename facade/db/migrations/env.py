"""Alembic environment: runs migrations on the engine handed over by facade.db.Database."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import facade.db.models  # noqa: F401  (registers every table on Base.metadata)
from facade.db.base import Base

config = context.config
engine = config.attributes.get("engine") or create_engine(
    config.get_main_option("sqlalchemy.url") or ""
)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()

"""Engine, sessions and schema migration for the facade's database (SQLite file or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the forwarder read while the gateway writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class Database:
    """One engine and session factory for one database URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(url, pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._heads: frozenset[str] | None = None

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error: nothing half-written."""
        with self._sessions() as session, session.begin():
            yield session

    def ping(self) -> None:
        """Run a trivial query; raises if the database cannot be reached."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def alembic_config(self) -> Config:
        """Alembic configuration pointing at the packaged migrations and this database."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        config.attributes["engine"] = self.engine
        return config

    def upgrade(self) -> None:
        """Bring the schema to the newest revision of every migration branch."""
        command.upgrade(self.alembic_config(), "heads")

    def current_revisions(self) -> set[str]:
        """The migration revisions the database is at (one per branch head)."""
        with self.engine.connect() as conn:
            return set(MigrationContext.configure(conn).get_current_heads())

    def pending_migrations(self) -> set[str]:
        """Revisions the code expects that the database has not applied (empty when current)."""
        if self._heads is None:  # the scripts do not change while the process runs
            self._heads = frozenset(ScriptDirectory.from_config(self.alembic_config()).get_heads())
        return set(self._heads) - self.current_revisions()

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()

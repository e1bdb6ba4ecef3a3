"""The facade's own database: SQLAlchemy models, engine/session factory and Alembic migrations."""

from facade.db.base import Base
from facade.db.session import Database

__all__ = ["Base", "Database"]

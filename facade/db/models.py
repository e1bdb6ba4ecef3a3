"""Imports every module that defines tables, so Alembic and tests see the whole schema."""

from facade.audit import tables as audit_tables  # noqa: F401
from facade.console import tables as console_tables  # noqa: F401
from facade.db import tables  # noqa: F401
from facade.excel import tables as excel_tables  # noqa: F401
from facade.forward import tables as forward_tables  # noqa: F401
from facade.indicators import tables as indicators_tables  # noqa: F401
from facade.mapping import tables as mapping_tables  # noqa: F401
from facade.native import tables as native_tables  # noqa: F401
from facade.network import tables as network_tables  # noqa: F401
from facade.periods import tables as periods_tables  # noqa: F401
from facade.quality import tables as quality_tables  # noqa: F401
from facade.research import tables as research_tables  # noqa: F401
from facade.security import tables as security_tables  # noqa: F401

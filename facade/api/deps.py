"""Named dependencies: route signatures read ``settings: SettingsDep, upstream: UpstreamDep``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from facade.db import Database
from facade.settings import Settings
from facade.upstream import UpstreamClient


def get_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


def get_upstream(request: Request) -> UpstreamClient:
    """The shared upstream client created in the app lifespan."""
    upstream: UpstreamClient = request.app.state.upstream
    return upstream


def get_database(request: Request) -> Database:
    """The facade's database."""
    database: Database = request.app.state.database
    return database


SettingsDep = Annotated[Settings, Depends(get_settings)]
UpstreamDep = Annotated[UpstreamClient, Depends(get_upstream)]
DatabaseDep = Annotated[Database, Depends(get_database)]

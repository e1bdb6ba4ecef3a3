"""What the console's pages share, built once per app: accounts, sessions, queries, templates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from facade.console import vendor
from facade.console.indicator_data import load_page
from facade.console.report_cache import ReportCache
from facade.console.sessions import SessionStore
from facade.console.users import UserStore
from facade.db import Database
from facade.indicators.schedule import IndicatorRefresher, RefreshJob
from facade.security.institutions import InstitutionRegistry
from facade.settings import Settings
from facade.submissions.service import Submissions
from facade.upstream import UpstreamClient

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class NavEntry:
    """A page in the navigation bar, shown to the roles that may open it."""

    key: str
    path: str
    label: str  # a text key of locales/*.yaml
    roles: frozenset[str]


# The console's own pages. Another concern adds its page with ``ConsoleServices.add_page``
# (as data quality does in ``wiring.install_console``) and the bar shows it to the roles named.
PAGES = (
    NavEntry("indicators", "/console/indicators", "nav.indicators", frozenset({"qc", "hospital"})),
    NavEntry(
        "submissions",
        "/console/submissions",
        "nav.submissions",
        frozenset({"qc", "hospital", "admin"}),
    ),
    NavEntry("registry", "/console/registry", "nav.registry", frozenset({"admin"})),
    NavEntry("audit", "/console/audit", "nav.audit", frozenset({"auditor"})),
)


class ConsoleServices:
    """The console's shared objects (``Services.console``)."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        institutions: InstitutionRegistry,
        submissions: Submissions,
    ) -> None:
        self.settings = settings
        self.database = database
        self.institutions = institutions
        self.users = UserStore(settings, database)
        self.sessions = SessionStore(settings, database)
        self.submissions = submissions
        self.refresher = IndicatorRefresher(settings, database)
        self.reports = ReportCache()
        self.template_dirs: list[Path] = [TEMPLATES]
        self.templates = Environment(
            loader=FileSystemLoader(self.template_dirs),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
        )
        self.vendor_problems = {k: v for k, v in vendor.verified().items() if v is not None}
        self.pages: list[NavEntry] = list(PAGES)

    def add_page(self, entry: NavEntry, *, before: str | None = "registry") -> None:
        """Show another page in the navigation bar (placed before ``before`` when present)."""
        keys = [page.key for page in self.pages]
        index = keys.index(before) if before in keys else len(self.pages)
        self.pages.insert(index, entry)

    async def warm(self, job: RefreshJob, upstream: UpstreamClient) -> None:
        """Read a freshly published period into the report cache (the next page view is fast)."""
        await load_page(
            self.settings,
            upstream,
            period=job.period,
            org=job.org,
            indicator_id=None,
            names={},
            now=datetime.now(UTC),
            cache=self.reports,
        )

    def add_templates(self, directory: Path) -> None:
        """Let another concern's page templates (which extend ``base.html``) be found."""
        self.template_dirs.append(directory)
        self.templates.loader = FileSystemLoader(self.template_dirs)

    def nav(self, role: str) -> list[NavEntry]:
        """The pages a role may open, in bar order."""
        return [page for page in self.pages if role in page.roles]


def console_services(app: FastAPI) -> ConsoleServices:
    """The app's ConsoleServices (built by ``facade.services.build_services``)."""
    from facade.services import services_of  # the composition root imports this module

    console = services_of(app).console
    if console is None:
        raise RuntimeError("the console is switched off (VTE_CONSOLE_ENABLED=false)")
    return console

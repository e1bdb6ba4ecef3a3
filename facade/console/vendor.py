"""Front-end files from npm at pinned versions, served by the facade itself (never from a CDN).

``vendor.yaml`` names each file, the npm package and version it comes from (``web/package.json``
and its lock file pin them) and its SHA-256. ``vte-facade console assets`` runs ``npm ci`` in
``web/`` and copies the files into ``static/vendor/`` after checking them; the app checks them
again when it starts and refuses to serve a file whose digest differs.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from facade.errors import ConfigurationError

HERE = Path(__file__).parent
MANIFEST = HERE / "vendor.yaml"
VENDOR_DIR = HERE / "static" / "vendor"


class VendorFile(BaseModel):
    """One file copied out of an npm package."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9.-]+\.js$")
    package: str
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    source: str  # path inside node_modules/<package>/
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


@cache
def manifest(path: Path = MANIFEST) -> dict[str, VendorFile]:
    """The pinned files by name."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    files = [VendorFile.model_validate(item) for item in raw["files"]]
    return {f.name: f for f in files}


def digest(path: Path) -> str:
    """SHA-256 of a file, hex."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def problem(entry: VendorFile, directory: Path = VENDOR_DIR) -> str | None:
    """Why a vendor file cannot be served (None: present and exactly the pinned bytes)."""
    path = directory / entry.name
    if not path.is_file():
        return f"{entry.name} is missing; run `vte-facade console assets`"
    if digest(path) != entry.sha256:
        return f"{entry.name} differs from {entry.package} {entry.version} (SHA-256 mismatch)"
    return None


def verified(directory: Path = VENDOR_DIR) -> dict[str, str | None]:
    """Each vendor file and its problem (None when it may be served)."""
    return {name: problem(entry, directory) for name, entry in manifest().items()}


def install(web_dir: Path, directory: Path = VENDOR_DIR) -> list[Path]:
    """``npm ci`` in ``web_dir`` (from its lock file), then copy each file after checking its digest."""
    if not (web_dir / "package-lock.json").is_file():
        raise ConfigurationError(f"{web_dir}/package-lock.json is missing")
    npm = shutil.which("npm")
    if npm is None:
        raise ConfigurationError("npm is not installed (Node.js 20 with npm is a prerequisite)")
    result = subprocess.run(  # noqa: S603 - fixed arguments, npm from PATH
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=web_dir,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise ConfigurationError(f"npm ci failed in {web_dir}: {result.stderr.strip()[-500:]}")
    directory.mkdir(parents=True, exist_ok=True)
    copied = []
    for entry in manifest().values():
        source = web_dir / "node_modules" / entry.package / entry.source
        if not source.is_file() or digest(source) != entry.sha256:
            raise ConfigurationError(
                f"{source} is not {entry.package} {entry.version} as pinned in vendor.yaml"
            )
        target = directory / entry.name
        shutil.copyfile(source, target)
        copied.append(target)
    return copied

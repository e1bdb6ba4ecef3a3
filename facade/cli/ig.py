"""``vte-facade ig build|load|check|render-dictionary``: the implementation guide and the data dictionary."""

from __future__ import annotations

from pathlib import Path

import typer

from facade.cli.output import JsonOption, console, emit, fail, settings

app = typer.Typer(
    help="Build, check and load the VTE implementation guide; render the data dictionary.",
    no_args_is_help=True,
)

DICTIONARY_MD = "dictionary.md"


def _resources_dir() -> Path:
    return settings().profiles_dir / "fsh-generated" / "resources"


@app.command()
def build(json: JsonOption = False) -> None:
    """Regenerate terminology FSH from the code tables and run the pinned SUSHI in place."""
    from facade.errors import FacadeError
    from facade.ig.build import build as build_ig

    current = settings()
    try:
        result = build_ig(current.profiles_dir, current.mappings_dir)
    except FacadeError as exc:
        raise fail(exc, json) from exc
    data = {
        "resources": result.resource_count,
        "seconds": round(result.seconds, 1),
        "output": str(result.resources_dir),
    }
    emit(
        data,
        json,
        lambda d: console.print(
            f"built {d['resources']} resources in {d['seconds']}s -> {d['output']}"
        ),
    )


@app.command()
def load(json: JsonOption = False) -> None:
    """PUT every conformance resource (CodeSystem, ValueSet, ConceptMap, StructureDefinition,
    SearchParameter, Measure) into HAPI."""
    import asyncio

    from facade.errors import FacadeError
    from facade.ig.loader import load_ig
    from facade.upstream.client import UpstreamClient

    current = settings()

    async def run() -> dict[str, int]:
        client = UpstreamClient(current)
        try:
            return (await load_ig(client, _resources_dir())).counts
        finally:
            await client.aclose()

    try:
        counts = asyncio.run(run())
    except FacadeError as exc:
        raise fail(exc, json) from exc
    emit(
        {"loaded": counts, "fhirBaseUrl": current.fhir_base_url},
        json,
        lambda d: console.print(
            f"loaded {sum(d['loaded'].values())} resources into {d['fhirBaseUrl']}: "
            + ", ".join(f"{k} {v}" for k, v in d["loaded"].items())
        ),
    )


@app.command()
def check(json: JsonOption = False) -> None:
    """Check that dictionary, generated profiles and code tables agree, and that dictionary.md and
    the derived extension nesting are current."""
    from facade.dictionary.loader import load_dictionary
    from facade.dictionary.markdown import render_markdown
    from facade.errors import FacadeError
    from facade.ig.build import ensure_core_package
    from facade.ig.consistency import IgIndex, check_consistency
    from facade.ig.nesting import NESTING_FILE, derive, read_nesting

    current = settings()
    try:
        dictionary = load_dictionary(current.mappings_dir)
        core = ensure_core_package()
        index = IgIndex(_resources_dir(), core)
    except FacadeError as exc:
        raise fail(exc, json) from exc
    problems = check_consistency(dictionary, index)
    try:
        stale = read_nesting(current.profiles_dir) != derive(_resources_dir(), core)
    except FacadeError as exc:
        problems.append(exc.message)
    else:
        if stale:
            problems.append(
                f"fsh-generated/{NESTING_FILE} is out of date: run `vte-facade ig build`"
            )
    markdown = current.mappings_dir / DICTIONARY_MD
    if not markdown.is_file() or markdown.read_text(encoding="utf-8") != render_markdown(
        dictionary
    ):
        problems.append(f"{markdown} is out of date: run `vte-facade ig render-dictionary`")
    emit(
        {"problems": problems},
        json,
        lambda d: console.print(
            "\n".join(d["problems"]) or "dictionary, profiles and code tables agree"
        ),
    )
    if problems:
        raise typer.Exit(1)


@app.command("render-dictionary")
def render_dictionary(json: JsonOption = False) -> None:
    """Regenerate mappings/dictionary.md from the YAML."""
    from facade.dictionary.loader import load_dictionary
    from facade.dictionary.markdown import render_markdown
    from facade.errors import FacadeError

    current = settings()
    try:
        dictionary = load_dictionary(current.mappings_dir)
    except FacadeError as exc:
        raise fail(exc, json) from exc
    target = current.mappings_dir / DICTIONARY_MD
    text = render_markdown(dictionary)
    changed = not target.is_file() or target.read_text(encoding="utf-8") != text
    target.write_text(text, encoding="utf-8")
    emit(
        {"path": str(target), "changed": changed},
        json,
        lambda d: console.print(("updated " if d["changed"] else "unchanged: ") + d["path"]),
    )

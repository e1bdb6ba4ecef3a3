"""``vte-facade ig build|load|check|render-dictionary|render-views``: the guide, the dictionary, the role views."""

from __future__ import annotations

from pathlib import Path

import typer

from facade.cli.output import JsonOption, console, emit, fail, settings

app = typer.Typer(
    help="Build, check and load the VTE implementation guide; render the data dictionary.",
    no_args_is_help=True,
)

DICTIONARY_MD = "dictionary.md"
VIEWS_MD = "views.md"


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
    problems += _stale_views(current.mappings_dir, current.profiles_dir)
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


def _view_outputs(mappings_dir: Path, profiles_dir: Path) -> dict[Path, str]:
    """The generated files of the role views and their current contents (README: whole text)."""
    from facade.ig import core_extract
    from facade.ig.build import ensure_core_package
    from facade.privacy import render as views_render
    from facade.privacy.plan import VIEWS_DIR
    from facade.privacy.viewdata import load_view_data

    data = load_view_data(mappings_dir / VIEWS_DIR)
    outputs = {
        profiles_dir / core_extract.EXTRACT_NAME: core_extract.render(
            ensure_core_package(), profiles_dir / "fsh-generated" / "resources"
        ),
        mappings_dir / VIEWS_MD: views_render.render_markdown(data),
    }
    readme = mappings_dir.parent / "README.md"
    if readme.is_file():
        outputs[readme] = views_render.replace_readme_section(
            readme.read_text(encoding="utf-8"), views_render.render_readme_section(data)
        )
    return outputs


def _stale_views(mappings_dir: Path, profiles_dir: Path) -> list[str]:
    from facade.errors import FacadeError
    from facade.privacy.plan import ViewPlans

    problems = [
        f"{path} is out of date: run `vte-facade ig render-views`"
        for path, text in _view_outputs(mappings_dir, profiles_dir).items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]
    try:
        ViewPlans.load(mappings_dir, profiles_dir)
    except FacadeError as exc:
        problems.append(exc.message)
    return problems


@app.command("render-views")
def render_views(json: JsonOption = False) -> None:
    """Regenerate the R4 core extract, mappings/views.md and README's role section; check the views."""
    from facade.errors import FacadeError
    from facade.privacy.plan import ViewPlans

    current = settings()
    try:
        outputs = _view_outputs(current.mappings_dir, current.profiles_dir)
        changed = []
        for path, text in outputs.items():
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                path.write_text(text, encoding="utf-8")
                changed.append(str(path))
        ViewPlans.load(current.mappings_dir, current.profiles_dir)
    except (FacadeError, ValueError) as exc:
        raise fail(exc if isinstance(exc, FacadeError) else str(exc), json) from exc
    emit(
        {"changed": changed, "written": [str(p) for p in outputs]},
        json,
        lambda d: console.print(
            "updated " + ", ".join(d["changed"]) if d["changed"] else "views: nothing changed"
        ),
    )

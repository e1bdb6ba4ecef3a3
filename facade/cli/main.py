"""Entry point of ``vte-facade``; each concern adds its sub-command group here."""

from __future__ import annotations

import typer

from facade import __version__
from facade.cli import (
    apps,
    audit,
    backup,
    client,
    console as console_cli,
    db,
    dq,
    excel,
    forward,
    hapi,
    ig,
    indicators,
    keys,
    native,
    network,
    org,
    period,
    research,
    submissions,
    synth,
    user,
)
from facade.cli.output import JsonOption, console, emit, settings

app = typer.Typer(
    help="VTE regional FHIR facade: native (VTE-X) and FHIR intake, indicators, research access.",
    no_args_is_help=True,
)
app.add_typer(hapi.app, name="hapi")
app.add_typer(db.app, name="db")
app.add_typer(ig.app, name="ig")
app.add_typer(org.app, name="org")
app.add_typer(apps.app, name="app")
app.add_typer(native.app, name="native")
app.add_typer(client.app, name="client")
app.add_typer(audit.app, name="audit")
app.add_typer(forward.app, name="forward")
app.add_typer(indicators.app, name="indicators")
app.command("synth")(synth.synth)
app.add_typer(user.app, name="user")
app.add_typer(submissions.app, name="submissions")
app.add_typer(console_cli.app, name="console")
app.add_typer(research.app, name="research")
app.add_typer(research.omop_app, name="omop")
app.add_typer(keys.app, name="keys")
app.add_typer(period.app, name="period")
app.add_typer(dq.app, name="dq")
app.add_typer(network.uplink_app, name="uplink")
app.add_typer(network.region_app, name="region")
excel.register(app)  # `import-excel` and the `excel` group
backup.register(app)  # `backup` and `restore`


@app.command()
def version(json: JsonOption = False) -> None:
    """Print the facade version."""
    emit({"version": __version__}, json, lambda d: console.print(f"vte-facade {d['version']}"))


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Bind address (default VTE_HOST, 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port (default VTE_PORT, 8000)."),
) -> None:
    """Run the facade HTTP server in the foreground and print its URLs."""
    import uvicorn

    from facade.app import create_app
    from facade.logs import configure_logging

    current = settings()
    updates = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    if updates:
        current = current.model_copy(update={**updates, "public_base_url": ""})
        current = type(current).model_validate(current.model_dump())
    configure_logging(current.log_level)
    base = current.public_base_url
    lines = [
        f"[bold]VTE facade[/] {__version__}  upstream FHIR: {current.fhir_base_url}",
        f"  FHIR endpoint   {base}/fhir  (metadata: {base}/fhir/metadata)",
        f"  health          {base}/healthz   readiness: {base}/readyz",
        f"  native gateway  {base}/vte-x/v1/gateway   Excel template: {base}/vte-x/v1/excel/template",
        f"  web console     {base}/console  (first admin: vte-facade user add NAME --role admin)",
        f"  API docs        {base}/docs",
    ]
    for line in lines:
        console.print(line, soft_wrap=True)  # URLs must stay whole for copy and paste
    uvicorn.run(create_app(current), host=current.host, port=current.port, log_config=None)

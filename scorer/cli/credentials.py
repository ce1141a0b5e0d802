"""``coop profile export / import / link-code / rotate-key``: signed credentials between
instances, added to the ``coop profile`` group.

``export`` and ``rotate-key`` work on this instance's home (the ledger and the signing key);
``link-code`` and ``import`` go through a service as the owner of ``$JUPYTERHUB_API_TOKEN``,
since an import is always for the person logged in there."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.markup import escape

from coop_client.client import CoopClient, CoopClientError
from coop_client.models import CredentialsOut
from scorer.cli.common import console, errors, fail, print_json, state
from scorer.cli.profile import app
from scorer.exceptions import CoopError
from scorer.profiles.federation import export_credentials
from scorer.profiles.keys import rotate_keys

T = TypeVar("T")

ServiceUrl = Annotated[
    str, typer.Option(envvar="COOP_SERVICE_URL", help="The scorer's base URL, its prefix included.")
]


@app.command("export")
def export(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The person's hub name.")],
    link: Annotated[
        str | None, typer.Option(help="A link code from the instance the credentials are for.")
    ] = None,
    output: Annotated[Path | None, typer.Option(help="Write the JSON here instead of printing it.")] = None,
) -> None:
    """Export a person's achievements, rewards and credit as Open Badges 3.0 credentials
    (VC-JWT) signed with this instance's key, as JSON (CredentialsOut)."""
    api = state(ctx).api()
    try:
        tokens = export_credentials(api, name, link_code=link)
    except CoopError as exc:
        fail(exc)
    document = CredentialsOut(issuer=api.settings.public_url, person=name, credentials=tokens)
    if output is None:
        print_json(document.model_dump(mode="json"))
    else:
        output.write_text(document.model_dump_json(indent=2) + "\n", encoding="utf-8")
        errors.print(f"{len(tokens)} credential(s) written to {escape(str(output))}", highlight=False)


@app.command("import")
def import_(
    source: Annotated[str, typer.Argument(help="The exported JSON file, or - for standard input.")],
    service_url: ServiceUrl = "",
) -> None:
    """Import credentials another instance exported for you into your record on the service
    (all of them, or none: each refusal says why)."""
    text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    try:
        tokens = CredentialsOut.model_validate(json.loads(text)).credentials
    except ValueError as exc:
        errors.print(f"[bold red]error:[/] {escape(source)} is no exported credentials file: {exc}")
        raise typer.Exit(2) from None
    imported = _through_service(service_url, lambda client: client.import_credentials(tokens))
    for credential in imported:
        console.print(
            f"imported {credential.kind}: {escape(credential.name)} "
            f"(from {escape(credential.issuer)}, as {escape(credential.issued_to)})",
            highlight=False,
        )


@app.command("link-code")
def link_code(service_url: ServiceUrl = "") -> None:
    """Ask the service for a link code naming you there; export with it on another instance."""
    found = _through_service(service_url, lambda client: client.link_code())
    console.print(found.code, highlight=False)
    errors.print(f"valid for exports until {found.expires_at.isoformat(timespec='seconds')}")


@app.command("rotate-key")
def rotate_key(ctx: typer.Context) -> None:
    """Replace this instance's signing key; the old public key stays published, so that
    credentials signed with it still verify."""
    ring = rotate_keys(state(ctx).settings.home_path)
    console.print(f"new key {ring.kid}; {len(ring.retired)} earlier key(s) still published")


def _through_service(service_url: str, call: Callable[[CoopClient], T]) -> T:
    token = os.environ.get("JUPYTERHUB_API_TOKEN")
    if not service_url or not token:
        errors.print("[bold red]error:[/] give --service-url (or COOP_SERVICE_URL) and JUPYTERHUB_API_TOKEN")
        raise typer.Exit(2)
    try:
        with CoopClient(service_url, token) as client:
            return call(client)
    except CoopClientError as exc:
        errors.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False)
        raise typer.Exit(1) from None

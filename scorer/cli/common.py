"""What every command shares: the settings, one API object, errors and the console."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, NoReturn

import typer
from rich.console import Console

from scorer.config import ScorerSettings
from scorer.exceptions import CoopError
from scorer.facade import CoopAPI

console = Console()
errors = Console(stderr=True)


@dataclass
class State:
    settings: ScorerSettings
    _api: CoopAPI | None = field(default=None, repr=False)

    def api(self) -> CoopAPI:
        if self._api is None:
            self._api = CoopAPI(self.settings)
        return self._api

    def close(self) -> None:
        if self._api is not None:
            self._api.close()


def state(ctx: typer.Context) -> State:
    current: State = ctx.obj
    ctx.call_on_close(current.close)
    return current


def fail(exc: CoopError, code: int = 1) -> NoReturn:
    errors.print(f"[bold red]error:[/] {exc.user_message}", highlight=False)
    raise typer.Exit(code)


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))

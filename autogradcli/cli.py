"""The `agrad` command line: thin Typer commands over the library.

`cli_app` holds the app, the shared options and the error contract; each `cli_*` module
registers its commands on it.
"""

from __future__ import annotations

import sys

import typer

from . import __version__
from .cli_app import APP_SETTINGS, STATE, app

__all__ = ["app", "main"]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"agrad {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
    debug: bool = typer.Option(
        False, "--debug", help="Add the traceback to error messages (nothing else changes)."
    ),
) -> None:
    """Gradient calculator and computational-graph tool for formulas in text files."""
    import os

    STATE["debug"] = debug or bool(os.environ.get("AGRAD_DEBUG"))


def main() -> None:
    """Entry point of the `agrad` script.

    Typer inspects every command's parameters when it builds the app, which costs start-up
    time for each command; when the command line names one, only that one is built.
    """
    name = next((a for a in sys.argv[1:] if not a.startswith("-")), None)
    chosen = [c for c in app.registered_commands if c.name == name]
    if not chosen:
        app()
        return
    single = typer.Typer(**APP_SETTINGS)
    single.registered_callback = app.registered_callback
    single.registered_commands = chosen
    single()


# The commands register themselves on `app` when imported.
from . import cli_eval, cli_graph, cli_samples, cli_train, cli_verify  # noqa: E402, F401

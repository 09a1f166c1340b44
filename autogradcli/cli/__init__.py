"""The `agrad` command line: thin Typer commands over the library.

`app` holds the app, the shared options and the error contract; each other module registers
its commands on it when imported (below).
"""

from __future__ import annotations

import sys

import typer

from . import evaluate, explain, graph, minimize, samples, verify
from .app import APP_SETTINGS, app

__all__ = ["app", "evaluate", "explain", "graph", "main", "minimize", "samples", "verify"]


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

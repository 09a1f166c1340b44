"""`agrad eval --at-file`: the request run by the library, with a progress bar and notes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ..errors import CheckFailed
from .app import note, progress

if TYPE_CHECKING:
    from ..render.batch import BatchRequest


def eval_batch(graph, run: BatchRequest) -> None:
    """Every row's values and gradients (or their sum or mean), written as asked."""
    from ..render.batch import run_batch

    _report(run_batch(graph, run, _progress), run)


def _progress(stack, points: str):
    """A progress bar on a terminal: its tick function, or None."""
    from ..io.points import count_rows

    bar = progress()
    if bar is None:
        return None
    stack.enter_context(bar)
    total = count_rows(points) if Path(points).is_file() or points == "-" else None
    task = bar.add_task("evaluating", total=total)
    return lambda n: bar.advance(task, n)


def _report(result, run: BatchRequest) -> None:
    """The non-finite rows on stderr (an error under --strict), and where the output went."""
    if run.explain:
        note(str(result.choice) if result.choice else f"engine: {result.engine}")
    if result.nonfinite_rows:
        typer.echo(
            f"warning: {result.nonfinite_rows} of {result.rows} rows have nan or inf; "
            f"{result.first_bad}",
            err=True,
        )
        if run.strict:
            raise CheckFailed("non-finite results under --strict")
    if run.out:
        what = f"{result.rows:,} rows"
        what = f"the {run.reduce} of {what}" if run.reduce else what
        note(f"wrote {what} to {run.out}")

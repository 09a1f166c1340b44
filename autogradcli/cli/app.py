"""The Typer app every command registers on: shared options, the error contract, consoles."""

from __future__ import annotations

import difflib
import functools
import os
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

try:  # Typer 0.28 and later carry their own copy of Click
    from typer import _click as click
except ImportError:  # pragma: no cover - older Typer depends on Click
    import click

from .. import __version__
from ..errors import AgradError


class AgradGroup(TyperGroup):
    """The `agrad` group: every usage error is rendered in agrad's one error style."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """Run a command; turn usage errors, Ctrl-C and closed pipes into exit statuses."""
        args = vector_words(list(sys.argv[1:] if args is None else args))
        plain_help(self)
        try:
            one_formula(args)
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            code = rv if isinstance(rv, int) else 0
        except click.exceptions.NoArgsIsHelpError as exc:
            exc.show()
            code = 2
        except click.exceptions.UsageError as exc:
            typer.echo(usage_message(exc), err=True)
            code = 2
        except (typer.Abort, KeyboardInterrupt):
            typer.echo("interrupted", err=True)
            code = 130
        except BrokenPipeError:
            code = quiet_pipe()
        except OSError as exc:  # --help or --version onto a full disk: no command's guard ran
            note(f"error: cannot write output: {exc.strerror or exc}")
            code = quiet_pipe() or 2
        if standalone_mode:
            sys.exit(code)
        return code

    def resolve_command(self, ctx, args):
        """Suggest the closest command for a mistyped one."""
        name = args[0] if args else ""
        if args and self.get_command(ctx, name) is None and not name.startswith("-"):
            close = difflib.get_close_matches(name, self.list_commands(ctx), n=1, cutoff=0.5)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise click.exceptions.UsageError(f"No such command '{name}'.{hint}", ctx)
        return super().resolve_command(ctx, args)


def plain_help(group: click.Group) -> None:
    """Help texts are plain text, not Rich markup: `agrad[dask]` and `[default: 0.01]` keep
    their brackets (each text escaped once, marked so a second call leaves it alone)."""
    from rich.markup import escape

    if getattr(group, "_plain_help", False):
        return
    group._plain_help = True
    for command in [group, *group.commands.values()]:
        command.help = escape(command.help) if command.help else command.help
        command.epilog = escape(command.epilog) if command.epilog else command.epilog
        for param in command.params:
            if getattr(param, "help", None):
                param.help = escape(param.help)


def one_formula(args: list[str]) -> None:
    """A repeated -e is an error (Click would keep the last one silently)."""
    words = args[: args.index("--")] if "--" in args else args
    given = sum(w in ("-e", "--expr") or w.startswith("--expr=") for w in words)
    if given > 1:
        error = click.exceptions.UsageError(
            f"-e/--expr is given {given} times; a command reads one formula"
        )
        error.hint = "join the statements with ';' in one -e: -e 'u = x^2; f = sin(u)'"
        raise error


VECTOR_OPTIONS = ("--hvp", "--jvp", "--sigma")  # each takes several NAME=VALUE words, as --at does


def vector_words(args: list[str]) -> list[str]:
    """`--hvp a=1 b=0` as `--hvp a=1 --hvp b=0`: the NAME=VALUE words after a vector option
    (arrays split by the shell at spaces included) belong to it, not to --at."""
    out: list[str] = []
    flag, depth = None, 0
    for word in args:
        if word in VECTOR_OPTIONS:
            flag, depth = word, 0
            out.append(word)
            continue
        if flag and out[-1] != flag and (depth > 0 or ("=" in word and word[:1] != "-")):
            out.append(flag)
        elif flag and out[-1] != flag:
            flag = None
        out.append(word)
        depth += word.count("[") - word.count("]") if flag else 0
    return out


def usage_message(exc: click.exceptions.UsageError) -> str:
    """One message in agrad's style for a command-line usage error."""
    ctx = exc.ctx
    path = ctx.command_path if ctx is not None else "agrad"
    message = exc.format_message()
    hint = f"{path} --help lists every option"
    if isinstance(exc, click.exceptions.NoSuchOption):
        message = f"no such option '{exc.option_name}' for {path}"
        if exc.possibilities:
            hint = f"did you mean {' or '.join(repr(p) for p in exc.possibilities)}? " + hint
    elif " Did you mean " in message:
        message, _, close = message.partition(" Did you mean ")
        hint = f"did you mean {close.rstrip('?')}? agrad --help lists every command"
    message = message.rstrip(".")
    hint = getattr(exc, "hint", hint)
    return f"error: {message[:1].lower()}{message[1:]}\nhint: {hint}"


def quiet_pipe() -> int:
    """A reader closed our stdout (`agrad ... | head`): stop quietly with status 0."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 0


APP_SETTINGS = {
    "name": "agrad",
    "cls": AgradGroup,
    "help": "Gradient calculator and computational-graph tool for formulas in text files.",
    "epilog": "Example: agrad eval samples/seed.txt --at a=1 b=2 c=3 d=4",
    "no_args_is_help": True,
    "pretty_exceptions_enable": False,
    "rich_markup_mode": "rich",
    "context_settings": {"help_option_names": ["-h", "--help"]},
}
app = typer.Typer(**APP_SETTINGS)
STATE = {"debug": bool(os.environ.get("AGRAD_DEBUG"))}


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
    STATE["debug"] = debug or bool(os.environ.get("AGRAD_DEBUG"))


# Parameters several commands share, declared once.
FileArg = Annotated[
    str | None,
    typer.Argument(
        metavar="FILE",
        help="Formula file ('-' reads standard input; or give the formula with -e).",
        show_default=False,
    ),
]
ExprOpt = Annotated[
    str | None,
    typer.Option(
        "--expr", "-e", metavar="FORMULA", help="The formula itself, e.g. -e 'x^2 * sin(y)'."
    ),
]
ValuesArg = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="[NAME=VALUE]...", help="Input values; the same as --at.", show_default=False
    ),
]
AtOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--at",
        "-a",
        metavar="NAME=VALUE",
        help="Input value: --at a=1 b=2, repeated --at a=1 --at b=2, arrays x=[1,2].",
        show_default=False,
    ),
]
OutputOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--output",
        metavar="NAME",
        help="Use these named values as the outputs (not a file: see -o/--out).",
        show_default=False,
    ),
]
WrtOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--wrt", "-w", metavar="NAME", help="Differentiate only by these names.", show_default=False
    ),
]


def _seconds(value: float | None) -> float | None:
    """--sympy-timeout: a positive number of seconds, or inf for no limit."""
    if value is not None and not value > 0:
        raise typer.BadParameter(f"{value:g} is not a positive number of seconds (inf: no limit)")
    return value


TimeoutOpt = Annotated[
    float | None,
    typer.Option(
        "--sympy-timeout",
        callback=_seconds,
        help="Seconds SymPy may spend in all (per file in check; inf: no limit) [default: 10].",
    ),
]


def out_option(what: str) -> object:
    """The `-o/--out FILE` option of a command that writes `what`."""
    return typer.Option("--out", "-o", metavar="FILE", help=f"Write {what} to FILE.")


def guard(fn):
    """Turn AgradError into one message on stderr and its exit status.

    With --debug the traceback comes first; the message and the exit status stay the same.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            STATE["wrote"] = False
            done = fn(*args, **kwargs)
            out = kwargs.get("out")
            if isinstance(out, str) and out != "-" and not STATE["wrote"]:
                note(f"wrote {out}")  # every -o FILE ends with one such line
            return done
        except AgradError as exc:
            if STATE["debug"]:
                traceback.print_exc(file=sys.stderr)
            typer.echo(exc.render(), err=True)
            raise typer.Exit(exc.exit_code) from None
        except BrokenPipeError:
            raise typer.Exit(quiet_pipe()) from None
        except OSError as exc:  # stdout on a full disk, a vanished file system, ...
            if STATE["debug"]:
                traceback.print_exc(file=sys.stderr)
            reason = exc.strerror or str(exc)
            text = f"{exc.filename}: {reason}" if exc.filename else f"cannot write output: {reason}"
            note(f"error: {text}")
            quiet_pipe()  # nothing more can be written there, not even at exit
            raise typer.Exit(2) from None

    return wrapper


def formula(file: str | None, expr: str | None, values: list[str] | None = None):
    """The command's graph from FILE, '-' or -e; with -e a NAME=VALUE in FILE's place is a value."""
    from ..language.parser import parse_formula

    if expr is not None and file is not None and "=" in file and values is not None:
        values.insert(0, file)
        file = None
    elif expr is None and file is not None and "=" in file and not Path(file).exists():
        named = [v for v in values or [] if "=" not in v and (v == "-" or Path(v).is_file())]
        if len(named) != 1:
            raise AgradError(
                f"no formula file given ('{file}' is a value, not a file)",
                None,
                "name the formula file: FILE --at a=1 b=2, or give the formula with -e",
            )
        # `agrad eval --at a=1 b=2 FILE`: the shell order put a value where FILE goes.
        values.remove(named[0])
        values.insert(0, file)
        file = named[0]
    return parse_formula(file, expr)


def assignments(ctx: typer.Context, at: list[str] | None, values: list[str] | None) -> list[str]:
    """`--at` values and trailing NAME=VALUE words; a stray option is an error with a hint."""
    from ..language.values import rejoin

    file = ctx.params.get("file")
    first = [file] if isinstance(file, str) and file.startswith("-") and file != "-" else []
    for word in [*first, *rejoin([*(at or []), *(values or [])])]:
        if word.startswith("-") and "=" not in word.split("[")[0]:
            options = [o for p in ctx.command.params for o in p.opts if o.startswith("-")]
            close = difflib.get_close_matches(word.split("=")[0], options, n=1, cutoff=0.5)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise AgradError(
                f"no such option '{word}' for {ctx.command_path}",
                None,
                f"{hint}{ctx.command_path} --help lists every option",
            )
    return [*(at or []), *(values or [])]


def pick_format(fmt: str | None, out: str | None, suffixes: dict[str, str], default: str) -> str:
    """The output format: --format, else the suffix of -o, else `default`.

    A suffix that contradicts --format, or that the command cannot write, is an error.
    """
    suffix = Path(out).suffix.lower() if out and out != "-" else ""
    by_suffix = suffixes.get(suffix)
    known = ", ".join(sorted(suffixes))
    if fmt is not None:
        from ..io.outfile import contradicted

        by_suffix = by_suffix or contradicted(fmt, out)
        if suffix and by_suffix is not None and by_suffix != fmt and suffix not in (".txt",):
            raise AgradError(
                f"--format {fmt} contradicts the suffix of {out} ({by_suffix})",
                None,
                f"drop --format, or name the file *.{_suffix_of(fmt, suffixes)}",
            )
        return fmt
    if not suffix:
        return default
    if by_suffix is None:
        raise AgradError(
            f"cannot tell the format of {out} from its suffix",
            None,
            f"use one of {known}, or pass --format",
        )
    return by_suffix


def _suffix_of(fmt: str, suffixes: dict[str, str]) -> str:
    return next((s.lstrip(".") for s, f in suffixes.items() if f == fmt), fmt)


def split_names(names: list[str] | None) -> list[str] | None:
    """Accept `--wrt a,b` as well as `--wrt a --wrt b`."""
    if not names:
        return None
    return [n.strip() for name in names for n in name.split(",") if n.strip()]


def console(stderr: bool = False, file=None):
    """A Rich console; 160 columns when output is not a terminal and COLUMNS is unset."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    wide = (file is None and stream.isatty()) or "COLUMNS" in os.environ
    con = Console(
        stderr=stderr, file=file, width=None if wide else 160, highlight=False, soft_wrap=False
    )
    # A table wider than the terminal (numbers are never cut) is printed whole, not cropped.
    con.print = functools.partial(con.print, crop=False)  # type: ignore[method-assign]
    return con


def progress(unit: str = "rows"):
    """A progress bar on stderr when it is a terminal (done/total, rate, elapsed, ETA)."""
    if not sys.stderr.isatty():
        return None
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class Rate(ProgressColumn):
        """Items per second."""

        def render(self, task) -> Text:
            return Text(f"{task.speed or 0:,.0f} {unit}/s")

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        Rate(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console(stderr=True),
        transient=True,
    )


def note(text: str) -> None:
    """One line on stderr, user text in it with control characters escaped."""
    from ..errors import printable

    STATE["wrote"] = STATE.get("wrote") or text.startswith("wrote ")
    typer.echo(printable(text), err=True)


def report_failures(results) -> None:
    """One stderr line per failed check, with its position."""
    for r in results:
        if r.failed:
            note(f"{r.file}:{r.line}: check failed: {r.output} d/d{r.wrt}: {r.detail}")

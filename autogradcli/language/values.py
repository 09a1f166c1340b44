"""Input values from the command line: `NAME=VALUE` assignments checked against a Graph."""

from __future__ import annotations

import re

import numpy as np

from ..errors import AgradError, Source, Span, suggest
from ..graph import Graph
from ..ops import CONSTANTS
from .literals import parse_value

NAME = re.compile(r"[^\W\d]\w*\Z")


def rejoin(args: list[str]) -> list[str]:
    """Glue back `x=[1,` `2]` pieces that a shell split at spaces inside brackets."""
    out: list[str] = []
    for arg in args:
        if out and out[-1].count("[") > out[-1].count("]"):
            out[-1] += " " + arg
        else:
            out.append(arg)
    return out


def parse_assignments(args: list[str]) -> dict[str, tuple[np.ndarray, Span]]:
    """Parse `NAME=VALUE` strings into arrays, keeping where each name was written."""
    values: dict[str, tuple[np.ndarray, Span]] = {}
    for arg in rejoin(args):
        for part in _split_commas(arg):
            source = Source("--at", part)
            name, eq, _ = part.partition("=")
            name = name.strip()
            if not eq:
                raise AgradError(
                    f"expected NAME=VALUE, got {part!r}",
                    Span(source, 0, len(part)),
                    "write for example --at x=1.5 y=[1,2,3]",
                )
            where = Span(source, 0, max(len(name), 1))
            if not NAME.match(name):
                raise AgradError(
                    f"{name!r} is not a valid name", where, "names start with a letter or '_'"
                )
            if name in CONSTANTS:
                raise AgradError(
                    f"'{name}' is a constant ({CONSTANTS[name]!r}) and cannot be given a value",
                    where,
                    "rename the input in the file",
                )
            if name in values:
                raise AgradError(f"'{name}' is given a value twice", where, "give it once")
            at = part.index("=") + 1
            if part[at:].lstrip().startswith("="):
                eq2 = at + part[at:].index("=")
                raise AgradError(
                    f"unexpected '=' in {part!r}",
                    Span(source, eq2, eq2 + 1),
                    f"write one '=': {name}={part[eq2 + 1 :].strip()}",
                )
            values[name] = (parse_value(source, at), where)
    return values


def _split_commas(arg: str) -> list[str]:
    """Split `a=1,b=2` at commas that are outside brackets and precede a new `NAME=`."""
    parts, depth, start = [], 0, 0
    for k, ch in enumerate(arg):
        depth += (ch == "[") - (ch == "]")
        if ch == "," and depth == 0 and re.match(r"\s*[^\W\d]\w*\s*=", arg[k + 1 :]):
            parts.append(arg[start:k])
            start = k + 1
    parts.append(arg[start:])
    return parts


def bind(graph: Graph, given: dict[str, tuple[np.ndarray, Span]]) -> dict[str, np.ndarray]:
    """Check the given values against the graph's inputs and return name -> array."""
    inputs = graph.input_ids
    for name, (_, where) in given.items():
        if name in inputs:
            continue
        if name in graph.symbols:
            line = graph.where(graph.symbols[name])
            raise AgradError(
                f"'{name}' is computed by the file (at {line}), not an input",
                where,
                _inputs_hint(graph),
            )
        hint = suggest(name, list(inputs)) or _inputs_hint(graph)
        raise AgradError(f"'{name}' is not an input of {_file(graph)}", where, hint)
    missing = [name for name in inputs if name not in given]
    if missing:
        first = inputs[missing[0]]
        listed = ", ".join(f"'{m}'" for m in missing)
        plural = "inputs" if len(missing) > 1 else "input"
        raise AgradError(
            f"no value for {plural} {listed}",
            graph.span(first),
            "pass " + " ".join(f"{m}=VALUE" for m in missing) + " after --at",
        )
    return {name: given[name][0] for name in inputs}


def _file(graph: Graph) -> str:
    return graph.source.name if graph.source else "the graph"


def _inputs_hint(graph: Graph) -> str:
    names = ", ".join(graph.input_ids) or "none"
    return f"the inputs are: {names}"

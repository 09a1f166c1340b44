"""A pytest plugin (installed with agrad, off until asked): `pytest --agrad PATH` collects rule
files as test items, one per output × input, per claim and per `# impl: module:function` row,
reported the way `agrad check` reports them.

Nothing changes in a test run that does not pass `--agrad` (or set `agrad_paths` in the
pytest configuration).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

IMPL = re.compile(r"^#\s*impl:\s*(\S+)\s*$", re.MULTILINE)


def pytest_addoption(parser) -> None:
    """`--agrad PATH` (repeatable) and the `agrad_paths` setting."""
    group = parser.getgroup("agrad", "derivative checks with agrad")
    group.addoption("--agrad", action="append", default=[], metavar="PATH",
                    help="check the rule files in PATH (files or folders of *.txt)")  # fmt: skip
    group.addoption("--agrad-points", type=int, default=20, help="points per rule file")
    parser.addini("agrad_paths", "rule files or folders that --agrad checks", type="args")


def _paths(config) -> list[str]:
    return [*config.getoption("agrad"), *(config.getini("agrad_paths") or [])]


def pytest_collection_modifyitems(session, config, items) -> None:
    """Add one item per row of every rule file asked for."""
    paths = _paths(config)
    if not paths:
        return
    from .files import expand

    for path in expand(paths):
        items.extend(_items(session, path, config.getoption("agrad_points")))


def _items(session, path: str, points: int) -> list:
    from ..language.parser import parse_file

    graph = parse_file(path)
    labels = [f"{name}:d/d{w}" for name, _ in graph.outputs for w in graph.input_ids]
    labels += [f"claim line {c.span.source.locate(c.span.start)[0]}" for c in graph.claims]
    specs = IMPL.findall(Path(path).read_text(encoding="utf-8"))
    rows = _Rows(path, points, specs)
    out = [AgradItem.from_parent(session, name=f"{path}::{label}", rows=rows, index=k)
           for k, label in enumerate(labels)]  # fmt: skip
    for spec in specs:
        out += [AgradItem.from_parent(session, name=f"{path}::{spec}::{w}", rows=rows,
                                      key=(spec, w)) for w in graph.input_ids]  # fmt: skip
    return out


class _Rows:
    """One `agrad check` of a file (and its impl functions), run once for all its items."""

    def __init__(self, path: str, points: int, specs: list[str]):
        self.path, self.points, self.specs = path, points, specs
        self._rows: list | None = None

    def get(self) -> list:
        if self._rows is None:
            from ..language.parser import parse_file
            from .files import check_file
            from .impl import check_impl, load

            self._rows = check_file(self.path, points=self.points)
            graph = parse_file(self.path)
            for spec in self.specs:
                fn = load(spec, list(graph.input_ids))
                self._rows += check_impl(graph, self.path, spec, fn, points=self.points)
        return self._rows


class AgradItem(pytest.Item):
    """One checked gradient, claim or implementation input."""

    def __init__(self, *, rows: _Rows, index: int | None = None, key=None, **kwargs):
        super().__init__(**kwargs)
        self.rows, self.index, self.key = rows, index, key

    def runtest(self) -> None:
        rows = self.rows.get()
        if self.key is not None:
            spec, w = self.key
            row = next(r for r in rows if r.kind == "impl" and r.output.startswith(spec)
                       and r.wrt in (w, ""))  # fmt: skip
        else:
            row = [r for r in rows if r.kind != "impl"][self.index]
        if row.failed:
            raise AgradCheckFailed(row)
        if row.status.startswith("skipped"):
            pytest.skip(row.status)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, AgradCheckFailed):
            r = excinfo.value.row
            return f"{r.file}:{r.line}: {r.output} d/d{r.wrt}: {r.detail}"
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.rows.path, 0, self.name


class AgradCheckFailed(Exception):
    """A row of `agrad check` that failed."""

    def __init__(self, row):
        super().__init__(row.detail)
        self.row = row

"""A pytest plugin (installed with agrad, off until asked): `pytest --agrad PATH` collects rule
files as test files, with one item per output × input and per claim, reported the way
`agrad check` reports them. `# impl: module:function` lines are read (and the code they name
imported) only with `--agrad-impl`, as `agrad check` reads them only with `--impl`.

Rule files are collected through `pytest_collect_file`, so node ids are
`rules/chain.txt::f:d/dx`, a file that does not parse is one collection error, and `--lf`,
`-k`, `-x`, node-id selection and pytest-xdist work as for Python tests. Nothing changes in a
test run that does not pass `--agrad` (or set `agrad_paths` in the pytest configuration).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from . import is_folder_file

IMPL = re.compile(r"^#\s*impl:\s*(\S+)\s*$", re.MULTILINE)


def pytest_addoption(parser) -> None:
    """`--agrad PATH` (repeatable), `--agrad-points`, `--agrad-impl` and `agrad_paths`."""
    group = parser.getgroup("agrad", "derivative checks with agrad")
    group.addoption("--agrad", action="append", default=[], metavar="PATH",
                    help="check the rule files in PATH (a file or a folder)")  # fmt: skip
    group.addoption("--agrad-points", type=int, default=20, help="points per rule file")
    group.addoption("--agrad-impl", action="store_true", default=False,
                    help="also check the '# impl: module:function' lines of rule files "
                         "(imports and runs the code they name)")  # fmt: skip
    parser.addini("agrad_paths", "rule files or folders that --agrad checks", type="args")


def rule_paths(config) -> list[Path]:
    """The paths asked for, each once, resolved; a missing one is a usage error."""
    out: list[Path] = []
    for given in [*config.getoption("agrad"), *(config.getini("agrad_paths") or [])]:
        path = Path(config.invocation_params.dir, given).resolve()
        if not path.exists():
            raise pytest.UsageError(f"--agrad {given}: no such file or folder")
        if path not in out:
            out.append(path)
    return out


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def pytest_configure(config) -> None:
    """Add each rule path to the paths pytest collects, unless an argument already covers it
    (an ancestor folder) or selects part of it (a file or node id inside it)."""
    paths = rule_paths(config)
    config.stash[RULES] = paths
    if not paths:
        return
    here = config.invocation_params.dir
    given = [Path(here, str(a).split("::")[0]).resolve() for a in config.args]
    for path in paths:
        if not any(_inside(path, g) or _inside(g, path) for g in given):
            config.args.append(str(path))


RULES = pytest.StashKey[list]()
BROKEN = pytest.StashKey[int]()


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session):
    """A rule file that does not parse is one collection error of that file; the other tests
    still run (pytest would stop at any collection error), and the run still fails."""
    broken = session.stash.get(BROKEN, 0)
    session.testsfailed -= broken
    try:
        return (yield)
    finally:
        session.testsfailed += broken


def pytest_collect_file(file_path: Path, parent):
    """A rule file: a path given to --agrad, or a file `folder_files` lists under one."""
    paths = parent.config.stash.get(RULES, [])
    if not paths:
        return None
    path = file_path.resolve()
    for root in paths:
        if path == root or (root.is_dir() and root in path.parents and is_folder_file(path, root)):
            return RuleFile.from_parent(parent, path=file_path)
    return None


class RuleFile(pytest.File):
    """One rule file: its items are known after parsing; the check runs once, when the first
    item runs, and its rows are shared by the file's items."""

    rows: list | None = None

    @property
    def shown(self) -> str:
        """The file's path as messages show it: relative to where pytest was started."""
        here = self.config.invocation_params.dir
        return str(self.path.relative_to(here)) if here in self.path.parents else str(self.path)

    def collect(self):
        from ..language.parser import parse_file

        try:
            graph = parse_file(self.shown, library=True)
        except Exception:
            self.session.stash[BROKEN] = self.session.stash.get(BROKEN, 0) + 1
            raise
        labels = [f"{name}:d/d{w}" for name, _ in graph.outputs for w in graph.input_ids]
        claims = [*graph.claims, *(graph.rules.claims if graph.rules is not None else ())]
        labels += [f"expect:line{c.span.source.locate(c.span.start)[0]}" for c in claims]
        for k, label in enumerate(labels):
            yield RuleItem.from_parent(self, name=label, index=k)
        specs = IMPL.findall(self.path.read_text(encoding="utf-8"))
        for spec in specs:
            for w in graph.input_ids:
                yield RuleItem.from_parent(self, name=f"impl:{spec}:d/d{w}", key=(spec, w))

    def repr_failure(self, excinfo, style=None):
        """A rule file that does not parse reads like agrad's own message."""
        from ..errors import AgradError

        if isinstance(excinfo.value, AgradError):
            return excinfo.value.render()
        return super().repr_failure(excinfo, style=style)

    def check(self) -> list:
        """`agrad check` of this file (and, with --agrad-impl, its impl lines), run once."""
        if self.rows is None:
            from .files import check_file

            self.rows = check_file(self.shown, points=self.config.getoption("agrad_points"))
        return self.rows

    def impl_rows(self, spec: str) -> list:
        """The rows of one `# impl:` function, checked once."""
        cache = self.__dict__.setdefault("_impl", {})
        if spec not in cache:
            from ..language.parser import parse_file
            from .impl import check_impl, load

            graph = parse_file(self.shown)
            fn = load(spec, list(graph.input_ids))
            points = self.config.getoption("agrad_points")
            cache[spec] = check_impl(graph, self.shown, spec, fn, points=points)
        return cache[spec]


class RuleItem(pytest.Item):
    """One checked gradient, claim, or implementation input."""

    def __init__(self, *, index: int | None = None, key=None, **kwargs):
        super().__init__(**kwargs)
        self.index, self.key = index, key

    def runtest(self) -> None:
        if self.key is not None:
            spec, w = self.key
            if not self.config.getoption("agrad_impl"):
                pytest.skip(f"'# impl: {spec}' is read only with --agrad-impl (it runs that code)")
            rows = self.parent.impl_rows(spec)
            row = next(r for r in rows if r.wrt in (w, ""))
        else:
            row = self.parent.check()[self.index]
        if row.failed:
            raise AgradCheckFailed(row)
        if row.status.startswith("skipped"):
            pytest.skip(row.status)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, AgradCheckFailed):
            r = excinfo.value.row
            return f"{r.file}:{r.line}: {r.output} d/d{r.wrt}: {r.detail}"
        from ..errors import AgradError

        if isinstance(excinfo.value, AgradError):
            return excinfo.value.render()
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, 0, f"{self.path.name}::{self.name}"


class AgradCheckFailed(Exception):
    """A row of `agrad check` that failed."""

    def __init__(self, row):
        super().__init__(row.detail)
        self.row = row

"""What the README and docs/ show is a test: every command runs, and shown output matches.

Commands come from fenced blocks (`$ command` followed by its output, or bare command lines)
and from inline code spans that start with `agrad `. Python blocks run as scripts; a block
fenced as `output` right after one is its expected stdout. Examples in `--help` texts run too.
Everything runs in one scratch folder holding a copy of samples/, in document order, so a
command may read what an earlier one wrote.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
PLACEHOLDER = re.compile(r"\b[A-Z][A-Z_]{2,}(?:-[A-Z]+)*\b|\.\.\.")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
SPAN = re.compile(r"(?<!`)`((?:echo [^`|]*\\?\| *)?agrad [^`]+)`(?!`)")

# Commands that show a failure on purpose, with the exit status they must give.
EXPECTED_STATUS = {
    "agrad eval samples/rosenbrock.txt --at x=1 y=1e300 --strict": 1,
    "agrad --debug eval samples/errors/typo.agrad --at x=1": 2,
    "agrad eval samples/errors/typo.agrad --at x=1": 2,
    "agrad eval samples/seed.txt --at a=1 b=2 c=3 d=4 --jacobain": 2,
    "agrad check samples/impl/logistic_spec.txt --impl samples/impl/logistic_grad.py:wrong_grad": 1,
    "agrad eval -e 'f = x[5]' --at 'x=[1, 2, 3]'": 2,
    "agrad eval -e 'f = sum(x, axes=0)' --at 'x=[1, 2]'": 2,
    "agrad eval -e 'f = sum(concat(x, W))' --at 'x=[1, 2]' 'W=[[1, 2], [3, 4]]'": 2,
}
# Commands that install software or need a terminal: shown, not run.
NOT_RUN = (
    "python -m pip install",
    "pip install",
    "pipx ",
    "apt-get ",
    "brew ",
    "python -m venv",
    "python -m pytest",
)  # the suite itself
# The benchmark scripts run at tiny sizes in tests/test_benchmarks.py.
BENCHMARKS = "python benchmarks/"


@dataclass
class Example:
    """One command or snippet from a document, with the output it shows (if any)."""

    doc: str
    line: int
    kind: str  # "shell" or "python"
    text: str
    shown: str | None = None

    def __str__(self) -> str:
        return f"{self.doc}:{self.line}: {self.text.splitlines()[0][:70]}"


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def examples_of(path: Path) -> list[Example]:
    """Every runnable example of one document, in order."""
    text = path.read_text(encoding="utf-8")
    name = path.relative_to(ROOT).as_posix()
    found: list[tuple[int, Example]] = []
    fenced = list(FENCE.finditer(text))
    for k, m in enumerate(fenced):
        lang, body = m.group(1), m.group(2)
        at = _line(text, m.start())
        if lang == "python":
            shown = None
            nxt = fenced[k + 1] if k + 1 < len(fenced) else None
            if (
                nxt is not None
                and nxt.group(1) == "output"
                and not text[m.end() : nxt.start()].strip()
            ):
                shown = nxt.group(2)
            found.append((m.start(), Example(name, at, "python", body, shown)))
        elif lang in ("", "sh", "console", "shell"):
            found += [(m.start() + off, ex) for off, ex in _shell_block(name, at, body)]
    for m in SPAN.finditer(text):
        inside = any(f.start() <= m.start() < f.end() for f in fenced)
        cmd = m.group(1).replace("\\|", "|")
        if not inside and _runnable(cmd):
            found.append((m.start(), Example(name, _line(text, m.start()), "shell", cmd)))
    return [ex for _, ex in sorted(found, key=lambda t: t[0])]


def _shell_block(doc: str, at: int, body: str) -> list[tuple[int, Example]]:
    """`$ command` lines with the output after them, or bare command lines."""
    lines = body.splitlines()
    out: list[tuple[int, Example]] = []
    if any(line.startswith("$ ") for line in lines):
        k = 0
        while k < len(lines):
            if lines[k].startswith("$ "):
                cmd = lines[k][2:].split("  #")[0].strip()
                j = k + 1
                while j < len(lines) and not lines[j].startswith("$ "):
                    j += 1
                shown = "\n".join(lines[k + 1 : j])
                out.append((k, Example(doc, at + 1 + k, "shell", cmd, shown)))
                k = j
            else:
                k += 1
        return out
    for k, line in enumerate(lines):
        cmd = line.split("  #")[0].strip()
        if cmd.startswith(("agrad ", "python ")) and _runnable(cmd):
            out.append((k, Example(doc, at + 1 + k, "shell", cmd)))
    return out


def _runnable(cmd: str) -> bool:
    if PLACEHOLDER.search(cmd) or cmd.startswith((*NOT_RUN, BENCHMARKS)):
        return False
    # A span such as `agrad eval --at-file` names a feature; a command names what it reads.
    words = cmd.split()
    return (
        any("/" in w or "." in w or w == "-e" for w in words[2:])
        or words[1]
        in (
            "ops",
            "samples",
        )
        or words[-1] == "--ops"
    )


def help_examples() -> list[Example]:
    """The examples in every command's --help epilog."""
    from autogradcli.cli import app

    out = []
    for command in app.registered_commands:
        epilog = command.epilog or ""
        body = epilog.split(":", 1)[1] if ":" in epilog else ""
        for part in body.split("|"):
            cmd = part.split("; then")[0].strip()
            if cmd.startswith("agrad ") and _runnable(cmd):
                out.append(Example(f"agrad {command.name} --help", 0, "shell", cmd))
    return out


ALL = [ex for doc in DOCS for ex in examples_of(doc)]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    """A folder with a copy of samples/, shared by the examples in order."""
    folder = tmp_path_factory.mktemp("docs")
    shutil.copytree(ROOT / "samples", folder / "samples")
    return folder


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("AGRAD_DEBUG", "GITHUB_ACTIONS")}
    env.update(NO_COLOR="1", PYTHONUNBUFFERED="1", COLUMNS="100", PYTHONWARNINGS="error")
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    return env


def _normal(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def run_example(ex: Example, folder: Path) -> None:
    """Run one example and compare what it prints with what the document shows."""
    if ex.kind == "python":
        script = folder / "snippet.py"
        script.write_text(ex.text, encoding="utf-8")
        done = subprocess.run(
            [sys.executable, str(script)], cwd=folder, env=_env(), capture_output=True,
            text=True, timeout=300, check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"{ex}\n{done.stderr[-3000:]}"
        if ex.shown is not None:
            assert _normal(done.stdout) == _normal(ex.shown), ex
        return
    done = subprocess.run(
        ["bash", "-c", ex.text + " 2>&1"], cwd=folder, env=_env(), capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    want = EXPECTED_STATUS.get(ex.text, 0)
    assert done.returncode == want, f"{ex}\nexit {done.returncode}\n{done.stdout[-3000:]}"
    if ex.shown is not None and ex.shown.strip():
        assert _normal(done.stdout) == _normal(ex.shown), f"{ex}\n{done.stdout}"


def test_benchmark_commands_in_the_docs_are_run_by_their_test():
    text = (ROOT / "tests" / "test_benchmarks.py").read_text(encoding="utf-8")
    for doc in DOCS:
        for script in re.findall(r"python (benchmarks/\w+\.py)", doc.read_text(encoding="utf-8")):
            assert f'"{script}"' in text, (doc.name, script)


def test_docs_have_examples():
    assert len(ALL) > 50
    assert any(ex.shown for ex in ALL if ex.kind == "shell")
    assert any(ex.shown for ex in ALL if ex.kind == "python")


def test_every_example_in_the_docs_runs(scratch):
    failures = []
    for ex in ALL:
        try:
            run_example(ex, scratch)
        except AssertionError as exc:
            failures.append(str(exc))
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("ex", help_examples(), ids=str)
def test_help_examples_run(ex, tmp_path):
    shutil.copytree(ROOT / "samples", tmp_path / "samples")
    run_example(ex, tmp_path)

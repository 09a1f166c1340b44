"""What the README and docs/ show is a test: every command runs, and shown output matches.

Commands come from fenced blocks (`$ command` followed by its output, or bare command lines)
and from inline code spans that start with `agrad `. Python blocks run as scripts; a block
fenced as `output` right after one is its expected stdout. Examples in `--help` texts run too.
Each document's examples run in one scratch folder holding a copy of samples/, in document
order, so a command may read what an earlier one of the same document wrote. Every `*.md` in
docs/ is collected. An example that needs torch, Graphviz or matplotlib is skipped with the
reason when that is missing, and fails under CI=true.
"""

from __future__ import annotations

import importlib.util
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

# What some examples need beyond the test extra, and how to tell it is there. Without it they
# are skipped with the reason, except under CI=true, where CI installs everything.
NEEDS = [
    (re.compile(r"\btorch:|^\s*(?:import|from) torch\b", re.M), "torch",
     lambda: importlib.util.find_spec("torch") is not None),
    (re.compile(r"agrad graph .*(?:-o|--out) \S+\.(?:svg|png|pdf)\b|--render\b"),
     "Graphviz's dot", lambda: shutil.which("dot") is not None),
    (re.compile(r"--plot\b"), "matplotlib",
     lambda: importlib.util.find_spec("matplotlib") is not None),
]  # fmt: skip


def missing(ex: Example) -> str | None:
    """What an example needs that is not installed here, if anything."""
    for pattern, what, present in NEEDS:
        if pattern.search(ex.text) and not present():
            return what
    return None


def _doc_examples(doc: Path) -> list[Example]:
    name = doc.relative_to(ROOT).as_posix()
    return [ex for ex in ALL if ex.doc == name]


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


def run_examples(examples: list[Example], folder: Path, ci: bool) -> tuple[list, list, int]:
    """Run examples in order: (failures, skipped with the reason, how many ran). Under CI an
    example whose software is missing is a failure, not a skip."""
    failures, skipped, ran = [], [], 0
    for ex in examples:
        need = missing(ex)
        if need and not ci:
            skipped.append(f"{ex} (needs {need})")
            continue
        ran += 1
        try:
            assert need is None, f"{ex}: CI=true but {need} is not installed"
            run_example(ex, folder)
        except AssertionError as exc:
            failures.append(str(exc))
    return failures, skipped, ran


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.relative_to(ROOT).as_posix())
def test_every_example_in_the_docs_runs(doc, tmp_path):
    """A document's examples run in order in one folder holding a copy of samples/."""
    shutil.copytree(ROOT / "samples", tmp_path / "samples")
    failures, skipped, ran = run_examples(_doc_examples(doc), tmp_path, bool(os.environ.get("CI")))
    assert not failures, "\n\n".join(failures)
    if skipped:
        pytest.skip(f"{ran} examples ran and passed; skipped: " + "; ".join(skipped))


def test_missing_software_skips_with_the_reason_and_fails_under_ci(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)  # no Graphviz here
    picture = Example("d.md", 3, "shell", "agrad graph samples/seed.txt -o seed.svg")
    plain = Example("d.md", 4, "shell", "agrad ops")
    failures, skipped, ran = run_examples([picture, plain], tmp_path, ci=False)
    assert (failures, ran) == ([], 1)
    assert skipped == ["d.md:3: agrad graph samples/seed.txt -o seed.svg (needs Graphviz's dot)"]
    failures, skipped, ran = run_examples([picture], tmp_path, ci=True)
    assert skipped == [] and ran == 1
    assert len(failures) == 1
    assert failures[0].startswith("d.md:3: agrad graph samples/seed.txt -o seed.svg: CI=true but")
    assert "Graphviz's dot is not installed" in failures[0]


def test_examples_that_need_missing_software_are_named():
    torch_cmd = Example("d", 1, "shell", "agrad check s.txt --impl torch:s.py:Softplus")
    picture = Example("d", 1, "shell", "agrad graph samples/seed.txt -o seed.svg")
    plain = Example("d", 1, "shell", "agrad graph samples/seed.txt -o seed.dot")
    snippet = Example("d", 1, "python", "import numpy\nimport torch\n")
    assert missing(plain) is None
    assert [what for pattern, what, _ in NEEDS if pattern.search(torch_cmd.text)] == ["torch"]
    assert [what for pattern, what, _ in NEEDS if pattern.search(snippet.text)] == ["torch"]
    assert [what for pattern, what, _ in NEEDS if pattern.search(picture.text)] == [
        "Graphviz's dot"
    ]


@pytest.mark.parametrize("ex", help_examples(), ids=str)
def test_help_examples_run(ex, tmp_path):
    need = missing(ex)
    if need and not os.environ.get("CI"):
        pytest.skip(f"needs {need}")
    shutil.copytree(ROOT / "samples", tmp_path / "samples")
    run_example(ex, tmp_path)

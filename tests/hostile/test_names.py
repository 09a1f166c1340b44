"""What a file *name* can do: nothing. Hostile names reach generated code, CI formats and
drawings only as safe text."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import agrad

HOSTILE = [
    'm"""\n__import__("os").system("touch PWNED")\n""".txt',
    "q'\"\\N{x}\\x.txt",
    "back\\slash\\u0041.txt",
    "line\nbreak\r.txt",
    "evil\n::error file=PWNED.txt,line=1::INJECTED\n.txt",
    "[red]markup[x].txt",
    "ctrl\x01\x1b[31m.txt",
]


def _make(tmp_path: Path, name: str, text: str = "f = x*2\n") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", HOSTILE)
def test_compile_hostile_names_import_and_run(tmp_path, name):
    path = _make(tmp_path, name)
    out = tmp_path / "mod.py"
    result = agrad("compile", str(path), "-o", str(out))
    assert result.exit_code == 0, result.output
    done = subprocess.run(
        [sys.executable, "-c", "import mod; print(mod.value_and_grad(x=1.0))"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "{'f': 2.0}" in done.stdout
    assert not (tmp_path / "PWNED").exists() and not Path("PWNED").exists()


def test_compile_a_non_utf8_name(tmp_path):
    raw = os.fsencode(str(tmp_path)) + b"/bad\xff\xfename.txt"
    with open(raw, "wb") as fh:
        fh.write(b"f = sum(w) * 2\n")
    out = tmp_path / "mod2.py"
    result = agrad("compile", os.fsdecode(raw), "-o", str(out))
    assert result.exit_code == 0, result.output
    out.read_text(encoding="utf-8")  # the module is valid UTF-8 text
    done = subprocess.run(
        [sys.executable, "-c", "import mod2; print(mod2.value_and_grad(w=[1.0, 2.0]))"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_github_annotations_cannot_be_forged_by_a_folder_name(tmp_path, monkeypatch):
    folder = tmp_path / "evil\n::error file=PWNED.txt,line=1::INJECTED\n"
    folder.mkdir()
    (folder / "wrong.txt").write_text("f = x^2\nexpect diff(f, x) == 3*x\n")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = agrad("check", str(folder), "--points", "3")
    assert result.exit_code == 1
    lines = (result.stdout + result.stderr).splitlines()
    commands = [line for line in lines if line.lstrip().startswith("::")]
    assert len(commands) == 1 and "PWNED" in commands[0]
    assert commands[0].startswith("::error file=") and "%0A%3A%3Aerror" in commands[0]


def test_junit_with_control_characters_in_paths_is_valid_xml(tmp_path):
    folder = tmp_path / "ctrl\x01\x1f"
    folder.mkdir()
    (folder / "bad\x02.txt").write_text("f = x^2\nexpect diff(f, x) == 3*x\n")
    (folder / "broken.txt").write_text("f = sine(x)\n")
    report = tmp_path / "report.xml"
    result = agrad("check", str(folder), "--points", "3", "--junit", str(report))
    assert result.exit_code == 2  # one file could not be checked
    root = ET.parse(report).getroot()
    suites = {s.get("name"): s for s in root}
    assert len(suites) == 2
    errors = [s for s in suites.values() if s.get("errors") == "1"]
    assert len(errors) == 1 and errors[0].find("testcase/error") is not None


def test_svg_with_control_characters_in_comments_is_valid(tmp_path):
    if not os.environ.get("CI") and subprocess.run(["which", "dot"]).returncode:
        pytest.skip("Graphviz is not installed")
    path = _make(tmp_path, "f.txt", "f = (x # \x01 \ufffe comment\n + 1) * y\n")
    out = tmp_path / "f.svg"
    result = agrad("graph", str(path), "--at", "x=1", "y=2", "-o", str(out))
    assert result.exit_code == 0, result.output
    ET.parse(out)


@pytest.mark.parametrize("name", ["[red]markup[x].txt", "[/].txt", "a[b]c.txt"])
def test_markup_in_paths_is_shown_literally(tmp_path, name):
    (tmp_path / name).parent.mkdir(exist_ok=True)
    path = _make(tmp_path, name)
    for args in (["stats"], ["optimize"], ["check"], ["eval", "--at", "x=1"]):
        result = agrad(args[0], str(path), *args[1:])
        assert result.exit_code == 0, (args, result.output)
    shown = agrad("stats", str(path)).stdout
    assert Path(name).name in shown.replace("\n", "")


def test_json_keeps_hostile_names_as_data(tmp_path):
    path = _make(tmp_path, 'q"\\.txt')
    doc = json.loads(agrad("eval", str(path), "--at", "x=1", "-f", "json").stdout)
    assert doc["file"] == str(path)


@pytest.mark.parametrize(
    "name", ["a`b<i>x<&i>.txt", "*bold*_[link](http:x).txt", "``tick``.txt", "line\nbreak.txt"]
)
def test_explain_markdown_holds_a_hostile_file_name_as_code(tmp_path, name):
    path = tmp_path / name
    path.write_text("f = x^2\n", encoding="utf-8")
    result = agrad("explain", str(path), "--at", "x=1", "-f", "markdown")
    assert result.exit_code == 0, result.stderr
    line = next(t for t in result.stdout.splitlines() if t.startswith("1. "))
    place = line[line.index("(") + 1 : -1]
    fence = place[: len(place) - len(place.lstrip("`"))]
    assert len(fence) >= 1 and place.endswith(fence)
    inner = place[len(fence) : -len(fence)].strip(" ")
    assert "`" * len(fence) not in inner and "\n" not in place
    assert inner.endswith(":1:5") and inner.startswith(str(tmp_path))

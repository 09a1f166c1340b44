"""The pre-commit hook and the GitHub Action: valid YAML that runs `agrad check` as documented,
snippets that name the tag the release procedure creates, artifacts that a matrix keeps apart."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
yaml = pytest.importorskip("yaml")
SNIPPET = re.compile(r"agrad-dev/agrad@([\w.-]+)|rev: ([\w.-]+)")


def _version() -> str:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    return re.search(r'^version = "([^"]+)"$', text, re.M)[1]


def test_the_pre_commit_hook_runs_agrad_check_on_rule_files():
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "agrad-check" and hook["entry"] == "agrad check"
    assert hook["language"] == "python" and hook["pass_filenames"] is True
    assert re.search(hook["files"], "rules/chain.txt")
    assert not re.search(hook["files"], "README.txt")


def test_the_action_installs_agrad_and_checks_with_a_junit_report():
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    assert action["runs"]["using"] == "composite" and "paths" in action["inputs"]
    commands = " ".join(step.get("run", "") for step in action["runs"]["steps"])
    assert "pip install" in commands and "agrad check $AGRAD_PATHS" in commands
    assert "--junit agrad-junit.xml" in commands


def test_the_artifact_name_is_an_input_that_differs_per_job_and_matrix_entry():
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    default = action["inputs"]["artifact-name"]["default"]
    assert "${{ github.job }}" in default and "${{ strategy.job-index }}" in default
    (upload,) = [s for s in action["runs"]["steps"] if "upload-artifact" in s.get("uses", "")]
    assert upload["with"]["name"] == "${{ inputs.artifact-name }}"


def test_every_snippet_names_the_tag_of_the_version_in_pyproject():
    tag = f"v{_version()}"
    files = [ROOT / "README.md", ROOT / "action.yml", ROOT / ".pre-commit-hooks.yaml",
             *sorted((ROOT / "docs").glob("*.md"))]  # fmt: skip
    found = {
        (path.name, a or b)
        for path in files
        for a, b in SNIPPET.findall(path.read_text(encoding="utf-8"))
    }
    assert {name for name, _ in found} >= {"action.yml", ".pre-commit-hooks.yaml", "ci.md"}
    assert sorted(f"{name}: {ref}" for name, ref in found if ref != tag) == []


def test_the_release_procedure_creates_that_tag():
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    release = text.split("## Releasing", 1)[1].split("\n## ", 1)[0]
    assert 'git tag -a "$(.ci/tag)"' in release and 'git push origin "$(.ci/tag)"' in release
    done = subprocess.run(
        ["bash", str(ROOT / ".ci" / "tag")], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == f"v{_version()}"

"""The pre-commit hook and the GitHub Action: valid YAML that runs `agrad check` as documented."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
yaml = pytest.importorskip("yaml")


def test_the_pre_commit_hook_runs_agrad_check_on_rule_files():
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "agrad-check" and hook["entry"] == "agrad check"
    assert hook["language"] == "python" and hook["pass_filenames"] is True
    import re

    assert re.search(hook["files"], "rules/chain.txt")
    assert not re.search(hook["files"], "README.txt")


def test_the_action_installs_agrad_and_checks_with_a_junit_report():
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    assert action["runs"]["using"] == "composite" and "paths" in action["inputs"]
    commands = " ".join(step.get("run", "") for step in action["runs"]["steps"])
    assert "pip install" in commands and "agrad check $AGRAD_PATHS" in commands
    assert "--junit agrad-junit.xml" in commands

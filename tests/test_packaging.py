"""The wheel and the sdist hold everything a user needs (CI also installs the wheel)."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MIN_SETUPTOOLS = 77  # the first to read PEP 639's `license = "MIT"`


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """The built sdist and wheel: CI's (AGRAD_DIST), else built here (without isolation only
    when the installed setuptools is one the build-system table accepts)."""
    given = os.environ.get("AGRAD_DIST")
    if given and list(Path(given).glob("agrad-*.whl")):
        return Path(given)
    pytest.importorskip("build")
    out = tmp_path_factory.mktemp("dist")
    isolation = ["--no-isolation"] if _setuptools_enough() else []
    done = subprocess.run(
        [sys.executable, "-m", "build", *isolation, "--sdist", "--wheel", "-o", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return out


def _setuptools_enough() -> bool:
    """The installed setuptools satisfies `build-system.requires` (PEP 639 needs 77)."""
    from importlib import metadata

    try:
        major = int(metadata.version("setuptools").split(".")[0])
    except (metadata.PackageNotFoundError, ValueError):
        return False
    return major >= MIN_SETUPTOOLS


def test_the_build_asks_for_a_setuptools_that_reads_the_license_expression():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'license = "MIT"' in text
    assert f'requires = ["setuptools>={MIN_SETUPTOOLS}"]' in text


def _tracked(pattern: str) -> list[str]:
    return sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob(pattern) if p.is_file())


def test_wheel_holds_every_module_and_sample(dist):
    names = set(zipfile.ZipFile(next(dist.glob("agrad-*.whl"))).namelist())
    modules = [p for p in _tracked("autogradcli/**/*") if "__pycache__" not in p]  # .js, .css
    assert modules and [m for m in modules if m not in names] == []
    samples = [p for p in _tracked("samples/**/*") if p.endswith((".txt", ".py", ".csv", ".ipynb"))]
    shipped = {p.replace("samples/", "autogradcli/samples/", 1) for p in samples}
    assert shipped - names == set()
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(next(dist.glob("agrad-*.whl"))).read(metadata).decode()
    assert (
        "Project-URL: Source" in text and "Classifier: Programming Language :: Python :: 3" in text
    )
    assert "Requires-Dist: numpy" in text


def test_sdist_holds_samples_docs_tests_and_license(dist):
    with tarfile.open(next(dist.glob("agrad-*.tar.gz"))) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    wanted = ["LICENSE", "README.md", "pyproject.toml", "setup.py", ".ci/run", ".ci/smoke"]
    wanted += ["action.yml", ".pre-commit-hooks.yaml"]
    wanted += _tracked("samples/**/*") + _tracked("docs/*") + _tracked("tests/**/*.py")
    wanted += _tracked("autogradcli/**/*.py")
    assert [w for w in wanted if w not in names and "__pycache__" not in w] == []

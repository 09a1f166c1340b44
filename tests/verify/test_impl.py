"""agrad check --impl: the user's gradient code against a specification file. Every kind of
wrong implementation is caught; usage errors exit 2; the user's exceptions are findings."""

from __future__ import annotations

import textwrap

import pytest
from conftest import agrad, write

from autogradcli.errors import AgradError
from autogradcli.language.parser import parse
from autogradcli.verify.impl import check_impl, load

SPEC = "# range: x in [-2, 2], y in [0.5, 2]\nf = x^2 * y + sin(y)\n"
IMPLS = '''
import numpy as np

def right(x, y):
    return x**2 * y + np.sin(y), {"x": 2 * x * y, "y": x**2 + np.cos(y)}

def wrong_sign(x, y):
    return {"x": -2 * x * y, "y": x**2 + np.cos(y)}

def wrong_input(x, y):
    return {"x": x**2 + np.cos(y), "y": 2 * x * y}

def missing_factor(x, y):
    return {"x": x * y, "y": x**2 + np.cos(y)}

def wrong_shape(x, y):
    return {"x": np.array([2 * x * y, 0.0]), "y": x**2 + np.cos(y)}

def not_finite(x, y):
    return {"x": 2 * x * y + np.inf, "y": x**2 + np.cos(y)}

def raises(x, y):
    raise ValueError("boom in user code")

def not_a_dict(x, y):
    return [1.0, 2.0]

def forgets_y(x, y):
    return {"x": 2 * x * y}

def wrong_value(x, y):
    return x**2 * y, {"x": 2 * x * y, "y": x**2 + np.cos(y)}
'''
KINK = "# range: x in [-2, 2]\nf = abs(x - 1)\n"


@pytest.fixture
def impls(tmp_path):
    path = tmp_path / "user_grads.py"
    path.write_text(textwrap.dedent(IMPLS), encoding="utf-8")
    return str(path)


def rows(impls: str, name: str, spec: str = SPEC):
    return check_impl(parse(spec, "spec.txt"), "spec.txt", name, load(f"{impls}:{name}"), points=8)


def test_a_right_implementation_passes_value_and_gradient(impls):
    got = rows(impls, "right")
    assert [(r.wrt, r.status) for r in got] == [("x", "pass"), ("y", "pass"), ("value", "pass")]


@pytest.mark.parametrize(
    ("name", "bad", "words"),
    [
        ("wrong_sign", ["x"], "yours"),
        ("wrong_input", ["x", "y"], "SymPy"),
        ("missing_factor", ["x"], "finite differences"),
        ("wrong_shape", ["x"], "wrong shape"),
        ("not_finite", ["x"], "not finite"),
        ("wrong_value", ["value"], "agrad"),
    ],
)
def test_every_kind_of_wrong_implementation_is_caught(impls, name, bad, words):
    got = rows(impls, name)
    assert sorted(r.wrt for r in got if r.failed) == sorted(bad)
    assert all(words in r.detail for r in got if r.failed)


def test_right_only_away_from_the_specified_kink(tmp_path):
    path = tmp_path / "kinked.py"
    path.write_text("import numpy as np\n\ndef g(x):\n    return {'x': np.sign(x)}\n")
    got = check_impl(parse(KINK, "k.txt"), "k.txt", "g", load(f"{path}:g"), points=20)
    assert got[0].failed  # sign(x) is abs(x - 1)'s slope only outside [0, 1]


def test_an_exception_in_user_code_is_the_finding_with_its_traceback(impls):
    (row,) = rows(impls, "raises")
    assert row.failed and "ValueError: boom in user code" in row.detail
    assert "raised at x=" in row.detail and "Traceback" in row.detail


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no_such_module_here:f", "cannot import no_such_module_here"),
        ("missing.py:f", "cannot import missing.py"),
        ("nocolon", "expected MODULE:FUNCTION"),
    ],
)
def test_imports_that_fail_are_usage_errors(spec, message):
    with pytest.raises(AgradError, match=message):
        load(spec)


def test_the_command_line(tmp_path, impls):
    spec = write(tmp_path, SPEC, "spec.txt")
    ok = agrad("check", spec, "--impl", f"{impls}:right", "--points", "5")
    assert ok.exit_code == 0, ok.output
    bad = agrad("check", spec, "--impl", f"{impls}:right", "--impl", f"{impls}:wrong_sign")
    assert bad.exit_code == 1 and "wrong_sign" in bad.stdout
    for name, message in [("not_a_dict", "expected {input: gradient}"),
                          ("forgets_y", "gave no gradient for y")]:  # fmt: skip
        usage = agrad("check", spec, "--impl", f"{impls}:{name}")
        assert usage.exit_code == 2 and message in usage.stderr
    assert agrad("check", spec, "--impl", "nowhere:f").exit_code == 2
    two = agrad("check", spec, spec, "--impl", f"{impls}:right")
    assert two.exit_code == 2 and "one specification file" in two.stderr


def test_the_sample_pair(monkeypatch):
    assert agrad("check", "samples/impl/logistic_spec.txt", "--impl",
                 "samples/impl/logistic_grad.py:loss_and_grad").exit_code == 0  # fmt: skip
    wrong = agrad("check", "samples/impl/logistic_spec.txt", "--impl",
                  "samples/impl/logistic_grad.py:wrong_grad")  # fmt: skip
    assert wrong.exit_code == 1


def test_a_torch_function_right_and_wrong():
    pytest.importorskip("torch")
    spec = "samples/impl/softplus_spec.txt"
    right = agrad("check", spec, "--impl", "torch:samples/impl/softplus_torch.py:Softplus")
    assert right.exit_code == 0, right.output
    wrong = agrad("check", spec, "--impl", "torch:samples/impl/softplus_torch.py:WrongSoftplus")
    assert wrong.exit_code == 1 and "WrongSoftplus" in wrong.stdout


def test_a_jax_custom_vjp_right_and_wrong(tmp_path):
    pytest.importorskip("jax")
    path = tmp_path / "jax_impl.py"
    path.write_text(textwrap.dedent('''
        import jax
        import jax.numpy as jnp

        @jax.custom_vjp
        def square(x):
            return x * x

        def fwd(x):
            return x * x, x

        def bwd(x, g):
            return (2 * x * g,)

        square.defvjp(fwd, bwd)

        @jax.custom_vjp
        def bad_square(x):
            return x * x

        bad_square.defvjp(fwd, lambda x, g: (x * g,))
    '''))
    spec = "# range: x in [-2, 2]\nf = x^2\n"
    graph = parse(spec, "s.txt")
    good = check_impl(graph, "s.txt", "square", load(f"jax:{path}:square", ["x"]), points=6)
    bad = check_impl(graph, "s.txt", "bad", load(f"jax:{path}:bad_square", ["x"]), points=6)
    assert not any(r.failed for r in good) and bad[0].failed


def test_a_module_in_the_current_folder_never_shadows_the_standard_library(
    tmp_path, monkeypatch
):
    marker = tmp_path / "ran.txt"
    (tmp_path / "colorsys.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    (tmp_path / "usermod.py").write_text(
        "import colorsys\n\ndef right(x, y):\n    return {'x': 2 * x * y, 'y': x**2}\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.path", [p for p in __import__("sys").path if p not in ("", ".")])
    monkeypatch.delitem(__import__("sys").modules, "colorsys", raising=False)
    monkeypatch.delitem(__import__("sys").modules, "usermod", raising=False)
    fn = load("usermod:right")
    assert fn(x=1.0, y=2.0) == {"x": 4.0, "y": 1.0}
    assert not marker.exists()
    assert __import__("sys").modules["colorsys"].__file__ != str(tmp_path / "colorsys.py")


def test_an_xml_file_in_the_current_folder_is_not_run_by_check_impl(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    marker = tmp_path / "ran.txt"
    (tmp_path / "xml.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    (tmp_path / "usermod.py").write_text(
        "import xml.dom\n\ndef right(x, y):\n    return {'x': 2 * x * y, 'y': x**2}\n"
    )
    (tmp_path / "spec.txt").write_text("f = x^2 * y\n")
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-c", "from autogradcli.cli import main; main()", "check", "spec.txt",
         "--impl", "usermod:right", "--points", "3"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "Traceback" not in done.stderr
    assert not marker.exists()
    assert done.returncode == 0, done.stderr

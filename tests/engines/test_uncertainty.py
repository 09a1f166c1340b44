"""Uncertainty propagation (`--sigma`, `--cov`, `--sigma-order 2`): closed forms for linear and
quadratic formulas, Monte Carlo for nonlinear ones, one point against every row of a file."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import agrad, write

from autogradcli.engines.uncertainty import Spread, at_point, moments
from autogradcli.language.parser import parse


def outputs(result) -> dict:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["outputs"]


def test_linear_formula_matches_the_closed_form(tmp_path):
    f = write(tmp_path, "f = 2*a - 3*b + 0.5*c\n")
    doc = outputs(agrad("eval", f, "--at", "a=1", "b=2", "c=3", "--sigma", "a=0.1", "b=0.2",
                        "c=0.4", "--format", "json"))["f"]  # fmt: skip
    parts = np.array([2 * 0.1, 3 * 0.2, 0.5 * 0.4]) ** 2
    assert doc["sigma"] == pytest.approx(np.sqrt(parts.sum()), rel=1e-15)
    assert list(doc["variance_share"].values()) == pytest.approx(parts / parts.sum(), rel=1e-14)
    assert doc["sigma_order"] == 1


def test_covariance_matches_the_closed_form_and_shares_sum_to_one(tmp_path):
    f = write(tmp_path, "f = 2*a - 3*b\n")
    cov = write(tmp_path, "b,a\n0.04,-0.01\n-0.01,0.09\n", "cov.csv")  # rows in header order
    doc = outputs(agrad("eval", f, "--at", "a=1", "b=2", "--cov", cov, "--format", "json"))["f"]
    g, c = np.array([2.0, -3.0]), np.array([[0.09, -0.01], [-0.01, 0.04]])  # over (a, b)
    assert doc["sigma"] == pytest.approx(np.sqrt(g @ c @ g), rel=1e-14)
    shares = doc["variance_share"]
    assert shares["a"] == pytest.approx(g[0] * (c @ g)[0] / (g @ c @ g))
    assert shares["a"] + shares["b"] == pytest.approx(1.0)


def test_second_order_is_exact_for_a_quadratic_against_monte_carlo(tmp_path):
    """For a quadratic of normal inputs the second-order mean and variance are exact."""
    f = write(tmp_path, "f = a*b + a^2 - 3*b\n")
    cov = np.array([[0.04, 0.012], [0.012, 0.09]])
    path = write(tmp_path, "a,b\n0.04,0.012\n0.012,0.09\n", "cov.csv")
    doc = outputs(agrad("eval", f, "--at", "a=1", "b=2", "--cov", path, "--sigma-order", "2",
                        "--format", "json"))["f"]  # fmt: skip
    rng = np.random.default_rng(7)
    n = 400_000
    a, b = rng.multivariate_normal([1.0, 2.0], cov, size=n).T
    sample = a * b + a**2 - 3 * b
    # Hand: f(1, 2) = -3; H = [[2, 1], [1, 0]], so the mean moves by tr(HC)/2 = 0.04 + 0.012.
    assert doc["mean_shift"] == pytest.approx(0.052, rel=1e-12)
    g = np.array([2 * 1 + 2, 1 - 3])
    h = np.array([[2.0, 1.0], [1.0, 0.0]])
    exact = g @ cov @ g + 0.5 * np.trace(h @ cov @ h @ cov)
    assert doc["sigma"] == pytest.approx(np.sqrt(exact), rel=1e-12)
    assert doc["sigma_first_order"] == pytest.approx(np.sqrt(g @ cov @ g), rel=1e-12)
    se_mean = sample.std() / np.sqrt(n)
    assert abs(sample.mean() - (-3 + doc["mean_shift"])) < 5 * se_mean
    se_sd = sample.std() / np.sqrt(2 * n) * 1.5  # a margin for the non-normal tails
    assert abs(sample.std() - doc["sigma"]) < 5 * se_sd


def test_first_order_of_a_nonlinear_formula_against_monte_carlo(tmp_path):
    f = write(tmp_path, "f = sin(a) * exp(b) / c\n")
    at = {"a": 0.7, "b": 0.3, "c": 2.0}
    sigma = {"a": 0.002, "b": 0.001, "c": 0.003}
    args = ["--at", *(f"{k}={v}" for k, v in at.items())]
    args += ["--sigma", *(f"{k}={v}" for k, v in sigma.items())]
    doc = outputs(agrad("eval", f, *args, "--format", "json"))["f"]
    rng = np.random.default_rng(3)
    n = 200_000
    a, b, c = (rng.normal(at[k], sigma[k], n) for k in "abc")
    sample = np.sin(a) * np.exp(b) / c
    se = sample.std() / np.sqrt(2 * n)
    # The first order's own error is O(sigma^2) relative: far below the sample's noise here.
    assert abs(sample.std() - doc["sigma"]) < 5 * se + 1e-3 * doc["sigma"]


def test_array_inputs_and_outputs_element_by_element(tmp_path):
    f = write(tmp_path, "y = 2*x\ns = sum(x^2)\n")
    args = ["--sigma", "x=[0.1,0.2,0.3]", "--output", "y", "--output", "s", "--format", "json"]
    doc = outputs(agrad("eval", f, "--at", "x=[1,2,3]", *args))
    assert doc["y"]["sigma"] == pytest.approx([0.2, 0.4, 0.6])
    assert doc["y"]["variance_share"]["x"] == [1.0, 1.0, 1.0]
    assert doc["s"]["sigma"] == pytest.approx(
        np.sqrt(np.sum((2 * np.array([1, 2, 3]) * [0.1, 0.2, 0.3]) ** 2))
    )


def test_one_number_applies_to_every_element_and_unsure_inputs_count_zero():
    graph = parse("f = sum(x * w)\n", "t.txt")
    inputs = {"x": np.array([1.0, 2.0]), "w": np.array([3.0, -1.0])}
    (r,) = at_point(graph, inputs, list(graph.outputs), Spread(["x"], {"x": np.array(0.5)}))
    assert float(r.sigma) == pytest.approx(0.5 * np.sqrt(10))
    assert list(r.shares) == ["x"]


def test_moments_independent_equals_a_diagonal_covariance():
    rng = np.random.default_rng(0)
    g, h = rng.normal(size=(5, 3)), rng.normal(size=(5, 3, 3))
    h = h + h.transpose(0, 2, 1)
    var = rng.uniform(0.1, 1, size=3)
    by_var = moments(g, np.broadcast_to(np.sqrt(var), (5, 3)), h)
    by_cov = moments(g, np.diag(var), h, cov=True)
    for x, y in [(by_var.sigma, by_cov.sigma), (by_var.shift, by_cov.shift)]:
        np.testing.assert_allclose(x, y, rtol=1e-13)
    np.testing.assert_allclose(by_var.shares(), by_cov.shares(), rtol=1e-13)


def test_every_row_of_a_file_equals_one_point_at_a_time(tmp_path):
    seed = "samples/seed.txt"
    rows = [(1, 2, 3, 4, 0.1), (2, 1, 0, 1, 0.2), (-0.5, 0.3, 2, 7, 0.0)]
    text = "".join(f"{a},{s},{b},{c},{d}\n" for a, b, c, d, s in rows)
    points = write(tmp_path, "a,a_sd,b,c,d\n" + text, "p.csv")  # a sigma column in the middle
    got = agrad("eval", seed, "--at-file", points, "--sigma-suffix", "_sd", "--sigma", "b=0.05",
                "--sigma-order", "2", "--format", "json")  # fmt: skip
    batch = outputs(got)["f"]
    for k, (a, b, c, d, s) in enumerate(rows):
        one = outputs(agrad("eval", seed, "--at", f"a={a}", f"b={b}", f"c={c}", f"d={d}",
                            "--sigma", f"a={s}", "b=0.05", "--sigma-order", "2",
                            "--format", "json"))["f"]  # fmt: skip
        for key in ("sigma", "sigma_first_order", "mean_shift"):
            assert batch[key][k] == pytest.approx(one[key], rel=1e-14, abs=1e-300)
        for x in ("a", "b"):
            assert batch["variance_share"][x][k] == pytest.approx(one["variance_share"][x])


def test_file_columns_and_the_compiled_engine_agree(tmp_path):
    rng = np.random.default_rng(1)
    data = rng.uniform(0.5, 2, size=(3000, 4))
    points = tmp_path / "p.csv"
    np.savetxt(points, data, delimiter=",", header="a,b,c,d", comments="")
    tables = {}
    for engine in ("compiled", "interpreted"):
        out = tmp_path / f"{engine}.csv"
        got = agrad("eval", "samples/seed.txt", "--at-file", str(points), "--sigma", "a=0.1",
                    "c=0.2", "--engine", engine, "-o", str(out))  # fmt: skip
        assert got.exit_code == 0, got.stderr
        header = out.read_text().splitlines()[0].split(",")
        tables[engine] = np.loadtxt(out, delimiter=",", skiprows=1)
    assert header[-3:] == ["sigma_f", "share_f/a", "share_f/c"]
    np.testing.assert_allclose(tables["compiled"], tables["interpreted"], rtol=1e-14)
    _a, b, _c, d = data.T
    expect = np.sqrt((b**2 * 0.1) ** 2 + (d**2 * 0.2) ** 2)
    np.testing.assert_allclose(tables["compiled"][:, -3], expect, rtol=1e-14)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sigma", "aa=0.1"], "--sigma aa: 'aa' is not an input"),
        (["--sigma", "u=0.1"], "'u' is computed by the file"),
        (["--sigma", "a=-0.1"], "must be a finite number >= 0"),
        (["--sigma-order", "2"], "--sigma-order needs the inputs' uncertainties"),
        (["--sigma-suffix", "_sd"], "--sigma-suffix names sigma columns of --at-file"),
        (["--sigma", "a=0.1", "--wrt", "b"], "--wrt leaves out a"),
        (["--sigma", "a=[0.1,0.2]"], "does not fit the input's ()"),
    ],
)
def test_bad_uncertainty_flags_are_clear_errors(args, message):
    got = agrad("eval", "samples/seed.txt", "--at", "a=1", "b=2", "c=3", "d=4", *args)
    assert got.exit_code == 2
    assert message in got.stderr
    assert "Traceback" not in got.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b\n0.1,0.2\n0.3,0.1\n", "not symmetric: row a, column b is 0.2"),
        ("a,b\n0.01,0.1\n0.1,0.01\n", "not positive semidefinite"),
        ("a,b\n0.1,0\n", "needs 2 rows of 2 numbers"),
        ("a,b\n0.1,0\n0,inf\n", "nan or inf"),
    ],
)
def test_bad_covariance_files_are_clear_errors(tmp_path, text, message):
    cov = write(tmp_path, text, "cov.csv")
    got = agrad("eval", "samples/seed.txt", "--at", "a=1", "b=2", "c=3", "d=4", "--cov", cov)
    assert got.exit_code == 2
    assert message in got.stderr


def test_file_errors(tmp_path):
    points = write(tmp_path, "a,b,c,d,a_sd\n1,2,3,4,-1\n", "p.csv")
    got = agrad("eval", "samples/seed.txt", "--at-file", points, "--sigma-suffix", "_sd")
    assert got.exit_code == 2 and "row 1, column a_sd" in got.stderr
    got = agrad("eval", "samples/seed.txt", "--at-file", points, "--sigma-suffix", "_u")
    assert (
        got.exit_code == 2
        and "no column is named after an input with the suffix '_u'" in got.stderr
    )
    got = agrad("eval", "samples/seed.txt", "--at-file", points, "--sigma-suffix", "_sd",
                "--sigma", "a=1")  # fmt: skip
    assert got.exit_code == 2 and "'a' has two uncertainties" in got.stderr
    got = agrad("eval", "samples/seed.txt", "--at-file", points)
    assert got.exit_code == 2 and "--sigma-suffix _sd" in got.stderr
    cov = write(tmp_path, "a\n1\n", "cov.csv")
    got = agrad("eval", "samples/seed.txt", "--at-file", points, "--sigma-suffix", "_sd",
                "--cov", cov)  # fmt: skip
    assert got.exit_code == 2 and "give one of them" in got.stderr


def test_second_order_refuses_array_outputs_and_cov_refuses_array_inputs(tmp_path):
    f = write(tmp_path, "y = x^2\n")
    got = agrad("eval", f, "--at", "x=[1,2]", "--sigma", "x=0.1", "--sigma-order", "2")
    assert got.exit_code == 2 and "output y is an array of shape (2,)" in got.stderr
    cov = write(tmp_path, "x\n1\n", "cov.csv")
    got = agrad("eval", f, "--at", "x=[1,2]", "--cov", cov)
    assert got.exit_code == 2 and "'x' is an array" in got.stderr


def test_table_shows_value_sigma_and_shares():
    got = agrad("eval", "samples/seed.txt", "--at", "a=1", "b=2", "c=3", "d=4", "--sigma",
                "a=0.1", "b=0.05")  # fmt: skip
    assert got.exit_code == 0, got.stderr
    row = next(line for line in got.stdout.splitlines() if line.startswith("│ f "))
    assert row.split("│")[1:-1] == [" f      ", "    -4 ", " 0.894427 ", "   20.0% ", "   80.0% "]


def test_flags_and_json_keys():
    from autogradcli.cli.uncertainty import SpreadFlags
    from autogradcli.engines.uncertainty import OutputSpread
    from autogradcli.render.spread import spread_json

    graph = parse("f = a * b\n", "t.txt")
    assert SpreadFlags(None, None, None, None).spread(graph, None, batch=False) is None
    spread = SpreadFlags(["b=0.5", "a=0.1"], None, None, 2).spread(graph, None, batch=True)
    assert spread.names == ["a", "b"] and spread.order == 2
    r = OutputSpread("f", np.array(1.0), {"a": np.array(0.25)}, 2, np.array(0.9), np.array(0.1))
    assert spread_json([r]) == {"f": {"sigma": 1.0, "sigma_order": 2,
                                      "variance_share": {"a": 0.25}, "sigma_first_order": 0.9,
                                      "mean_shift": 0.1}}  # fmt: skip

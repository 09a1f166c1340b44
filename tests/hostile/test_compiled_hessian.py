"""`agrad compile --hessian`: the module's shape never depends on the formula's sparsity, and
rules that run other ops (`ops.call`) work in compiled modules."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from conftest import agrad, write

from autogradcli.engines import higher
from autogradcli.language.parser import parse


def _module(tmp_path, text: str, name: str = "h"):
    out = tmp_path / f"{name}.py"
    result = agrad("compile", write(tmp_path, text), "--hessian", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    spec = importlib.util.spec_from_file_location(name, out)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "text, at",
    [
        ("f = x^2 * (y > 0)\n", {"x": 1.5, "y": 2.0}),
        ("f = x^2 + 0*z\ng = y\n", {"x": 1.5, "y": 2.0, "z": 3.0}),
        ("# shape: W (2, 2), x (2)\nf = sum(W @ x) * (c > 0) + sum(x^3)\n",
         {"W": [[1.0, 2.0], [3.0, 4.0]], "x": [0.5, -1.0], "c": 1.0}),
    ],
)  # fmt: skip
def test_every_input_has_a_row_of_the_hessian(tmp_path, text, at):
    module = _module(tmp_path, text)
    values = {k: np.asarray(v) for k, v in at.items()}
    grads, hess = module.value_and_grad(**values)
    graph = parse(text, "t.txt")
    names = list(graph.input_ids)
    out, node = graph.outputs[0]
    assert list(grads) == [f"d{out}/d{x}" for x in names]
    want = higher.hessian(higher.at(graph, values), node, names)
    for x in names:
        assert list(hess[f"d{out}/d{x}"]) == names
        for y in names:  # the gradient of sum(d out/d x) by y: the block summed over x's axes
            got = hess[f"d{out}/d{x}"][y]
            block = np.sum(want[x][y], axis=tuple(range(np.ndim(values[x]))))
            assert np.shape(got) == np.shape(values[y])
            np.testing.assert_allclose(got, block, rtol=1e-12, atol=1e-12)

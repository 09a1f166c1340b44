"""Second-order results as tables and JSON: labels per element, Taylor coefficients."""

from __future__ import annotations

import numpy as np
from rich.console import Console

from autogradcli.engines.higher import Higher
from autogradcli.render.higher import _labels, higher_json, higher_tables


def test_array_inputs_are_labelled_element_by_element():
    assert _labels("x", ()) == ["x"]
    assert _labels("W", (2, 2)) == ["W[0,0]", "W[0,1]", "W[1,0]", "W[1,1]"]


def test_tables_and_json_carry_every_entry():
    h = {"x": {"x": np.array(2.0), "v": np.array([1.0, 3.0])},
         "v": {"x": np.array([1.0, 3.0]), "v": np.eye(2)}}  # fmt: skip
    r = Higher("f", hessian=h, derivatives=[1.0, 2.0, 6.0])
    console = Console(width=120, record=True)
    console.print(higher_tables([r], ["x"], True, 6))
    text = console.export_text()
    assert "Hessian of f" in text and "v[1]" in text and "Taylor coefficient" in text
    doc = higher_json([r], taylor=True)["f"]
    assert doc["hessian"]["v"]["v"] == [[1.0, 0.0], [0.0, 1.0]]
    assert doc["taylor"] == [1.0, 1.0, 1.0]  # 1/1!, 2/2!, 6/3!

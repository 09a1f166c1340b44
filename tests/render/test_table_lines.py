"""Tables show NumPy's matrix text as lines, and still escape user text."""

from __future__ import annotations

import io

import numpy as np
from rich.console import Console
from rich.table import Table

from autogradcli.render.numfmt import fmt
from autogradcli.render.table import _n, _t, keep_numbers_whole


def _shown(table: Table) -> str:
    out = io.StringIO()
    Console(file=out, width=100, no_color=True).print(table)
    return out.getvalue()


def test_a_matrix_prints_as_lines_not_escapes():
    table = Table()
    table.add_column("input")
    table.add_column("value", justify="right")
    table.add_row(_t("W1"), _n(fmt(np.array([[0.1, 0.2], [-0.3, 0.4], [0.5, -0.6]]))))
    text = _shown(keep_numbers_whole(table))
    assert "\\n" not in text
    rows = [line for line in text.splitlines() if "0." in line]
    assert [r.split("│")[2].strip() for r in rows] == [
        "[[0.1, 0.2],",
        "[-0.3, 0.4],",
        "[0.5, -0.6]]",
    ]


def test_user_text_with_a_newline_stays_on_one_line():
    table = Table()
    table.add_column("name")
    table.add_row(_t("a\nforged"))
    assert "a\\nforged" in _shown(table)

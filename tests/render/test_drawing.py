"""`graph_view` from Python: the view `agrad graph` draws, and the flags it refuses."""

from __future__ import annotations

import pytest

from autogradcli.errors import AgradError
from autogradcli.language.parser import parse
from autogradcli.render.drawing import GraphRequest, graph_view


def test_values_and_gradients_reach_the_view():
    # f = x*y at (2, 5): f = 10, df/dx = 5, df/dy = 2
    view = graph_view(parse("f = x*y"), GraphRequest(points=["x=2", "y=5"]))
    assert len(view.items) == 3  # x, y and the product
    assert [float(view.value(i)) for i in range(3)] == [2.0, 5.0, 10.0]
    assert [float(view.adjoint(i)) for i in range(3)] == [5.0, 2.0, 1.0]


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (GraphRequest(backward=True), "--backward draws gradients"),
        (GraphRequest(points=["x=1", "y=1"], order=2), "--order draws further backward"),
        (GraphRequest(collapse=True, collapse_calls=True), "two groupings"),
    ],
)
def test_what_cannot_be_drawn_is_refused(request_, message):
    with pytest.raises(AgradError, match=message):
        graph_view(parse("f = x*y"), request_)

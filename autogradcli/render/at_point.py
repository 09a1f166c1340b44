"""One point as one call: an `EvalRequest` in, a `PointReport` out, rendered as JSON or tables.

`agrad eval --at` builds the request from its flags; the report holds the evaluation, the
gradient checks, the second-order results, the uncertainties and every non-finite notice.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class EvalRequest:
    """What to compute at one point, and how to show it."""

    points: list[str]  # `name=value` words of --at
    output: list[str] | None = None
    wrt: list[str] | None = None
    nodes: bool = False
    edges: bool = False
    jacobian: bool = False
    check: bool = False
    timeout: float = 10.0  # SymPy's budget for --check, in seconds
    digits: int = 6
    second: object = None  # anything with `compute(evaluation) -> list` and `taylor`
    spread: object = None  # the inputs' uncertainties (engines.uncertainty)


@dataclass
class PointReport:
    """Everything computed at one point."""

    ev: object  # engines.evaluate.Evaluation
    results: list = field(default_factory=list)  # gradient checks
    more: list = field(default_factory=list)  # second-order results
    spreads: list = field(default_factory=list)
    notices: list = field(default_factory=list)  # every non-finite value, in order

    @property
    def failed(self) -> bool:
        """True when a gradient check failed."""
        return any(r.failed for r in self.results)


def evaluate_point(graph, request: EvalRequest) -> PointReport:
    """Values and gradients at one point, with what else the request asks for."""
    from ..engines.evaluate import evaluate
    from ..language.values import bind, parse_assignments

    given = parse_assignments(request.points)
    ev = evaluate(graph, bind(graph, given), request.output, request.wrt, request.edges,
                  request.jacobian, floats=True, needed=not request.nodes)  # fmt: skip
    report = PointReport(ev)
    if request.check:
        from ..verify.oracle import Tolerances, check_point

        report.results = check_point(ev, Tolerances(), request.timeout)
    if request.second is not None:
        report.more = request.second.compute(ev)
    if request.spread is not None:
        from ..engines.uncertainty import at_point

        outputs = [(r.name, r.node) for r in ev.outputs]
        report.spreads = at_point(graph, ev.inputs, outputs, request.spread)
    report.notices = [*ev.notices, *(n for r in report.more for n in r.notices)]
    report.notices += _spread_notices(graph, report.spreads)
    return report


def _spread_notices(graph, spreads) -> list:
    """A warning for each output whose uncertainty is nan or inf."""
    import numpy as np

    from ..engines.notice import Notice

    out = []
    for r in spreads:
        if not np.isfinite(r.sigma).all():
            node = graph.lookup(r.name)
            where = graph.where(node) if node is not None else ""
            out.append(Notice("sigma", f"the uncertainty of {r.name} is not finite", -1, where, ""))
    return out


def _taylor(request: EvalRequest) -> bool:
    return bool(request.second is not None and request.second.taylor)


def point_json(report: PointReport, request: EvalRequest) -> str:
    """The report as one JSON document (with its final newline)."""
    from .jsondoc import dumps, evaluation_dict, result_dict

    doc = evaluation_dict(report.ev, request.nodes, request.edges)
    if request.check:
        doc["check"] = [result_dict(r) for r in report.results]
    if report.more:
        from .higher import higher_json

        for name, entry in higher_json(report.more, _taylor(request)).items():
            doc["outputs"][name].update(entry)
    if report.spreads:
        from .spread import spread_json

        for name, entry in spread_json(report.spreads).items():
            doc["outputs"][name].update(entry)
    return dumps(doc) + "\n"


def point_tables(report: PointReport, request: EvalRequest) -> list:
    """The report as Rich tables, each printed in turn."""
    from .table import eval_check_table, evaluation_tables

    ev, digits = report.ev, request.digits
    shown = [evaluation_tables(ev, request.nodes, request.edges, digits)]
    if report.more:
        from .higher import higher_tables

        shown.append(higher_tables(report.more, ev.wrt, _taylor(request), digits))
    if report.spreads:
        from .spread import spread_table

        values = {r.name: r.value for r in ev.outputs}
        shown.append(spread_table(report.spreads, values, digits))
    if request.check:
        shown.append(eval_check_table(report.results, digits))
    return shown

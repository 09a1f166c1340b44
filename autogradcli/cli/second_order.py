"""The second- and higher-order flags of `agrad eval`: what they ask for, checked early."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import AgradError


@dataclass
class Second:
    """The second- and higher-order flags of `agrad eval`."""

    hessian: bool
    hvp: list[str] | None
    jvp: list[str] | None
    order: int | None
    taylor: bool

    def validate(self, wrt: list[str] | None) -> None:
        """Refuse combinations that cannot be honoured, before any work."""
        if self.taylor and not self.order:
            raise AgradError(
                "--taylor gives the coefficients of --order N", None, "add --order N --wrt x"
            )
        if self.order is not None and (wrt is None or len(wrt) != 1):
            raise AgradError(
                "--order differentiates with respect to one input", None, "add --wrt x"
            )

    def compute(self, ev) -> list:
        """Each output's second-order results ([] when none was asked for)."""
        if not (self.hessian or self.hvp or self.jvp or self.order):
            return []
        from ..engines.higher import direction, higher
        from ..language.values import parse_assignments

        def vector(words, flag):
            if not words:
                return None
            given = {n: v for n, (v, _) in parse_assignments(words).items()}
            return direction(ev.graph, given, ev.inputs, flag)

        outputs = [(r.name, r.node) for r in ev.outputs]
        return higher(
            ev.graph, ev.inputs, outputs, ev.wrt, self.hessian,
            vector(self.hvp, "--hvp"), vector(self.jvp, "--jvp"), self.order,
        )  # fmt: skip

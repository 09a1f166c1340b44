"""`agrad explain --step sgd|momentum|adam` and `ag.explain(loss, optimizer=...)`: the update
that follows the backward pass, one step per parameter (and per piece of optimizer state),
then the loss after the step.

The update rules are written out here as the text shows them, with the optimizer's state (a
momentum buffer, Adam's moments and step count) from before the step; the tests check the new
weights against `agrad minimize`, which runs the Tensor API's optimizers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..engines.evaluate import Evaluation, evaluate
from ..errors import AgradError
from .explain import Step, latex_name, number_text, term
from .explain_draw import short_value

RULES = ("sgd", "momentum", "adam")


@dataclass
class Rule:
    """An optimizer's update rule, its settings, and its state per parameter before the step
    ({"buf"} for momentum, {"m", "v", "t"} for Adam; empty: the first step)."""

    kind: str
    lr: float
    momentum: float = 0.9
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    state: dict[str, dict] = field(default_factory=dict)

    def describe(self) -> str:
        """`sgd, lr 0.1`, `momentum 0.9, lr 0.1` or `adam, lr 0.01, betas (0.9, 0.999)`."""
        if self.kind == "momentum":
            return f"SGD with momentum {self.momentum:g}, lr {self.lr:g}"
        if self.kind == "adam":
            b1, b2 = self.betas
            return f"Adam, lr {self.lr:g}, betas ({b1:g}, {b2:g}), eps {self.eps:g}"
        return f"SGD, lr {self.lr:g}"


def rule_of(optimizer, names: dict[int, str]) -> Rule:
    """The Rule of a Tensor API optimizer (SGD or Adam), with its present state, for the
    parameters named in `names` (id(tensor) -> name)."""
    from ..tensors.optim import SGD, Adam

    state: dict[str, dict] = {}
    if isinstance(optimizer, Adam):
        for k, p in enumerate(optimizer.params):
            if id(p) in names and optimizer.steps[k]:
                state[names[id(p)]] = {"m": optimizer.m[k], "v": optimizer.v[k],
                                       "t": optimizer.steps[k]}  # fmt: skip
        return Rule("adam", optimizer.lr, betas=optimizer.betas, eps=optimizer.eps, state=state)
    if isinstance(optimizer, SGD):
        for k, p in enumerate(optimizer.params):
            if id(p) in names and optimizer.buffers[k] is not None:
                state[names[id(p)]] = {"buf": optimizer.buffers[k]}
        kind = "momentum" if optimizer.momentum else "sgd"
        return Rule(kind, optimizer.lr, momentum=optimizer.momentum, state=state)
    raise TypeError(f"explain knows SGD and Adam, not {type(optimizer).__name__}")


def training_step(
    ev: Evaluation, inputs: dict, params: list[str], rule: Rule, digits: int = 6
) -> tuple[list[Step], dict[str, np.ndarray]]:
    """The steps of one update of `params` from the evaluation's gradient, ending with the
    loss after the step; and the new point."""
    g, result = ev.graph, ev.outputs[0]
    if np.size(result.value) != 1:
        raise AgradError(
            f"a training step needs a scalar loss; '{result.name}' has shape "
            f"{np.shape(result.value)}", None, "wrap it in sum(...) or mean(...)",
        )  # fmt: skip
    for name in dict.fromkeys(params):
        if name not in g.input_ids:
            raise AgradError(
                f"--wrt {name}: a training step updates inputs, and '{name}' is not one",
                None,
                "name inputs of the formula: " + ", ".join(g.input_ids),
            )
    steps: list[Step] = []
    point = dict(inputs)
    for name in dict.fromkeys(params):  # a name given twice is updated once
        node = g.input_ids[name]
        grad = result.gradient.get(name)
        if grad is None:
            adjoint = result.adjoints[node]
            grad = np.zeros_like(inputs[name]) if adjoint is None else adjoint
        new, made = _update(rule, name, np.asarray(inputs[name], float), grad, result.name, digits)
        for s in made:
            s.node, s.where = node, g.where(node)
        steps += made
        point[name] = new
    after = evaluate(g, point, [result.name]).outputs[0].value
    before_text, after_text = number_text(result.value, digits), number_text(after, digits)
    f = result.name
    steps.append(Step("loss", f"{f} after the step = {after_text} (before: {before_text})",
                      f"{latex_name(f)}_{{\\text{{after}}}} &= {after_text}",
                      g.where(result.node), {"short": short_value(after, 4),
                      "value": float(after), "rows": [["before", before_text],
                                                      ["after", after_text]]},
                      node=result.node))  # fmt: skip
    return steps, point


def _update(rule: Rule, name: str, w: np.ndarray, grad, f: str, digits: int):
    """One parameter's new value and the steps that compute it."""
    n = lambda x: number_text(x, digits)  # noqa: E731
    lr, gname = rule.lr, f"∂{f}/∂{name}"
    state, made = rule.state.get(name, {}), []
    if rule.kind == "sgd":
        direction, what = np.asarray(grad, float), gname
    elif rule.kind == "momentum":
        buf = state.get("buf")
        direction, what = (np.asarray(grad, float).copy() if buf is None
                           else rule.momentum * buf + grad), f"buf_{name}"  # fmt: skip
        text = (f"{what} = {gname} = {n(direction)}    (first step: the velocity is the gradient)"
                if buf is None else
                f"{what} = {rule.momentum:g} · {what} + {gname} = {rule.momentum:g} · "
                f"{term(n(buf))} + {term(n(grad))} = {n(direction)}")  # fmt: skip
        made.append(_state(text, direction, [["velocity", n(direction)]]))
    else:
        (b1, b2), t = rule.betas, state.get("t", 0) + 1
        m0, v0 = state.get("m", np.zeros_like(w)), state.get("v", np.zeros_like(w))
        m = b1 * m0 + (1 - b1) * grad
        v = b2 * v0 + (1 - b2) * np.square(grad)
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        made += [
            _state(f"m_{name} = {b1:g} · m_{name} + {1 - b1:g} · {gname} = {n(m)}", m,
                   [["first moment", n(m)]]),
            _state(f"v_{name} = {b2:g} · v_{name} + {1 - b2:g} · ({gname})² = {n(v)}", v,
                   [["second moment", n(v)]]),
            _state(f"m̂_{name} = m_{name} / (1 − {b1:g}^{t}), v̂_{name} = v_{name} / "
                   f"(1 − {b2:g}^{t}): {n(m_hat)}, {n(v_hat)}", m_hat,
                   [["step", str(t)], ["m̂", n(m_hat)], ["v̂", n(v_hat)]]),
        ]  # fmt: skip
        direction = m_hat / (np.sqrt(v_hat) + rule.eps)
        what = f"m̂_{name} / (√v̂_{name} + {rule.eps:g})"
    new = w - lr * direction
    text = (f"{name} ← {name} − {lr:g} · {what} = {n(w)} − {lr:g} · {term(n(direction))} "
            f"= {n(new)}")  # fmt: skip
    made.append(Step("update", text, f"{latex_name(name)} &\\leftarrow {n(new)}", "", {
        "short": short_value(new, 4), "value": np.asarray(new).tolist(),
        "rows": [["before", n(w)], ["step direction", n(direction)], ["lr", f"{lr:g}"],
                 ["after", n(new)]]}))  # fmt: skip
    return new, made


def _state(text: str, value, rows: list) -> Step:
    """A step that updates the optimizer's state (no new weight yet)."""
    return Step("state", text, text, "", {"rows": rows, "value": np.asarray(value).tolist()})

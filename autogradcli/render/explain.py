"""`agrad explain`: the forward pass and the backward pass as numbered steps, in the notation
of lecture notes, from one evaluation's own numbers (values, local partials, contributions).

Named nodes keep their names; other operations are called t1, t2, ... in evaluation order;
constants appear as numbers. The backward pass writes one chain-rule step per edge, children
before parents, and where several paths meet, the sum written out.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from ..engines.evaluate import Evaluation
from ..errors import printable
from ..graph import CONST, INPUT
from ..ops import REGISTRY, Kind
from .jsondoc import jsonable
from .numfmt import fmt


@dataclass
class Step:
    """One line of the explanation, with the numbers it shows."""

    kind: str  # "forward", "seed", "chain" or "sum"
    text: str  # plain-text formula: u = a + b = 3
    latex: str
    where: str  # file:line:col of the node the step is about
    numbers: dict = field(default_factory=dict)
    parts: dict = field(default_factory=dict)  # a chain step's formatted pieces (for --quiz)
    node: int = -1  # the node computed (forward) or whose adjoint grows (backward)
    edge: tuple[int, int] | None = None  # a chain step's edge (from node, into node)
    blanks: dict[str, int] = field(default_factory=dict)  # --quiz: part ("partial", "c",
    # "total") -> its blank's number


@dataclass
class Explanation:
    """The steps of one output's forward and backward passes."""

    output: str
    forward: list[Step]
    backward: list[Step]
    answers: list[tuple[int, str]] = field(default_factory=list)  # --quiz: blank, its value
    collapsed: bool = False  # one step per named line, as `agrad graph --collapse` draws
    hidden: dict[int, list[int]] = field(default_factory=dict)  # --quiz: node whose gradient
    # a blank would give away -> the blanks
    update: list[Step] = field(default_factory=list)  # --step: the optimizer's update
    rule: str = ""  # --step: the update rule and its settings, in words


def step_names(ev: Evaluation) -> dict[int, str]:
    """A symbol per non-constant node: its name, or t1, t2, ... for unnamed operations."""
    g, out, k = ev.graph, {}, 0
    for i, op in enumerate(g.ops):
        if op == CONST:
            continue
        if g.names[i]:
            out[i] = g.names[i]
        else:
            k += 1
            out[i] = f"t{k}"
    return out


def _ref(ev: Evaluation, names: dict[int, str], j: int, digits: int) -> str:
    return names.get(j) or number_text(ev.values[j], digits)


def latex_name(name: str) -> str:
    """t3 as t_{3}; other names with underscores escaped."""
    if name[:1] == "t" and name[1:].isdigit():
        return f"t_{{{name[1:]}}}"
    return name.replace("_", "\\_")


LATEX_SYMBOLS = {"*": "\\cdot", "@": "\\,@\\,", ">=": "\\ge", "<=": "\\le", "!=": "\\ne",
                 "%": "\\bmod"}


def _formula(ev: Evaluation, names: dict[int, str], i: int, digits: int, tex=False) -> str:
    """`a + b`, `sin(x)`, `-t1`: the node's operation on its operands' symbols (or LaTeX)."""
    g = ev.graph
    op = REGISTRY[g.ops[i]]
    args = [_ref(ev, names, j, digits) for j in g.inputs[i]]
    if tex:
        args = [latex_name(a) if j in names else a for a, j in zip(args, g.inputs[i], strict=True)]
    if op.symbol == "^" and tex:
        return f"{{{args[0]}}}^{{{args[1]}}}"
    if op.symbol and len(args) == 2:
        symbol = LATEX_SYMBOLS.get(op.symbol, op.symbol) if tex else op.symbol
        return f"{args[0]} {symbol} {args[1]}"
    if op.symbol:
        return f"{op.symbol}{args[0]}"
    name = f"\\operatorname{{{g.ops[i]}}}" if tex else g.ops[i]
    return f"{name}({', '.join(args)})"


def term(x: str) -> str:
    """A number as a factor or a later term: negatives in parentheses."""
    return f"({x})" if x.startswith("-") else x


SHOWN_TERMS = 8  # a longer sum shows its first and last terms and how many there are


def sum_terms(terms: list[str]) -> str:
    """`4 + 12`, or for a long sum `1 + 0.4 + 0.16 + … + 0 + 0 (3,333 terms)`."""
    if len(terms) > SHOWN_TERMS:
        head, tail = terms[:3], terms[-2:]
        return " + ".join([head[0], *map(term, head[1:]), "…", *map(term, tail)]) + (
            f" ({len(terms):,} terms)"
        )
    return " + ".join([terms[0], *map(term, terms[1:])])


def number_text(x, digits: int) -> str:
    """A value on one line (a matrix's rows side by side)."""
    return " ".join(fmt(x, digits).split())


def explain(ev: Evaluation, digits: int = 6) -> Explanation:
    """The steps for the first output of an evaluation made with edges=True."""
    g, result = ev.graph, ev.outputs[0]
    names = step_names(ev)
    f = result.name
    feeds = g.ancestors([result.node])
    forward = []
    for i, op in enumerate(g.ops):
        if op in (INPUT, CONST) or not feeds[i]:
            continue
        value = number_text(ev.values[i], digits)
        formula = _formula(ev, names, i, digits)
        text = f"{names[i]} = {formula} = {value}"
        tex = _formula(ev, names, i, digits, tex=True)
        forward.append(Step("forward", text, f"{latex_name(names[i])} &= {tex} = {value}",
                            g.where(i), {"value": jsonable(ev.values[i])}, node=i))  # fmt: skip
    backward = [Step("seed", f"∂{f}/∂{f} = 1", f"\\frac{{\\partial {f}}}{{\\partial {f}}} &= 1",
                     g.where(result.node), {"adjoint": 1.0}, node=result.node)]  # fmt: skip
    backward += _chain_steps(ev, names, f, digits)
    return Explanation(f, forward, backward)


def _chain_steps(ev: Evaluation, names: dict[int, str], f: str, digits: int) -> list[Step]:
    """One step per edge into a node that gets a gradient, children first, and a sum where
    several paths meet."""
    g, result = ev.graph, ev.outputs[0]
    pending: dict[int, list[str]] = {}
    uses = {j: 0 for j in range(len(g))}
    for i in range(len(g)):
        if result.adjoints[i] is not None:
            for j in g.inputs[i]:
                if result.adjoints[j] is not None and g.ops[j] != CONST:
                    uses[j] += 1
    steps = []
    for i in range(result.node, -1, -1):
        if result.adjoints[i] is None or not g.inputs[i]:
            continue
        child, adj = names[i], number_text(result.adjoints[i], digits)
        for k, j in enumerate(g.inputs[i]):
            if g.ops[j] == CONST or result.adjoints[j] is None:
                continue
            parent = names[j]
            partial = term(number_text(ev.partials[(i, k)], digits))
            contribution = result.contributions[(i, k)]
            c = number_text(contribution, digits)
            chain = f"∂{f}/∂{parent} += ∂{f}/∂{child} · ∂{child}/∂{parent}"
            plain = REGISTRY[g.ops[i]].kind is Kind.ELEMENTWISE
            if plain:
                text = f"{chain} = {adj} · {partial} = {c}"
            else:  # a reduction or product: its rule applied to the adjoint, not a plain product
                text = f"{chain} = {c}    (the {g.ops[i]} rule applied to ∂{f}/∂{child})"
            lhs = f"\\frac{{\\partial {f}}}{{\\partial {latex_name(parent)}}} &\\mathrel{{+}}= "
            latex = lhs + (f"{adj} \\cdot {partial} = {c}" if plain else c)
            steps.append(Step("chain", text, latex, g.where(i), {
                "adjoint": jsonable(result.adjoints[i]),
                "partial": jsonable(ev.partials[(i, k)]),
                "contribution": jsonable(contribution),
            }, {"chain": chain, "adj": adj, "partial": partial, "c": c,
                "plain": plain}, node=j, edge=(j, i)))  # fmt: skip
            pending.setdefault(j, []).append(c)
            if len(pending[j]) == uses[j] and uses[j] > 1:
                total = number_text(result.adjoints[j], digits)
                terms = sum_terms(pending[j])
                steps.append(Step("sum", f"∂{f}/∂{parent} = {terms} = {total}",
                                  f"\\frac{{\\partial {f}}}{{\\partial {latex_name(parent)}}} &= "
                                  f"{terms} = {total}", g.where(j),
                                  {"adjoint": jsonable(result.adjoints[j])}, node=j))  # fmt: skip
    return steps


def quiz(x: Explanation, blanks: int, seed: int = 0) -> Explanation:
    """The same steps with at least `blanks` numbers replaced by numbered blanks (chosen with
    `seed`), and the answer key.

    Only steps into a leaf (an input, whose gradient feeds no later step) are blanked, those
    with a local partial other than ±1 first, and a blank never stands alone in its equation:
    a chain step loses both its local partial and its contribution (`16 · [?1] = [?2]`), and a
    sum with a blanked term loses its total.
    """
    import random

    rng = random.Random(seed)
    children = {s.edge[1] for s in x.backward if s.kind == "chain" and s.edge}
    chains = [k for k, s in enumerate(x.backward) if s.kind == "chain" and s.node not in children]
    rng.shuffle(chains)  # steps with a partial of ±1 last: their contribution is the adjoint
    chains.sort(key=lambda k: x.backward[k].parts["partial"].strip("()-") == "1")
    summed = {s.node for s in x.backward if s.kind == "sum"}
    chosen: list[int] = []
    count = 0
    for k in chains:
        if count >= blanks:
            break
        step = x.backward[k]
        count += (2 if step.parts["plain"] else 1) + (
            step.node in summed and all(x.backward[c].node != step.node for c in chosen)
        )
        chosen.append(k)
    quizzed = {x.backward[k].node for k in chosen}
    count = 0
    backward, answers, hidden = list(x.backward), [], {}
    for k, old in enumerate(x.backward):
        if k in chosen:
            p, marks = old.parts, {}
            for part in ("partial", "c") if p["plain"] else ("c",):
                count += 1
                marks[part] = count
                answers.append((count, p[part].strip("()")))
            backward[k] = _blanked(old, marks)
            hidden.setdefault(old.node, []).extend(marks.values())
        elif old.kind == "sum" and old.node in quizzed:
            count += 1
            total = old.text.rsplit(" = ", 1)[1]
            answers.append((count, total))
            hidden[old.node].append(count)
            backward[k] = _blanked_sum(old, backward, k, count)
    return Explanation(x.output, x.forward, backward, answers, x.collapsed, hidden)


def _blanked(old: Step, marks: dict[str, int]) -> Step:
    """A chain step with its marked parts as blanks `[?n]`."""
    p = old.parts
    shown = {**p, **{part: f"[?{n}]" for part, n in marks.items()}}
    if p["plain"]:
        text = f"{p['chain']} = {shown['adj']} · {shown['partial']} = {shown['c']}"
    else:
        text = f"{p['chain']} = {shown['c']}"
    return Step("chain", text, old.latex, old.where, old.numbers, shown, old.node, old.edge, marks)


def _blanked_sum(old: Step, steps: list[Step], k: int, n: int) -> Step:
    """A sum step whose blanked terms show as their blanks and whose total is blank `[?n]`."""
    terms = [s.parts["c"] for s in steps[:k] if s.kind == "chain" and s.node == old.node]
    text = f"{old.text.split(' = ')[0]} = {sum_terms(terms)} = [?{n}]"
    return Step("sum", text, old.latex, old.where, {}, {}, old.node, None, {"total": n})


def _answers(x: Explanation) -> list[str]:
    return ["", "Answers", *[f"  [?{n}] = {value}" for n, value in x.answers]] if x.answers else []


def text(x: Explanation) -> str:
    """Numbered steps for the terminal (and for `--format markdown` without the markup)."""
    lines = [f"Forward pass ({x.output})"]
    lines += [f"  {k}. {s.text}    [{s.where}]" for k, s in enumerate(x.forward, start=1)]
    lines += ["", f"Backward pass (∂{x.output}/∂ each node)"]
    lines += [f"  {k}. {s.text}    [{s.where}]" for k, s in enumerate(x.backward, start=1)]
    if x.update:
        lines += ["", f"Training step ({x.rule})"]
        lines += [f"  {k}. {s.text}" for k, s in enumerate(x.update, start=1)]
    return "\n".join(lines + _answers(x)) + "\n"


def markdown(x: Explanation) -> str:
    """Numbered lists with each formula as code."""
    lines = [f"## Forward pass ({x.output})", ""]
    lines += [f"{k}. {md_code(s.text)} ({_md_place(s.where)})" for k, s in enumerate(x.forward, 1)]
    lines += ["", f"## Backward pass (∂{x.output}/∂ each node)", ""]
    lines += [f"{k}. {md_code(s.text)} ({_md_place(s.where)})" for k, s in enumerate(x.backward, 1)]
    if x.update:
        lines += ["", f"## Training step ({x.rule})", ""]
        lines += [f"{k}. {md_code(s.text)}" for k, s in enumerate(x.update, start=1)]
    if x.answers:
        lines += ["", "## Answers", "", *[f"- `[?{n}]` = {v}" for n, v in x.answers]]
    return "\n".join(lines) + "\n"


def md_code(text: str) -> str:
    """A Markdown code span that holds any text (a file name with backticks, `*`, `<`):
    fenced by one backtick more than its longest run, control characters escaped."""
    text = printable(text)
    fence = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _md_place(where: str) -> str:
    """`file:line:col` as is when Markdown cannot read anything into it, else as code."""
    return where if re.fullmatch(r"[A-Za-z0-9./:-]*", where) else md_code(where)


def latex(x: Explanation) -> str:
    """Two `align*` blocks (forward, backward) for a LaTeX document with amsmath."""

    def block(steps: list[Step]) -> list[str]:
        body = [_tex_math(s.latex) + " \\\\" for s in steps]
        if body:
            body[-1] = body[-1].removesuffix(" \\\\")
        return ["\\begin{align*}", *body, "\\end{align*}"]

    return (
        "\n".join(["% forward pass", *block(x.forward), "% backward pass", *block(x.backward)])
        + "\n"
    )


def _tex_math(line: str) -> str:
    """A step's LaTeX with the plain-text marks of long sums made LaTeX."""
    line = line.replace("·", "\\cdot").replace("…", "\\dots")
    return re.sub(r" \(([\d,]+) terms\)", r"\\quad\\text{(\1 terms)}", line)


def as_json(x: Explanation) -> str:
    """The steps as data."""

    def rows(steps: list[Step]) -> list[dict]:
        return [{"kind": s.kind, "text": s.text, "where": s.where, **s.numbers} for s in steps]

    doc = {"output": x.output, "forward": rows(x.forward), "backward": rows(x.backward)}
    if x.update:
        doc["step"] = {"rule": x.rule, "steps": [
            {"kind": s.kind, "text": s.text, **{k: v for k, v in s.numbers.items() if k != "rows"}}
            for s in x.update]}  # fmt: skip
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"

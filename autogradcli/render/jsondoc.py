"""JSON output: strict JSON, with non-finite numbers as the strings "nan", "inf", "-inf"."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from typing import IO, Any

import numpy as np

from ..engines.evaluate import Evaluation
from ..graph import CONST
from .columns import ItemColumns


def jsonable(x: Any) -> Any:
    """A float or nested list for an array; non-finite elements become strings."""
    a = np.asarray(x, dtype=np.float64)
    if np.isfinite(a).all():
        return a.tolist()
    obj = a.astype(object)
    obj[np.isnan(a)] = "nan"
    obj[a == np.inf] = "inf"
    obj[a == -np.inf] = "-inf"
    return obj.tolist()


def evaluation_dict(ev: Evaluation, nodes: bool = False, edges: bool = False) -> dict:
    """The JSON document for `agrad eval --format json`."""
    g = ev.graph
    outputs = {}
    for r in ev.outputs:
        entry: dict[str, Any] = {
            "value": jsonable(r.value),
            "gradient": {w: jsonable(v) for w, v in r.gradient.items()},
        }
        if r.jacobian is not None:
            entry["jacobian"] = {w: jsonable(v) for w, v in r.jacobian.items()}
            entry["mode"] = r.mode
        outputs[r.name] = entry
    doc: dict[str, Any] = {
        "file": g.source.name if g.source else None,
        "inputs": {name: jsonable(v) for name, v in ev.inputs.items()},
        "outputs": outputs,
        "gradient_of": "sum of each output's elements",
    }
    if nodes:
        doc["nodes"] = [_node(ev, i) for i in range(len(g))]
    if edges:
        doc["edges"] = [
            {
                "from": f"n{j}",
                "to": f"n{i}",
                "arg": k,
                "partial": jsonable(ev.partials[(i, k)]),
                "contribution": {
                    r.name: jsonable(r.contributions[(i, k)])
                    for r in ev.outputs
                    if (i, k) in r.contributions
                },
            }
            for i, a in enumerate(g.inputs)
            for k, j in enumerate(a)
        ]
    doc["warnings"] = [
        {
            "kind": n.kind,
            "message": n.message,
            "node": f"n{n.node}",
            "location": n.where,
            "source": n.source,
        }
        for n in ev.notices
    ]
    return doc


def _node(ev: Evaluation, i: int) -> dict:
    g = ev.graph
    span = g.span(i)
    return {
        "id": f"n{i}",
        "name": g.names[i],
        "op": g.ops[i],
        "inputs": [f"n{j}" for j in g.inputs[i]],
        "value": jsonable(ev.values[i]),
        "adjoint": {
            r.name: None if r.adjoints[i] is None else jsonable(r.adjoints[i]) for r in ev.outputs
        },
        "location": span.where() if span and g.ops[i] != CONST else None,
        "source": span.text() if span else None,
    }


def result_dict(r) -> dict:
    """One check result as JSON."""
    doc = {
        "file": r.file,
        "output": r.output,
        "wrt": r.wrt,
        "kind": r.kind,
        "points": r.points,
        "status": r.status,
        "max_error": None if r.max_error is None else jsonable(r.max_error),
        "line": r.line,
        "detail": r.detail,
        "kinks": r.kinks,
        "redrawn": r.redrawn,
        "proof": r.proof,
    }
    for key, value in r.values.items():
        doc[key] = None if value is None else jsonable(value)
    return doc


def check_dict(results) -> dict:
    """The JSON document for `agrad check --format json`."""
    counts: dict[str, int] = {}
    for r in results:
        key = r.status.split(":")[0]
        counts[key] = counts.get(key, 0) + 1
    return {"results": [result_dict(r) for r in results], "summary": counts}


def view_chunks(view) -> Iterator[str]:
    """`agrad graph --format json` (schema in the README) as text chunks, one node or edge
    per line, so a large graph streams to its file instead of being held twice in memory.

    Lines are formatted directly (strings through JSON's own escaping), which is several
    times faster than encoding a dict per node.
    """
    from ..errors import paused_gc

    with paused_gc():
        yield from _view_chunks(view)


def _view_chunks(view) -> Iterator[str]:
    g = view.graph
    text = json.encoder.encode_basestring  # a JSON string literal, escaped (C-accelerated)

    def opt(s) -> str:
        return "null" if s is None else text(s)

    def number(x) -> str:
        return "null" if x is None else json.dumps(jsonable(x), allow_nan=False)

    outputs = {name: f"n{i}" for name, i in g.outputs}
    yield "{\n"
    yield f'  "file": {opt(g.source.name if g.source else None)},\n'
    yield f'  "outputs": {json.dumps(outputs, ensure_ascii=False)},\n'
    yield '  "nodes": ['
    evaluated = view.ev is not None
    if not evaluated and isinstance(view.items, ItemColumns):
        yield from _columns_chunks(view.items, view.links, g.names)
        return
    for k, it in enumerate(view.items):
        members = ", ".join(f'"n{m}"' for m in it.members)
        values = (
            f'{number(view.value(it.id))}, "gradient": {number(view.adjoint(it.id))}'
            if evaluated
            else 'null, "gradient": null'
        )
        yield (
            f'{"," if k else ""}\n    {{"id": "n{it.id}", "kind": "{it.kind}", '
            f'"label": {text(it.title)}, "op": {text(it.op)}, "name": {opt(g.names[it.id])}, '
            f'"members": [{members}], "source": {text(it.source)}, '
            f'"location": {opt(it.location or None)}, "value": {values}}}'
        )
    yield "\n  ],\n" if view.items else "],\n"
    yield '  "edges": ['
    for k, lk in enumerate(view.links):
        arg = lk.arg if lk.arg >= 0 else "null"
        numbers = (
            f'{number(view.partial(lk))}, "contribution": {number(view.contribution(lk))}'
            if evaluated
            else 'null, "contribution": null'
        )
        yield (
            f'{"," if k else ""}\n    {{"from": "n{lk.src}", "to": "n{lk.dst}", "arg": {arg}, '
            f'"partial": {numbers}}}'
        )
    yield "\n  ]" if view.links else "]"
    if g.groups:
        from .calls import groups_json

        yield f',\n  "groups": {json.dumps(groups_json(g), ensure_ascii=False)}'
    if view.ev is not None:
        name = view.ev.outputs[0].name if view.ev.outputs else None
        yield f',\n  "gradient_of": {opt(name)}'
    yield "\n}\n"


def _columns_chunks(items, links, names) -> Iterator[str]:
    """The nodes and edges of a large plain view, straight from its columns, in blocks."""
    from itertools import islice

    titles, sources, where = items.titles, items.sources, items.where
    if not items.clean:
        titles, sources, where = map(_body, titles), map(_body, sources), _body(where)
        names = [n and _body(n) for n in names]
    names = [f'"{n}"' if n else "null" for n in names]
    rows = zip(
        items.ids, items.kinds, titles, items.ops, sources, items.lines, items.cols, strict=True
    )
    first = "\n"
    while block := list(islice(rows, 4096)):
        yield first + ",\n".join(
            [
                f'    {{"id": "n{i}", "kind": "{kind}", "label": "{title}", "op": "{op}", '
                f'"name": {names[i]}, "members": ["n{i}"], "source": "{source}", '
                f'"location": "{where}:{line}:{col}", "value": null, "gradient": null}}'
                if line
                else f'    {{"id": "n{i}", "kind": "{kind}", "label": "{title}", "op": "{op}", '
                f'"name": {names[i]}, "members": ["n{i}"], "source": "{source}", '
                '"location": null, "value": null, "gradient": null}'
                for i, kind, title, op, source, line, col in block
            ]
        )
        first = ",\n"
    yield "\n  ],\n" if items else "],\n"
    yield '  "edges": ['
    first = "\n"
    edges = zip(links.src, links.dst, links.arg, strict=True)
    while block := list(islice(edges, 4096)):
        yield first + ",\n".join(
            [
                f'    {{"from": "n{a}", "to": "n{b}", "arg": {k}, '
                '"partial": null, "contribution": null}'
                for a, b, k in block
            ]
        )
        first = ",\n"
    yield "\n  ]" if links else "]"
    yield "\n}\n"


def _body(text: str) -> str:
    """A JSON string literal's escaped text, without the quotes."""
    return json.encoder.encode_basestring(text)[1:-1]


class BatchJson:
    """`agrad eval --at-file ... --format json`: a list per column, each on one line.

    Rows stream through one temporary file per column as they are computed, so memory stays
    bounded by the block size however many points there are; the document is assembled from
    those files at the end.
    """

    def __init__(self, stream, graph, outs: list[tuple[str, int]], reduce: str | None = None):
        self.stream = stream
        self.graph = graph
        self.outs = outs
        self.reduce = reduce  # "sum" or "mean": one row, written as numbers, not lists
        self.parts: dict[str, IO[str]] = {}

    def write(self, columns: list[str], table: np.ndarray) -> None:
        """Append one block of rows to each column's file."""
        import tempfile

        if not len(table):
            return
        for k, name in enumerate(columns):
            part = self.parts.get(name)
            if part is None:  # closed in close()
                part = self.parts[name] = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
            else:
                part.write(", ")
            part.write(json.dumps(jsonable(table[:, k]), allow_nan=False)[1:-1])

    def close(self, result) -> None:
        """Write the document, copying each column's file into its place."""
        order: list[str] = []

        def ref(name: str) -> str:
            order.append(name)
            return f"\x00{len(order) - 1}\x00"

        inputs = list(self.graph.input_ids)
        have = set(result.columns)
        outputs: dict = {}
        for o, _ in self.outs:
            entry = outputs[o] = {
                "value": ref(o),
                "gradient": {w: ref(f"d{o}/d{w}") for w in inputs if f"d{o}/d{w}" in have},
            }
            second = {
                x: {y: ref(f"d2{o}/d{x}d{y}") for y in inputs if f"d2{o}/d{x}d{y}" in have}
                for x in inputs
                if f"d2{o}/d{x}d{x}" in have
            }
            if second:
                entry["hessian"] = second
            if f"sigma_{o}" in have:
                entry["sigma"] = ref(f"sigma_{o}")
                entry["variance_share"] = {
                    w: ref(f"share_{o}/{w}") for w in inputs if f"share_{o}/{w}" in have
                }
                for key in ("sigma_first_order", "mean_shift"):
                    if f"{key}_{o}" in have:
                        entry[key] = ref(f"{key}_{o}")
        warnings = (
            []
            if not result.nonfinite_rows
            else [f"{result.nonfinite_rows} rows have nan or inf; {result.first_bad}"]
        )
        doc = {
            "rows": result.rows,
            **({"reduce": self.reduce} if self.reduce else {}),
            "engine": result.engine,
            "inputs": {w: ref(w) for w in inputs},
            "outputs": outputs,
            "warnings": warnings,
        }
        pieces = dumps(doc).split('"\\u0000')
        self.stream.write(pieces[0])
        for piece in pieces[1:]:
            k, _, rest = piece.partition('\\u0000"')
            bracket = not self.reduce
            self.stream.write("[" if bracket else "")
            part = self.parts.get(order[int(k)])
            if part is not None:
                part.seek(0)
                shutil.copyfileobj(part, self.stream)
                part.close()
            self.stream.write(("]" if bracket else "") + rest)
        self.stream.write("\n")


def dumps(doc: dict) -> str:
    """Serialize strictly (a bare NaN would be a bug, so it raises)."""
    return json.dumps(doc, indent=2, allow_nan=False, ensure_ascii=False)

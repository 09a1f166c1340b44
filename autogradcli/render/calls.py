"""Calls of user functions in drawings: each call a cluster, or (`--collapse-calls`) one box.

A graph's `groups` (graph/groups.py) say which nodes are the body of which call. A drawing
either keeps every node and draws a frame labelled with the function's name around each call
(DOT `subgraph cluster_...`, Mermaid `subgraph`), or draws each outermost call as one box
named by the function, with edges from its arguments.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..graph import Graph
from .boxes import Item, Link
from .view import View


def owners_of(view: View) -> dict[int, int]:
    """The innermost group of each drawn box that sits inside a call."""
    g = view.graph
    if not g.groups or view.first_backward is not None or view.calls_collapsed:
        return {}
    out = {}
    for item in view.items:
        k = g.owner(item.id) if item.id < len(g) else -1
        if k >= 0:
            out[item.id] = k
    return out


def outermost(g: Graph, k: int) -> int:
    """The outermost group enclosing group k (k itself at the top)."""
    while g.groups[k].parent is not None:
        k = g.groups[k].parent
    return k


def collapse_calls(view: View) -> View:
    """Each outermost call drawn as one box titled by the function, standing for its body."""
    g = view.graph
    owner = owners_of(view)
    if not owner:
        return view
    top = {i: outermost(g, k) for i, k in owner.items()}
    box = {i: g.groups[k].last for i, k in top.items()}
    outputs = {i for _, i in g.outputs}
    items: dict[int, Item] = {}
    for item in view.items:
        j = box.get(item.id)
        if j is None:
            items[item.id] = item
            continue
        grp = g.groups[top[item.id]]
        held = items.get(j)
        if held is None:
            span = grp.call_span
            held = items[j] = Item(
                j,
                "output" if j in outputs else "op",
                grp.name if g.names[j] is None else f"{g.names[j]} = {grp.name}",
                grp.name,
                span.text() if span else "",
                span.where() if span else "",
            )
        held.members.extend(item.members or [item.id])
    links, seen, boxes = [], set(), set(box.values())
    for lk in view.links:
        a, b = box.get(lk.src, lk.src), box.get(lk.dst, lk.dst)
        if b not in boxes and a == lk.src:
            links.append(lk)  # between other boxes, or out of a call's result
        elif a != b and (a, b) not in seen:
            seen.add((a, b))
            links.append(Link(a, b, -1))  # edges into or out of a call, merged
    view.items = sorted(items.values(), key=lambda it: it.id)
    view.links = links
    view.calls_collapsed = True
    return view


def clusters(view: View) -> tuple[dict[int | None, list[int]], dict[int, list[Item]]]:
    """The groups to frame (children of each group, None for the top) and each group's own
    boxes; a group is framed when it or one of its children has a box."""
    g = view.graph
    owner = owners_of(view)
    own: dict[int, list[Item]] = {}
    for item in view.items:
        if item.id in owner:
            own.setdefault(owner[item.id], []).append(item)
    framed: set[int] = set()
    for k in own:
        while k is not None and k not in framed:
            framed.add(k)
            k = g.groups[k].parent
    children: dict[int | None, list[int]] = {}
    for k in sorted(framed):
        children.setdefault(g.groups[k].parent, []).append(k)
    return children, own


def nested(children: dict[int | None, list[int]]) -> Iterator[tuple[str, int]]:
    """("open", k) and ("close", k) for every framed group, depth first, with a stack."""
    stack: list[tuple[int, bool]] = [(k, False) for k in reversed(children.get(None, []))]
    while stack:
        k, done = stack.pop()
        if done:
            yield "close", k
            continue
        yield "open", k
        stack.append((k, True))
        stack.extend((c, False) for c in reversed(children.get(k, [])))


def groups_json(g: Graph) -> list[dict]:
    """The graph's groups as JSON objects (node ids as the drawings write them)."""
    return [
        {
            "name": grp.name,
            "first": f"n{grp.first}",
            "last": f"n{grp.last}",
            "call": grp.call_span.where() if grp.call_span else None,
            "parent": grp.parent,
        }
        for grp in g.groups
    ]

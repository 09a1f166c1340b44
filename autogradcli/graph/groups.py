"""Groups: the nodes one call of a user function inlined into a graph.

A call to a function defined in a formula file is inlined (its body's nodes appended to the
graph), so every engine and derivative sees plain registry ops. What the call leaves behind is
a `Group`: nodes `first..last` (inclusive and contiguous, because inlining appends) are the
body of one call, `last` is the call's result, `call_span` is where the call is written and
`parent` is the index of the group of the call it sits in (None at the top). Parents come
before their children in `Graph.groups`. `source` is the file the body is written in (its
nodes' offsets point into it), which may differ from the graph's own source for a function
from a used library.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import Source, Span


@dataclass(frozen=True)
class Group:
    """The body of one inlined call: nodes first..last (last is its result)."""

    name: str
    first: int
    last: int
    call_span: Span | None = field(repr=False)
    parent: int | None
    source: Source | None = field(default=None, repr=False)

    def __contains__(self, i: int) -> bool:
        return self.first <= i <= self.last


def owners(groups: list[Group], n: int) -> list[int]:
    """The innermost group of each of `n` nodes (-1 for none); parents are listed before
    their children, so a child's range overwrites its parent's."""
    out = [-1] * n
    for k, grp in enumerate(groups):
        last = min(grp.last, n - 1)
        out[grp.first : last + 1] = [k] * (last + 1 - grp.first)
    return out


def body_span(groups: list[Group], k: int, start: int, end: int, fallback: Source) -> Span:
    """The span of a node of group `k` at [start, end): in the body's source, with the chain
    of call sites it was inlined through."""
    grp = groups[k]
    return Span(grp.source or fallback, start, end, grp.call_span, grp.name)


def remap(groups: list[Group], mapping: list[int]) -> list[Group]:
    """The groups after a pass that copied old node i to new node mapping[i] (-1: dropped),
    old nodes in order, as every pass in `passes` does.

    A group keeps the new nodes made while its old nodes were copied, and survives when its
    result is the last of them: a result folded away, or merged into a node made before the
    group (CSE across two calls of one function), drops the group. The children of a
    dropped group hang from its nearest surviving ancestor.
    """
    if not groups:
        return []
    top, most = [], -1
    for j in mapping:  # the newest new node made so far, after each old node
        most = max(most, j)
        top.append(most)
    out: list[Group] = []
    new_index: dict[int, int] = {}
    for k, grp in enumerate(groups):
        base = top[grp.first - 1] + 1 if grp.first > 0 else 0
        last = top[grp.last]
        if mapping[grp.last] != last or last < base:
            continue
        parent = grp.parent
        while parent is not None and parent not in new_index:
            parent = groups[parent].parent
        new_index[k] = len(out)
        shown = None if parent is None else new_index[parent]
        out.append(Group(grp.name, base, last, grp.call_span, shown, grp.source))
    return out

"""The two things a drawing is made of: boxes (`Item`) and the edges between them (`Link`)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Item:
    """One drawn node (with --collapse, one named step standing for several nodes)."""

    id: int
    kind: str  # "input", "const", "op" or "output"
    title: str  # name, constant or op symbol
    op: str
    source: str
    location: str
    members: list[int] = field(default_factory=list)
    cut: bool = False  # some of its inputs are not drawn (--depth)


@dataclass(slots=True)
class Link:
    """One drawn edge from `src` into argument `arg` of `dst` (-1: several merged edges)."""

    src: int
    dst: int
    arg: int

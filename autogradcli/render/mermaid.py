"""Mermaid flowcharts, which GitHub and GitLab render inside Markdown."""

from __future__ import annotations

from .calls import clusters, nested
from .view import View, edge_text, label_lines

SHAPES = {
    "input": ('(["', '"])'),
    "const": ('["', '"]'),
    "op": ('("', '")'),
    "output": ('[["', '"]]'),
    "adjoint": ('("', '")'),
}
CLASSES = {
    "input": "fill:#dbeafe,stroke:#1d4ed8",
    "const": "fill:#f3f4f6,stroke:#9ca3af",
    "op": "fill:#fef9c3,stroke:#a16207",
    "output": "fill:#dcfce7,stroke:#15803d",
    "adjoint": "fill:#fee2e2,stroke:#b91c1c",
}


def escape(text: str) -> str:
    """Text safe inside a quoted Mermaid label."""
    table = {"&": "&amp;", '"': "#quot;", "<": "&lt;", ">": "&gt;", "\n": " "}
    return "".join(table.get(ch, ch) for ch in text)


def mermaid(view: View, digits: int = 4) -> str:
    """The Mermaid text of a view."""
    lines = ["flowchart LR"]
    for kind, style in CLASSES.items():
        if kind != "adjoint" or view.first_backward is not None:
            lines.append(f"  classDef {kind} {style}")
    children, own = clusters(view)
    inside = {it.id for items in own.values() for it in items}
    lines.extend(_box(view, it, digits, "  ") for it in view.items if it.id not in inside)
    depth = 1
    for what, k in nested(children):  # each call of a user function as a subgraph
        if what == "close":
            depth -= 1
            lines.append("  " * depth + "end")
            continue
        name = escape(view.graph.groups[k].name)
        lines.append(f'{"  " * depth}subgraph g{k}["{name}"]')
        depth += 1
        lines.extend(_box(view, it, digits, "  " * depth) for it in own.get(k, []))
    for link in view.links:
        text = edge_text(view, link, digits)
        a, b = (link.dst, link.src) if view.backward else (link.src, link.dst)
        arrow = f' -->|"{escape(text)}"| ' if text else " --> "
        lines.append(f"  n{a}{arrow}n{b}")
    return "\n".join(lines) + "\n"


def _box(view: View, item, digits: int, pad: str) -> str:
    """One box's Mermaid line."""
    left, right = SHAPES[item.kind]
    label = "<br/>".join(escape(t) for t in label_lines(view, item, digits))
    return f"{pad}n{item.id}{left}{label}{right}:::{item.kind}"

"""Mermaid flowcharts, which GitHub and GitLab render inside Markdown."""

from __future__ import annotations

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
    for item in view.items:
        left, right = SHAPES[item.kind]
        label = "<br/>".join(escape(t) for t in label_lines(view, item, digits))
        lines.append(f"  n{item.id}{left}{label}{right}:::{item.kind}")
    for link in view.links:
        text = edge_text(view, link, digits)
        a, b = (link.dst, link.src) if view.backward else (link.src, link.dst)
        arrow = f' -->|"{escape(text)}"| ' if text else " --> "
        lines.append(f"  n{a}{arrow}n{b}")
    return "\n".join(lines) + "\n"

"""A warning about one evaluation: a nan or inf, and the node that first produced it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Notice:
    """A non-finite value or gradient, and the node that first produced it."""

    kind: str
    message: str
    node: int
    where: str
    source: str

    def render(self) -> str:
        """One line for stderr."""
        text = f": {self.source}" if self.source else ""
        return f"{self.where}: warning: {self.message}{text}"

"""The flat graph and the passes over it (optimizations, statistics)."""

from .core import CONST, INPUT, Claim, Graph, NodeView
from .groups import Group

__all__ = ["CONST", "INPUT", "Claim", "Graph", "Group", "NodeView"]

"""agrad: a command-line gradient calculator and computational-graph tool."""

from .errors import AgradError
from .graph import Graph
from .parser import parse, parse_file

__version__ = "0.1.0"

__all__ = ["AgradError", "Graph", "__version__", "parse", "parse_file"]

"""The independent oracles: SymPy and finite differences, per op, per point and
per file."""

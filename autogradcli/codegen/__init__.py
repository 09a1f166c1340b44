"""Writing standalone NumPy modules from a graph or its plan."""

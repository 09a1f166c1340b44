"""Running a graph: the NumPy interpreter, one point with gradients and Jacobians,
Python floats, the traced plan and many points at once."""

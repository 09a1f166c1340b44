"""The Tensor API: dynamic graphs with PyTorch's autograd semantics, optimizers,
and gradient descent on formula files."""

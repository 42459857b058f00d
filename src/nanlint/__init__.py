"""nanlint: find numerically unstable PyTorch loss and probability code, explain it, fix it."""

__version__ = "0.1.0"

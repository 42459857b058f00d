"""nanlint: find numerically unstable PyTorch loss and probability code, explain it, fix it."""

__version__ = "0.1.0"


def __getattr__(name: str):
    """`nanlint.guard`, the runtime guard, imported on first use (it imports torch then)."""
    if name == "guard":
        import nanlint.guard

        return nanlint.guard
    raise AttributeError(f"module 'nanlint' has no attribute {name!r}")

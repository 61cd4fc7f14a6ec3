"""Kundenakte: an open-source digital customer file."""

from kundenakte.hookspecs import hookimpl

__version__ = "0.1.0"
__all__ = ["hookimpl", "__version__"]

"""freqopt: decide how often each production ML model should be retrained.

The library API is :class:`freqopt.api.Freqopt`; it is loaded on first use so
that importing the package (and starting the CLI) stays fast.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Freqopt", "__version__"]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name == "Freqopt":
        from freqopt.api import Freqopt

        return Freqopt
    raise AttributeError(f"module 'freqopt' has no attribute {name!r}")

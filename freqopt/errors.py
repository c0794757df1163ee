"""Errors and warnings raised by freqopt.

Every error derives from :class:`FreqoptError`; the subclasses also inherit the
matching built-in so callers can catch either. Messages name the thing (file,
row, column, option), show the value received and what is allowed, and say
what to do.
"""

from __future__ import annotations

__all__ = [
    "DataError",
    "DataWarning",
    "FitWarning",
    "FreqoptError",
    "FreqoptWarning",
    "NotFoundError",
    "PolicyError",
    "StoreError",
]


class FreqoptError(Exception):
    """Base class of every error freqopt raises on purpose."""


class DataError(FreqoptError, ValueError):
    """Input data (a file, a row, a value) is not what freqopt accepts."""


class NotFoundError(FreqoptError, LookupError):
    """A model, trial, cluster or file that was named does not exist."""


class StoreError(FreqoptError, RuntimeError):
    """The store cannot be opened, read or written."""


class PolicyError(FreqoptError, ValueError):
    """A policy file or policy value is invalid."""


class FreqoptWarning(UserWarning):
    """Base class of warnings the user should act on."""


class DataWarning(FreqoptWarning):
    """Data was usable but something was changed or dropped (say what)."""


class FitWarning(FreqoptWarning):
    """A model fit fell back or did not converge; results are less certain."""

"""Warnings for public names renamed in 0.2.0; the old names go away in 0.3.0."""

from __future__ import annotations

import warnings

from langchain_core._api import LangChainDeprecationWarning

SINCE = "0.2.0"
REMOVAL = "0.3.0"


def warn_renamed(old: str, new: str) -> None:
    """Warn the caller of ``old`` (two frames up: the alias's caller) to use ``new``."""
    warnings.warn(
        f"{old} was renamed to {new} in {SINCE}; the old name will be removed in {REMOVAL}.",
        LangChainDeprecationWarning,
        stacklevel=3,
    )

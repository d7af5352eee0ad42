"""The explicit offline switch: an embedded emulator of the API (extra ``emulator``).

Nothing here runs unless a caller asks for the emulator (``emulator=True``, the CLI without a
token); importing this module imports neither Starlette, uvicorn nor Pillow.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

from .errors import ConfigurationError

if TYPE_CHECKING:
    from .emulator import EmulatorConfig, RunningEmulator

EMULATOR_EXTRA_HINT = (
    'the embedded emulator needs the "emulator" extra: pip install ".[emulator]" '
    '(in a clone of the repository) or pip install "langchain-acedata-images[emulator]"'
)
"""One line saying how to install what the emulator needs."""

# Top-level modules the extra provides; a missing other module is a real bug, not a hint.
_EXTRA_MODULES = frozenset({"starlette", "uvicorn", "PIL", "multipart", "python_multipart"})


class MissingExtraError(ConfigurationError):
    """The ``emulator`` extra is not installed; the message says how to install it."""


def emulator_module() -> ModuleType:
    """``langchain_acedata_images.emulator``, or :class:`MissingExtraError` (the install hint)."""
    try:
        from . import emulator
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in _EXTRA_MODULES:
            raise
        raise MissingExtraError(f"{EMULATOR_EXTRA_HINT} (no module {exc.name!r})") from None
    return emulator


def embedded_token() -> str:
    """The placeholder token a client sends to its embedded emulator."""
    token: str = emulator_module().EMULATOR_TOKEN
    return token


def start_embedded_emulator(config: EmulatorConfig | None = None) -> RunningEmulator:
    """Serve a fresh emulator on 127.0.0.1 in a background thread (stop it when done)."""
    running: RunningEmulator = emulator_module().start_emulator(config)
    return running


__all__ = [
    "EMULATOR_EXTRA_HINT",
    "MissingExtraError",
    "embedded_token",
    "emulator_module",
    "start_embedded_emulator",
]

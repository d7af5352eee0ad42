"""A local AceDataCloud image API for offline demos and tests (extra ``emulator``).

>>> from langchain_acedata_images.emulator import run_emulator
>>> with run_emulator() as emulator:                       # doctest: +SKIP
...     client = AceDataImagesClient(api_token="any", base_url=emulator.base_url)

In-process, without sockets: ``httpx.AsyncClient(transport=httpx.ASGITransport(create_app()))``.

By default the emulator accepts the union of what AceDataCloud's documents allow (11 models,
JSON and multipart edits, ``/v1/images/...`` aliases); ``EmulatorConfig.preset("a")`` /
``preset("b")`` play one documented variant whole, and each :class:`Dialect` field sets one
behaviour (also as ``ACEDATA_EMULATOR_<FIELD>`` and ``--<field>`` of ``python -m
langchain_acedata_images.emulator``).
"""

from __future__ import annotations

from .app import create_app
from .config import EmulatorConfig, FaultConfig
from .dialect import Dialect
from .server import EMULATOR_TOKEN, RunningEmulator, run_emulator, serve, start_emulator
from .state import EmulatorState

__all__ = [
    "EMULATOR_TOKEN",
    "Dialect",
    "EmulatorConfig",
    "EmulatorState",
    "FaultConfig",
    "RunningEmulator",
    "create_app",
    "run_emulator",
    "serve",
    "start_emulator",
]

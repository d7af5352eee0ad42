"""A local AceDataCloud image API for offline demos and tests (extra ``emulator``).

>>> from langchain_acedata_images.emulator import run_emulator
>>> with run_emulator() as emulator:                       # doctest: +SKIP
...     client = AceDataImagesClient(api_token="any", base_url=emulator.base_url)

In-process, without sockets: ``httpx.AsyncClient(transport=httpx.ASGITransport(create_app()))``.
"""

from __future__ import annotations

from .app import create_app
from .config import EmulatorConfig, FaultConfig
from .server import EMULATOR_TOKEN, RunningEmulator, run_emulator, serve, start_emulator
from .state import EmulatorState

__all__ = [
    "EMULATOR_TOKEN",
    "EmulatorConfig",
    "EmulatorState",
    "FaultConfig",
    "RunningEmulator",
    "create_app",
    "run_emulator",
    "serve",
    "start_emulator",
]

"""Which server the command line talks to, and the one notice saying so.

- a token and no base URL: the real API (:data:`REAL_API_URL`), and nothing else leads there;
- ``--base-url`` (or ``$ACEDATACLOUD_API_BASE_URL``): that server. Without a token only a
  loopback server is accepted (a local emulator, given a placeholder token); another host is
  a clear error, never a silent switch to the emulator;
- no token and no base URL, or ``--emulator``: an emulator embedded in this process. It starts
  empty on every run, which the notice says for ``task``/``tasks``.

:func:`decide_target` is the whole choice as a pure function of the options and environment
values; :func:`choose_target` reads the environment and calls it.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from ._base import DEFAULT_BASE_URL
from ._env import ENV, env_base_url, env_value
from ._offline import emulator_module
from .client import AceDataImagesClient

_EMBEDDED = (
    "results come from the embedded emulator (offline placeholder images, nothing is billed; "
    "the saved files stay, the image URLs end with this command)."
)
EMULATOR_NOTICE = f"No {ENV.token} set: {_EMBEDDED}"
FORCED_NOTICE = f"--emulator: {_EMBEDDED}"
EMPTY_NOTICE = (
    "The embedded emulator starts empty on every run, so tasks from earlier commands are not "
    "there. To keep them, serve one with `acedata-images emulator --port 8000` and pass "
    "--base-url http://127.0.0.1:8000 to each command."
)
_DEMO_LATENCY = 1.0  # long enough for the progress spinner to show a poll or two
#: Where a token without a base URL sends requests (tests point it at a loopback stand-in).
REAL_API_URL = DEFAULT_BASE_URL


class UsageError(Exception):
    """A problem with how the command was called; its text is shown as is (exit code 2)."""


@dataclass(frozen=True)
class Target:
    """Where requests go: ``base_url`` None means the embedded emulator.

    ``flags`` are the options that reach this same server again (for printed commands).
    """

    base_url: str | None
    token: str | None
    notice: str | None = None
    flags: tuple[str, ...] = ()

    @property
    def embedded(self) -> bool:
        """Whether requests go to an emulator that ends with this command."""
        return self.base_url is None


def is_loopback(url: str) -> bool:
    """Whether ``url`` names this machine (localhost or a loopback address)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def decide_target(
    *,
    token: str | None,
    base_url: str | None,
    env_url: str | None,
    force_emulator: bool,
    command: str,
    real_url: str,
) -> Target:
    """Where requests go, from the token, ``--base-url``, ``$ACEDATACLOUD_API_BASE_URL``
    and ``--emulator`` (pure: the caller reads the environment)."""
    if force_emulator and base_url:
        raise UsageError("--emulator and --base-url exclude each other; pass one of them.")
    empty = f"\n{EMPTY_NOTICE}" if command in ("task", "tasks") else ""
    if force_emulator:
        return Target(None, None, FORCED_NOTICE + empty, ("--emulator",))
    url = base_url or env_url
    if url is None:
        if token is None:
            return Target(None, None, EMULATOR_NOTICE + empty)
        return Target(real_url, token)
    flags = ("--base-url", url)
    if token is not None:
        return Target(url, token, flags=flags)
    if not is_loopback(url):
        source = "leave out --base-url" if base_url else f"unset {ENV.base_url}"
        raise UsageError(
            f"{ENV.token} is not set, and {url} needs it. Set it "
            f"(export {ENV.token}=...), or {source} to try the embedded emulator."
        )
    notice = (
        f"No {ENV.token} set: calling {url} with a placeholder token (fine for a local emulator)."
    )
    return Target(url, "emulator-token", notice, flags)


def choose_target(base_url: str | None, *, force_emulator: bool, command: str) -> Target:
    """Decide where requests go from the options and the environment."""
    return decide_target(
        token=env_value(ENV.token),
        base_url=base_url,
        env_url=env_base_url(),
        force_emulator=force_emulator,
        command=command,
        real_url=REAL_API_URL,
    )


@contextmanager
def open_client(target: Target, **options: Any) -> Iterator[AceDataImagesClient]:
    """A client for ``target``; an embedded emulator runs for as long as it is open."""
    if target.base_url is not None:
        client = AceDataImagesClient(target.token, base_url=target.base_url, **options)
    else:
        # Loaded first, so a missing extra is reported before any notice about the emulator.
        config = emulator_module().EmulatorConfig.from_env()
        if "ACEDATA_EMULATOR_LATENCY" not in os.environ:
            config = replace(config, latency=_DEMO_LATENCY)
        client = AceDataImagesClient(emulator=config, **options)
    if target.notice:
        print(target.notice, file=sys.stderr)
    with client:
        yield client


__all__ = [
    "EMPTY_NOTICE",
    "EMULATOR_NOTICE",
    "FORCED_NOTICE",
    "REAL_API_URL",
    "Target",
    "UsageError",
    "choose_target",
    "decide_target",
    "is_loopback",
    "open_client",
]

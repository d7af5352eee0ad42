"""The environment variables this package reads: their names in one constant, read in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass

from pydantic import SecretStr


@dataclass(frozen=True)
class EnvNames:
    """Names of the environment variables that configure the client, tools and CLI."""

    token: str = "ACEDATACLOUD_API_TOKEN"
    base_url: str = "ACEDATACLOUD_API_BASE_URL"
    save_dir: str = "ACEDATACLOUD_IMAGES_SAVE_DIR"
    download_proxy: str = "ACEDATACLOUD_IMAGES_DOWNLOAD_PROXY"


#: The one declaration of the environment variable names.
ENV = EnvNames()


def env_value(name: str) -> str | None:
    """The variable's value, or ``None`` when it is unset or empty."""
    return os.environ.get(name) or None


def env_token() -> SecretStr | None:
    """``$ACEDATACLOUD_API_TOKEN`` as a secret, or ``None``."""
    value = env_value(ENV.token)
    return SecretStr(value) if value is not None else None


def env_base_url() -> str | None:
    """``$ACEDATACLOUD_API_BASE_URL``, or ``None``."""
    return env_value(ENV.base_url)


def env_save_dir() -> str | None:
    """``$ACEDATACLOUD_IMAGES_SAVE_DIR``, or ``None``."""
    return env_value(ENV.save_dir)


def env_download_proxy() -> bool:
    """``$ACEDATACLOUD_IMAGES_DOWNLOAD_PROXY``: ``0``/``false``/``no``/``off`` turn off the use
    of proxy environment variables for downloads; anything else (or unset) leaves it on."""
    value = (env_value(ENV.download_proxy) or "").strip().lower()
    return value not in {"0", "false", "no", "off"}

"""Settings of the tools and the toolkit, each declared once.

The tools and :class:`~langchain_acedata_images.AceDataImagesToolkit` inherit these mixins, so
a setting has one declaration, one docstring and one default. The toolkit hands each tool the
settings that tool declares (:func:`settings_for`), with the toolkit's values.

A new setting is one field on the mixin of the tools that use it; a setting the client needs
also goes into :meth:`ClientSettings._client_options`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, model_validator

from ._env import env_base_url, env_token
from ._image_inputs import MAX_LOCAL_IMAGE_BYTES
from .client import AceDataImagesClient


class ClientSettings(BaseModel):
    """The client, or what it is built from, and the one validator that builds it."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    client: AceDataImagesClient | None = Field(default=None, exclude=True)
    """Client to use; built from ``api_token``/``base_url`` (or the environment) when omitted.

    Pass one client to several tools (or use the toolkit) to share its connection pool."""
    api_token: SecretStr | None = Field(default_factory=env_token, exclude=True)
    """Token; defaults to ``$ACEDATACLOUD_API_TOKEN``."""
    base_url: str | None = Field(default_factory=env_base_url)
    """API base URL; defaults to ``$ACEDATACLOUD_API_BASE_URL`` or the public API."""
    emulator: bool = False
    """The explicit offline switch: the built client starts its own emulator of the API on
    127.0.0.1 (extra ``emulator``) and ignores the token and base URL of the environment."""

    _owns_client: bool = PrivateAttr(default=False)

    @model_validator(mode="after")
    def _build_client(self) -> ClientSettings:
        if self.client is None:
            self.client = AceDataImagesClient(**self._client_options())
            self._owns_client = True
        return self

    def _client_options(self) -> dict[str, Any]:
        """Constructor arguments of the client built when none is given."""
        if self.emulator:
            # Only a base URL given here (not one from the environment) contradicts the switch.
            given = self.base_url if "base_url" in self.model_fields_set else None
            return {"emulator": True, "base_url": given}
        return {"api_token": self.api_token, "base_url": self.base_url}


class ToolSettings(ClientSettings):
    """Settings of every tool."""

    emit_progress: bool = True
    """Dispatch LangChain custom events (and LangGraph custom stream chunks) while waiting."""


class ResultSettings(ToolSettings):
    """Settings of the tools that answer with images."""

    save_dir: str | Path | None = None
    """Also write the images to this directory (default: the client's ``save_dir``, which
    defaults to ``$ACEDATACLOUD_IMAGES_SAVE_DIR``); the LLM then sees the saved paths."""
    image_blocks: bool = False
    """Return the summary plus LangChain standard image content blocks (for vision models
    whose provider accepts images in tool results) instead of the summary text alone."""
    allow_private_downloads: bool = False
    """Let saving download from loopback, link-local and private hosts too (image URLs come
    from the server; by default only public hosts and the API's own are fetched)."""
    max_downloads: int = Field(default=16, ge=0)
    """Most images saved from one answer; the others keep their URLs."""
    download_proxy_from_env: bool | None = None
    """Download through the proxy of ``HTTP(S)_PROXY``/``ALL_PROXY`` (``NO_PROXY`` honoured;
    only host names are checked then); ``None``: on unless
    ``$ACEDATACLOUD_IMAGES_DOWNLOAD_PROXY`` is ``off``."""

    def _client_options(self) -> dict[str, Any]:
        return {
            **super()._client_options(),
            "allow_private_downloads": self.allow_private_downloads,
            "max_downloads": self.max_downloads,
            "download_proxy_from_env": self.download_proxy_from_env,
        }


class JobSettings(ResultSettings):
    """Settings of the tools that submit image jobs (generate and edit)."""

    wait: bool = True
    """Wait for the images; ``False`` returns the task handle at once."""
    max_wait: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    """Seconds to wait for a job before answering with its task id (default: the client's
    ``max_wait``, 600)."""
    pinned_args: dict[str, Any] = Field(default_factory=dict)
    """Arguments the application fixes, e.g. ``{"response_format": "url", "partial_images":
    0}``: sent with every call, left out of the LLM's schema, checked by the per-model rules
    when the tool is built. The toolkit gives each tool the ones it has."""
    models: tuple[str, ...] | None = None
    """Offer only these models to the LLM. The ``model`` enum shrinks, the first one becomes
    the default (unless ``gpt-image-1`` is offered), arguments none of them accepts leave the
    schema, and errors name only these models."""
    allow_private_callback_urls: bool = False
    """Let the LLM set a ``callback_url`` on a loopback, link-local, private or local-name
    host (refused by default: the API server would POST the result there)."""
    exactly_once: bool = True
    """One paid job per tool call: the trace_id derives from the tool call id (and the
    LangGraph thread id), and the job is looked up before it is submitted, so a tool call that
    runs again (node retry, resume after a crash) attaches to its first job. Costs two look-up
    requests per tool call (before submitting, and a check for a concurrent run's duplicate
    after it); plain invocations without a tool call id skip them."""


class EditInputSettings(BaseModel):
    """How the edit tool reads the images it is given."""

    allow_local_files: bool = False
    """Accept local file paths and ``file://`` URLs and send them inline (opt-in: it lets the
    LLM read image files from this machine)."""
    local_files_root: str | Path | None = None
    """When set, local paths are resolved against this directory and must stay inside it."""
    max_local_image_bytes: int = Field(default=MAX_LOCAL_IMAGE_BYTES, gt=0)
    """Largest local image file that is sent (default 20 MiB)."""


#: Recommended for agents: ``AceDataImagesToolkit(**AGENT_PROFILE)``. Hides what an agent
#: never needs to choose (webhooks, streaming previews, base64, moderation, compression:
#: pinned to ``None``, i.e. the API's defaults) and offers four models (no dall-e), which
#: also drops ``style``. README "Tool definitions" shows its size.
AGENT_PROFILE: Mapping[str, Any] = MappingProxyType(
    {
        "pinned_args": MappingProxyType(
            {
                "callback_url": None,
                "partial_images": None,
                "response_format": None,
                "moderation": None,
                "output_compression": None,
            }
        ),
        "models": ("gpt-image-1", "gpt-image-2", "nano-banana", "nano-banana-pro"),
    }
)

_MIXINS: tuple[type[BaseModel], ...] = (JobSettings, EditInputSettings)
#: Build the client; a tool built by the toolkit gets the client itself instead.
_CLIENT_SOURCES = frozenset(
    {
        "api_token",
        "base_url",
        "emulator",
        "allow_private_downloads",
        "max_downloads",
        "download_proxy_from_env",
    }
)


def settings_for(source: BaseModel, target: type[BaseModel]) -> dict[str, Any]:
    """The settings ``target`` declares, with ``source``'s values (``None`` leaves the default)."""
    shared = {name for mixin in _MIXINS for name in mixin.model_fields}
    names = (shared & set(target.model_fields)) - _CLIENT_SOURCES
    values = {name: getattr(source, name) for name in sorted(names)}
    return {name: value for name, value in values.items() if value is not None}


__all__ = [
    "AGENT_PROFILE",
    "ClientSettings",
    "EditInputSettings",
    "JobSettings",
    "ResultSettings",
    "ToolSettings",
    "settings_for",
]

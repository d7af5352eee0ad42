"""All AceDataCloud image tools over one shared client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langchain_core.tools import BaseTool, BaseToolkit
from langchain_core.utils import from_env, secret_from_env
from pydantic import ConfigDict, Field, PrivateAttr, SecretStr, model_validator

from .client import BASE_URL_ENV, TOKEN_ENV, AceDataImagesClient
from .tools import (
    OpenAIEditImageTool,
    OpenAIGenerateImageTool,
    OpenAIGetTaskTool,
    OpenAIListTasksTool,
)


class AceDataImagesToolkit(BaseToolkit):
    """The AceDataCloud image tools (generate, edit, get task, list tasks) sharing one client.

    The client (and so its HTTP connection pool) is built once from ``api_token`` /
    ``base_url`` or the environment, or passed in as ``client``. Close it with :meth:`close` /
    :meth:`aclose` or by using the toolkit as a (async) context manager; a client passed in is
    left open for its owner to close.

    Example:
        .. code-block:: python

            from langchain.agents import create_agent
            from langchain_acedata_images import AceDataImagesToolkit

            with AceDataImagesToolkit(save_dir="images") as toolkit:
                agent = create_agent("openai:gpt-4.1", toolkit.get_tools())
                agent.invoke({"messages": [("user", "Draw a fox, then make it blue")]})
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    client: AceDataImagesClient | None = Field(default=None, exclude=True)
    """Shared client; built from ``api_token``/``base_url`` (or the environment) when omitted."""
    api_token: SecretStr | None = Field(
        default_factory=secret_from_env(TOKEN_ENV, default=None), exclude=True
    )
    """Token; defaults to ``$ACEDATACLOUD_API_TOKEN``."""
    base_url: str | None = Field(default_factory=from_env(BASE_URL_ENV, default=None))
    """API base URL; defaults to ``$ACEDATACLOUD_API_BASE_URL`` or the public API."""

    include_edit: bool = True
    """Include ``openai_edit_image``."""
    include_tasks: bool = True
    """Include ``openai_get_task`` and ``openai_list_tasks``."""

    wait: bool = True
    """Generate/edit wait for the images; ``False`` returns task ids at once."""
    max_wait: float | None = None
    """Longest one tool call waits for a job, in seconds. Sets the built client's
    ``max_wait`` (generate/edit; default 600) and ``openai_get_task``'s wait (default 60)."""
    save_dir: str | Path | None = None
    """Also save images to this directory (default: the client's ``save_dir``)."""
    image_blocks: bool = False
    """Answer with image content blocks next to the summary (for vision models)."""
    allow_local_files: bool = False
    """Let ``openai_edit_image`` read local image files (see :class:`OpenAIEditImageTool`)."""
    local_files_root: str | Path | None = None
    """Directory local image files must be inside."""
    emit_progress: bool = True
    """Dispatch progress custom events while waiting."""

    _owns_client: bool = PrivateAttr(default=False)

    @model_validator(mode="after")
    def _build_client(self) -> AceDataImagesToolkit:
        if self.client is None:
            options: dict[str, Any] = {"api_token": self.api_token, "base_url": self.base_url}
            if self.max_wait is not None:
                options["max_wait"] = self.max_wait
            self.client = AceDataImagesClient(**options)
            self._owns_client = True
        return self

    def _common(self) -> dict[str, Any]:
        return {"client": self.client, "emit_progress": self.emit_progress}

    def _image_options(self) -> dict[str, Any]:
        return {**self._common(), "save_dir": self.save_dir, "image_blocks": self.image_blocks}

    def get_tools(self) -> list[BaseTool]:
        """New tool instances, all using this toolkit's client."""
        jobs = {**self._image_options(), "wait": self.wait, "max_wait": self.max_wait}
        tools: list[BaseTool] = [OpenAIGenerateImageTool(**jobs)]
        if self.include_edit:
            tools.append(
                OpenAIEditImageTool(
                    **jobs,
                    allow_local_files=self.allow_local_files,
                    local_files_root=self.local_files_root,
                )
            )
        if self.include_tasks:
            task_wait = {} if self.max_wait is None else {"max_wait": self.max_wait}
            tools.append(OpenAIGetTaskTool(**self._image_options(), **task_wait))
            tools.append(OpenAIListTasksTool(**self._common()))
        return tools

    def close(self) -> None:
        """Close the shared client's sync connections (if the toolkit built the client)."""
        if self._owns_client and self.client is not None:
            self.client.close()

    async def aclose(self) -> None:
        """Close the shared client's connections (if the toolkit built the client)."""
        if self._owns_client and self.client is not None:
            await self.client.aclose()

    def __enter__(self) -> AceDataImagesToolkit:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> AceDataImagesToolkit:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


__all__ = ["AceDataImagesToolkit"]

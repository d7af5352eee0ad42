"""All AceDataCloud image tools over one shared client."""

from __future__ import annotations

from typing import Any

from langchain_core.tools import BaseTool, BaseToolkit
from pydantic import BaseModel, model_validator

from .settings import EditInputSettings, JobSettings, settings_for
from .tools import (
    OpenAIEditImageTool,
    OpenAIGenerateImageTool,
    OpenAIGetTaskTool,
    OpenAIListTasksTool,
)


def _args_fields(cls: type[BaseTool]) -> set[str]:
    schema = cls.model_fields["args_schema"].default
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return set(schema.model_fields)
    return set()


class AceDataImagesToolkit(JobSettings, EditInputSettings, BaseToolkit):
    """The AceDataCloud image tools (generate, edit, get task, list tasks) sharing one client.

    The client (and so its HTTP connection pool) is built once from ``api_token`` /
    ``base_url`` or the environment, or passed in as ``client``. Close it with :meth:`close` /
    :meth:`aclose` or by using the toolkit as a (async) context manager; a client passed in is
    left open for its owner to close.

    Every tool setting (``save_dir``, ``wait``, ``image_blocks``, ``allow_local_files``, ...)
    is declared once in :mod:`.settings`; the toolkit hands each tool the ones it declares.
    ``max_wait`` also sets the built client's ``max_wait`` and ``openai_get_task``'s wait
    (default 60 s there).

    Example:
        .. code-block:: python

            from langchain.agents import create_agent
            from langchain_acedata_images import AceDataImagesToolkit

            with AceDataImagesToolkit(save_dir="images") as toolkit:
                agent = create_agent("openai:gpt-4.1", toolkit.get_tools())
                agent.invoke({"messages": [("user", "Draw a fox, then make it blue")]})
    """

    include_edit: bool = True
    """Include ``openai_edit_image``."""
    include_tasks: bool = True
    """Include ``openai_get_task`` and ``openai_list_tasks``."""

    def _client_options(self) -> dict[str, Any]:
        options = super()._client_options()
        if self.max_wait is not None:
            options["max_wait"] = self.max_wait
        return options

    def get_tools(self) -> list[BaseTool]:
        """New tool instances, all using this toolkit's client."""
        classes: list[type[BaseTool]] = [OpenAIGenerateImageTool]
        if self.include_edit:
            classes.append(OpenAIEditImageTool)
        if self.include_tasks:
            classes += [OpenAIGetTaskTool, OpenAIListTasksTool]
        return [cls(**self._settings_for(cls)) for cls in classes]

    def _settings_for(self, cls: type[BaseTool]) -> dict[str, Any]:
        settings = settings_for(self, cls)
        if "pinned_args" in settings:  # each tool gets the pins its arguments have
            fields = _args_fields(cls)
            settings["pinned_args"] = {k: v for k, v in self.pinned_args.items() if k in fields}
        return settings

    @model_validator(mode="after")
    def _known_pins(self) -> AceDataImagesToolkit:
        known = _args_fields(OpenAIGenerateImageTool) | _args_fields(OpenAIEditImageTool)
        unknown = sorted(set(self.pinned_args) - known)
        if unknown:
            pinnable = ", ".join(sorted(known))
            raise ValueError(f"pinned_args: no tool has {', '.join(unknown)}; pinnable: {pinnable}")
        return self

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

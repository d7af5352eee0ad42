"""LangChain tools: declarative wrappers around :class:`AceDataImagesClient`."""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.callbacks import (
    AsyncCallbackManagerForToolRun,
    CallbackManagerForToolRun,
)
from langchain_core.tools import BaseTool, ToolException
from langchain_core.utils import from_env, secret_from_env
from pydantic import Field, SecretStr, model_validator

from ._text import format_validation_error, result_summary, tool_error_text
from .client import BASE_URL_ENV, TOKEN_ENV, AceDataImagesClient, ProgressEvent
from .errors import AceDataImagesError
from .models import GenerateImageInput, ImageGenerationResult, ImageTask
from .progress import ProgressDispatcher

GENERATE_DESCRIPTION = (
    "Create AI-generated images from text descriptions. Generate artwork, illustrations, or "
    "visual concepts with customizable model, size, quality, and style.\n"
    "Generate images using OpenAI image models via AceDataCloud. Creates AI-generated images "
    "from text descriptions using models like gpt-image-1, dall-e-3, and nano-banana variants.\n"
    "Use this when:\n"
    "- You want to create an image from a text description\n"
    "- You need AI-generated artwork or illustrations\n"
    "- You want to generate product mockups or visual concepts\n"
    "Returns: a short summary with the image URLs (or saved file paths), the revised prompt "
    "and the task id; base64 data is kept out of the conversation."
)


class _AceDataImagesTool(BaseTool):
    """Shared configuration of the AceDataCloud image tools (developer-only fields)."""

    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    handle_tool_error: Any = True
    handle_validation_error: Any = format_validation_error

    client: AceDataImagesClient | None = Field(default=None, exclude=True)
    """Client to use; built from ``api_token``/``base_url`` (or the environment) when omitted."""
    api_token: SecretStr | None = Field(
        default_factory=secret_from_env(TOKEN_ENV, default=None), exclude=True
    )
    """Token; defaults to ``$ACEDATACLOUD_API_TOKEN``."""
    base_url: str | None = Field(default_factory=from_env(BASE_URL_ENV, default=None))
    """API base URL; defaults to ``$ACEDATACLOUD_API_BASE_URL`` or the public API."""
    max_wait: float | None = None
    """Seconds to wait for a job before returning its task id (client default: 600)."""
    wait: bool = True
    """Wait for the images; ``False`` returns the task handle at once."""
    emit_progress: bool = True
    """Dispatch LangChain custom events (and LangGraph custom stream chunks) while waiting."""

    @model_validator(mode="after")
    def _build_client(self) -> _AceDataImagesTool:
        if self.client is None:
            kwargs: dict[str, Any] = {"api_token": self.api_token, "base_url": self.base_url}
            if self.max_wait is not None:
                kwargs["max_wait"] = self.max_wait
            self.client = AceDataImagesClient(**kwargs)
        return self

    @property
    def _client(self) -> AceDataImagesClient:
        assert self.client is not None  # set by _build_client
        return self.client

    def _respond(
        self, outcome: ImageGenerationResult | ImageTask
    ) -> tuple[str, ImageGenerationResult | ImageTask]:
        return result_summary(outcome), outcome

    def _tool_error(self, error: AceDataImagesError) -> ToolException:
        return ToolException(tool_error_text(error))


class OpenAIGenerateImageTool(_AceDataImagesTool):
    """Generate images with AceDataCloud's OpenAI-compatible API in one tool call.

    The LLM sees a short text (URLs, revised prompt, task id); the program gets the full
    :class:`ImageGenerationResult` as the ``ToolMessage.artifact``.

    Example:
        .. code-block:: python

            from langchain_acedata_images import OpenAIGenerateImageTool

            tool = OpenAIGenerateImageTool()  # token from $ACEDATACLOUD_API_TOKEN
            message = tool.invoke(
                {"type": "tool_call", "id": "1", "name": "openai_generate_image",
                 "args": {"prompt": "a red fox in snow", "size": "1536x1024"}}
            )
            message.artifact.urls
    """

    name: str = "openai_generate_image"
    description: str = GENERATE_DESCRIPTION
    args_schema: type[GenerateImageInput] = GenerateImageInput

    def _run(
        self, run_manager: CallbackManagerForToolRun | None = None, **kwargs: Any
    ) -> tuple[str, ImageGenerationResult | ImageTask]:
        request = GenerateImageInput.model_validate(kwargs)
        progress = ProgressDispatcher.for_run(self.name, run_manager, enabled=self.emit_progress)
        try:
            outcome = self._client.generate(request, wait=self.wait, on_progress=progress.sync)
        except AceDataImagesError as error:
            raise self._tool_error(error) from error
        return self._respond(outcome)

    async def _arun(
        self, run_manager: AsyncCallbackManagerForToolRun | None = None, **kwargs: Any
    ) -> tuple[str, ImageGenerationResult | ImageTask]:
        request = GenerateImageInput.model_validate(kwargs)
        progress = ProgressDispatcher.for_run(self.name, run_manager, enabled=self.emit_progress)
        try:
            outcome = await self._client.agenerate(
                request, wait=self.wait, on_progress=progress.async_
            )
        except AceDataImagesError as error:
            raise self._tool_error(error) from error
        return self._respond(outcome)


__all__ = ["GENERATE_DESCRIPTION", "OpenAIGenerateImageTool", "ProgressEvent"]

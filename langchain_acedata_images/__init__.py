"""LangChain tools for AceDataCloud's OpenAI-compatible image API.

Public names load on first access (as in ``langchain_core``): ``import langchain_acedata_images``
costs next to nothing, and importing one tool loads only what that tool needs.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .client import AceDataImagesClient, ProgressEvent, new_trace_id
    from .durations import DurationEstimate, DurationEstimator
    from .errors import (
        AceDataImagesError,
        APIError,
        AuthenticationError,
        ConfigurationError,
        ImageDownloadError,
        ImageInputError,
        InsufficientBalanceError,
        InvalidRequestError,
        MalformedAnswerError,
        ModerationError,
        RateLimitError,
        ResourceDisabledError,
        ServerError,
        TaskFailedError,
        TaskNotFoundError,
        TaskTimeoutError,
        TransportError,
    )
    from .mcp_server import AceDataImagesMCP as AceDataImagesMCP
    from .model_rules import MODEL_RULES, ModelRules
    from .models import (
        EditImageInput,
        GeneratedImage,
        GenerateImageInput,
        GetTaskInput,
        ImageGenerationResult,
        ImageTask,
        TaskList,
        TaskQuery,
        TaskRecord,
    )
    from .poller import PollCadence
    from .polling import PollSchedule, RetryPolicy
    from .progress import PROGRESS_EVENT
    from .settings import AGENT_PROFILE
    from .toolkit import AceDataImagesToolkit
    from .tools import (
        OpenAIEditImageTool,
        OpenAIGenerateImageTool,
        OpenAIGetTaskTool,
        OpenAIListTasksTool,
    )
    from .webhook import CallbackReceiver as CallbackReceiver

_MODULE_OF = {
    "AceDataImagesClient": "client",
    "ProgressEvent": "client",
    "new_trace_id": "client",
    "DurationEstimate": "durations",
    "DurationEstimator": "durations",
    "AceDataImagesError": "errors",
    "APIError": "errors",
    "AuthenticationError": "errors",
    "ConfigurationError": "errors",
    "ImageDownloadError": "errors",
    "ImageInputError": "errors",
    "InsufficientBalanceError": "errors",
    "InvalidRequestError": "errors",
    "MalformedAnswerError": "errors",
    "ModerationError": "errors",
    "RateLimitError": "errors",
    "ResourceDisabledError": "errors",
    "ServerError": "errors",
    "TaskFailedError": "errors",
    "TaskNotFoundError": "errors",
    "TaskTimeoutError": "errors",
    "TransportError": "errors",
    "MODEL_RULES": "model_rules",
    "ModelRules": "model_rules",
    "EditImageInput": "models",
    "GeneratedImage": "models",
    "GenerateImageInput": "models",
    "GetTaskInput": "models",
    "ImageGenerationResult": "models",
    "ImageTask": "models",
    "TaskList": "models",
    "TaskQuery": "models",
    "TaskRecord": "models",
    "PollCadence": "poller",
    "PollSchedule": "polling",
    "RetryPolicy": "polling",
    "PROGRESS_EVENT": "progress",
    "AGENT_PROFILE": "settings",
    "AceDataImagesToolkit": "toolkit",
    "OpenAIEditImageTool": "tools",
    "OpenAIGenerateImageTool": "tools",
    "OpenAIGetTaskTool": "tools",
    "OpenAIListTasksTool": "tools",
    "CallbackReceiver": "webhook",
    "AceDataImagesMCP": "mcp_server",
}
"""Public name -> the submodule defining it. ``CallbackReceiver`` needs the ``emulator`` extra
(Starlette) and ``AceDataImagesMCP`` the ``mcp`` extra, so they stay out of ``__all__``: a star
import must not require an extra."""

#: Public names that need an extra (left out of ``__all__``).
_EXTRA_NAMES = ("AceDataImagesMCP", "CallbackReceiver")


def __getattr__(name: str) -> object:
    if name == "__version__":
        value: object = _version()
    elif name in _MODULE_OF:
        value = getattr(import_module(f".{_MODULE_OF[name]}", __name__), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later accesses skip this function
    return value


def __dir__() -> list[str]:
    return [*__all__, *_EXTRA_NAMES]


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("langchain-acedata-images")
    except metadata.PackageNotFoundError:  # running from a source tree without installing
        return "0.0.0"


__all__ = [
    "AGENT_PROFILE",
    "MODEL_RULES",
    "PROGRESS_EVENT",
    "APIError",
    "AceDataImagesClient",
    "AceDataImagesError",
    "AceDataImagesToolkit",
    "AuthenticationError",
    "ConfigurationError",
    "DurationEstimate",
    "DurationEstimator",
    "EditImageInput",
    "GenerateImageInput",
    "GeneratedImage",
    "GetTaskInput",
    "ImageDownloadError",
    "ImageGenerationResult",
    "ImageInputError",
    "ImageTask",
    "InsufficientBalanceError",
    "InvalidRequestError",
    "MalformedAnswerError",
    "ModelRules",
    "ModerationError",
    "OpenAIEditImageTool",
    "OpenAIGenerateImageTool",
    "OpenAIGetTaskTool",
    "OpenAIListTasksTool",
    "PollCadence",
    "PollSchedule",
    "ProgressEvent",
    "RateLimitError",
    "ResourceDisabledError",
    "RetryPolicy",
    "ServerError",
    "TaskFailedError",
    "TaskList",
    "TaskNotFoundError",
    "TaskQuery",
    "TaskRecord",
    "TaskTimeoutError",
    "TransportError",
    "__version__",
    "new_trace_id",
]

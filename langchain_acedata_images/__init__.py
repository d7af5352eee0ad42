"""LangChain tools for AceDataCloud's OpenAI-compatible image API."""

from __future__ import annotations

from importlib import metadata

# Imported first on purpose: loading BaseTool before httpx/pydantic models makes the package
# import ~50 ms faster (tests/benchmarks/import_time.py).
from langchain_core.tools import BaseTool  # noqa: F401  # isort: skip

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

_LAZY = {"CallbackReceiver": "webhook"}
"""Public names whose modules need optional extras (Starlette): imported on first access, so
``import langchain_acedata_images`` stays light. Left out of ``__all__`` for the same reason."""


def __getattr__(name: str) -> object:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


try:
    __version__ = metadata.version("langchain-acedata-images")
except metadata.PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"

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

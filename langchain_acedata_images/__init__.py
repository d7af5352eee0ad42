"""LangChain tools for AceDataCloud's OpenAI-compatible image API."""

from __future__ import annotations

from importlib import metadata

from .client import AceDataImagesClient, ProgressEvent, new_trace_id
from .errors import (
    AceDataImagesError,
    APIError,
    AuthenticationError,
    ConfigurationError,
    InsufficientBalanceError,
    InvalidRequestError,
    ModerationError,
    RateLimitError,
    ResourceDisabledError,
    ServerError,
    TaskFailedError,
    TaskTimeoutError,
    TransportError,
)
from .models import (
    MODEL_RULES,
    EditImageInput,
    GeneratedImage,
    GenerateImageInput,
    ImageGenerationResult,
    ImageTask,
    ModelRules,
    TaskList,
    TaskQuery,
    TaskRecord,
)
from .polling import PollSchedule, RetryPolicy
from .tools import OpenAIGenerateImageTool

try:
    __version__ = metadata.version("langchain-acedata-images")
except metadata.PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"

__all__ = [
    "MODEL_RULES",
    "APIError",
    "AceDataImagesClient",
    "AceDataImagesError",
    "AuthenticationError",
    "ConfigurationError",
    "EditImageInput",
    "GenerateImageInput",
    "GeneratedImage",
    "ImageGenerationResult",
    "ImageTask",
    "InsufficientBalanceError",
    "InvalidRequestError",
    "ModelRules",
    "ModerationError",
    "OpenAIGenerateImageTool",
    "PollSchedule",
    "ProgressEvent",
    "RateLimitError",
    "ResourceDisabledError",
    "RetryPolicy",
    "ServerError",
    "TaskFailedError",
    "TaskList",
    "TaskQuery",
    "TaskRecord",
    "TaskTimeoutError",
    "TransportError",
    "__version__",
    "new_trace_id",
]

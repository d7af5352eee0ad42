"""Progress reporting from tools: LangChain custom events and LangGraph custom stream chunks."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from langchain_core.callbacks import adispatch_custom_event, dispatch_custom_event

from ._deprecation import warn_renamed
from .client import ProgressEvent

logger = logging.getLogger(__name__)

#: Name of the LangChain custom event carrying a :class:`ProgressEvent` as a dict.
PROGRESS_EVENT = "acedata_image_progress"


def _langgraph_writer() -> Callable[[Any], None] | None:
    """LangGraph's ``stream_mode="custom"`` writer when running inside a graph, else ``None``."""
    if "langgraph" not in sys.modules:  # not in a graph; avoid importing LangGraph
        return None
    try:
        from langgraph.config import get_stream_writer
    except ImportError:
        return None
    try:
        writer: Callable[[Any], None] = get_stream_writer()
    except (RuntimeError, KeyError):
        return None
    return writer


@dataclass
class ProgressDispatcher:
    """Turns client :class:`ProgressEvent` s into LangChain/LangGraph events for one tool run."""

    tool_name: str
    enabled: bool
    has_run: bool

    @classmethod
    def for_run(
        cls, tool_name: str, run_manager: object | None, *, enabled: bool
    ) -> ProgressDispatcher:
        # Dispatching builds a callback manager per event; skip it when nobody listens
        # (astream_events and callback handlers register here, so they still get events).
        listening = bool(
            getattr(run_manager, "handlers", None)
            or getattr(run_manager, "inheritable_handlers", None)
        )
        return cls(tool_name, enabled, listening)

    def _payload(self, event: ProgressEvent) -> dict[str, Any]:
        return {"tool": self.tool_name, **event.model_dump(exclude_none=True)}

    def _write_graph(self, payload: dict[str, Any]) -> None:
        writer = _langgraph_writer()
        if writer is not None:
            writer({PROGRESS_EVENT: payload})

    def dispatch(self, event: ProgressEvent) -> None:
        """Send ``event`` to the run's callbacks and the graph's custom stream."""
        if not self.enabled:
            return
        payload = self._payload(event)
        if self.has_run:
            dispatch_custom_event(PROGRESS_EVENT, payload)
        self._write_graph(payload)

    async def adispatch(self, event: ProgressEvent) -> None:
        """Async :meth:`dispatch`."""
        if not self.enabled:
            return
        payload = self._payload(event)
        if self.has_run:
            await adispatch_custom_event(PROGRESS_EVENT, payload)
        self._write_graph(payload)

    def sync(self, event: ProgressEvent) -> None:
        """Deprecated alias of :meth:`dispatch` (removed in 0.3.0)."""
        warn_renamed("ProgressDispatcher.sync", "ProgressDispatcher.dispatch")
        self.dispatch(event)

    def async_(self, event: ProgressEvent) -> Coroutine[Any, Any, None]:
        """Deprecated alias of :meth:`adispatch` (removed in 0.3.0)."""
        warn_renamed("ProgressDispatcher.async_", "ProgressDispatcher.adispatch")
        return self.adispatch(event)

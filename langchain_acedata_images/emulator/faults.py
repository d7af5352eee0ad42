"""Fault injection: answers given instead of creating a task, and answers spoiled after it.

Which faults fire, and how often, is the :class:`.FaultConfig` of the state; the dice are the
state's seeded random generator, so a run with a seed repeats.
"""

from __future__ import annotations

import asyncio

from starlette.responses import JSONResponse, Response

from .answers import HTML_PAGE, CutShortResponse, Errors, Refusal
from .state import EmulatorState, LogEntry

TIMEOUT_AFTER_ACCEPT = "timeout_after_accept"
"""Name of the fault answering 504 ``timeout`` while the created task runs on."""
GATEWAY_AFTER_ACCEPT = "gateway_after_accept"
"""Name of the fault answering a proxy's error page while the created task runs on."""


def inject_before_accept(state: EmulatorState, errors: Errors) -> None:
    """Maybe raise a :class:`Refusal` answered before any task is created."""
    faults = state.faults
    fault = state.roll(faults.before_accept)
    if fault is None:
        return
    if fault.startswith("error_"):
        status = int(fault.removeprefix("error_"))
        headers = (
            {"retry-after": f"{faults.retry_after:g}"}
            if status == 429 and faults.retry_after is not None
            else None
        )
        response: Response = errors.answer(
            status, f"emulated {status} error", errors.code_for(status), headers=headers
        )
    elif fault == "html_error":
        response = Response(HTML_PAGE, status_code=502, media_type="text/html")
    elif fault == "empty_body":
        response = Response(b"", status_code=502)
    else:  # string_error
        response = JSONResponse({"error": "emulated internal server error"}, status_code=500)
    raise Refusal(response, fault=fault)


def gateway_page(state: EmulatorState) -> Response:
    """A proxy's error page (``gateway_status``: 502, 504, Cloudflare's 524...), sent after the
    task was created: the server behind the proxy has the job, the client cannot tell."""
    status = state.faults.gateway_status
    if status == 502:
        return JSONResponse({"error": {"message": "bad gateway"}}, status_code=502)
    page = HTML_PAGE.replace("502 Bad Gateway", f"{status} Gateway Timeout")
    return Response(page, status_code=status, media_type="text/html")


def roll_after_accept(state: EmulatorState, entry: LogEntry) -> str | None:
    """Decide, once the task exists, whether its answer is spoiled (and how)."""
    fault = state.roll(state.faults.after_accept)
    if fault is not None:
        entry.fault = fault
    return fault


async def spoil(state: EmulatorState, fault: str | None, response: Response) -> Response:
    """Apply an after-accept fault (other than the timeout) to a successful answer."""
    if fault == "hang_after_accept":
        await asyncio.sleep(state.faults.hang_seconds)
        return response
    if fault == "drop_after_accept":
        return CutShortResponse(response.body, status_code=200)
    if fault == "malformed_json":
        return Response(response.body[: len(response.body) // 2], media_type="application/json")
    return response


__all__ = [
    "GATEWAY_AFTER_ACCEPT",
    "TIMEOUT_AFTER_ACCEPT",
    "gateway_page",
    "inject_before_accept",
    "roll_after_accept",
    "spoil",
]

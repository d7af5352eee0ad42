"""Configuration and the pure helpers every flow uses: request building, errors, events.

Like httpx's ``BaseClient``: no transport here. :class:`~.client.AceDataImagesClient` adds the
pooled HTTP clients and the public methods; the flows (:mod:`._flows`) read this state.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import httpx
from pydantic import SecretStr

from ._env import ENV, env_base_url, env_download_proxy, env_save_dir, env_token
from ._idempotency import derive_trace_id
from ._locks import FileClaims
from ._steps import Job, ProgressEvent, new_trace_id
from .durations import DurationEstimator
from .errors import APIError, ConfigurationError, error_from_response
from .models import ALLOW_UNKNOWN_MODELS, TaskRecord, _ImageRequestBase
from .poller import PollCadence
from .polling import PollSchedule, RetryPolicy

# Aliases of the one declaration in ``_env.ENV``.
TOKEN_ENV = ENV.token
BASE_URL_ENV = ENV.base_url
SAVE_DIR_ENV = ENV.save_dir
DEFAULT_BASE_URL = "https://api.acedata.cloud"
GENERATIONS_PATH = "/openai/images/generations"
EDITS_PATH = "/openai/images/edits"
TASKS_PATH = "/openai/tasks"

#: Submissions answer at once (``async: true``); polls are small. Connect fails fast.
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


def _seconds(max_wait: float) -> float:
    """A wait in seconds: NaN or infinity would make a deadline that never passes (or is
    never checked), so they are refused like negatives."""
    if not math.isfinite(max_wait) or max_wait < 0:
        raise ValueError(f"max_wait must be a finite number of seconds >= 0, got {max_wait}")
    return max_wait


class BaseImagesClient:
    """Settings, token and clock of a client, and the helpers that need nothing else."""

    def __init__(
        self,
        api_token: str | SecretStr | None = None,
        *,
        base_url: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        poll_schedule: PollCadence | PollSchedule | None = None,
        retry_policy: RetryPolicy | None = None,
        max_wait: float = 600.0,
        max_poll_failures: int = 8,
        save_dir: str | os.PathLike[str] | None = None,
        allow_private_downloads: bool = False,
        max_downloads: int = 16,
        download_proxy_from_env: bool | None = None,
        callback_url: str | None = None,
        learn_durations: bool = True,
        idempotency_namespace: str | None = None,
        lookup_window: float = 86400.0,
        lock_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if api_token is None:
            api_token = env_token()
        self._api_token: SecretStr | None = (
            SecretStr(api_token) if isinstance(api_token, str) else api_token
        )
        self.base_url = (base_url or env_base_url() or DEFAULT_BASE_URL).rstrip("/")
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        # PollCadence (default): the client-wide poller's adaptive checks; a PollSchedule
        # fixes each job's poll instants instead (still checked in shared batches).
        self.poll_schedule: PollCadence | PollSchedule = poll_schedule or PollCadence()
        self.retry_policy = retry_policy or RetryPolicy()
        self.max_wait = _seconds(max_wait)
        self.max_poll_failures = max_poll_failures
        self.save_dir = save_dir if save_dir is not None else env_save_dir()
        self._init_downloads(allow_private_downloads, max_downloads, download_proxy_from_env)
        if callback_url is not None and not callback_url.startswith(("https://", "http://")):
            raise ValueError("callback_url must be an http(s) URL (your CallbackReceiver's)")
        self.callback_url = callback_url
        """Where AceDataCloud POSTs finished jobs (a :class:`~.webhook.CallbackReceiver`):
        sent with every submission; calls still wait, resolved by the callback or by polling."""
        self.durations: DurationEstimator | None = DurationEstimator() if learn_durations else None
        """Typical job durations learned by this client (``None``: learning off)."""
        self._init_shared_state(idempotency_namespace, lookup_window, lock_dir)
        # Replaceable together (tests use a fake clock): the flows read time through _clock,
        # the drivers sleep through _sleep / _async_sleep.
        self._clock: Callable[[], float] = time.monotonic
        self._sleep: Callable[[float], None] = time.sleep
        self._async_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        self._wall_clock: Callable[[], float] = time.time

    def _init_downloads(
        self, allow_private: bool, max_downloads: int, proxy_from_env: bool | None
    ) -> None:
        # Server-given image URLs are untrusted: saved images come from public hosts (and the
        # API's own) unless the developer opts in; at most max_downloads per answer.
        self.allow_private_downloads = allow_private
        if max_downloads < 0:
            raise ValueError(f"max_downloads must be >= 0, got {max_downloads}")
        self.max_downloads = max_downloads
        self.download_proxy_from_env = (
            env_download_proxy() if proxy_from_env is None else proxy_from_env
        )
        """Downloads go through the proxy environment variables' proxy (see README,
        "Untrusted answers": through a proxy only host names are checked)."""

    def _init_shared_state(
        self, namespace: str | None, lookup_window: float, lock_dir: str | os.PathLike[str] | None
    ) -> None:
        """What the client's calls share: exactly-once settings, learned facts, 429 pauses."""
        self.idempotency_namespace = namespace
        # Claims of keyed jobs shared with other processes using the same directory.
        self._file_claims = FileClaims(lock_dir) if lock_dir is not None else None
        if not 0 < lookup_window < math.inf:
            raise ValueError("lookup_window must be a positive finite number of seconds")
        self.lookup_window = lookup_window
        # Learned from our own tasks: does the server keep the trace_id we send? (None: not
        # known yet.) Once it does, a miss by trace_id is conclusive and no scan is needed.
        self._trace_ids_honoured: bool | None = None
        # A 429 pauses every submission of this client until _paused_until (monotonic), and
        # until _limited_until they go one at a time (_turn: the trace_id whose turn it is).
        self._paused_until = self._limited_until = 0.0
        self._turn: str | None = None
        # Keyed jobs being looked up / submitted right now (see _flows._submit_once).
        self._claims: set[str] = set()
        self._claims_lock = threading.Lock()

    def __repr__(self) -> str:
        token = "set" if self._api_token else "missing"
        return f"{type(self).__name__}(base_url={self.base_url!r}, api_token=<{token}>)"

    @property
    def has_token(self) -> bool:
        return self._api_token is not None and bool(self._api_token.get_secret_value())

    def _headers(self) -> dict[str, str]:
        if not self.has_token:
            raise ConfigurationError(
                f"No AceDataCloud API token: set the {TOKEN_ENV} environment variable or pass "
                "api_token= to the client/tool"
            )
        assert self._api_token is not None
        return {
            "authorization": f"Bearer {self._api_token.get_secret_value()}",
            "content-type": "application/json",
            "accept": "application/json",
        }

    def _api_error(
        self, response: httpx.Response, *, trace_id: str | None, task_id: str | None = None
    ) -> APIError:
        """The error of an answer, without the token should the server quote it back."""
        error = error_from_response(response, trace_id=trace_id, task_id=task_id)
        token = self._api_token.get_secret_value() if self._api_token else ""
        if token and token in error.message:
            error.message = error.message.replace(token, "<redacted>")
            error.args = (error.message,)
        return error

    def _request(
        self,
        path: str,
        body: Mapping[str, Any],
        *,
        stream: bool = False,
        files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
    ) -> httpx.Request:
        headers = self._headers()
        if stream:
            headers["accept"] = "text/event-stream, application/json"
        if files is not None:
            # multipart/form-data as the OpenAI SDK sends it: httpx sets the boundary header.
            del headers["content-type"]
            form = {name: _form_value(value) for name, value in body.items()}
            return httpx.Request(
                "POST", self.base_url + path, data=form, files=files, headers=headers
            )
        return httpx.Request(
            "POST",
            self.base_url + path,
            content=json.dumps(body, ensure_ascii=False).encode(),
            headers=headers,
        )

    def _new_job(
        self,
        model: type[_ImageRequestBase],
        request: _ImageRequestBase | Mapping[str, Any] | None,
        params: Mapping[str, Any],
        trace_id: str | None,
        max_wait: float | None = None,
        *,
        key: str | None = None,
    ) -> Job:
        """A validated job; with an idempotency ``key`` its trace_id derives from the key."""
        validated: _ImageRequestBase
        if isinstance(request, model) and not params:
            validated = request
        else:
            data = (
                request.model_dump(exclude_unset=True)
                if isinstance(request, _ImageRequestBase)
                else dict(request or {})
            )
            validated = model.model_validate(
                {**data, **params}, context={ALLOW_UNKNOWN_MODELS: True}
            )
        self._headers()  # fail fast on a missing token, before any I/O
        if key is not None and trace_id is not None:
            raise ValueError("pass trace_id or idempotency_key, not both")
        if key is not None:
            trace_id = derive_trace_id(key, self.idempotency_namespace)
        now = self._clock()
        wait = self.max_wait if max_wait is None else _seconds(max_wait)
        return Job(
            validated,
            trace_id or new_trace_id(),
            started=now,
            deadline=now + wait,
            created_wall=self._wall_clock(),
            idempotent=key is not None,
        )

    def _event(self, job: Job, kind: Any, **fields: Any) -> ProgressEvent:
        return ProgressEvent(
            kind=kind,
            elapsed=round(self._clock() - job.started, 3),
            task_id=job.task_id,
            trace_id=job.trace_id,
            **fields,
        )

    def _note_trace_ids(self, record: TaskRecord, trace_id: str) -> None:
        """Learn from one of our own tasks whether the server keeps our trace_ids."""
        if self._trace_ids_honoured is not None or not record.trace_id:
            return
        stored = record.request if isinstance(record.request, dict) else {}
        if record.trace_id == trace_id:
            self._trace_ids_honoured = True
        elif stored.get("trace_id") == trace_id:
            self._trace_ids_honoured = False

    def _learn_trace_ids(self, records: Iterable[TaskRecord]) -> None:
        """Learn from any listed task this package submitted (its stored request carries a
        ``lcai-`` trace_id) whether the server keeps client trace_ids: the task then has it."""
        for record in records:
            if self._trace_ids_honoured is not None:
                return
            stored = record.request if isinstance(record.request, dict) else {}
            sent = stored.get("trace_id")
            if isinstance(sent, str) and sent.startswith("lcai-") and record.trace_id:
                self._trace_ids_honoured = record.trace_id == sent

    def _pause_submissions(self, seconds: float) -> None:
        """A 429 said to wait ``seconds``: no submission of this client goes out before then,
        and until a while after, submissions go one at a time (see :meth:`_take_turn`)."""
        with self._claims_lock:
            now = self._clock()
            self._paused_until = max(self._paused_until, now + seconds)
            self._limited_until = max(self._limited_until, now + max(1.0, 2 * seconds))

    def _submission_pause(self) -> float:
        """Seconds a submission must still wait for a shared 429 pause (0: none)."""
        return max(0.0, self._paused_until - self._clock())

    def _take_turn(self, trace_id: str) -> bool:
        """May this submission go now? Always, unless a 429 came recently: then one at a time,
        so the client sends about what the limit admits instead of a burst of refusals."""
        with self._claims_lock:
            if self._clock() >= self._limited_until:
                return True
            if self._turn is None or self._turn == trace_id:
                self._turn = trace_id
                return True
            return False

    def _end_turn(self, trace_id: str) -> None:
        with self._claims_lock:
            if self._turn == trace_id:
                self._turn = None

    def _claim(self, trace_id: str) -> bool:
        """Take the turn of a keyed job; ``False`` while another run (of this client, or of
        any process sharing ``lock_dir``) holds it."""
        with self._claims_lock:
            if trace_id in self._claims:
                return False
            if self._file_claims is not None and not self._file_claims.try_claim(trace_id):
                return False
            self._claims.add(trace_id)
            return True

    def _release(self, trace_id: str) -> None:
        with self._claims_lock:
            if trace_id in self._claims and self._file_claims is not None:
                self._file_claims.release(trace_id)
            self._claims.discard(trace_id)

    def _elapsed(self, job: Job) -> float:
        return round(self._clock() - job.started, 3)

    def _time_left(self, job: Job) -> bool:
        return self._clock() < job.deadline


def _form_value(value: Any) -> str:
    """A JSON scalar as a form field (``true``/``false`` like JSON, not Python's ``True``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)

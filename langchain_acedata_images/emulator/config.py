"""Settings of the emulator and of its fault injection.

``EmulatorConfig.from_env()`` reads these environment variables (all optional):

- ``ACEDATA_EMULATOR_LATENCY``: seconds a task runs before it finishes (default 0.2).
- ``ACEDATA_EMULATOR_QUEUE_DELAY``: seconds a task waits in the queue before it starts (0.05).
- ``ACEDATA_EMULATOR_TOKENS``: comma-separated tokens to accept; empty accepts any token.
- ``ACEDATA_EMULATOR_EXPIRED_TOKENS``: comma-separated tokens answered with ``token_expired``.
- ``ACEDATA_EMULATOR_SEED``: integer seed of the fault dice, for repeatable runs.
- ``ACEDATA_EMULATOR_ALLOW_EXTERNAL_CALLBACKS``: ``1``/``true`` to POST callbacks to any host.
- ``ACEDATA_EMULATOR_FORCE_SYNC``: ``1``/``true`` to answer ``async: true`` jobs synchronously.
- ``ACEDATA_EMULATOR_PUBLIC_BASE_URL``: base of the image URLs handed out (default: the URL the
  request came in on).
- ``ACEDATA_EMULATOR_MAX_IMAGE_BYTES``: largest input image accepted by edits, in bytes.
- ``ACEDATA_EMULATOR_MISMATCHED_TOKENS``: comma-separated tokens answered with 400
  ``token_mismatched``.
- ``ACEDATA_EMULATOR_FAULTS``: a JSON object of ``FaultConfig`` fields, the same object
  ``POST /_emulator/faults`` takes, e.g. ``{"error_rates": {"503": 0.2}, "retry_after": 1}``.
- ``ACEDATA_EMULATOR_DIALECT``: the documented variant to play: ``union`` (default), ``a`` or
  ``b`` (see :mod:`.dialect`); each dialect field also has its own variable,
  ``ACEDATA_EMULATOR_<FIELD>`` (e.g. ``ACEDATA_EMULATOR_TRACE_ID=ignored``), which wins.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from .dialect import FIELD_NAMES as DIALECT_FIELDS
from .dialect import Dialect

SUBMISSION_PATHS = frozenset({"/openai/images/generations", "/openai/images/edits"})
"""Paths whose successful POST creates (and bills) a task."""

V1_PATHS = frozenset({"/v1/images/generations", "/v1/images/edits"})
"""Aliases of the submission paths (``v1_aliases``); faults apply to them too."""

TASKS_PATH = "/openai/tasks"

DEFAULT_FAULT_PATHS = SUBMISSION_PATHS | V1_PATHS | {TASKS_PATH}

_ENV_PREFIX = "ACEDATA_EMULATOR_"
_TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
_FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})

_BEFORE_ACCEPT_RATES = ("html_error_rate", "empty_body_rate", "string_error_rate")
_AFTER_ACCEPT_RATES = (
    "drop_after_accept_rate",
    "hang_after_accept_rate",
    "malformed_json_rate",
    "timeout_after_accept_rate",
    "gateway_after_accept_rate",
)
_OUTCOME_RATES = ("task_failure_rate", "never_finish_rate")


@dataclass(frozen=True)
class FaultConfig:
    """Which failures the emulator injects, and how often (each rate is a probability).

    Rates of one group are exclusive outcomes of one dice roll, so each group must sum to at
    most 1: the answers given before a task is created (``error_rates`` and the
    ``*_error_rate``/``empty_body_rate`` body shapes), the answers spoiled after the route ran
    (drop, hang, malformed JSON), and the task outcomes (failure, never finishing).
    """

    error_rates: Mapping[int, float] = field(default_factory=dict)
    """HTTP status -> probability of answering it (with a JSON error body, no task created)."""
    retry_after: float | None = None
    """Seconds sent in ``Retry-After`` on injected 429 answers."""
    fault_paths: frozenset[str] = DEFAULT_FAULT_PATHS
    """Paths the rate-based faults and ``response_delay`` apply to."""
    response_delay: float = 0.0
    """Seconds added before answering."""
    html_error_rate: float = 0.0
    """502 with an HTML page, as from a proxy; no task created."""
    empty_body_rate: float = 0.0
    """502 with an empty body; no task created."""
    string_error_rate: float = 0.0
    """500 with ``{"error": "<text>"}``; no task created."""
    drop_after_accept_rate: float = 0.0
    """The task is created, then the connection is cut half-way through the answer."""
    hang_after_accept_rate: float = 0.0
    """The task is created, then the answer is held back ``hang_seconds``."""
    hang_seconds: float = 30.0
    malformed_json_rate: float = 0.0
    """200 whose JSON body is cut short (after the task is created)."""
    timeout_after_accept_rate: float = 0.0
    """504 ``{"error": {"code": "timeout"}}`` after the task was created (and billed); the task
    still runs and finishes, so a look-up by trace id or ``retrieve_batch`` finds it."""
    gateway_after_accept_rate: float = 0.0
    """A proxy's error page with status ``gateway_status`` after the task was created: a JSON
    502, or an HTML page for other statuses (504, Cloudflare's 524); the task runs on."""
    gateway_status: int = 502
    lookup_delay: float = 0.0
    """Seconds a new task stays invisible to look-ups by trace id and to listings (a look-up
    naming its task id still finds it), like a search index that lags behind."""
    task_failure_rate: float = 0.0
    """The task finishes with ``{"success": false, "error": {"code": "generation_failed"}}``."""
    never_finish_rate: float = 0.0
    """The task never gets ``finished_at``."""
    missing_fields_rate: float = 0.0
    """Task records lack ``started_at`` and ``elapsed`` but are otherwise valid."""
    moderation_marker: str | None = "forbidden-content"
    """A prompt containing this text is refused with 403 without an error code."""
    balance_used_up: bool = False
    """Submissions are refused with 403 ``used_up``."""

    def __post_init__(self) -> None:
        rates = {name: getattr(self, name) for name in self._rate_fields()}
        rates.update({f"error_rates[{status}]": rate for status, rate in self.error_rates.items()})
        for name, rate in rates.items():
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be a probability from 0 to 1, not {rate}")
        for status in self.error_rates:
            if not 400 <= status <= 599:
                raise ValueError(f"error_rates keys must be HTTP error statuses, not {status}")
        groups = {
            "before-accept rates": sum(self.error_rates.values())
            + sum(getattr(self, name) for name in _BEFORE_ACCEPT_RATES),
            "after-accept rates": sum(getattr(self, name) for name in _AFTER_ACCEPT_RATES),
            "task outcome rates": sum(getattr(self, name) for name in _OUTCOME_RATES),
        }
        for group, total in groups.items():
            if total > 1.0 + 1e-9:
                raise ValueError(f"the {group} add up to {total:g}; they must add up to <= 1")
        if not 500 <= self.gateway_status <= 599:
            raise ValueError(f"gateway_status must be a 5xx status, not {self.gateway_status}")
        for name in ("response_delay", "hang_seconds", "lookup_delay"):
            if not 0.0 <= getattr(self, name) < math.inf:
                raise ValueError(f"{name} must be a finite number of seconds >= 0")
        if self.retry_after is not None and not 0.0 <= self.retry_after < math.inf:
            raise ValueError("retry_after must be a finite number of seconds >= 0")

    @staticmethod
    def _rate_fields() -> tuple[str, ...]:
        return tuple(f.name for f in fields(FaultConfig) if f.name.endswith("_rate"))

    @property
    def before_accept(self) -> dict[str, float]:
        """Fault name -> probability, for the faults answered instead of creating a task."""
        outcomes = {f"error_{status}": rate for status, rate in sorted(self.error_rates.items())}
        outcomes.update(
            {name.removesuffix("_rate"): getattr(self, name) for name in _BEFORE_ACCEPT_RATES}
        )
        return outcomes

    @property
    def after_accept(self) -> dict[str, float]:
        """Fault name -> probability, for the faults that spoil a successful answer."""
        return {name.removesuffix("_rate"): getattr(self, name) for name in _AFTER_ACCEPT_RATES}

    @property
    def task_outcome(self) -> dict[str, float]:
        """Fault name -> probability, for the faults decided when a task is created."""
        return {name.removesuffix("_rate"): getattr(self, name) for name in _OUTCOME_RATES}

    def patched(self, changes: Mapping[str, Any]) -> FaultConfig:
        """Return a copy with the fields in ``changes`` (JSON-shaped) replaced."""
        known = {f.name for f in fields(FaultConfig)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(unknown)}")
        return replace(self, **{name: _coerce(name, value) for name, value in changes.items()})

    def to_dict(self) -> dict[str, Any]:
        """The settings as a JSON-ready object (the shape ``patched`` accepts)."""
        data = asdict(self)
        data["error_rates"] = {str(status): rate for status, rate in self.error_rates.items()}
        data["fault_paths"] = sorted(self.fault_paths)
        return data


def _coerce(name: str, value: Any) -> Any:
    """Turn one JSON value into the type of the ``FaultConfig`` field ``name``."""
    try:
        if name == "error_rates":
            return {int(status): float(rate) for status, rate in dict(value).items()}
        if name == "fault_paths":
            if isinstance(value, str) or not all(isinstance(path, str) for path in value):
                raise TypeError
            return frozenset(value)
        if name == "moderation_marker":
            if value is not None and not isinstance(value, str):
                raise TypeError
            return value or None
        if name == "balance_used_up":
            if not isinstance(value, bool):
                raise TypeError
            return value
        if name == "gateway_status":
            if isinstance(value, bool) or int(value) != value:
                raise TypeError
            return int(value)
        if name == "retry_after" and value is None:
            return None
        if isinstance(value, bool):
            raise TypeError
        return float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} has an invalid value: {value!r}") from exc


@dataclass(frozen=True)
class EmulatorConfig:
    """How the emulator behaves: timing, accepted tokens, limits and injected faults."""

    latency: float = 0.2
    """Seconds from a task's start to its finish."""
    queue_delay: float = 0.05
    """Seconds from a task's creation to its start."""
    tokens: frozenset[str] = frozenset()
    """Tokens accepted; empty accepts any non-empty token."""
    expired_tokens: frozenset[str] = frozenset()
    """Tokens answered with 401 ``token_expired``."""
    seed: int | None = None
    """Seed of the fault dice; ``None`` rolls differently every run."""
    allow_external_callbacks: bool = False
    """POST callbacks to any host, not only to loopback ones."""
    public_base_url: str | None = None
    """Base of image URLs in answers; ``None`` uses the URL the request came in on."""
    max_image_bytes: int = 20 * 2**20
    """Largest input image an edit accepts."""
    max_request_bytes: int = 64 * 2**20
    """Largest request body accepted (data: URLs make edit bodies big)."""
    max_stored_bytes: int = 512 * 2**20
    """Bytes of generated images kept for ``/files``; the oldest are dropped beyond it."""
    callback_timeout: float = 10.0
    """Seconds a callback POST may take."""
    force_sync: bool = False
    """Answer ``async: true`` submissions synchronously with ``data`` (as some deployments do)."""
    finish_before_answer: bool = False
    """Run each async task (and its callback) to its end before answering the submission with
    its ids, so the first status check finds it finished: deterministic request counts for
    benchmarks and tests."""
    mismatched_tokens: frozenset[str] = frozenset()
    """Tokens answered with 400 ``token_mismatched`` (a token of another API)."""
    dialect: Dialect = field(default_factory=Dialect)
    """Which documented variant to play; the default accepts the union of them."""
    faults: FaultConfig = field(default_factory=FaultConfig)

    @classmethod
    def preset(cls, name: str, **settings: Any) -> EmulatorConfig:
        """A config playing dialect preset ``name`` (``union``, ``a``, ``b``), with ``settings``
        of the config itself (``latency=...``) or of the dialect (``trace_id="honoured"``)."""
        dialect_changes = {k: settings.pop(k) for k in list(settings) if k in DIALECT_FIELDS}
        return cls(dialect=Dialect.preset(name, **dialect_changes), **settings)

    def __post_init__(self) -> None:
        for name in ("latency", "queue_delay", "callback_timeout"):
            if not 0.0 <= getattr(self, name) < math.inf:
                raise ValueError(f"{name} must be a finite number of seconds >= 0")
        for name in ("max_image_bytes", "max_request_bytes", "max_stored_bytes"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> EmulatorConfig:
        """Build a config from ``ACEDATA_EMULATOR_*`` variables (see the module docstring)."""
        env = os.environ if environ is None else environ
        settings: dict[str, Any] = {}
        readers: dict[str, Callable[[str], Any]] = {
            "latency": float,
            "queue_delay": float,
            "tokens": _token_set,
            "expired_tokens": _token_set,
            "seed": int,
            "allow_external_callbacks": _flag,
            "force_sync": _flag,
            "finish_before_answer": _flag,
            "public_base_url": str,
            "max_image_bytes": int,
            "mismatched_tokens": _token_set,
            "faults": lambda text: FaultConfig().patched(_json_object(text)),
        }
        for name, read in readers.items():
            variable = _ENV_PREFIX + name.upper()
            if variable in env:
                try:
                    settings[name] = read(env[variable])
                except ValueError as exc:
                    raise ValueError(f"{variable}: {exc}") from exc
        settings["dialect"] = _dialect_from_env(env)
        return cls(**settings)


def _dialect_from_env(env: Mapping[str, str]) -> Dialect:
    """``ACEDATA_EMULATOR_DIALECT`` picks a preset; ``ACEDATA_EMULATOR_<FIELD>`` override it."""
    changes: dict[str, Any] = {}
    for name in ("dialect", *DIALECT_FIELDS):
        variable = _ENV_PREFIX + name.upper()
        if variable in env:
            changes["preset" if name == "dialect" else name] = env[variable]
    try:
        return Dialect().patched(changes)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{_ENV_PREFIX}*: {exc}") from exc


def _token_set(text: str) -> frozenset[str]:
    return frozenset(token.strip() for token in text.split(",") if token.strip())


def _flag(text: str) -> bool:
    word = text.strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise ValueError(f"expected true or false, not {text!r}")


def _json_object(text: str) -> dict[str, Any]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("expected a JSON object")
    return value

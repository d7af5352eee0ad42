"""Command-line options of the emulator, shared by ``acedata-images emulator`` and
``python -m langchain_acedata_images.emulator``.

Every :class:`.Dialect` field is a flag ``--<field-with-dashes>``, the preset is ``--dialect``;
flags win over ``ACEDATA_EMULATOR_*`` variables, which win over the defaults.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from .config import EmulatorConfig
from .dialect import BOOLEAN_FIELDS, CHOICES, FIELD_NAMES, INTEGER_FIELDS, PRESET_ALIASES, Dialect


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--host``, ``--port``, ``--latency``, ``--dialect`` and one flag per dialect field."""
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--latency", type=float, help="seconds each task takes")
    group = parser.add_argument_group("dialect (documented variants of the API)")
    group.add_argument(
        "--dialect",
        choices=sorted(PRESET_ALIASES),
        help="play a documented variant whole (default: union of what the documents accept)",
    )
    for name in FIELD_NAMES:
        flag = "--" + name.replace("_", "-")
        doc = _FIELD_HELP[name]
        if name in BOOLEAN_FIELDS:
            group.add_argument(flag, dest=name, action=argparse.BooleanOptionalAction, help=doc)
        elif name in INTEGER_FIELDS:
            group.add_argument(flag, dest=name, type=int, help=doc)
        else:
            group.add_argument(flag, dest=name, choices=CHOICES.get(name), help=doc)


def config_from_args(
    args: argparse.Namespace, base: EmulatorConfig | None = None
) -> EmulatorConfig:
    """The config of ``base`` (default: from the environment) with the flags applied."""
    config = base if base is not None else EmulatorConfig.from_env()
    if args.latency is not None:
        config = replace(config, latency=args.latency)
    changes: dict[str, Any] = {
        name: getattr(args, name) for name in FIELD_NAMES if getattr(args, name, None) is not None
    }
    dialect = config.dialect
    if getattr(args, "dialect", None):
        dialect = Dialect.preset(args.dialect)
    return replace(config, dialect=replace(dialect, **changes))


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the emulator in the foreground until interrupted."""
    from .server import serve

    parser = argparse.ArgumentParser(
        prog="python -m langchain_acedata_images.emulator",
        description="Serve a local emulator of AceDataCloud's image API.",
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    serve(config_from_args(args), host=args.host, port=args.port)
    return 0


_FIELD_HELP = {
    "models": "seed: the 8 seed models; documented: the 11 of the OpenAPI enum",
    "unknown_models": "what unknown model names get",
    "model_required": "generations without model get 400",
    "edit_default_model": "model of an edit sent without one",
    "n_policy": "one: n > 1 silently reduced to 1 on gpt-image/nano-banana",
    "gpt_image_response_format": "b64_json: gpt-image always answers base64",
    "b64_json_multi": "rejected: b64_json with n > 1 gets 400",
    "prompt_limits": "per_model: dall-e-2 1,000, dall-e-3 4,000, others 32,000",
    "multipart_edits": "accept multipart/form-data edits",
    "edit_models": "seed: edits take gpt-image and nano-banana only",
    "v1_aliases": "answer /v1/images/... like /openai/images/...",
    "errors": "documented: published codes and always a server trace_id",
    "error_trace_id": "seed: errors carry the client's trace_id only when it sent one",
    "task_records": "documented: _id, application_id, user_id, credential_id, duration",
    "callbacks": "nested: {success, task_id, trace_id, data}",
    "batch_filters": "documented: retrieve_batch filters application_id/user_id",
    "stream": "ignored: stream: true answers plain JSON",
    "trace_id": "ignored: the task gets a server-made trace_id",
    "listing_order": "order of retrieve_batch items",
    "max_page_size": "largest retrieve_batch limit honoured (0: no cap)",
}


__all__ = ["add_arguments", "config_from_args", "main"]

"""7. Definition bytes per turn: what every LLM turn pays for the tools' definitions.

Measured as ``json.dumps(convert_to_openai_tool(tool))`` (what OpenAI-compatible providers
receive), for the default toolkit, its ``strict=True`` form and the recommended
``AGENT_PROFILE``; Anthropic's converted form is shown beside it. AceDataCloud's own LangChain
package (``langchain-acedatacloud``) is measured in the same run when it is installed and has
image tools. Sizes are deterministic: one run is the measurement.
"""

from __future__ import annotations

import importlib.util
import json
from importlib import metadata
from typing import Any

from langchain_anthropic.chat_models import convert_to_anthropic_tool
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

from langchain_acedata_images import AGENT_PROFILE, AceDataImagesToolkit

from ._common import TOKEN, BenchResult, Goal, Table

GENERATE_GOAL = 2000
TOOLKIT_GOAL = 5000
TURNS = 5
BEFORE = {  # issue 12's measurement of the definitions before compaction
    "openai_generate_image": 4382,
    "openai_edit_image": 3856,
    "openai_get_task": 981,
    "openai_list_tasks": 1755,
}


def _openai(tool: BaseTool, strict: bool | None = None) -> int:
    return len(json.dumps(convert_to_openai_tool(tool, strict=strict)))


def _anthropic(tool: BaseTool) -> int:
    return len(json.dumps(convert_to_anthropic_tool(tool)))


def _measure(tools: list[BaseTool]) -> dict[str, dict[str, int]]:
    return {
        tool.name: {
            "default": _openai(tool),
            "strict": _openai(tool, strict=True),
            "anthropic": _anthropic(tool),
        }
        for tool in tools
    }


def _acedatacloud() -> str:
    """What AceDataCloud's own LangChain package offers to measure in this environment."""
    if importlib.util.find_spec("langchain_acedatacloud") is None:
        return "langchain-acedatacloud is not installed"
    import langchain_acedatacloud.tools as ace

    version = metadata.version("langchain-acedatacloud")
    named = [
        name
        for name, cls in vars(ace).items()
        if isinstance(cls, type)
        and issubclass(cls, BaseTool)
        and isinstance(cls.model_fields["name"].default, str)
    ]
    if named:
        return f"langchain-acedatacloud {version} has tools {', '.join(named)}: measure them here"
    return (
        f"langchain-acedatacloud {version} installs but ships only base classes "
        "(AceSubmitTool, AceRetrieveTool, AceServiceToolkit), no image tools"
    )


def run(quick: bool) -> BenchResult:
    result = BenchResult("definition_size", "7. Definition bytes per turn", quick)
    default = _measure(AceDataImagesToolkit(api_token=TOKEN).get_tools())
    profile = _measure(AceDataImagesToolkit(api_token=TOKEN, **AGENT_PROFILE).get_tools())

    per_tool = Table(
        "json.dumps(convert_to_openai_tool(tool)), bytes",
        ["tool", "before", "default", "strict=True", "Anthropic", "AGENT_PROFILE"],
    )
    for name, sizes in default.items():
        per_tool.add(
            name,
            BEFORE[name],
            sizes["default"],
            sizes["strict"],
            sizes["anthropic"],
            profile[name]["default"],
        )

    def total(measured: dict[str, dict[str, int]], form: str) -> int:
        return sum(sizes[form] for sizes in measured.values())

    per_turn = Table(
        "Definition bytes per turn (all four tools)",
        ["toolkit", "bytes per turn", f"bytes over {TURNS} turns"],
    )
    rows = {
        "before (issue 12)": sum(BEFORE.values()),
        "default": total(default, "default"),
        "default, strict=True": total(default, "strict"),
        "default, Anthropic": total(default, "anthropic"),
        "AGENT_PROFILE": total(profile, "default"),
        "AGENT_PROFILE, strict=True": total(profile, "strict"),
    }
    for label, size in rows.items():
        per_turn.add(label, size, size * TURNS)
    note = _acedatacloud()
    per_turn.add(f"AceDataCloud's own ({note})", None, None)
    per_turn.add("AceDataCloud's own toolkit, 2 tools, as issue 12 measured it", 1098, 1098 * TURNS)
    result.tables += [per_tool, per_turn]

    result.goals.append(
        Goal(
            "openai_generate_image",
            default["openai_generate_image"]["default"],
            GENERATE_GOAL,
            " B",
        )
    )
    result.goals.append(Goal("toolkit (four tools)", rows["default"], TOOLKIT_GOAL, " B"))
    result.notes.append(
        "strict mode makes every field required: optional fields no value of which fits "
        "every call are anyOf-nullable (null = the default), the others a free choice; "
        "limits are enforced by validation, whose errors name the allowed values"
    )
    figures: dict[str, Any] = {"default": default, "profile": profile, "totals": rows}
    figures["acedatacloud"] = note
    result.figures = figures
    return result

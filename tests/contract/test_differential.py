"""Three independent rules tables cannot drift silently: the client's (``models.py``), the
emulator's (``emulator/rules.py``) and the contract's (the fixture's field enums and ranges plus
``per_model.json``, the per-model facts the documents state in prose).

Every model x field x value (one field set at a time, on a minimal valid body) gets a verdict
from each table. Where they differ, the case must be listed below in ``INTENDED``, with the
three verdicts it is expected to get and why; an entry that no longer matches any disagreement
fails too, so the list stays exact. The emulator is judged under variant B (``Dialect.preset``
``"b"``), the strict reading of the documents; the union dialect accepts more by design.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any, get_args

import pytest
from openapi_schema_validator import OAS30Validator
from pydantic import BaseModel, ValidationError

from langchain_acedata_images import models as client_models
from langchain_acedata_images.emulator import Dialect
from langchain_acedata_images.emulator import rules as emulator_rules

from .validation import contract, per_model

KINDS = {"generations": "/openai/images/generations", "edits": "/openai/images/edits"}
IMAGE = "https://example.com/photo.png"
STRICT = Dialect.preset("b")
_SIZE = re.compile(r"^(auto|\d+x\d+)$")


@dataclass(frozen=True)
class Case:
    kind: str
    model: str
    field: str
    value: Any

    @property
    def family(self) -> str:
        return family_of(self.model)


@dataclass(frozen=True)
class Verdicts:
    client: bool | None
    """``None``: a model the client does not know (it sends those unchecked)."""
    emulator: bool
    contract: bool

    def agree(self) -> bool:
        known = {self.emulator, self.contract} | (
            {self.client} if self.client is not None else set()
        )
        return len(known) == 1

    def fit(self, expected: Verdicts) -> bool:
        """Whether these are the expected verdicts (the client's ignored when unknown)."""
        client = expected.client if self.client is None else self.client
        return (client, self.emulator, self.contract) == (
            expected.client,
            expected.emulator,
            expected.contract,
        )


@dataclass(frozen=True)
class Intended:
    """A disagreement we keep on purpose: which cases, the verdicts they get, and why."""

    why: str
    matches: Callable[[Case], bool]
    verdicts: tuple[Verdicts, ...]


def family_of(model: str) -> str:
    for family, names in per_model()["families"].items():
        if model in names:
            return str(family)
    return "unknown"


def request_schema(kind: str) -> dict[str, Any]:
    operation = contract()["paths"][KINDS[kind]]["post"]
    schema: dict[str, Any] = operation["requestBody"]["content"]["application/json"]["schema"]
    return schema


def body_for(case: Case) -> dict[str, Any]:
    body: dict[str, Any] = {"prompt": "a lighthouse", "model": case.model}
    if case.kind == "edits":
        body["image"] = IMAGE
    if case.field == "output_compression":
        body["output_format"] = "jpeg"
    if case.field == "prompt_length":
        body["prompt"] = "p" * case.value
    else:
        body[case.field] = case.value
    return body


# ------------------------------------------------------------------------------ verdicts


def client_accepts(case: Case) -> bool | None:
    if case.model not in client_models.KNOWN_MODELS:
        return None
    model: type[BaseModel] = (
        client_models.GenerateImageInput
        if case.kind == "generations"
        else client_models.EditImageInput
    )
    try:
        model.model_validate(body_for(case))
    except ValidationError:
        return False
    return True


def emulator_accepts(case: Case) -> bool:
    kind = emulator_rules.GENERATIONS if case.kind == "generations" else emulator_rules.EDITS
    try:
        emulator_rules.validate(body_for(case), kind, STRICT)
    except emulator_rules.RuleViolation:
        return False
    return True


def contract_accepts(case: Case) -> bool:
    body = body_for(case)
    if not OAS30Validator(request_schema(case.kind)).is_valid(body):
        return False
    return all(check(case, body) for check in PER_MODEL_CHECKS)


def _stated(table: dict[str, Any], case: Case) -> Any:
    """The per-model fact for the case's model, else for its family, else ``None``."""
    return table.get(case.model, table.get(case.family))


def _quality(case: Case, body: dict[str, Any]) -> bool:
    allowed = _stated(per_model()["quality"][case.kind], case)
    return "quality" not in body or allowed is None or body["quality"] in allowed


def _style(case: Case, body: dict[str, Any]) -> bool:
    allowed = per_model()["style"].get(case.kind, {}).get(case.model)
    return "style" not in body or (allowed is not None and body["style"] in allowed)


def _family_only(case: Case, body: dict[str, Any]) -> bool:
    only = per_model()["only_for_family"]
    return all(case.family == only[field] for field in body if field in only)


def _n(case: Case, body: dict[str, Any]) -> bool:
    limits = per_model()["max_n"]
    return body.get("n", 1) <= limits.get(case.model, limits["default"])


def _size(case: Case, body: dict[str, Any]) -> bool:
    if "size" not in body:
        return True
    size = body["size"]
    rule = per_model()["sizes"].get(case.model)
    if case.model.startswith("gpt-image-2"):
        rule = per_model()["sizes"]["gpt-image-2"]
    if isinstance(rule, list):
        return size in rule
    if isinstance(rule, dict) and size != "auto":
        width, height = map(int, size.split("x"))
        return (
            width % rule["multiple_of"] == 0
            and height % rule["multiple_of"] == 0
            and max(width, height) <= rule["max_side"]
            and width * height <= rule["max_pixels"]
        )
    return True


def _prompt(case: Case, body: dict[str, Any]) -> bool:
    limit = _stated(per_model()["max_prompt"][case.kind], case)
    return limit is None or len(body["prompt"]) <= limit


PER_MODEL_CHECKS = (_quality, _style, _family_only, _n, _size, _prompt)


# --------------------------------------------------------------------------------- cases


@cache
def models() -> tuple[str, ...]:
    documented = request_schema("generations")["properties"]["model"]["enum"]
    names = {*documented, *client_models.KNOWN_MODELS, *emulator_rules.MODELS}
    return tuple(sorted(names))


def values_of(kind: str, field: str) -> list[Any]:
    """The values to try: the contract's enum or range ends, and the clients' own choices."""
    prop = request_schema(kind)["properties"].get(field, {})
    values: set[Any] = set(prop.get("enum", ()))
    if field == "quality":
        values |= set(get_args(client_models.Quality)) | set(emulator_rules.GENERATION_QUALITIES)
    if "minimum" in prop:
        values |= {prop["minimum"], prop["minimum"] + 1, prop["maximum"], prop["maximum"] + 1}
    if field == "size":
        values |= {"auto", "1000x1000", "4096x4096", "640x480"}
        values |= set(per_model()["gpt_image_2_presets"]) | set(per_model()["sizes"]["dall-e-2"])
    return sorted(values, key=repr)


FIELDS = {
    "generations": (
        "n",
        "size",
        "style",
        "quality",
        "background",
        "moderation",
        "output_format",
        "partial_images",
        "response_format",
        "output_compression",
    ),
    "edits": (
        "n",
        "size",
        "quality",
        "background",
        "output_format",
        "input_fidelity",
        "response_format",
        "output_compression",
    ),
}
PROMPT_LENGTHS = (1_000, 1_001, 4_000, 4_001, 32_000, 32_001)


def cases() -> Iterator[Case]:
    for kind, fields in FIELDS.items():
        for model in models():
            yield Case(kind, model, "prompt_length", 1)
            for length in PROMPT_LENGTHS:
                yield Case(kind, model, "prompt_length", length)
            for field in fields:
                for value in values_of(kind, field):
                    yield Case(kind, model, field, value)


# ------------------------------------------------------------------------------ intended

NOT_GPT = frozenset({"dall-e-2", "dall-e-3", "nano-banana"})
YES, NO = True, False


def V(client: bool, emulator: bool, contract: bool) -> Verdicts:
    return Verdicts(client, emulator, contract)


def _too_long_for(limits: dict[str, int], default: int) -> Callable[[Case], bool]:
    return lambda c: c.field == "prompt_length" and c.value > limits.get(c.model, default)


INTENDED: tuple[Intended, ...] = (
    Intended(
        "dall-e-3 edit prompts over 4,000 characters: the edits document states no limit for "
        "dall-e-3; both tables apply the model's generation limit",
        lambda c: (
            c.kind == "edits"
            and c.model == "dall-e-3"
            and c.field == "prompt_length"
            and 4_000 < c.value <= 32_000
        ),
        (V(NO, NO, YES),),
    ),
    Intended(
        "prompts over 32,000 characters where no limit is stated (nano-banana; dall-e-3 edits): "
        "API.md's 32,000 applies; the schema has no maxLength",
        lambda c: (
            c.field == "prompt_length"
            and c.value > 32_000
            and (c.family == "nano-banana" or (c.kind == "edits" and c.model == "dall-e-3"))
        ),
        (V(NO, NO, YES),),
    ),
    Intended(
        "quality 'auto', the field's documented default, on dall-e models: sending the default "
        "must work; the descriptions list only hd/standard (dall-e-3), standard (dall-e-2)",
        lambda c: c.field == "quality" and c.value == "auto" and c.model.startswith("dall-e"),
        (V(YES, YES, NO),),
    ),
    Intended(
        "size 'auto', the field's documented default, on dall-e models: AceDataCloud's own MCP "
        "server (mcp-openai-pro) sends it with every model, so the emulator takes it as the "
        "model's default size; the client omits size instead (valid under every reading) and "
        "refuses 'auto' from the LLM; the per-model size lists leave it out",
        lambda c: c.field == "size" and c.value == "auto" and c.model.startswith("dall-e"),
        (V(NO, YES, NO),),
    ),
    Intended(
        "edits quality 'standard' on gpt-image models: in the edits enum, and API.md lists it; "
        "the descriptions give gpt-image only auto/high/medium/low",
        lambda c: (
            c.kind == "edits"
            and c.field == "quality"
            and c.value == "standard"
            and c.family == "gpt-image"
        ),
        (V(YES, YES, NO),),
    ),
    Intended(
        "qualities of nano-banana models and of dall-e-3 edits are not stated: both tables "
        "allow gpt-image's four (nano-banana) and auto/standard (dall-e-3 edits) only",
        lambda c: (
            c.field == "quality"
            and (c.family == "nano-banana" or (c.kind == "edits" and c.model == "dall-e-3"))
        ),
        (V(NO, NO, YES),),
    ),
    Intended(
        "partial_images on non-gpt-image models: no model is stated; partial images are a "
        "gpt-image streaming feature, so both tables refuse them elsewhere",
        lambda c: c.field == "partial_images" and c.value > 0 and c.family != "gpt-image",
        (V(NO, NO, YES),),
    ),
    Intended(
        "output_format / output_compression on non-gpt-image models: described for gpt-image, "
        "but the emulator encodes every format and the client passes them on",
        lambda c: (
            c.field in ("output_format", "output_compression")
            and c.family in ("dall-e-2", "dall-e-3", "nano-banana")
        ),
        (V(YES, YES, NO),),
    ),
    Intended(
        "gpt-image-1 / 1.5 sizes: AceDataCloud lists none; both tables keep OpenAI's three and "
        "auto",
        lambda c: (
            c.field == "size"
            and c.model in ("gpt-image-1", "gpt-image-1.5")
            and c.value not in ("auto", "1024x1024", "1536x1024", "1024x1536")
        ),
        (V(NO, NO, YES),),
    ),
)


def disagreements() -> Iterator[tuple[Case, Verdicts]]:
    for case in cases():
        verdicts = Verdicts(client_accepts(case), emulator_accepts(case), contract_accepts(case))
        if not verdicts.agree():
            yield case, verdicts


def explained(case: Case, verdicts: Verdicts) -> Intended | None:
    for entry in INTENDED:
        if entry.matches(case) and any(verdicts.fit(expected) for expected in entry.verdicts):
            return entry
    return None


@pytest.fixture(scope="module")
def found() -> list[tuple[Case, Verdicts]]:
    return list(disagreements())


def test_every_disagreement_is_intended(found: list[tuple[Case, Verdicts]]) -> None:
    unexplained = [(case, verdicts) for case, verdicts in found if not explained(case, verdicts)]
    assert not unexplained, "\n".join(
        f"{case} -> {verdicts}" for case, verdicts in unexplained[:40]
    )


def test_every_intended_entry_still_applies(found: list[tuple[Case, Verdicts]]) -> None:
    used = {id(explained(case, verdicts)) for case, verdicts in found}
    stale = [entry.why for entry in INTENDED if id(entry) not in used]
    assert not stale


def test_every_table_knows_the_documented_models() -> None:
    documented = set(request_schema("generations")["properties"]["model"]["enum"])
    assert set(client_models.KNOWN_MODELS) == documented
    assert set(emulator_rules.MODELS) == documented


def test_the_three_tables_agree_on_most_cases(found: list[tuple[Case, Verdicts]]) -> None:
    total = sum(1 for _ in cases())
    assert total > 1_000
    assert len(found) < total // 4

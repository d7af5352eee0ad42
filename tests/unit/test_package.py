"""The package's public names: every one resolves, and none loads before it is asked for."""

from __future__ import annotations

import subprocess
import sys

import pytest

import langchain_acedata_images


@pytest.mark.parametrize(
    "name", [*langchain_acedata_images.__all__, *langchain_acedata_images._EXTRA_NAMES]
)
def test_every_public_name_resolves(name: str) -> None:
    if name == "AceDataImagesMCP":
        pytest.importorskip("mcp")  # the "mcp" extra (absent from the lowest-versions CI step)
    value = getattr(langchain_acedata_images, name)
    assert value is not None
    assert name in dir(langchain_acedata_images)
    if hasattr(value, "__module__") and name != "__version__":
        assert value.__module__.startswith("langchain_acedata_images.")


def test_the_lazy_table_lists_exactly_the_public_names() -> None:
    lazy = set(langchain_acedata_images._MODULE_OF)
    assert lazy == {*langchain_acedata_images.__all__, *langchain_acedata_images._EXTRA_NAMES} - {
        "__version__"
    }


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'OpenAIGenerate'"):
        langchain_acedata_images.OpenAIGenerate  # type: ignore[attr-defined]  # noqa: B018


def test_the_version_is_a_string() -> None:
    assert isinstance(langchain_acedata_images.__version__, str)
    assert langchain_acedata_images.__version__.count(".") >= 2


def _modules_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint(' '.join(sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return set(done.stdout.split())


def test_importing_the_package_loads_none_of_its_modules() -> None:
    loaded = _modules_after("import langchain_acedata_images")
    assert {m for m in loaded if m.startswith("langchain_acedata_images.")} == set()
    assert not {"httpx", "pydantic", "langchain_core"} & loaded


def test_importing_an_error_class_loads_only_the_errors() -> None:
    loaded = _modules_after("from langchain_acedata_images import TransportError")
    ours = {m for m in loaded if m.startswith("langchain_acedata_images.")}
    assert ours == {"langchain_acedata_images.errors"}

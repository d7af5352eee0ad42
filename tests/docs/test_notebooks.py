"""The example notebooks: committed with their outputs (small), and a fresh run matches them.

A fresh offline run must produce the committed structure (cells, output types, number of
images), print its connection line, and leave no file behind, in the repository or in the
temporary directory. Refresh the committed outputs with ``python -m tests.docs.notebooks``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

from tests.docs.notebooks import (  # noqa: E402  # only once the notebook tools are there
    MAX_IMAGE_BYTES,
    MAX_NOTEBOOK_BYTES,
    NOTEBOOKS_DIR,
    ROOT,
    execute,
    images,
    notebooks,
    offline_environment,
    structure,
)

NOTEBOOKS = notebooks()
PREFIX_MARK = "kernel sys.prefix: "
OFFLINE_LINE = "embedded emulator"


def _ids(paths: list[Path]) -> list[str]:
    return [path.stem for path in paths]


def _files(directory: Path, *, recursive: bool) -> set[str]:
    found = directory.rglob("*") if recursive else directory.iterdir()
    return {str(path.relative_to(directory)) for path in found}


def _stdout(cell: Any) -> str:
    return "".join(
        output.get("text", "")
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream" and output.get("name") == "stdout"
    )


def test_there_are_notebooks() -> None:
    assert len(NOTEBOOKS) >= 4, NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_is_committed_with_small_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1))
    assert all(kind != "error" for _, kinds in structure(nb) for kind in kinds)
    pictures = images(nb)
    assert pictures, "every notebook shows at least one image"
    assert max(len(picture) for picture in pictures) <= MAX_IMAGE_BYTES
    assert path.stat().st_size <= MAX_NOTEBOOK_BYTES
    assert OFFLINE_LINE in _stdout(code[0])


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_a_fresh_offline_run_matches_the_committed_notebook(path: Path, tmp_path: Path) -> None:
    committed = nbformat.read(path, as_version=4)
    nb = nbformat.read(path, as_version=4)
    # One more cell reports which Python ran the notebook.
    nb.cells.append(nbformat.v4.new_code_cell(f"import sys\nprint({PREFIX_MARK!r} + sys.prefix)"))
    before_notebooks = _files(NOTEBOOKS_DIR, recursive=True)
    before_root = _files(ROOT, recursive=False)

    with offline_environment(tmp_path) as kernel_tmp:
        started = time.monotonic()
        execute(nb)
        print(f"{path.name}: {time.monotonic() - started:.1f}s")

    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert _stdout(code[-1]).strip() == PREFIX_MARK + sys.prefix
    nb.cells.pop()
    assert structure(nb) == structure(committed)
    assert len(images(nb)) == len(images(committed))
    assert max(len(picture) for picture in images(nb)) <= MAX_IMAGE_BYTES
    assert OFFLINE_LINE in _stdout(code[0])
    assert _files(NOTEBOOKS_DIR, recursive=True) == before_notebooks
    assert _files(ROOT, recursive=False) == before_root
    assert _files(kernel_tmp, recursive=True) == set()


def test_structure_tells_runs_apart_but_not_by_text_or_stream_chunks() -> None:
    out = nbformat.v4.new_output
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [out("stream", text="a\n"), out("stream", text="b\n")]
    cell.outputs.append(out("display_data", data={"image/jpeg": "AAAA", "text/plain": "<img>"}))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# t"), cell])
    same = nbformat.from_dict(nbformat.v4.new_notebook(cells=[*nb.cells]))
    same.cells[1] = nbformat.v4.new_code_cell("x")
    same.cells[1].outputs = [out("stream", text="other text\n"), cell.outputs[2]]
    assert structure(same) == structure(nb)
    fewer = nbformat.v4.new_notebook(cells=[nb.cells[0], nbformat.v4.new_code_cell("x")])
    fewer.cells[1].outputs = cell.outputs[:2]
    assert structure(fewer) != structure(nb)
    assert len(images(nb)) == 1
    assert len(images(fewer)) == 0

"""The example notebooks run top to bottom, offline, against the embedded emulator.

Each notebook is executed with nbclient in a fresh kernel started from this interpreter
(``sys.executable``, through a private kernel spec found via ``JUPYTER_PATH``, so no
``python3`` kernel spec installed elsewhere is picked up) and without any ``ACEDATACLOUD_*``
variable, so it never calls the real API. It must leave no file behind, in the repository or
in the temporary directory.

``pytest --nbmake notebooks`` runs the same notebooks with the ``python3`` kernel spec.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
KERNEL_NAME = "acedata-images-notebook-tests"
CELL_TIMEOUT = 120
PREFIX_MARK = "kernel sys.prefix: "
_ENV_VARIABLES = (
    "ACEDATACLOUD_API_TOKEN",
    "ACEDATACLOUD_API_BASE_URL",
    "ACEDATACLOUD_IMAGES_SAVE_DIR",
)


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


@pytest.fixture(scope="module")
def jupyter_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Jupyter data directory with a kernel spec that runs ipykernel on this interpreter."""
    root = tmp_path_factory.mktemp("jupyter")
    spec_dir = root / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python (tests)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return root


def test_there_are_notebooks() -> None:
    assert len(NOTEBOOKS) >= 4, NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code
    assert [cell.execution_count for cell in code] == [None] * len(code)
    assert [cell.outputs for cell in code] == [[]] * len(code)


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_runs_offline_against_the_emulator(
    path: Path,
    jupyter_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in _ENV_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JUPYTER_PATH", str(jupyter_path))  # searched before other spec dirs
    kernel_tmp = tmp_path / "kernel-tmp"
    kernel_tmp.mkdir()
    for name in ("TMPDIR", "TEMP", "TMP"):  # the kernel inherits the environment
        monkeypatch.setenv(name, str(kernel_tmp))

    nb = nbformat.read(path, as_version=4)
    # One more cell reports which Python ran the notebook.
    nb.cells.append(nbformat.v4.new_code_cell(f"import sys\nprint({PREFIX_MARK!r} + sys.prefix)"))
    before_notebooks = _files(NOTEBOOKS_DIR, recursive=True)
    before_root = _files(ROOT, recursive=False)

    client = nbclient.NotebookClient(
        nb,
        kernel_name=KERNEL_NAME,
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(NOTEBOOKS_DIR)}},  # the kernel's working directory
    )
    started = time.monotonic()
    client.execute()
    print(f"{path.name}: {time.monotonic() - started:.1f}s")

    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert "using the local emulator" in _stdout(code[0])
    assert _stdout(code[-1]).strip() == PREFIX_MARK + sys.prefix
    assert _files(NOTEBOOKS_DIR, recursive=True) == before_notebooks
    assert _files(ROOT, recursive=False) == before_root
    assert _files(kernel_tmp, recursive=True) == set()

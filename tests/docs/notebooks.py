"""Run the example notebooks offline, compare their output structure, refresh the committed ones.

``python -m tests.docs.notebooks`` re-executes every notebook against the embedded emulator
and writes it back with its outputs (run it after changing a notebook, then commit).
``tests/docs/test_notebooks.py`` runs them the same way and fails when the fresh outputs do
not have the committed structure: the same cells, output types and number of images.

Each notebook runs in a fresh kernel started from this interpreter (``sys.executable``, via a
private kernel spec found through ``JUPYTER_PATH``, so no ``python3`` spec installed elsewhere is
picked up), without any ``ACEDATACLOUD_*`` variable, so it never calls the real API.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nbclient
import nbformat

from langchain_acedata_images._env import ENV

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS_DIR = ROOT / "notebooks"
KERNEL_NAME = "acedata-images-notebook-tests"
CELL_TIMEOUT = 120
MAX_IMAGE_BYTES = 50 * 1024
MAX_NOTEBOOK_BYTES = 1024 * 1024
ENV_VARIABLES = (ENV.token, ENV.base_url, ENV.save_dir)


def notebooks() -> list[Path]:
    return sorted(NOTEBOOKS_DIR.glob("*.ipynb"))


def write_kernel_spec(root: Path) -> Path:
    """A Jupyter data directory under ``root`` whose kernel spec runs ipykernel here."""
    spec_dir = root / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python (tests)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return root


def execute(nb: Any) -> Any:
    """Run ``nb`` in place in a fresh kernel (working directory: ``notebooks/``)."""
    client = nbclient.NotebookClient(
        nb,
        kernel_name=KERNEL_NAME,
        timeout=CELL_TIMEOUT,
        record_timing=False,
        coalesce_streams=True,
        resources={"metadata": {"path": str(NOTEBOOKS_DIR)}},
    )
    client.execute()
    return nb


def _kind(output: Mapping[str, Any]) -> str:
    if output["output_type"] == "stream":
        return f"stream:{output['name']}"
    if output["output_type"] == "error":
        return f"error:{output.get('ename')}"
    return f"{output['output_type']}:{','.join(sorted(output.get('data', {})))}"


def structure(nb: Any) -> list[tuple[str, list[str]]]:
    """Each cell's type and the kinds of its outputs (consecutive streams counted once)."""
    cells = []
    for cell in nb.cells:
        kinds: list[str] = []
        for output in cell.get("outputs", []):
            kind = _kind(output)
            if not (kind.startswith("stream:") and kinds and kinds[-1] == kind):
                kinds.append(kind)
        cells.append((cell.cell_type, kinds))
    return cells


def images(nb: Any) -> list[bytes]:
    """The decoded bytes of every image output."""
    found = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            for mime, data in output.get("data", {}).items():
                if mime.startswith("image/") and mime != "image/svg+xml":
                    text = data if isinstance(data, str) else "".join(data)
                    found.append(base64.b64decode(text))
    return found


@contextmanager
def offline_environment(tmp: Path) -> Iterator[Path]:
    """No ACEDATACLOUD_* variables, the private kernel spec, and ``tmp`` as the temp dir."""
    saved = dict(os.environ)
    try:
        for name in ENV_VARIABLES:
            os.environ.pop(name, None)
        os.environ["JUPYTER_PATH"] = str(write_kernel_spec(tmp / "jupyter"))
        kernel_tmp = tmp / "kernel-tmp"
        kernel_tmp.mkdir(exist_ok=True)
        for name in ("TMPDIR", "TEMP", "TMP"):  # the kernel inherits the environment
            os.environ[name] = str(kernel_tmp)
        yield kernel_tmp
    finally:
        os.environ.clear()
        os.environ.update(saved)


def refresh(paths: list[Path]) -> None:
    """Execute each notebook and write it back with its outputs."""
    with tempfile.TemporaryDirectory() as tmp, offline_environment(Path(tmp)):
        for path in paths:
            nb = nbformat.read(path, as_version=4)
            execute(nb)
            nbformat.write(nb, path)
            sizes = [len(image) for image in images(nb)]
            print(f"{path.name}: {path.stat().st_size} bytes, images {sizes}")


if __name__ == "__main__":
    refresh([Path(arg) for arg in sys.argv[1:]] or notebooks())

"""Every ```python block of README.md runs as written, offline, and the README stands alone.

Each block runs in its own interpreter, in an empty temporary directory, without any
``ACEDATACLOUD_*`` variable. The only substitution is the chat model: ``init_chat_model(...)``
returns the scripted model of :mod:`tests.docs.readme_chat_model`.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from langchain_acedata_images._env import ENV

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
BLOCKS = [(lang, code) for lang, code in BLOCK.findall(README)]
PYTHON = [code for lang, code in BLOCKS if lang == "python"]
RUNNER = (
    "import runpy, sys\n"
    "from tests.docs import readme_chat_model\n"
    "readme_chat_model.install()\n"
    "runpy.run_path(sys.argv[1], run_name='__main__')\n"
    "print('chat models made:', len(readme_chat_model.CALLS))\n"
)
BLOCK_TIMEOUT = 120


def _title(code: str) -> str:
    heading = README[: README.index(code)].rsplit("\n## ", 1)[-1].split("\n", 1)[0]
    return re.sub(r"\W+", "-", heading.strip()).strip("-").lower()


def _ids() -> list[str]:
    return [f"{number}-{_title(code)}" for number, code in enumerate(PYTHON, 1)]


def test_the_readme_has_python_blocks() -> None:
    assert len(PYTHON) >= 4


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.parametrize("code", PYTHON, ids=_ids())
def test_python_block_runs_offline_as_written(code: str, tmp_path: Path) -> None:
    script = tmp_path / "block.py"
    script.write_text(code, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in (ENV.token, ENV.base_url, ENV.save_dir)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=BLOCK_TIMEOUT,
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    # A block that builds a chat model does it only through init_chat_model.
    made = int(done.stdout.rsplit("chat models made: ", 1)[1])
    assert made == code.count("init_chat_model(")


def test_the_chat_model_is_the_only_thing_to_substitute() -> None:
    for code in PYTHON:
        assert "Fake" not in code
        assert "Scripted" not in code
        for line in code.splitlines():
            if "init_chat_model(" in line and "import" not in line:
                assert line.startswith("model = init_chat_model("), line


def test_the_readme_stands_alone() -> None:
    assert "API.md" not in README
    assert "/work/" not in README  # no paths of the machine it was written on
    assert not re.search(r"\bthe seed\b|\bseed's\b", README, re.IGNORECASE)
    for target in re.findall(r"\]\(([^)#]+)\)", README):
        if not re.match(r"https?://", target):
            assert (ROOT / target).exists(), target
    for path in re.findall(
        r"`((?:tests|notebooks|langchain_acedata_images|\.ci)/[\w./-]*)`", README
    ):
        assert (ROOT / path).exists(), path


def test_the_validation_table_names_every_model() -> None:
    from langchain_acedata_images import MODEL_RULES

    section = README.split("### Validation", 1)[1].split("\n### ", 1)[0]
    named = set(re.findall(r"[\w.:-]+", section))
    assert set(MODEL_RULES) <= named, set(MODEL_RULES) - named
    intro = README.split("\n## ", 1)[0]
    assert all(f"`{model}`" in intro for model in MODEL_RULES)


def test_install_commands_work_from_a_clone() -> None:
    installs = [line for lang, code in BLOCKS if lang == "bash" for line in code.splitlines()]
    installs = [line for line in installs if line.startswith("pip install")]
    assert installs
    for line in installs:
        assert "langchain-acedata-images" not in line.split("#")[0], line


def test_ci_runs_exactly_the_readme_test_command() -> None:
    commands = [code.strip() for lang, code in BLOCKS if lang == "bash" and "pytest" in code]
    assert commands[0].endswith('pip install -e ".[dev]" && python -m pytest')
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[0] in ci.splitlines()
    assert "python3 -m venv --clear .venv" in ci.splitlines()


@pytest.mark.slow
@pytest.mark.integration
def test_the_cli_edit_example_edits_what_the_generate_example_saved(tmp_path: Path) -> None:
    block = next(code for lang, code in BLOCKS if lang == "bash" and "acedata-images edit" in code)
    lines = [line.split("  #")[0] for line in block.splitlines()]
    generate = next(line for line in lines if line.startswith("acedata-images generate"))
    edit = next(line for line in lines if line.startswith("acedata-images edit"))
    env = {k: v for k, v in os.environ.items() if k not in (ENV.token, ENV.base_url, ENV.save_dir)}
    env["ACEDATA_EMULATOR_LATENCY"] = "0.05"
    for line in (generate, edit):
        args = shlex.split(line)[1:]
        done = subprocess.run(
            [sys.executable, "-m", "langchain_acedata_images", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=BLOCK_TIMEOUT,
        )
        assert done.returncode == 0, done.stderr
    image = shlex.split(edit)[shlex.split(edit).index("--image") + 1]
    assert (tmp_path / image).is_file()
    assert len(list((tmp_path / Path(image).parent).iterdir())) == 2


def test_the_tests_map_names_every_test_folder() -> None:
    tests = ROOT / "tests"
    folders = {path.parent.name for path in tests.glob("*/test_*.py")}
    rows = set(re.findall(r"^\| `(\w+)/` \|", (tests / "README.md").read_text(), re.MULTILINE))
    assert folders <= rows, f"add a row to tests/README.md for: {sorted(folders - rows)}"

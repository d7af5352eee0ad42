"""Mutation check of the billing path: ``python -m tests.mutation [TARGET ...] [options]``.

Runs mutmut 3 on one target at a time (errors, polling, flows, rules), each in its own copy of
the project under ``.mutation/<target>/`` (git-ignored; mutmut's cache makes re-runs
incremental), against the unit tests. Prints killed / behaviour-changing mutants per target
and exits non-zero when a target scores below ``--min-score`` (90 %).

Mutants that only change an error message's wording are listed in :data:`MESSAGE_ONLY` and
left out of the score (their text is covered by the tools' text tests where it matters).
mutmut is CPU heavy: the run is ``nice``-d and uses ``--max-children`` workers (default 1).
``--sample`` runs the two small targets only (errors, polling): the bounded CI check.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".mutation"
PACKAGE = "langchain_acedata_images"


@dataclass(frozen=True)
class Target:
    """One mutation scope: a file, optionally narrowed to some functions (mutmut globs)."""

    path: str
    functions: tuple[str, ...] = ()
    tests: tuple[str, ...] = ("tests/unit",)


def _method(module: str, cls: str, *names: str) -> tuple[str, ...]:
    return tuple(f"{PACKAGE}.{module}.xǁ{cls}ǁ{name}__mutmut_*" for name in names)


def _function(module: str, *names: str) -> tuple[str, ...]:
    return tuple(f"{PACKAGE}.{module}.x_{name}__mutmut_*" for name in names)


TARGETS: dict[str, Target] = {
    "errors": Target(f"{PACKAGE}/errors.py"),
    "polling": Target(f"{PACKAGE}/polling.py"),
    "flows": Target(
        f"{PACKAGE}/client.py",
        _method(
            "client",
            "AceDataImagesClient",
            "_image_flow",
            "_submit",
            "_recover",
            "_lookup_flow",
            "_call_idempotent",
            "_post_json",
            "_poll",
            "_resume_flow",
            "_read_stream",
            "_request",
        ),
    ),
    "rules": Target(
        f"{PACKAGE}/models.py",
        _function("models", "parse_size", "_gpt_image_2_size_problem", "_reject_boolean")
        + _method(
            "models",
            "_ImageRequestBase",
            "_size_problem",
            "_problems",
            "_not_blank",
            "_absolute_http_url",
            "_check_model_rules",
            "_forward_compatible_model",
            "to_body",
        )
        + _method("models", "GenerateImageInput", "_problems")
        + _method("models", "EditImageInput", "_one_to_sixteen_images", "_allowed_qualities"),
    ),
}

#: Mutants that change only the wording of a message (excluded from the score), as globs.
MESSAGE_ONLY: dict[str, tuple[str, ...]] = {
    "errors": (),
    "polling": (),
    "flows": (),
    "rules": (),
}

_RESULT_LINE = re.compile(r"^\s*(\S+__mutmut_\d+): (.+)$")


def _pyproject(target: Target) -> str:
    """The project's pyproject.toml with a ``[tool.mutmut]`` table for ``target``."""
    text = (ROOT / "pyproject.toml").read_text("utf-8")
    text = re.sub(r"(?ms)^\[tool\.mutmut\].*?(?=^\[|\Z)", "", text)

    def toml_list(values: tuple[str, ...] | list[str]) -> str:
        return "[" + ", ".join(f'"{value}"' for value in values) + "]"

    return text + (
        "\n[tool.mutmut]\n"
        f'source_paths = ["{PACKAGE}"]\n'
        f'only_mutate = ["{target.path}"]\n'
        f"pytest_add_cli_args_test_selection = {toml_list(target.tests)}\n"
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q"]\n'
        "use_git_change_detection = false\n"
    )


def _prepare(name: str, target: Target) -> Path:
    """A fresh copy of the package and tests under ``.mutation/<name>`` (mutmut's cache kept)."""
    workdir = WORK / name
    workdir.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    for folder in (PACKAGE, "tests"):
        shutil.rmtree(workdir / folder, ignore_errors=True)
        shutil.copytree(ROOT / folder, workdir / folder, ignore=ignore)
    (workdir / "pyproject.toml").write_text(_pyproject(target), "utf-8")
    return workdir


def _mutmut(workdir: Path, *args: str, nice: int) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "mutmut", *args]
    if nice and shutil.which("nice"):
        command = ["nice", "-n", str(nice), *command]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(command, cwd=workdir, env=env, text=True, capture_output=True)


@dataclass
class Score:
    """Outcome of one target."""

    killed: list[str]
    survived: list[str]
    excluded: list[str]
    other: dict[str, str]

    @property
    def counted(self) -> int:
        return len(self.killed) + len(self.survived)

    @property
    def percent(self) -> float:
        return 100.0 * len(self.killed) / self.counted if self.counted else 100.0


def _score(name: str, target: Target, output: str) -> Score:
    score = Score([], [], [], {})
    for line in output.splitlines():
        match = _RESULT_LINE.match(line)
        if not match:
            continue
        mutant, status = match[1], match[2].strip()
        if target.functions and not any(fnmatch.fnmatch(mutant, g) for g in target.functions):
            continue
        if any(fnmatch.fnmatch(mutant, g) for g in MESSAGE_ONLY[name]):
            score.excluded.append(mutant)
        elif status in ("killed", "timeout", "caught by type check"):
            score.killed.append(mutant)
        elif status in ("survived", "no tests"):
            score.survived.append(mutant)
        else:
            score.other[mutant] = status
    return score


def run_target(name: str, *, max_children: int, nice: int) -> Score:
    """Mutate one target, run the tests against every mutant, and score the result."""
    target = TARGETS[name]
    workdir = _prepare(name, target)
    run = _mutmut(workdir, "run", "--max-children", str(max_children), *target.functions, nice=nice)
    if run.returncode != 0:
        sys.stderr.write(run.stdout[-4000:] + run.stderr[-4000:])
        raise SystemExit(f"mutmut run failed for {name} (exit {run.returncode})")
    results = _mutmut(workdir, "results", "--all", "true", nice=0)
    return _score(name, target, results.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutation", description=__doc__)
    parser.add_argument("targets", nargs="*", help=f"any of {', '.join(TARGETS)} (default: all)")
    parser.add_argument("--sample", action="store_true", help="errors and polling only (CI)")
    parser.add_argument("--min-score", type=float, default=90.0)
    parser.add_argument("--max-children", type=int, default=1)
    parser.add_argument("--nice", type=int, default=10)
    parser.add_argument("--show-survivors", action="store_true")
    options = parser.parse_args(argv)
    names = options.targets or (["errors", "polling"] if options.sample else list(TARGETS))
    unknown = sorted(set(names) - set(TARGETS))
    if unknown:
        parser.error(f"unknown target(s) {', '.join(unknown)}; choose from {', '.join(TARGETS)}")
    failed = False
    for name in names:
        score = run_target(name, max_children=options.max_children, nice=options.nice)
        print(
            f"{name}: {score.percent:.1f}% killed ({len(score.killed)}/{score.counted}); "
            f"{len(score.excluded)} message-only excluded"
            + (
                f"; {len(score.other)} other: {sorted(set(score.other.values()))}"
                if score.other
                else ""
            )
        )
        if options.show_survivors:
            for mutant in score.survived:
                print(f"    survived: {mutant}")
        failed |= score.percent < options.min_score
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

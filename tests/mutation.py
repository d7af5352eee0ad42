"""Mutation check of the billing path: ``python -m tests.mutation [TARGET ...] [options]``.

Runs mutmut 3 on one target at a time (errors, polling, flows, rules), each in a fresh copy of
the project under ``.mutation/<target>/`` (git-ignored), against the unit tests. Prints killed
/ behaviour-changing mutants per target and exits non-zero when a target scores below
``--min-score`` (90 %).

Mutants that only change an error message's wording are listed in :data:`MESSAGE_ONLY` and
left out of the score (their text is covered by the tools' text tests where it matters).
mutmut is CPU heavy: the run is ``nice``-d and uses ``--max-children`` workers (default 1).
``--sample`` runs the two small targets only (errors, polling): the bounded CI check.
"""

from __future__ import annotations

import argparse
import fnmatch
import io
import os
import re
import shutil
import subprocess
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".mutation"
PACKAGE = "langchain_acedata_images"


@dataclass(frozen=True)
class Target:
    """One mutation scope: files, optionally narrowed to some functions (mutmut globs)."""

    paths: tuple[str, ...]
    functions: tuple[str, ...] = ()
    tests: tuple[str, ...] = ("tests/unit",)


def _method(module: str, cls: str, *names: str) -> tuple[str, ...]:
    return tuple(f"{PACKAGE}.{module}.xǁ{cls}ǁ{name}__mutmut_*" for name in names)


def _function(module: str, *names: str) -> tuple[str, ...]:
    return tuple(f"{PACKAGE}.{module}.x_{name}__mutmut_*" for name in names)


TARGETS: dict[str, Target] = {
    "errors": Target((f"{PACKAGE}/errors.py",)),
    "polling": Target((f"{PACKAGE}/polling.py",)),
    # Submission (never twice), its verdicts, and the look-ups that recover a job.
    "flows": Target((f"{PACKAGE}/_flows.py", f"{PACKAGE}/_outcomes.py", f"{PACKAGE}/_lookups.py")),
    "rules": Target(
        (f"{PACKAGE}/models.py", f"{PACKAGE}/model_rules.py"),
        _function("model_rules", "parse_size", "_gpt_image_2_size_problem")
        + _function("models", "_reject_boolean")
        + _method(
            "models",
            "_ImageRequestBase",
            "_size_problem",
            "_problems",
            "_rule_problems",
            "_gpt_only_fields_set",
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

#: Mutants no test can tell from the original (same behaviour), with the reason; excluded.
EQUIVALENT: dict[str, str] = {
    "errors.x__error_fields__mutmut_4": "json.loads('') raises like the skipped branch",
    "errors.x__error_fields__mutmut_6": "'' and None are both falsy and not a dict",
    "errors.x_error_from_response__mutmut_28": "httpx headers are case-insensitive",
    "errors.x_error_from_response__mutmut_75": "500 is in TRANSIENT_STATUSES anyway",
    "errors.x_error_from_response__mutmut_76": "500 is in TRANSIENT_STATUSES anyway",
    "_flows.x_image_flow__mutmut_16": "getattr default None or 0: both falsy",
    "_flows.x_image_flow__mutmut_92": "job.task_id was set from record.id just before",
    "_flows.x_image_flow__mutmut_93": "job.task_id was set from record.id just before",
    "_flows.x_submit_flow__mutmut_60": "answered None and False are both false",
    "_flows.x_submit_flow__mutmut_98": "only a 429 verdict carries retry_after; it has its "
    "own branch",
    "_flows.x_submit_flow__mutmut_100": "only a 429 verdict carries retry_after; it has its "
    "own branch",
    "_flows.x_read_stream__mutmut_37": "answered None and False are both false",
    "_flows.x_read_stream__mutmut_22": "the cause only picks the settle window: None and a "
    "TransportError both get none",
    "_outcomes.xǁSubmissionǁfrom_answer__mutmut_18": "only 'finished_at is set' matters",
    "_outcomes.x_is_event_stream__mutmut_7": "httpx headers are case-insensitive",
    "_outcomes.x_is_event_stream__mutmut_8": "'' and 'XXXX' are both no event stream",
    "_outcomes.x_classify__mutmut_35": "the cause only picks the settle window: None and a "
    "TransportError both get none",
    "models.xǁ_ImageRequestBaseǁto_body__mutmut_2": "all fields dump the same in python mode",
    "models.xǁ_ImageRequestBaseǁto_body__mutmut_5": "all fields dump the same in python mode",
    "models.xǁ_ImageRequestBaseǁto_body__mutmut_8": "all fields dump the same in python mode",
    "models.xǁ_ImageRequestBaseǁto_body__mutmut_9": "all fields dump the same in python mode",
}

# A changed line is (part of) a message when its code (string literals removed) raises,
# builds an exception, logs, or is only a string literal continuing such a call; a line that
# compares or looks strings up is never a message.
_MESSAGE_CODE = re.compile(r"Error\s*\(|\braise\b|logger\s*\.|warnings\s*\.\s*warn")
_LOOKUP_CODE = re.compile(r"==|!=|\.\s*get\s*\(|\bin\b|\[|startswith|\.\s*pop\s*\(|:")
# A log call changes nothing but the log: any mutant confined to one is message-only.
_LOG_CALL = re.compile(r"^\s*logger\.\w+\(.*\)\s*$")


def _tokens(line: str) -> list[tokenize.TokenInfo] | None:
    try:
        return list(tokenize.generate_tokens(io.StringIO(line.strip() + "\n").readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None


def message_only(diff: str) -> bool:
    """A mutant whose diff changes the wording of a message and nothing else."""
    lines = diff.splitlines()
    removed = [x[1:] for x in lines if x.startswith("-") and not x.startswith("---")]
    added = [x[1:] for x in lines if x.startswith("+") and not x.startswith("+++")]
    if len(removed) != 1 or len(added) != 1 or removed == added:
        return False
    if _LOG_CALL.match(removed[0]) and _LOG_CALL.match(added[0]):
        return True
    before, after = _tokens(removed[0]), _tokens(added[0])
    if before is None or after is None:
        return False

    def shape(tokens: list[tokenize.TokenInfo]) -> list[tuple[int, str]]:
        return [(t.type, "" if t.type == tokenize.STRING else t.string) for t in tokens]

    if shape(before) != shape(after):
        return False  # more than string contents changed
    code = " ".join(t.string for t in before if t.type != tokenize.STRING)
    starts_with_string = before[0].type == tokenize.STRING
    return (starts_with_string or bool(_MESSAGE_CODE.search(code))) and not _LOOKUP_CODE.search(
        code
    )


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
        f"only_mutate = {toml_list(target.paths)}\n"
        f"pytest_add_cli_args_test_selection = {toml_list(target.tests)}\n"
        # test_rooms measures the source, which mutmut rewrites (trampolines): not a behaviour.
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", '
        '"--deselect", "tests/unit/test_rooms.py"]\n'
        "use_git_change_detection = false\n"
    )


def _prepare(name: str, target: Target) -> Path:
    """A fresh copy of the package and tests under ``.mutation/<name>`` (mutmut's cache kept)."""
    workdir = WORK / name
    # mutmut keeps a mutant's old verdict while its function is unchanged, even when the
    # tests changed: start from scratch so every run measures the current tests.
    shutil.rmtree(workdir / "mutants", ignore_errors=True)
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


def _score(workdir: Path, target: Target, output: str) -> Score:
    score = Score([], [], [], {})
    for line in output.splitlines():
        match = _RESULT_LINE.match(line)
        if not match:
            continue
        mutant, status = match[1], match[2].strip()
        if target.functions and not any(fnmatch.fnmatch(mutant, g) for g in target.functions):
            continue
        if status in ("killed", "timeout", "caught by type check"):
            score.killed.append(mutant)
        elif status not in ("survived", "no tests"):
            score.other[mutant] = status
        elif mutant.removeprefix(f"{PACKAGE}.") in EQUIVALENT:
            score.excluded.append(
                f"{mutant} (equivalent: {EQUIVALENT[mutant.removeprefix(PACKAGE + '.')]})"
            )
        elif message_only(_mutmut(workdir, "show", mutant, nice=0).stdout):
            score.excluded.append(f"{mutant} (message only)")
        else:
            score.survived.append(mutant)
    return score


def run_target(name: str, *, max_children: int, nice: int, score_only: bool = False) -> Score:
    """Mutate one target, run the tests against every mutant, and score the result."""
    target = TARGETS[name]
    if score_only:  # the last run's results, scored again (e.g. after editing the exclusions)
        results = _mutmut(WORK / name, "results", "--all", "true", nice=0)
        return _score(WORK / name, target, results.stdout)
    workdir = _prepare(name, target)
    run = _mutmut(workdir, "run", "--max-children", str(max_children), *target.functions, nice=nice)
    if run.returncode != 0:
        sys.stderr.write(run.stdout[-4000:] + run.stderr[-4000:])
        raise SystemExit(f"mutmut run failed for {name} (exit {run.returncode})")
    results = _mutmut(workdir, "results", "--all", "true", nice=0)
    return _score(workdir, target, results.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutation", description=__doc__)
    parser.add_argument("targets", nargs="*", help=f"any of {', '.join(TARGETS)} (default: all)")
    parser.add_argument("--sample", action="store_true", help="errors and polling only (CI)")
    parser.add_argument("--min-score", type=float, default=90.0)
    parser.add_argument("--max-children", type=int, default=1)
    parser.add_argument("--nice", type=int, default=10)
    parser.add_argument("--show-survivors", action="store_true")
    parser.add_argument(
        "--score-only", action="store_true", help="score the last run again, run nothing"
    )
    options = parser.parse_args(argv)
    names = options.targets or (["errors", "polling"] if options.sample else list(TARGETS))
    unknown = sorted(set(names) - set(TARGETS))
    if unknown:
        parser.error(f"unknown target(s) {', '.join(unknown)}; choose from {', '.join(TARGETS)}")
    failed = False
    for name in names:
        score = run_target(
            name,
            max_children=options.max_children,
            nice=options.nice,
            score_only=options.score_only,
        )
        print(
            f"{name}: {score.percent:.1f}% killed ({len(score.killed)}/{score.counted}); "
            f"{len(score.excluded)} excluded (message-only or equivalent)"
            + (
                f"; {len(score.other)} other: {sorted(set(score.other.values()))}"
                if score.other
                else ""
            )
        )
        if options.show_survivors:
            for mutant in score.survived:
                print(f"    survived: {mutant}")
            for mutant in score.excluded:
                print(f"    excluded: {mutant}")
        failed |= score.percent < options.min_score
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

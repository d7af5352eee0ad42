"""Pip constraints pinning each declared dependency to its floor (``name>=X`` -> ``name==X``).

    python .ci/lowest_constraints.py [EXTRA ...] > constraints.txt
    python .ci/lowest_constraints.py --dev NAME ...   # those dev requirements, as declared

Reads ``pyproject.toml``: the core ``dependencies`` plus those of each named extra (an extra
that names this package's other extras brings theirs). A requirement without a ``>=`` floor is
an error: every declared range must have a lowest version that CI can install. ``--dev``
prints the ``dev`` extra's requirements of the named packages (the test tools to install
beside the floors, with their ranges kept in one place).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import tomllib

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
# A name, its [extras], then the version specifiers up to any environment marker.
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?\s*([^;]*)")
_FLOOR = re.compile(r">=\s*([0-9][^,\s]*)")


def floors(project: dict[str, Any], extras: list[str]) -> dict[str, str]:
    """``{name: floor}`` for the core dependencies and those of ``extras``."""
    own, optional = _normal(project["name"]), project.get("optional-dependencies", {})
    requirements, pending, seen = list(project.get("dependencies", [])), list(extras), set()
    pinned: dict[str, str] = {}
    while requirements or pending:
        if pending:
            extra = pending.pop()
            if extra not in optional:
                raise SystemExit(f"unknown extra {extra!r}; pyproject has {sorted(optional)}")
            if extra not in seen:
                seen.add(extra)
                requirements += optional[extra]
            continue
        requirement = requirements.pop()
        match = _REQUIREMENT.match(requirement)
        if match is None:
            raise SystemExit(f"cannot read the requirement {requirement!r}")
        package, its_extras, specifiers = match.groups()
        if _normal(package) == own:  # "this-package[emulator]": bring that extra's floors
            pending += [item.strip() for item in (its_extras or "").split(",") if item.strip()]
            continue
        floor = _FLOOR.search(specifiers)
        if floor is None:
            raise SystemExit(f"{requirement!r} declares no >= floor")
        pinned[_normal(package)] = floor.group(1)
    return pinned


def dev_requirements(project: dict[str, Any], names: list[str]) -> list[str]:
    """The ``dev`` extra's requirement strings for the packages ``names``, in that order."""
    declared: dict[str, str] = {}
    for requirement in project["optional-dependencies"]["dev"]:
        match = _REQUIREMENT.match(requirement)
        if match is not None:
            declared[_normal(match.group(1))] = requirement
    missing = [name for name in names if _normal(name) not in declared]
    if missing:
        raise SystemExit(f"not in the dev extra: {missing}")
    return [declared[_normal(name)] for name in names]


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def main(args: list[str]) -> None:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    if args[:1] == ["--dev"]:
        print("\n".join(dev_requirements(project, args[1:])))
        return
    for package, version in sorted(floors(project, args).items()):
        print(f"{package}=={version}")


if __name__ == "__main__":
    main(sys.argv[1:])

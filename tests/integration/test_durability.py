"""Paid jobs per LangGraph durability mode when the process dies after the job was accepted.

The model issues a fresh tool call id on every call (as a real LLM does) and the checkpoint
holding the call is stored slowly (durability_child.SlowSaver). The process is killed as soon
as the emulator (its own process) has accepted the job, then the caller goes on: resuming the
thread, or sending the request again when nothing was stored.

- ``sync``: LangGraph stores the checkpoint before running the tool: one job.
- ``async`` (the default): the tool waits for that checkpoint before submitting, so the resume
  runs the same call and finds the job: one job.
- ``exit``: nothing is stored before the run ends; the model runs again and issues a new call:
  two jobs, as documented, with a warning.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.emulator_fixtures import remote_emulator, remote_reset, remote_stats

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
#: Jobs run 1.5 s: long enough to kill the process while its tool waits.
LATENCY = "1.5"
PAID_JOBS = {"sync": 1, "async": 1, "exit": 2}


@pytest.fixture(scope="module")
def remote() -> Iterator[str]:
    with remote_emulator(LATENCY=LATENCY, QUEUE_DELAY="0", SEED="19") as base_url:
        yield base_url


def child(durability: str, phase: str, base_url: str, db: Path) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "tests.integration.durability_child"]
    return subprocess.Popen(
        [*command, durability, phase, base_url, str(db)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def submissions(base_url: str) -> int:
    stats = remote_stats(base_url)
    assert stats["duplicate_trace_ids"] == []
    return int(stats["submissions"])


@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
def test_a_process_killed_after_the_job_was_accepted_pays_once_unless_durability_is_exit(
    remote: str, tmp_path: Path, durability: str
) -> None:
    remote_reset(remote)
    db = tmp_path / "checkpoints.sqlite"
    first = child(durability, "start", remote, db)
    deadline = time.monotonic() + 30
    while submissions(remote) == 0:
        assert first.poll() is None, first.communicate()[1]
        assert time.monotonic() < deadline, "the child never submitted"
        time.sleep(0.01)
    os.kill(first.pid, signal.SIGKILL)
    _, first_err = first.communicate(timeout=10)
    assert remote_stats(remote)["finished_tasks"] == 0  # killed while the job ran

    again = child(durability, "again", remote, db)
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    answer = json.loads(out.strip().splitlines()[-1])
    assert answer["urls"]
    assert submissions(remote) == PAID_JOBS[durability]
    assert answer["resumed"] is (durability != "exit")
    assert ("durability='exit'" in first_err) is (durability == "exit")

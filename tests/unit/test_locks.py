"""Claims of keyed jobs shared by processes (``lock_dir``): one holder per trace id."""

from __future__ import annotations

from pathlib import Path

from langchain_acedata_images._locks import STRIPES, FileClaims
from tests.conftest import make_client


def test_a_trace_id_claimed_elsewhere_waits_until_released(tmp_path: Path) -> None:
    first, second = FileClaims(tmp_path / "locks"), FileClaims(tmp_path / "locks")
    assert first.try_claim("lcai-1")
    assert not second.try_claim("lcai-1")  # another holder (a process) has it
    first.release("lcai-1")
    assert second.try_claim("lcai-1")
    second.release("lcai-1")
    second.release("lcai-1")  # releasing twice is harmless


def test_lock_files_are_bounded_whatever_the_number_of_jobs(tmp_path: Path) -> None:
    claims = FileClaims(tmp_path)
    for index in range(3 * STRIPES):
        assert claims.try_claim(f"lcai-{index}")
        claims.release(f"lcai-{index}")
    assert len(list(tmp_path.iterdir())) <= STRIPES


def test_clients_sharing_a_lock_dir_take_turns_on_a_keyed_job(tmp_path: Path) -> None:
    one, two = make_client(lock_dir=tmp_path), make_client(lock_dir=tmp_path)
    assert one._claim("lcai-7")
    assert not two._claim("lcai-7")
    assert two._claim("lcai-8")
    one._release("lcai-7")
    assert two._claim("lcai-7")
    two._release("lcai-7")
    two._release("lcai-8")

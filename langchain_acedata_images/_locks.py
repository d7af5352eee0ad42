"""Claims of keyed jobs shared by processes: a non-blocking file lock per trace_id stripe.

Two processes running the same tool call at the same moment (a double approval, a queue
message delivered twice) would otherwise both look the job up, find nothing and submit it.
With a shared ``lock_dir`` the second one waits until the first has submitted; its look-up
then finds the first one's job. Locks are ``flock`` locks (POSIX): the OS drops those of a
process that dies, so a crash never leaves a job claimed. They hold only between processes
that see the same directory with working ``flock`` (one machine; not every network
filesystem). Trace ids share 1,024 lock files, so unrelated jobs rarely wait for each other.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

#: Lock files per directory: bounded, whatever the number of jobs.
STRIPES = 1024


class FileClaims:
    """Non-blocking claims of trace ids in ``directory`` (created if missing)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        if os.name != "posix":
            raise ValueError("lock_dir needs POSIX file locks (fcntl.flock)")
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._held: dict[str, int] = {}

    def _path(self, trace_id: str) -> Path:
        stripe = int(hashlib.sha256(trace_id.encode()).hexdigest()[:8], 16) % STRIPES
        return self.directory / f"acedata-images-{stripe:04d}.lock"

    def try_claim(self, trace_id: str) -> bool:
        """Take the lock of ``trace_id``; ``False`` while another holder (any process) has it."""
        import fcntl

        descriptor = os.open(self._path(trace_id), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(descriptor)
            return False
        self._held[trace_id] = descriptor
        return True

    def release(self, trace_id: str) -> None:
        import fcntl

        descriptor = self._held.pop(trace_id, None)
        if descriptor is not None:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
            os.close(descriptor)

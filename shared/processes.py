"""Child processes we start (nats-server, the services): wait, stop, kill."""

from __future__ import annotations

import ctypes
import signal
import subprocess
import sys
import time
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """preexec_fn for children: on Linux, SIGTERM them if the process that started them
    dies (even by SIGKILL), so no broker or service outlives `fpb up` or a test run."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class ManagedProcess:
    """Mixin for an object holding `self.process` (a subprocess.Popen or None)."""

    process: subprocess.Popen | None

    def wait_until(self, is_ready: Callable[[], bool], timeout: float, what: str, log_hint: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{what} exited with {self.process.returncode}; see {log_hint}")
            if is_ready():
                return
            time.sleep(0.05)
        raise TimeoutError(f"{what} not ready after {timeout}s; see {log_hint}")

    def stop(self, timeout: float = 15.0) -> None:
        """Graceful stop (SIGTERM), escalating to SIGKILL."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL: no chance to finish anything (crash tests)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

"""What the end-to-end tests share (named apart from tests/integration/support.py: the
tests import by bare module name, and two `support` modules would collide)."""

from __future__ import annotations

import time


def wait_for(check, timeout: float = 60.0):
    """check()'s first truthy answer, asked every 0.3 s; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.3)

"""The key anonymous tips' case ids are hashed under: enforcement's alone.

Not the matching key (intake holds that) nor the master key (every service with the
key store holds that): a file only enforcement reads, created on its first start.
Losing it changes no stored case; a tip redelivered afterwards is still recognised by
its handled-message marker."""

from __future__ import annotations

import os
from pathlib import Path

import structlog

from shared.privacy.keys import read_key

ANONYMOUS_TIP_KEY_FILE = "enforcement_anonymous_tips.key"
log = structlog.get_logger("enforcement")


def anonymous_tip_key(key_file: Path | None, key_dir: Path | None) -> bytes:
    path = key_file or (key_dir / ANONYMOUS_TIP_KEY_FILE if key_dir else None)
    if path is None:
        return _process_key("no key file configured")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if not path.is_file():
            return _process_key(f"cannot create {path}")
    except OSError as error:  # e.g. a read-only secret mount without this key in it
        return _process_key(f"cannot create {path}: {error.strerror}")
    else:
        with os.fdopen(fd, "wb") as handle:
            handle.write(os.urandom(32))
    return read_key(path.parent, path.name)


def _process_key(why: str) -> bytes:
    # Still unlinkable, but another process (a restart, a replica) hashes a re-sent tip
    # differently: only the handled-message marker then keeps it from opening a second case.
    log.warning("no_anonymous_tip_key", why=why, effect="a key for this process only; provide FPB_ANONYMOUS_TIP_KEY_FILE or <FPB_KEY_DIR>/" + ANONYMOUS_TIP_KEY_FILE)
    return os.urandom(32)

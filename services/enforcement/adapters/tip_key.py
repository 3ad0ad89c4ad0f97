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
    if key_file is not None and key_dir is not None:
        _move_out_of_shared_dir(key_dir / ANONYMOUS_TIP_KEY_FILE, key_file)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
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


def _move_out_of_shared_dir(shared: Path, own: Path) -> None:
    """A key made before enforcement had a location of its own sits in the key directory it
    shares with intake (which knows submission ids): move it, the same key, to its own place."""
    if own.exists() or not shared.is_file() or own.resolve() == shared.resolve():
        return
    try:
        own.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.link(shared, own)  # fails if another replica moved it first: the key is then there
        shared.unlink()
    except FileExistsError:
        shared.unlink(missing_ok=True)
    except OSError as error:  # another filesystem or a read-only mount: the deployment moves it
        log.warning("anonymous_tip_key_in_shared_key_dir", path=str(shared), why=error.strerror)


def _process_key(why: str) -> bytes:
    # Still unlinkable, but another process (a restart, a replica) hashes a re-sent tip
    # differently: only the handled-message marker then keeps it from opening a second case.
    log.warning("no_anonymous_tip_key", why=why, effect="a key for this process only; provide FPB_ANONYMOUS_TIP_KEY_FILE or <FPB_KEY_DIR>/" + ANONYMOUS_TIP_KEY_FILE)
    return os.urandom(32)

"""Services that share a store start at the same moment (the key store is one SQLite
file for intake, verification and enforcement under `fpb up`): every one of them must
come up, whichever wins the race to create the tables."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

OPEN_KEY_STORE = "import sys; from shared.privacy.keystore import KeyStore; KeyStore(sys.argv[1], b'k' * 32).key_for('someone')"


def test_processes_opening_one_new_key_store_together_all_start(store_url: str, tmp_path: Path):
    for _round in range(5):
        if store_url.startswith("sqlite"):
            store_url = f"sqlite:///{tmp_path / f'keys-{_round}.db'}"  # a new file each round: the race is on creating it
        starting = [subprocess.Popen([sys.executable, "-c", OPEN_KEY_STORE, store_url], stderr=subprocess.PIPE, text=True) for _ in range(4)]
        failures = [process.stderr.read() for process in starting if process.wait(timeout=60) != 0]
        assert failures == []

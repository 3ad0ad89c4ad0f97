"""The key store on both backends: keys created once, loaded in batches for reading
without creating any, and an erased key stays unreadable."""

from __future__ import annotations

import uuid

import pytest

from shared.privacy.keystore import KeyErasedError, KeyStore

MASTER = b"m" * 32


def test_batch_loading_for_reading_creates_nothing_and_an_erased_key_stays_erased(store_url: str):
    writer, reader = KeyStore(store_url, MASTER), KeyStore(store_url, MASTER)
    kept, erased, unknown = (f"{name}-{uuid.uuid4().hex}" for name in ("kept", "erased", "unknown"))
    writer.keys_for({kept, erased})
    key = writer.key_for(kept)
    writer.erase(erased)

    reader.load_existing({kept, erased, unknown})

    assert reader.existing_key(kept) == key
    for subject in (erased, unknown):
        with pytest.raises(KeyErasedError):
            reader.existing_key(subject)
    assert writer.key_for(kept) == key  # batch creation did not make a second key
    writer.close()
    reader.close()

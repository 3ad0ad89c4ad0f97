"""The key store on both backends: keys created once, loaded in batches for reading
without creating any, and an erased key stays unreadable."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import event

from shared.privacy import keystore
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


def test_a_key_read_once_is_not_asked_of_the_store_again_until_this_process_erases_it(store_url: str):
    writer, reader = KeyStore(store_url, MASTER), KeyStore(store_url, MASTER)
    subject = f"read-{uuid.uuid4().hex}"
    key = writer.key_for(subject)
    queries: list[str] = []
    event.listen(reader._engine, "before_cursor_execute", lambda *args: queries.append(args[2]))

    assert [reader.existing_key(subject) for _ in range(3)] == [key] * 3
    assert len(queries) == 1

    reader.erase(subject)
    with pytest.raises(KeyErasedError):
        reader.existing_key(subject)
    writer.close()
    reader.close()


def test_the_keys_kept_in_memory_are_bounded_and_a_key_let_go_is_read_again(store_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(keystore, "KEYS_KEPT", 5)
    store = KeyStore(store_url, MASTER)
    subjects = [f"many-{index}-{uuid.uuid4().hex}" for index in range(12)]
    keys = {subject: store.key_for(subject) for subject in subjects}
    store.keys_for(set(subjects[:4]))

    assert len(store._cache) <= 5
    assert {subject: store.existing_key(subject) for subject in subjects} == keys
    store.close()


def test_a_key_store_in_a_sqlite_file_commits_through_a_write_ahead_log(tmp_path):
    store = KeyStore(f"sqlite:///{tmp_path / 'keys.db'}", MASTER)
    store.key_for("someone")
    with store._engine.connect() as conn:
        modes = (conn.exec_driver_sql("PRAGMA journal_mode").scalar(), conn.exec_driver_sql("PRAGMA synchronous").scalar())
    assert modes == ("wal", 2), "one fsync per commit, and still durable (FULL)"
    store.close()


def test_a_key_another_process_erased_stops_opening_here_once_the_cache_time_passes_and_at_once_for_a_reveal(store_url: str):
    from shared.privacy.protection import PersonalDataProtector

    clock = [0.0]
    eraser = KeyStore(store_url, MASTER)
    reader = KeyStore(store_url, MASTER, cache_seconds=30, clock=lambda: clock[0])
    protector = PersonalDataProtector(reader, b"x" * 32)
    subject = f"cached-{uuid.uuid4().hex}"
    token = protector.encrypt(subject, "李秀英", "name")
    assert protector.decrypt(token) == "李秀英"

    eraser.erase(subject)

    clock[0] = 29.0
    assert protector.decrypt(token) == "李秀英"  # a decision path may still use the key it read, for the cache time
    assert protector.reveal_token(token) == "[erased]"  # a person reading is answered by the store itself
    clock[0] = 31.0
    with pytest.raises(KeyErasedError):
        protector.decrypt(token)
    assert eraser.erased_subjects() >= {subject} and eraser.is_erased(subject)
    assert eraser.erase(subject) is False  # erasing again changes nothing
    eraser.close()
    reader.close()

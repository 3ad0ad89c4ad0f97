"""Protect personal fields of a record before it is stored or published.

- `person_ref(id_number)`: a keyed hash (HMAC-SHA256) of a resident ID, used to match
  the same person across services and agencies without revealing the number.
- `protect(...)`: replaces each sensitive field with an encrypted token
  `{"$enc": "v1", "subject": <ref>, "ct": <base64>}` under the data subject's own key.
  The token names its subject, so whoever holds the key store can decrypt it, and
  erasing that one key shreds it everywhere.
"""

from __future__ import annotations

import base64
import hmac
import json
import os
from hashlib import sha256
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.privacy.keystore import KeyErasedError, KeyStore

TOKEN_MARK = "$enc"


class PersonalDataProtector:
    def __init__(self, keystore: KeyStore, matching_key: bytes) -> None:
        self._keys = keystore
        self._matching_key = matching_key

    def person_ref(self, id_number: str) -> str:
        return hmac.new(self._matching_key, id_number.encode(), sha256).hexdigest()

    def subject_ref_for_record(self, source: str, record_id: str) -> str:
        """Data subject of a record about no identified person (e.g. an anonymous tip)."""
        return "rec-" + hmac.new(self._matching_key, f"{source}:{record_id}".encode(), sha256).hexdigest()[:60]

    def prepare(self, subject_refs: Iterable[str]) -> None:
        """Load (or create) the keys of many subjects in one round trip to the key store."""
        self._keys.keys_for(set(subject_refs))

    def prepare_to_read(self, values: Iterable[Any]) -> None:
        """Load the keys of every token found in the values in one round trip (a batch of
        messages is about many people; one query each was a sixth of verification's time)."""
        self._keys.load_existing({token["subject"] for value in values for token in tokens_in(value)})

    def encrypt(self, subject_ref: str, value: Any, field: str) -> dict[str, str]:
        key = self._keys.key_for(subject_ref)
        nonce = os.urandom(12)
        plaintext = json.dumps(value, ensure_ascii=False).encode()
        ciphertext = AESGCM(key).encrypt(nonce, plaintext, field.encode())
        return {TOKEN_MARK: "v1", "subject": subject_ref, "field": field, "ct": base64.b64encode(nonce + ciphertext).decode()}

    def decrypt(self, token: dict[str, str]) -> Any:
        key = self._keys.existing_key(token["subject"])
        blob = base64.b64decode(token["ct"])
        plaintext = AESGCM(key).decrypt(blob[:12], blob[12:], token["field"].encode())
        return json.loads(plaintext)

    def encrypt_raw(self, record_key: str, body: bytes) -> dict[str, str]:
        """Raw bytes of a record that could not be read (it may still hold personal data),
        under a key of its own so it can be erased on its own."""
        subject_ref = self.subject_ref_for_record("raw", record_key)
        return self.encrypt(subject_ref, base64.b64encode(body).decode(), "raw")

    def close(self) -> None:
        self._keys.close()

    @property
    def keystore(self) -> KeyStore:
        return self._keys

    def erased_subjects(self) -> set[str]:
        return self._keys.erased_subjects()

    def protect(self, data: dict[str, Any], sensitive_fields: tuple[str, ...], subject_ref: str) -> dict[str, Any]:
        protected = dict(data)
        for field in sensitive_fields:
            if protected.get(field) is not None:
                protected[field] = self.encrypt(subject_ref, protected[field], field)
        return protected

    def reveal_token(self, token: dict[str, str]) -> Any:
        """The plain value, or "[erased]" once its subject's key was erased. A person
        reading personal data is answered from the key store itself, never from this
        process's cache: a key erased a moment ago reads as erased here at once."""
        self._keys.forget({token["subject"]})
        try:
            return self.decrypt(token)
        except KeyErasedError:
            return "[erased]"

    def reveal(self, data: dict[str, Any]) -> dict[str, Any]:
        """Decrypt every token in a record."""
        return {field: self.reveal_token(value) if is_token(value) else value for field, value in data.items()}


def is_token(value: Any) -> bool:
    return isinstance(value, dict) and value.get(TOKEN_MARK) == "v1"


def tokens_in(value: Any) -> Iterator[dict[str, str]]:
    """Every encrypted token inside a JSON-like value."""
    if is_token(value):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from tokens_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from tokens_in(item)


def keys_for_batch(protector: PersonalDataProtector | None) -> Callable[[Sequence[Any]], None] | None:
    """For an integration-event handler: before a batch of accepted submissions is
    decided, load the keys of the people in them in one query."""
    if protector is None:
        return None
    return lambda events: protector.prepare_to_read(getattr(e.payload, "data", None) for e in events)

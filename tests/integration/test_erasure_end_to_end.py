"""Erasure end to end, on a real nats-server and real stores (SQLite and PostgreSQL):
a person's application goes through intake and verification; an administrator asks, an
auditor approves; afterwards every copy reads as erased (both services' stores, the
FP_INTAKE stream, a backup of intake's store), the county system's plaintext is gone from
COUNTY_INBOX, the hash chains still verify, and a key store restored from before the
erasure is shredded again when intake starts."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import httpx
import pytest
from nats.js.errors import NotFoundError
from support import collect, eventually, running, sample

from cli.audit import verify_one
from services.intake.bootstrap import IntakeStore
from services.intake.bootstrap import bootstrap as intake_bootstrap
from services.intake.settings import IntakeSettings
from services.verification.bootstrap import VerificationStore
from services.verification.bootstrap import bootstrap as verification_bootstrap
from services.verification.domain.application_file import application_file_id
from services.verification.settings import VerificationSettings
from shared.eventstore.application import event_record
from shared.eventstore.checkpoints import PUBLIC_KEY_FILE
from shared.privacy.keys import open_protector
from shared.privacy.keystore import KeyErasedError
from shared.privacy.protection import tokens_in
from tests.identity_support import token_issuer

REASON = {"reason": "本人2026年12月1日书面申请删除（编号 SQ-2026-017）"}


def rules_file(directory: Path) -> Path:
    """The shipped grounds, and a rule that lets an application be erased (the shipped rules
    keep every application file: tests/unit/test_erasure.py checks those)."""
    shipped = json.loads((Path(__file__).parents[2] / "services/intake/retention.json").read_text(encoding="utf-8"))
    path = directory / "retention.json"
    path.write_text(json.dumps({"rules": [{"kind": "township.application.submitted", "keep_years": 0, "counted_from": "occurred",
                                           "legal_basis": "《测试用保存期限》"}], "grounds": shipped["grounds"]}), encoding="utf-8")
    return path


def sqlite_backup(url: str, to: Path) -> None:
    """SQLite's online backup, as an operator takes it while the platform runs."""
    source, target = sqlite3.connect(url.removeprefix("sqlite:///")), sqlite3.connect(to)
    source.backup(target)
    source.close()
    target.close()


async def test_an_erased_person_reads_as_erased_in_every_copy_and_the_chains_still_verify(nats_server, js, store_url, key_dir, tmp_path):
    keystore_url = f"sqlite:///{tmp_path / 'keys.db'}"
    checkpoints = tmp_path / "checkpoints"
    common = {"nats_url": nats_server.url, "keystore_url": keystore_url, "key_dir": key_dir,
              "audit_key_file": key_dir / "audit_signing.key", "checkpoint_dir": checkpoints}
    intake_settings = IntakeSettings(store_url=store_url, retention_rules_path=rules_file(tmp_path), **common)
    verification_url = store_url.replace("store.db", "verification.db")
    verification_settings = VerificationSettings(store_url=verification_url, today="2026-03-10", **common)
    subject, application = sample("township.application.submitted")
    applicant = application["data"]["applicant_id_number"]
    issuer = token_issuer()
    admin, auditor = issuer.headers("admin", ["administrator"]), issuer.headers("sj-auditor", ["auditor"])

    intake, verification = intake_bootstrap(intake_settings), verification_bootstrap(verification_settings)
    async with running(intake), running(verification):
        ack = await js.publish(subject, json.dumps(application, ensure_ascii=False).encode(), headers={"Nats-Msg-Id": application["record_id"]})
        [receipt] = await collect(js, "fp.receipts.township", 1)
        await collect(js, "fp.verification.application.checked", 1, timeout=30)
        intake_http = httpx.AsyncClient(transport=httpx.ASGITransport(app=intake.http), base_url="http://intake")
        before = (await intake_http.post(f"/history/{receipt['submission_id']}/reveal", json=REASON, headers=auditor)).json()
        assert before["state"]["data"]["applicant_id_number"] == applicant
        if store_url.startswith("sqlite"):
            sqlite_backup(store_url, tmp_path / "intake-backup.db")
        sqlite_backup(keystore_url, tmp_path / "keys-backup.db")

        asked = await intake_http.post("/erasures", json={"id_number": applicant, "ground": "consent_withdrawn", **REASON}, headers=admin)
        assert asked.status_code == 201, asked.text
        done = await intake_http.post(f"/erasures/{asked.json()['erasure_id']}/approve", headers=auditor)
        assert done.status_code == 200, done.text
        assert done.json()["outcome"]["inbox_messages_deleted"] == 1

        # intake's store and verification's (which the other services read from FP_INTAKE)
        after = (await intake_http.post(f"/history/{receipt['submission_id']}/reveal", json=REASON, headers=auditor)).json()
        assert after["state"]["data"]["applicant_id_number"] == "[erased]" and after["state"]["data"]["details"] == "[erased]"
        verification_store = VerificationStore(verification_url)
        kept_there = [t for e in verification_store.history(application_file_id(application["data"]["application_id"]))[0]
                      for t in tokens_in(event_record(e)["data"])]
        verification_store.close()
        # the stream every service read it from: its tokens no longer open
        announced = await js.get_msg("FP_INTAKE", 1)
        tokens = list(tokens_in(json.loads(announced.data)))
        reader = open_protector(keystore_url, key_dir)
        assert tokens and all(reader.reveal_token(t) == "[erased]" for t in tokens)
        assert kept_there and all(reader.reveal_token(t) == "[erased]" for t in kept_there)
        with pytest.raises(KeyErasedError):
            reader.decrypt(tokens[0])
        # the county system's own plaintext message
        with pytest.raises(NotFoundError):
            await js.get_msg("COUNTY_INBOX", ack.seq)
        await intake_http.aclose()

    # a backup of intake's store taken before the erasure: its copy does not open either
    if store_url.startswith("sqlite"):
        backup = IntakeStore(f"sqlite:///{tmp_path / 'intake-backup.db'}")
        kept = backup.find(backup.decode(backup.read_log(0, 1)[0]).originator_id)
        assert reader.reveal(kept.data)["applicant_id_number"] == "[erased]"
        backup.close()
    reader.close()

    # the hash chains of both stores still verify: nothing was rewritten
    for name, url in (("intake", store_url), ("verification", verification_url)):
        report = verify_one(name, url, checkpoints, checkpoints / PUBLIC_KEY_FILE)
        assert report.ok and report.events > 0, report.findings

    # the key store restored from before the erasure: intake shreds the key again at start
    sqlite_backup(f"sqlite:///{tmp_path / 'keys-backup.db'}", tmp_path / "keys.db")
    restored = open_protector(keystore_url, key_dir)
    assert restored.reveal_token(tokens[0]) != "[erased]"
    async with running(intake_bootstrap(intake_settings)) as again:
        await eventually(lambda: restored.reveal_token(tokens[0]) == "[erased]", timeout=15)
        answer = await httpx.AsyncClient(transport=httpx.ASGITransport(app=again.http), base_url="http://intake").get("/erasures", headers=auditor)
        assert [row["status"] for row in answer.json()["rows"]] == ["completed"]
    restored.close()

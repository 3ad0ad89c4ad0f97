"""An anonymous tip cannot be linked back: its case id is a keyed hash only enforcement
can compute, and reporting's drill-down lists the tip without its record or submission id."""

from __future__ import annotations

import stat

from services.enforcement.adapters.tip_key import ANONYMOUS_TIP_KEY_FILE, anonymous_tip_key
from services.enforcement.application.cases import tip_decider
from services.enforcement.domain.case import case_id_for
from services.reporting.domain.projections import Upsert, changes_for
from shared.contracts.integration import read_event

TIP = "hotline.tip.received"


def accepted_tip(announced, delivery, inbound_sample, anonymous: bool):
    _, message = inbound_sample(TIP)
    message["data"]["anonymous"] = anonymous
    [event] = [m for m in announced(delivery(TIP, body_override=message)) if m.subject.startswith("fp.intake.accepted.")]
    return read_event(event.body)


def drill_down_row(received) -> Upsert:
    [row] = [c for c in changes_for(received) if isinstance(c, Upsert) and c.table == "rm_submission_records"]
    return row


def test_an_anonymous_tip_is_listed_for_drill_down_without_its_record_or_submission_id(announced, delivery, inbound_sample):
    received = accepted_tip(announced, delivery, inbound_sample, anonymous=True)

    row = drill_down_row(received)

    assert row.key == {"submission_id": f"anonymous:{received.envelope.event_id}"} and row.values["record_id"] == ""
    assert received.payload.submission_id not in repr(row) and received.payload.record_id not in repr(row)
    assert (row.values["kind"], row.values["section"]) == (TIP, received.payload.section), "it still counts where it belongs"


def test_a_named_tip_keeps_its_record_and_submission_id_in_the_drill_down(announced, delivery, inbound_sample):
    received = accepted_tip(announced, delivery, inbound_sample, anonymous=False)

    row = drill_down_row(received)

    assert row.key == {"submission_id": received.payload.submission_id} and row.values["record_id"] == received.payload.record_id


def test_an_anonymous_tips_case_cannot_be_found_from_its_submission_id(announced, delivery, inbound_sample, tmp_path):
    received = accepted_tip(announced, delivery, inbound_sample, anonymous=True)
    key = anonymous_tip_key(None, tmp_path)

    [case] = tip_decider(key)(received, lambda _: None)

    public = case_id_for("hotline_tip", received.payload.submission_id)
    assert case.id != public and public.hex[:8].upper() not in case.case_number
    assert tip_decider(key)(received, lambda case_id: object() if case_id == case.id else None) == (), "the same tip, the same key: one case"


def test_enforcements_tip_key_is_made_once_readable_by_its_owner_only(tmp_path):
    first = anonymous_tip_key(None, tmp_path)

    assert anonymous_tip_key(None, tmp_path) == first and len(first) == 32
    assert stat.S_IMODE((tmp_path / ANONYMOUS_TIP_KEY_FILE).stat().st_mode) == 0o600
    assert anonymous_tip_key(tmp_path / "other.key", None) != first


def test_a_tip_key_made_in_the_shared_key_dir_moves_to_enforcements_own_file(tmp_path):
    shared, own = tmp_path / "keys", tmp_path / "keys-enforcement" / ANONYMOUS_TIP_KEY_FILE
    before = anonymous_tip_key(None, shared)  # as `fpb up` made it before enforcement had a place of its own

    after = anonymous_tip_key(own, shared)

    assert after == before, "the same key: tips already handled hash the same"
    assert not (shared / ANONYMOUS_TIP_KEY_FILE).exists(), "intake shares that directory"
    assert anonymous_tip_key(own, shared) == before and stat.S_IMODE(own.stat().st_mode) == 0o600


def test_where_the_key_cannot_be_made_enforcement_still_starts_with_a_key_of_its_own(tmp_path):
    not_a_directory = tmp_path / "keys"
    not_a_directory.write_bytes(b"")  # like a read-only mount: nothing can be created in it

    key = anonymous_tip_key(None, not_a_directory)

    assert len(key) == 32 and key != anonymous_tip_key(None, None)
    assert not_a_directory.read_bytes() == b""

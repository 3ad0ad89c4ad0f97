"""Receipts on fp.receipts.<source> (CONTRACT.md), one per inbound record."""

from __future__ import annotations

from pydantic import BaseModel

from shared.contracts.integration import OutgoingMessage, trace_headers


class ReceiptError(BaseModel):
    field: str
    message: str


class Receipt(BaseModel):
    record_id: str | None
    accepted: bool
    submission_id: str | None = None
    errors: list[ReceiptError] | None = None
    # Additions to the contract: a duplicate says whose submission it repeats.
    duplicate: bool = False


def receipt_message(source: str, receipt: Receipt, message_id: str) -> OutgoingMessage:
    # record_id is always present (null when the record had none we could read);
    # submission_id and errors only where they apply.
    body = receipt.model_dump_json(exclude={name for name in ("submission_id", "errors") if getattr(receipt, name) is None}).encode()
    return OutgoingMessage(
        subject=f"fp.receipts.{source}",
        body=body,
        message_id=message_id,
        headers=trace_headers(receipt.record_id or message_id, message_id),
    )

"""Every JetStream stream of the platform, declared in one place (DESIGN.md: the last
service to start must never silently rewrite a stream). Consumers are declared by each
service's routing table and provisioned from here too."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

DUPLICATE_WINDOW_SECONDS = 10 * 60

# COUNTY_INBOX holds what county systems sent, personal data in plaintext: it is kept
# only as long as intake may need it. Intake acknowledges a record only after storing it
# (encrypted) in its own store, and every later replay reads intake's store or FP_INTAKE
# (encrypted), never COUNTY_INBOX; so an inbound message is needed only until intake has
# stored it. Seven days cover an intake outage over a long holiday weekend with days to
# spare (the consumer-lag alert fires within minutes); past that the broker deletes it,
# handled or not, so the plaintext is not kept for ever (PIPL: storage limitation).
COUNTY_INBOX_MAX_AGE_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: tuple[str, ...]
    description: str
    max_age_seconds: float = 0  # 0: kept until the stream's limits (none) say otherwise


@dataclass(frozen=True)
class ConsumerSpec:
    """A durable pull consumer: who reads what."""

    stream: str
    durable: str
    filter_subjects: tuple[str, ...]
    description: str = ""
    max_attempts: int = 5  # then the message goes to the dead-letter stream
    batch_size: int = 250  # per pull and per transaction: 100 → 250 took the platform from about 1,080 to 1,220 records/s (cli.bench.cpu)
    # How long one pull request waits on the server; messages are handled as they
    # arrive, so this only sets how often an idle consumer asks again.
    pull_expires_seconds: float = 2.0
    ack_wait_seconds: float = 30.0
    max_ack_pending: int = 1000  # bounds memory: the broker holds the rest (backpressure)
    backoff_seconds: tuple[float, ...] = field(default=(0.5, 2.0, 5.0, 15.0))


COUNTY_INBOX = "COUNTY_INBOX"
STREAMS: tuple[StreamSpec, ...] = (
    StreamSpec(COUNTY_INBOX, ("county.>", "township.>"), "Facts published by other county systems (CONTRACT.md)", max_age_seconds=COUNTY_INBOX_MAX_AGE_SECONDS),
    StreamSpec("RECEIPTS", ("fp.receipts.>",), "One validation receipt per inbound record, per source"),
    StreamSpec("FP_INTAKE", ("fp.intake.>",), "Integration events of the intake service"),
    StreamSpec("FP_VERIFICATION", ("fp.verification.>",), "Integration events of the verification service"),
    StreamSpec("FP_ENFORCEMENT", ("fp.enforcement.>",), "Integration events of the enforcement service"),
    StreamSpec("DEAD_LETTERS", ("fp.dlq.>",), "Rejected records and poison messages, with raw bytes and reason"),
)


@lru_cache(maxsize=4096)  # subjects repeat (kinds × townships): asked once per published message
def stream_for_subject(subject: str) -> str:
    """The stream that captures a subject (publishers ask for a PubAck from it)."""
    for spec in STREAMS:
        for pattern in spec.subjects:
            if subject_matches(pattern, subject):
                return spec.name
    raise LookupError(f"no stream captures subject {subject!r}")


def subject_matches(pattern: str, subject: str) -> bool:
    pattern_tokens, subject_tokens = pattern.split("."), subject.split(".")
    for index, token in enumerate(pattern_tokens):
        if token == ">":
            return len(subject_tokens) > index
        if index >= len(subject_tokens) or (token != "*" and token != subject_tokens[index]):
            return False
    return len(pattern_tokens) == len(subject_tokens)

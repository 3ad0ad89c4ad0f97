"""The statuses that end an application's or a case's work: "open" means none of them.

Defined once here; the read models keep the status as the services announce it.
"""

from __future__ import annotations

# Decided (or withdrawn): nothing more is awaited from the county. The statuses before
# a decision (submitted, checked, information_requested, information_supplied) are open.
FINAL_APPLICATION_STATUSES = frozenset({"approved", "refused", "published", "certificate_issued", "revoked", "withdrawn"})
# A concluded case is closed for reporting too; a reopened one is open again.
FINAL_CASE_STATUSES = frozenset({"concluded", "closed"})


def is_open(status: str, final_statuses: frozenset[str]) -> bool:
    return status not in final_statuses

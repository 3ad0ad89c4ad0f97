"""Errors of the verification domain."""

from __future__ import annotations


class RuleViolation(Exception):
    """A command breaks a domain rule. `status` is the HTTP status it maps to
    (409 conflict with the application's state, 422 unacceptable input, 403 wrong section)."""

    def __init__(self, field: str, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.field, self.message, self.status = field, message, status

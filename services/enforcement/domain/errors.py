"""Errors of the enforcement domain."""

from __future__ import annotations


class CaseRuleError(ValueError):
    """A command breaks a rule of the case; names the field the officer must change."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

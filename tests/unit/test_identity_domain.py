"""The identity provider's pure rules: what an account may hold, when logins lock."""

from datetime import datetime, timedelta, timezone

import pytest

from services.identity.domain.accounts import ROLES, Account, AccountRuleError, Grants
from services.identity.domain.lockout import LockoutPolicy, active_until, lock_after

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
POLICY = LockoutPolicy()


def refused_option(grants: Grants) -> str:
    with pytest.raises(AccountRuleError) as refused:
        grants.validated()
    return refused.value.option


def test_every_documented_role_is_accepted():
    assert set(ROLES) == {"township_officer", "section_staff", "section_head", "enforcement_officer", "auditor",
                          "statistician", "agency_liaison", "administrator", "operations"}
    assert Grants(("auditor",)).validated().roles == ("auditor",)


@pytest.mark.parametrize("grants, option", [
    (Grants(("superuser",)), "--role"),
    (Grants(("section_staff",), ("人事科",)), "--section"),
    (Grants(("township_officer",), township="130132999"), "--township"),
    (Grants(("agency_liaison",), agency="army"), "--agency"),
    (Grants(("township_officer",)), "--township"),
    (Grants(("agency_liaison",)), "--agency"),
    (Grants(("section_staff",)), "--section"),
    (Grants(("section_head",)), "--section"),
])
def test_bad_grants_are_refused_naming_the_option(grants, option):
    assert refused_option(grants) == option


def test_a_township_officer_holds_one_known_township():
    assert Grants(("township_officer",), township="130132100").validated().township == "130132100"


def test_granting_more_keeps_what_was_held_and_checks_the_result():
    grants = Grants(("section_staff",), ("扶助中心",)).plus(("section_head",), ("财务科",))
    assert grants.roles == ("section_staff", "section_head") and grants.sections == ("扶助中心", "财务科")
    with pytest.raises(AccountRuleError):
        grants.plus(("township_officer",))  # without a township


def test_an_account_needs_a_role_and_a_name():
    with pytest.raises(AccountRuleError) as refused:
        Account.new("FZ-09", "王芳", Grants())
    assert refused.value.option == "--role"
    with pytest.raises(AccountRuleError) as refused:
        Account.new("FZ-09", " ", Grants(("auditor",)))
    assert refused.value.option == "--name"


def test_five_failures_within_the_window_lock_for_the_lock_time():
    failures = [NOW - timedelta(minutes=m) for m in (12, 9, 6, 3)]
    assert lock_after(failures, NOW, 5, POLICY.account_window, POLICY.account_lock) is None  # four
    assert lock_after([*failures, NOW], NOW, 5, POLICY.account_window, POLICY.account_lock) == NOW + timedelta(minutes=15)


def test_failures_older_than_the_window_do_not_count():
    failures = [NOW - timedelta(minutes=m) for m in (20, 16, 6, 3)] + [NOW]
    assert lock_after(failures, NOW, 5, POLICY.account_window, POLICY.account_lock) is None


def test_a_lock_is_active_until_its_end_only():
    end = NOW + timedelta(minutes=15)
    assert active_until([end], NOW) == end
    assert active_until([end], end) is None
    assert active_until([NOW - timedelta(minutes=1)], NOW) is None

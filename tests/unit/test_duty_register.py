"""The bureau's register of duties (部门职责登记表), carried as data, routes inbound work."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from services.intake.adapters.data_files import DUTY_REGISTER as DEFAULT_PATH, load_duty_register
from services.intake.domain.routing import DutyRegister, Route, UnroutableError

COUNTY_KINDS = [
    "police.birth.registered",
    "police.residence.registered",
    "health.ultrasound.recorded",
    "health.termination.recorded",
    "health.death.reported",
    "drug.sale.recorded",
    "pension.status.changed",
    "hotline.tip.received",
    "petitions.petition.received",
    "online_hall.satisfaction.rated",
]
TOWNSHIP_KINDS = [
    "township.beneficiary.reported",
    "township.followup.recorded",
    "township.migrant.certificate_presented",
]
APPLICATION_KINDS = [
    "rebirth_approval",
    "first_child_registration",
    "only_child_honor_certificate",
    "exam_bonus_qualification",
]
# The bureau's register of duties (Chinese original), kept in the repository.
SEED = Path(__file__).resolve().parents[2] / "docs" / "reference" / "duty_register_original.txt"


@pytest.fixture(scope="module")
def register() -> DutyRegister:
    return load_duty_register()


def raw_register() -> dict:
    return json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))


def test_the_real_register_loads_with_its_eleven_duties(register: DutyRegister) -> None:
    assert register.title == "元氏县人口和计划生育局部门职责登记表"
    assert [duty.no for duty in register.duties] == list(range(1, 12))
    assert all(duty.items for duty in register.duties)


def test_every_section_in_the_register_has_an_english_name(register: DutyRegister) -> None:
    named = {section for duty in register.duties for item in duty.items for section in item.sections}
    assert named == set(register.sections)
    assert register.sections["法规科"] == "Regulations Section"
    assert all(english.strip() for english in register.sections.values())


def test_an_item_with_an_empty_section_cell_inherits_the_section_above_it(register: DutyRegister) -> None:
    supply = register.duty(2)
    assert supply is not None
    assert [item.sections for item in supply.items[4:7]] == [("药具站",)] * 3
    migrants = register.duty(7)
    assert migrants is not None
    assert all(item.sections == ("流动人口科",) for item in migrants.items)


def test_every_duty_and_work_item_is_quoted_verbatim_from_the_chinese_original(register: DutyRegister) -> None:
    original = SEED.read_text(encoding="utf-8")
    for duty in register.duties:
        assert duty.duty in original
        for item in duty.items:
            assert item.work_item in original


@pytest.mark.parametrize("kind", COUNTY_KINDS + TOWNSHIP_KINDS)
def test_every_inbound_kind_routes_to_a_named_section(register: DutyRegister, kind: str) -> None:
    route = register.route(kind)
    assert route.section in register.sections
    assert route.section_en == register.sections[route.section]
    assert route.work_item


@pytest.mark.parametrize("application_kind", APPLICATION_KINDS)
def test_every_application_kind_routes_to_a_named_section(register: DutyRegister, application_kind: str) -> None:
    route = register.route("township.application.submitted", application_kind)
    assert route.section in register.sections


def test_rebirth_approval_lands_in_the_regulations_section(register: DutyRegister) -> None:
    route = register.route("township.application.submitted", "rebirth_approval")
    assert route == Route("法规科", "Regulations Section", 4, 1, "负责县级权限的再生育审批工作")


def test_certificates_land_in_the_county_direct_section(register: DutyRegister) -> None:
    for kind in ("first_child_registration", "only_child_honor_certificate"):
        route = register.route("township.application.submitted", kind)
        assert (route.section, route.duty_no, route.item_no) == ("县直科", 4, 2)


def test_petitions_are_owned_by_the_petitions_section_though_the_item_lists_enforcement_first(
    register: DutyRegister,
) -> None:
    route = register.route("petitions.petition.received")
    assert (route.section, route.duty_no, route.item_no) == ("信访科", 9, 2)


def test_an_unknown_kind_raises_unroutable_naming_the_kind(register: DutyRegister) -> None:
    with pytest.raises(UnroutableError, match="police.marriage.registered"):
        register.route("police.marriage.registered")


def test_an_application_without_its_kind_is_unroutable(register: DutyRegister) -> None:
    with pytest.raises(UnroutableError, match="application kind"):
        register.route("township.application.submitted")
    with pytest.raises(LookupError, match="adoption"):
        register.route("township.application.submitted", "adoption")


def test_a_route_to_a_missing_item_is_rejected_with_a_clear_message() -> None:
    data = raw_register()
    data["routes"].append({"kind": "police.marriage.registered", "duty": 4, "item": 9})
    with pytest.raises(ValueError, match=r"'police.marriage.registered' points at duty 4 item 9, which is not in"):
        DutyRegister.from_dict(data)


def test_a_route_to_a_missing_duty_is_rejected_with_a_clear_message() -> None:
    data = raw_register()
    data["routes"][0]["duty"] = 12
    with pytest.raises(ValueError, match="points at duty 12, which is not in the register"):
        DutyRegister.from_dict(data)


def test_a_section_missing_from_the_sections_table_is_rejected() -> None:
    data = raw_register()
    del data["sections"]["回访中心"]
    with pytest.raises(ValueError, match="'回访中心', which is not in the register's 'sections'"):
        DutyRegister.from_dict(data)


def test_an_owner_section_that_the_item_does_not_list_is_rejected() -> None:
    data = raw_register()
    route = next(r for r in data["routes"] if r["kind"] == "petitions.petition.received")
    route["owner_section"] = "回访中心"
    with pytest.raises(ValueError, match="is the work of 执法大队, 信访科"):
        DutyRegister.from_dict(data)


def test_the_same_route_given_twice_is_rejected() -> None:
    data = raw_register()
    data["routes"].append(copy.deepcopy(data["routes"][0]))
    with pytest.raises(ValueError, match="given twice"):
        DutyRegister.from_dict(data)


def test_the_register_file_names_itself_when_it_is_invalid(tmp_path: Path) -> None:
    data = raw_register()
    data["routes"][0]["item"] = 99
    broken = tmp_path / "register.json"
    broken.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ValueError, match="register.json"):
        load_duty_register(broken)

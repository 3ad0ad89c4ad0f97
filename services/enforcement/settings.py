from __future__ import annotations

from pathlib import Path

from pydantic import Field

from services.enforcement.application.signals import Detection, Reveal
from services.enforcement.domain.deadlines import DeadlineRules
from services.enforcement.domain.detectors.late_termination import LateTerminationRule
from services.enforcement.domain.detectors.scan_then_termination import ScanThenTerminationRule
from services.enforcement.domain.detectors.sex_ratio import SexRatioRule
from services.enforcement.domain.detectors.unprescribed_sales import UnprescribedSalesRule
from shared.calendar import DEFAULT_OVERRIDE, CalendarOverride
from shared.settings import ServiceSettings


class EnforcementSettings(ServiceSettings):
    """FPB_* variables. Thresholds and limits are the bureau's to set."""

    keystore_url: str | None = Field(None, description="The personal-data key store; without it the detectors that need gestation weeks and medical indications are off")
    key_dir: Path | None = Field(None, description="Directory holding master.key and matching.key")
    anonymous_tip_key_file: Path | None = Field(None, description="Key anonymous tips' case ids are hashed under (enforcement's alone: put it where no other service is given access, as `fpb up`, compose and k8s do); default <key_dir>/enforcement_anonymous_tips.key, created on first start; a key found there moves to this file")
    duty_register_path: Path | None = Field(None, description="The bureau's duty register (owning sections on triage); default: the register intake routes by")

    officer_sections: tuple[str, ...] = Field(("执法大队", "信访科", "法规科"), description="Sections whose officers may change cases")
    petition_working_days: int = Field(60, ge=1, description="信访: answer due within this many working days of receipt")
    administrative_review_working_days: int = Field(60, ge=1, description="行政复议: decision due within this many working days")
    deadline_nearing_working_days: int = Field(5, ge=0, description="A deadline this many working days away or less raises a nearing alert")
    deadline_check_seconds: float = Field(60.0, gt=0, description="How often the service raises nearing/breached deadline events")
    calendar_override_file: Path | None = Field(DEFAULT_OVERRIDE, description="Holiday arrangements for years chinesecalendar does not know (see shared/calendar_override.json)")
    late_termination_min_weeks: int = Field(14, ge=1, description="两非: a termination at or beyond this many weeks with no medical indication is a signal")
    termination_drug_codes: tuple[str, ...] = Field(("H10950347", "H20000668"), description="Approval numbers of termination drugs (JSON list)")
    unprescribed_sales_max: int = Field(3, ge=0, description="An outlet selling termination drugs without prescription more often than this in the window is a signal")
    unprescribed_sales_window_days: int = Field(30, ge=1, description="The window for unprescribed sales, days")
    scan_then_termination_window_days: int = Field(30, ge=1, description="An ultrasound followed by a termination within this many days is a signal")
    sex_ratio_window_days: int = Field(365, ge=1, description="The rolling window of linked births for a facility's or operator's sex ratio, days")
    sex_ratio_min_births: int = Field(10, ge=1, description="Fewest linked births in the window before a facility's or operator's ratio is judged")
    sex_ratio_max: float = Field(120.0, gt=0, description="Boys per 100 girls above which a facility or operator is a signal")

    def calendar(self) -> CalendarOverride:
        return CalendarOverride.from_file(self.calendar_override_file)

    def deadline_rules(self) -> DeadlineRules:
        return DeadlineRules(
            working_days={"petition": self.petition_working_days, "administrative_review": self.administrative_review_working_days},
            nearing_within=self.deadline_nearing_working_days,
            calendar=self.calendar(),
        )

    def detection(self, reveal: Reveal) -> Detection:
        return Detection(
            reveal=reveal,
            late=LateTerminationRule(self.late_termination_min_weeks),
            sales=UnprescribedSalesRule(frozenset(self.termination_drug_codes), self.unprescribed_sales_max, self.unprescribed_sales_window_days),
            scans=ScanThenTerminationRule(self.scan_then_termination_window_days),
            ratio=SexRatioRule(self.sex_ratio_window_days, self.sex_ratio_min_births, self.sex_ratio_max),
        )

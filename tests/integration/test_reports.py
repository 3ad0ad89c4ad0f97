"""Reports from the read models, on SQLite and PostgreSQL, against hand-computed fixtures."""

from __future__ import annotations

import json
from pathlib import Path

from services.reporting.adapters.read_models import ReadModelStore
from services.reporting.application.sex_ratio_report import sex_ratio_report
from services.reporting.domain.projections import changes_for
from services.reporting.domain.sex_ratio import SexRatioBand
from shared.contracts.integration import read_event
from tests.identity_support import acting_officers

ACCEPTED = json.loads((Path(__file__).parent.parent / "samples" / "integration" / "intake.submission.accepted.v1.json").read_text())

# (township, birth date, order, sex, how many)
BIRTHS = [
    ("130132203", "2025-01-15", 1, "M", 20),
    ("130132203", "2025-02-10", 2, "M", 16),
    ("130132203", "2025-03-03", 1, "F", 24),
    ("130132203", "2025-08-01", 1, "F", 9),  # second half: outside 2025-H1
    ("130132100", "2025-04-20", 1, "M", 30),
    ("130132100", "2025-05-20", 3, "F", 29),
    ("130132206", "2025-06-30", 2, "M", 12),
    ("130132206", "2025-06-30", 4, "F", 4),
]


def a_birth(n: int, township: str, birth_date: str, order: int, sex: str):
    envelope = json.loads(json.dumps(ACCEPTED))
    envelope["event_id"] = f"intake-birth-{n}"
    payload = envelope["payload"]
    payload.update(kind="police.birth.registered", source="police", township_code=township, schema="county.police.birth.registered/v1")
    payload["data"] = {"sex": sex, "birth_date": birth_date, "birth_order": order, "township_code": township}
    return read_event(json.dumps(envelope, ensure_ascii=False).encode())


def test_the_sex_ratio_report_matches_the_hand_computed_fixture(store_url):
    read_models = ReadModelStore(store_url)
    n = 0
    for township, birth_date, order, sex, count in BIRTHS:
        for _ in range(count):
            n += 1
            received = a_birth(n, township, birth_date, order, sex)
            read_models.apply(received.envelope.event_id, "FP_INTAKE", n, changes_for(received))
    band = SexRatioBand()
    by_township = sex_ratio_report(read_models.births_by("township_code", "2025-01", "2025-06"), "township_code", "2025-H1", band)
    rows = {row["township_code"]: row for row in by_township["rows"]}
    # 黑水坊乡 H1: 36 boys, 24 girls -> 150.0, 60 births: above the band.
    assert (rows["130132203"]["boys"], rows["130132203"]["girls"], rows["130132203"]["ratio"]) == (36, 24, 150.0)
    assert rows["130132203"]["status"] == "above" and rows["130132203"]["township_name"] == "黑水坊乡"
    # 槐阳镇: 30 boys, 29 girls -> 103.4, normal.
    assert (rows["130132100"]["ratio"], rows["130132100"]["status"]) == (103.4, "normal")
    # 北褚乡: 12 boys, 4 girls -> 300.0 from 16 births: too few to warn.
    assert (rows["130132206"]["ratio"], rows["130132206"]["status"], rows["130132206"]["warning"]) == (300.0, "too_few", False)

    by_order = sex_ratio_report(read_models.births_by("birth_order", "2025-01", "2025-12"), "birth_order", "2025", band)
    orders = {row["birth_order"]: (row["boys"], row["girls"]) for row in by_order["rows"]}
    assert orders == {"1": (50, 33), "2": (28, 0), "3+": (0, 33)}

    county = sex_ratio_report(read_models.births_by("county", "2025-01", "2025-12"), "county", "2025", band)
    assert (county["rows"][0]["boys"], county["rows"][0]["girls"], county["rows"][0]["ratio"]) == (78, 66, 118.2)
    read_models.close()


def test_a_birth_delivered_twice_is_counted_once(store_url):
    read_models = ReadModelStore(store_url)
    received = a_birth(1, "130132100", "2025-04-20", 1, "M")
    assert read_models.apply(received.envelope.event_id, "FP_INTAKE", 1, changes_for(received)) is True
    assert read_models.apply(received.envelope.event_id, "FP_INTAKE", 1, changes_for(received)) is False
    assert read_models.births_by("county", "2025-01", "2025-12") == [{"boys": 1, "girls": 0}]
    read_models.close()


def fill_births(read_models: ReadModelStore) -> None:
    n = 0
    for township, birth_date, order, sex, count in BIRTHS:
        for _ in range(count):
            n += 1
            received = a_birth(n, township, birth_date, order, sex)
            read_models.apply(received.envelope.event_id, "FP_INTAKE", n, changes_for(received))


async def test_the_statistical_report_downloads_as_excel_and_csv_with_chinese_headings(store_url):
    import io

    import httpx
    from openpyxl import load_workbook

    from services.reporting.bootstrap import bootstrap
    from services.reporting.settings import ReportingSettings

    fill_births(ReadModelStore(store_url))
    service = bootstrap(ReportingSettings(nats_url="nats://127.0.0.1:1", store_url=store_url))
    transport = httpx.ASGITransport(app=service.http)
    async with httpx.AsyncClient(transport=transport, base_url="http://reporting", auth=acting_officers("sj-auditor")) as client:
        workbook_response = await client.get("/reports/statistical.xlsx", params={"period": "2025-H1"})
        csv_response = await client.get("/reports/statistical.csv", params={"period": "2025-H1", "sheet": "sex_ratio"})
        bad_period = await client.get("/reports/statistical.xlsx", params={"period": "2025-H3"})
        bad_sheet = await client.get("/reports/statistical.csv", params={"period": "2025", "sheet": "weather"})
    for close in service.closers:
        close()

    sheet = load_workbook(io.BytesIO(workbook_response.content))["sex_ratio"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "元氏县出生人口性别比统计表（2025年上半年）"
    assert rows[1][:6] == ("乡镇代码", "乡镇", "出生数", "男", "女", "性别比（女=100）")
    assert len(rows) == 2 + 15 + 1  # title, headings, every township, the county total
    by_name = {row[1]: row for row in rows[2:]}
    assert by_name["黑水坊乡"][2:6] == (60, 36, 24, 150.0) and by_name["黑水坊乡"][8] == "偏高"
    assert by_name["东张乡"][2:5] == (0, 0, 0) and by_name["东张乡"][8] == "样本不足"
    assert by_name["全县合计"][2:6] == (135, 78, 57, 136.8)

    text = csv_response.content.decode("utf-8")
    assert text.startswith("\ufeff元氏县出生人口性别比统计表") and "乡镇代码,乡镇,出生数" in text
    assert bad_period.status_code == 422 and "period" in bad_period.text
    assert bad_sheet.status_code == 422 and "sheet" in bad_sheet.text


def test_a_case_row_follows_its_updates_and_an_update_without_a_row_changes_nothing(store_url):
    samples = Path(__file__).parent.parent / "samples" / "integration"
    opened = read_event((samples / "enforcement.case.opened.v1.json").read_bytes())
    updated_envelope = json.loads((samples / "enforcement.case.updated.v1.json").read_text())
    updated_envelope["payload"].update(case_id=opened.payload.case_id, status="referred")
    updated = read_event(json.dumps(updated_envelope, ensure_ascii=False).encode())
    stray_envelope = json.loads(json.dumps(updated_envelope))
    stray_envelope["event_id"], stray_envelope["payload"]["case_id"] = "enforcement-stray", "00000000-0000-0000-0000-000000000000"
    stray = read_event(json.dumps(stray_envelope, ensure_ascii=False).encode())
    read_models = ReadModelStore(store_url)
    read_models.apply_many([(e.envelope.event_id, "FP_ENFORCEMENT", n, changes_for(e)) for n, e in enumerate((opened, updated, stray), 1)])
    assert [(row["case_id"], row["status"]) for row in read_models.rows("rm_cases")] == [(opened.payload.case_id, "referred")]
    read_models.close()


def test_within_one_batch_the_later_upsert_of_a_row_wins(store_url):
    from services.reporting.domain.projections import Upsert

    row = {"case_number": "ZF-2025-00000001", "origin": "hotline_tip", "category": "other", "township_code": "", "section": "执法大队", "opened_at": "2025-01-01T00:00:00+00:00"}
    first = Upsert("rm_cases", {"case_id": "c1"}, {**row, "status": "opened"})
    later = Upsert("rm_cases", {"case_id": "c1"}, {**row, "status": "triaged"})
    read_models = ReadModelStore(store_url)
    read_models.apply_many([("m1", "S", 1, [first]), ("m2", "S", 2, [later])])
    assert [r["status"] for r in read_models.rows("rm_cases")] == ["triaged"]
    read_models.close()

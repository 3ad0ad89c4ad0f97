"""Write report sheets as Excel (.xlsx, one sheet each) or CSV (one sheet)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from services.reporting.application.statistical_report import Sheet


def to_xlsx(sheets: Sequence[Sheet]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for sheet in sheets:
        worksheet = workbook.create_sheet(sheet.name)
        worksheet.append([sheet.title])
        worksheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(sheet.headers))
        worksheet["A1"].font = Font(bold=True, size=14)
        worksheet["A1"].alignment = Alignment(horizontal="center")
        worksheet.append(list(sheet.headers))
        for cell in worksheet[2]:
            cell.font = Font(bold=True)
        for row in sheet.rows:
            worksheet.append(list(row))
        for index, column in enumerate(worksheet.iter_cols(min_row=2), start=1):  # row 1 is the merged title
            width = max(len(str(cell.value or "")) for cell in column)
            worksheet.column_dimensions[get_column_letter(index)].width = max(8, min(30, width * 2))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def to_csv(sheet: Sheet) -> bytes:
    """UTF-8 with a byte-order mark, so Excel on a Chinese Windows opens it correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([sheet.title])
    writer.writerow(sheet.headers)
    writer.writerows(["" if value is None else value for value in row] for row in sheet.rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")

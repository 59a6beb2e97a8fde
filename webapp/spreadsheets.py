"""The one writer of every XLSX and CSV the app hands out (bureau 台账, 教研 ledgers and summaries).

User text is data: it is always written as text, and text that a spreadsheet would run as a formula (a leading
``= + - @``, tab or CR, OWASP's list) is neutralised — in CSV by a leading apostrophe, in XLSX by a string cell
with Excel's "quote prefix" style (the value itself unchanged). Numbers and dates stay typed. One style for
everyone: bold shaded header, frozen, with filters, Chinese dates.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from flask import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

#: Leading characters that make Excel, WPS or LibreOffice read a cell as a formula (OWASP CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
DATE_FORMAT = 'yyyy"年"m"月"d"日"'
DATETIME_FORMAT = 'yyyy"年"m"月"d"日" hh:mm'
PERCENT_FORMAT = "0.0%"
HEADER_FILL = PatternFill("solid", fgColor="DDE7F0")
OVERDUE_FILL = PatternFill("solid", fgColor="FBE3E1")
HEADER_FONT = Font(bold=True)
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv; charset=utf-8"
#: Excel refuses sheet names longer than 31 characters or with these characters.
_SHEET_FORBIDDEN = str.maketrans({c: "_" for c in "[]:*?/\\"})


@dataclass
class Column:
    """A column: header, width in characters, and ``kind`` (text, date, datetime, percent, number)."""

    header: str
    width: int = 12
    kind: str = "text"


@dataclass
class Sheet:
    """One worksheet: its columns, its rows, which rows to highlight (overdue), and an optional note above."""

    title: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[Any]]
    highlight: set[int] = field(default_factory=set)
    note: str = ""


def is_formula_like(text: str) -> bool:
    """Tell whether a spreadsheet would treat ``text`` as a formula."""
    return text.startswith(FORMULA_START)


def _clean(text: str) -> str:
    # XML cannot carry most C0 controls; input refuses them, but old rows may hold some.
    return ILLEGAL_CHARACTERS_RE.sub("", text)


def csv_value(value: Any) -> Any:
    """A value as CSV cell text: user text neutralised with a leading apostrophe, numbers as they are."""
    if isinstance(value, str):
        value = _clean(value)
        return "'" + value if is_formula_like(value) else value
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value


def _text_cell(sheet: Worksheet, text: str) -> WriteOnlyCell:
    text = _clean(text)
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"  # never a formula, whatever the text starts with
    if is_formula_like(text):
        cell.quotePrefix = True  # and shown (and re-saved) by Excel as text
    return cell


def _cell(sheet: Worksheet, value: Any, column: Column, highlighted: bool) -> WriteOnlyCell:
    if isinstance(value, str):
        cell = _text_cell(sheet, value)
    else:
        if isinstance(value, datetime):
            value = value.replace(tzinfo=None)
        elif isinstance(value, bool):
            value = "是" if value else "否"
        elif value is not None and not isinstance(value, int | float | Decimal | date):
            value = str(value)  # anything else is shown, never evaluated
        cell = _text_cell(sheet, value) if isinstance(value, str) else WriteOnlyCell(sheet, value=value)
        if isinstance(value, date):
            as_datetime = column.kind == "datetime" or (column.kind != "date" and isinstance(value, datetime))
            cell.number_format = DATETIME_FORMAT if as_datetime else DATE_FORMAT
        elif column.kind == "percent" and isinstance(value, float):
            cell.number_format = PERCENT_FORMAT
    if column.width >= 30:
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    if highlighted:
        cell.fill = OVERDUE_FILL
    return cell


def workbook(sheets: Sequence[Sheet]) -> bytes:
    """Write the sheets as XLSX (streaming: large ledgers stay small in memory) and return the file's bytes."""
    book = Workbook(write_only=True)
    for spec in sheets:
        sheet = book.create_sheet(_clean(spec.title).translate(_SHEET_FORBIDDEN)[:31] or "Sheet")
        for index, column in enumerate(spec.columns, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = column.width
        sheet.freeze_panes = "A3" if spec.note else "A2"
        if spec.note:
            sheet.append([_text_cell(sheet, spec.note)])
        header = []
        for column in spec.columns:
            cell = _text_cell(sheet, column.header)
            cell.font = HEADER_FONT
            cell.fill = HEADER_FILL
            header.append(cell)
        sheet.append(header)
        count = 0
        for number, row in enumerate(spec.rows):
            highlighted = number in spec.highlight
            cells = zip(row, spec.columns, strict=True)
            sheet.append([_cell(sheet, value, column, highlighted) for value, column in cells])
            count += 1
        first = 2 if spec.note else 1
        last_col = get_column_letter(len(spec.columns))
        sheet.auto_filter.ref = f"A{first}:{last_col}{first + max(count, 1)}"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(sheet: Sheet) -> bytes:
    """The sheet as CSV: UTF-8 with a BOM and CRLF line ends, which Excel and WPS open with the Chinese intact."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if sheet.note:
        writer.writerow([csv_value(sheet.note)])
    writer.writerow([csv_value(c.header) for c in sheet.columns])
    for row in sheet.rows:
        writer.writerow([csv_value(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def download(sheet: Sheet | Sequence[Sheet], filename: str, fmt: str = "xlsx") -> Response:
    """A download of the sheet(s) as ``fmt`` (xlsx, or csv for a single sheet) named ``filename`` (Chinese allowed)."""
    sheets = [sheet] if isinstance(sheet, Sheet) else list(sheet)
    if fmt == "csv":
        if len(sheets) != 1:
            raise ValueError("a CSV file holds one sheet")
        body, mimetype = csv_bytes(sheets[0]), CSV_MIMETYPE
    else:
        body, mimetype = workbook(sheets), XLSX_MIMETYPE
    response = Response(body, mimetype=mimetype)
    name = f"{filename}.{fmt}"
    response.headers["Content-Disposition"] = f"attachment; filename=\"dudao.{fmt}\"; filename*=UTF-8''{quote(name)}"
    return response

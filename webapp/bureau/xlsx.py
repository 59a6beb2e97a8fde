"""XLSX workbooks as bureaus keep their 台账: Chinese headers, Chinese dates, frozen header, filters.

No Flask here: callers pass rows of plain values (dates as ``date``/``datetime`` in China time).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

DATE_FORMAT = 'yyyy"年"m"月"d"日"'
DATETIME_FORMAT = 'yyyy"年"m"月"d"日" hh:mm'
PERCENT_FORMAT = "0.0%"
HEADER_FILL = PatternFill("solid", fgColor="DDE7F0")
OVERDUE_FILL = PatternFill("solid", fgColor="FBE3E1")
HEADER_FONT = Font(bold=True)
#: Excel refuses sheet names longer than 31 characters or with these characters.
_SHEET_FORBIDDEN = str.maketrans({c: "_" for c in "[]:*?/\\"})


@dataclass
class Column:
    """A column: header, width in characters, and a number format for dates or shares."""

    header: str
    width: int = 12
    kind: str = "text"  # text | date | datetime | percent | number


@dataclass
class Sheet:
    """One worksheet: its columns, its rows, and which rows to highlight (overdue)."""

    title: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[Any]]
    highlight: set[int] = field(default_factory=set)
    note: str = ""


def _cell(sheet: Worksheet, value: Any, column: Column, highlighted: bool) -> WriteOnlyCell:
    if isinstance(value, datetime):
        value = value.replace(tzinfo=None)
    cell = WriteOnlyCell(sheet, value=value)
    if column.kind == "date" and isinstance(value, date):
        cell.number_format = DATE_FORMAT
    elif column.kind == "datetime" and isinstance(value, datetime):
        cell.number_format = DATETIME_FORMAT
    elif column.kind == "percent" and isinstance(value, float):
        cell.number_format = PERCENT_FORMAT
    if column.width >= 30:
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    if highlighted:
        cell.fill = OVERDUE_FILL
    return cell


def workbook(sheets: Sequence[Sheet]) -> bytes:
    """Write the sheets (streaming: large ledgers stay small in memory) and return the file's bytes."""
    book = Workbook(write_only=True)
    for spec in sheets:
        sheet = book.create_sheet(spec.title.translate(_SHEET_FORBIDDEN)[:31])
        for index, column in enumerate(spec.columns, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = column.width
        sheet.freeze_panes = "A3" if spec.note else "A2"
        if spec.note:
            sheet.append([spec.note])
        header = []
        for column in spec.columns:
            cell = WriteOnlyCell(sheet, value=column.header)
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

"""Read CSV and XLSX uploads into rows of strings keyed by column header."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

from openpyxl import load_workbook


class ImportFileError(ValueError):
    """The file itself cannot be read (not a row-level problem)."""


@dataclass(frozen=True)
class Table:
    """Headers and data rows; ``rows[i]`` is spreadsheet row ``i + 2``."""

    headers: list[str]
    rows: list[dict[str, str]]


def _cell_text(value: object) -> str:
    """Spreadsheet cells come typed; the schemas want text."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM) first; Excel in China saves CSV as GB18030."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError("无法识别文件编码，请另存为 UTF-8 编码的 CSV 或 XLSX 文件。")


def _table(raw_rows: list[list[str]], max_rows: int) -> Table:
    # Drop fully blank rows at the end but keep numbering of the rest.
    while raw_rows and not any(raw_rows[-1]):
        raw_rows.pop()
    if not raw_rows:
        raise ImportFileError("文件是空的：第一行应为表头。")
    headers = [h.strip() for h in raw_rows[0]]
    while headers and not headers[-1]:
        headers.pop()
    if not headers:
        raise ImportFileError("第1行没有表头。")
    body = raw_rows[1:]
    if len(body) > max_rows:
        raise ImportFileError(f"一次最多导入 {max_rows} 行，本文件有 {len(body)} 行，请分批导入。")
    rows = []
    for raw in body:
        padded = list(raw) + [""] * (len(headers) - len(raw))
        rows.append({h: padded[i].strip() for i, h in enumerate(headers) if h})
    return Table(headers=headers, rows=rows)


def read_table(filename: str, data: bytes, max_rows: int = 5000) -> Table:
    """Parse an uploaded CSV or XLSX file (first sheet)."""
    lower = filename.lower()
    if lower.endswith(".csv"):
        text = _decode(data)
        return _table([list(r) for r in csv.reader(io.StringIO(text))], max_rows)
    if lower.endswith(".xlsx"):
        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds on a broken file
            raise ImportFileError("无法读取 XLSX 文件，请确认文件未损坏。") from exc
        sheet = workbook.worksheets[0]
        raw = [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        workbook.close()
        return _table(raw, max_rows)
    raise ImportFileError("只支持 CSV 或 XLSX 文件。")

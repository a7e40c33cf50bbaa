"""The rejects-and-warnings workbook of one import, in Chinese, for the department to fix."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import duckdb

from tonghu.feeds.models import FeedImport
from tonghu.feeds.store import import_dir
from tonghu.pipeline.codes import WARNINGS, reasons_text
from tonghu.pipeline.ingest import BLOCKS_FILE, RECORDS_FILE, REJECTS_FILE
from tonghu.pipeline.sources import SOURCES_BY_NAME
from tonghu.web.exports import xlsx_bytes

REJECT_HEADER = ("数据来源", "文件", "工作表", "行号", "记录编号", "拒收原因", "原始内容")
WARNING_HEADER = ("数据来源", "文件", "工作表", "行号", "记录编号", "字段", "问题", "原始内容")


def import_report_xlsx(feed_import: FeedImport) -> bytes:
    folder = import_dir(feed_import)
    source = SOURCES_BY_NAME[feed_import.source]
    with duckdb.connect() as con:
        headers = {
            (file, sheet): header
            for file, sheet, header in con.execute(
                "SELECT file, sheet, header FROM read_parquet($1)", [str(folder / BLOCKS_FILE)]
            ).fetchall()
        }
        rejects = con.execute(
            "SELECT file, sheet, row, record_key, reasons, raw FROM read_parquet($1) "
            "ORDER BY file, sheet, row",
            [str(folder / REJECTS_FILE)],
        ).fetchall()
        warnings = con.execute(
            "SELECT file, sheet, row, record_key, w.field, w.code, raw "
            "FROM (SELECT *, unnest(warnings) AS w FROM read_parquet($1)) "
            "ORDER BY file, sheet, row",
            [str(folder / RECORDS_FILE)],
        ).fetchall()

    def reject_rows() -> Iterator[Sequence[object]]:
        for file, sheet, row, key, reasons, raw in rejects:
            content = raw[0] if "unreadable_row" in reasons else _cells(headers, file, sheet, raw)
            yield (source.label, file, sheet, row, key, reasons_text(reasons), content)

    def warning_rows() -> Iterator[Sequence[object]]:
        columns = {column.field: column.header for column in source.columns}
        for file, sheet, row, key, field, code, raw in warnings:
            label = columns.get(field, field)
            content = _cells(headers, file, sheet, raw)
            yield (source.label, file, sheet, row, key, label, WARNINGS.get(code, code), content)

    return xlsx_bytes(
        [("拒收的行", REJECT_HEADER, reject_rows()), ("警告", WARNING_HEADER, warning_rows())]
    )


def _cells(
    headers: dict[tuple[str, str], list[str]], file: str, sheet: str, raw: list[str | None]
) -> str:
    """A row's cells as ``表头=值`` pairs, the way the file named them."""
    header = headers.get((file, sheet), [])
    return "；".join(f"{name}={value or ''}" for name, value in zip(header, raw, strict=False))

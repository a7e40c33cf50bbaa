"""Step 9, export: the five files of feeds.md §6 from a round's result folder.

UTF-8 CSV with the header row first, written into a temporary folder beside OUT_DIR and
moved in file by file, so that a reader never sees a half-written file.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from tonghu.pipeline.duck import Connection, connect, quote, run
from tonghu.pipeline.ingest import REJECTS_FILE
from tonghu.pipeline.round import RESULT_FILES, SUMMARY_FILE

EXPORT_FILES = ("links.csv", "children.csv", "services.csv", "rejects.csv", "summary.json")

_SELECTS = {
    "links.csv": "SELECT source, record_key, child_id FROM {links} ORDER BY source, record_key",
    "children.csv": """
        SELECT child_id, name, sex, strftime(birth_date, '%Y-%m-%d') AS birth_date,
            id_number, hukou_code, residence_code,
            strftime(residence_since, '%Y-%m-%d') AS residence_since,
            CASE WHEN is_migrant THEN '1' ELSE '0' END AS is_migrant,
            CASE WHEN is_left_behind THEN '1' ELSE '0' END AS is_left_behind,
            nullif(array_to_string(key_care, ';'), '') AS key_care,
            nullif(array_to_string(difficulty, ';'), '') AS difficulty,
            dropout_risk, reasons
        FROM {children} ORDER BY child_id""",
    "services.csv": "SELECT child_id, service_code FROM {services} ORDER BY child_id, service_code",
    "rejects.csv": """
        SELECT source, file, sheet, row, record_key, array_to_string(reasons, ';') AS reason
        FROM {rejects} ORDER BY file, sheet, row""",
}


def write_export(folder: Path, out_dir: Path) -> list[Path]:
    """Write the export of the round whose results are in ``folder`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = {
        "links": folder / RESULT_FILES["links"],
        "children": folder / RESULT_FILES["children"],
        "services": folder / RESULT_FILES["services"],
        "rejects": folder / REJECTS_FILE,
    }
    with tempfile.TemporaryDirectory(prefix=".tonghu-export-", dir=out_dir) as staging:
        con = connect(memory_limit="1GB")
        try:
            for name, select in _SELECTS.items():
                sql = select.format(
                    **{key: f"read_parquet({quote(str(path))})" for key, path in tables.items()}
                )
                _copy_csv(con, sql, Path(staging) / name)
        finally:
            con.close()
        summary = json.loads((folder / SUMMARY_FILE).read_text(encoding="utf-8"))
        (Path(staging) / "summary.json").write_text(
            json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        written = []
        for name in EXPORT_FILES:
            target = out_dir / name
            (Path(staging) / name).replace(target)
            written.append(target)
    return written


def _copy_csv(con: Connection, select: str, path: Path) -> None:
    run(con, f"COPY ({select}) TO {quote(str(path))} (FORMAT csv, HEADER true)")

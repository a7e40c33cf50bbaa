"""Step 4, outcome (feeds.md §4): each row accepted with its warnings, a repeat, or rejected.

A row is rejected only when it cannot name a person (``missing_name``, ``missing_identity``),
when a row read earlier in the round has its record key with other content
(``duplicate_key``), or when its line could not be parsed (``unreadable_row``). A row whose
key and content were already seen is a *repeat*: ignored, so that importing a file again
changes nothing.

The wide rows are never copied here: ``judged`` is a view, the decisions are taken on a
narrow ``keyed`` table, and the accepted rows stream straight into their Parquet file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tonghu.pipeline.duck import Connection, quote, run
from tonghu.pipeline.read import Unreadable

_JUDGED = """
CREATE OR REPLACE TEMP VIEW judged AS
SELECT * EXCLUDE (value_warnings) REPLACE (
        coalesce(record_key, '无编号-' || content_hash[1:12]) AS record_key),
    list_concat(value_warnings, list_filter([
        warn(record_key IS NULL, 'record_key', 'missing_key'),
        warn(id_valid AND birth_date IS NOT NULL AND birth_date <> id_birth_date,
             'birth_date', 'id_birth_mismatch'),
        warn(id_valid AND sex IS NOT NULL AND sex <> id_sex, 'sex', 'id_sex_mismatch'),
        warn(hukou_origin = 'id_prefix', 'hukou_code', 'hukou_from_id_prefix')
    ], lambda w: w IS NOT NULL)) AS warnings,
    list_filter([
        CASE WHEN name IS NULL THEN 'missing_name' END,
        CASE WHEN NOT id_valid AND birth_date IS NULL THEN 'missing_identity' END
    ], lambda reason: reason IS NOT NULL) AS reasons
FROM located
"""

# Earlier rows of the round come first (order -1), then this batch in file and row order;
# the windows must see the earlier rows, so they are dropped only afterwards.
_KEYED = """
CREATE OR REPLACE TEMP TABLE keyed AS
WITH ordered AS (
    SELECT source, NULL AS file, NULL AS sheet, record_key, content_hash, -1 AS block_order,
        0 AS row, []::VARCHAR[] AS reasons, true AS prior
    FROM prior_records
    UNION ALL
    SELECT source, file, sheet, record_key, content_hash, block_order, row, reasons,
        false AS prior
    FROM judged
), windowed AS (
    SELECT *,
        len(reasons) = 0 AND first_value(content_hash) OVER (
            PARTITION BY source, record_key, len(reasons) = 0 ORDER BY block_order, row
        ) <> content_hash AS duplicate_key,
        row_number() OVER (PARTITION BY source, record_key, content_hash, len(reasons) = 0
                           ORDER BY block_order, row) > 1 AS repeat
    FROM ordered
)
SELECT source, file, sheet, block_order, row, record_key, content_hash, reasons,
    CASE WHEN len(reasons) > 0 THEN 'rejected'
         WHEN repeat THEN 'repeat'
         WHEN duplicate_key THEN 'duplicate_key'
         ELSE 'accepted' END AS outcome
FROM windowed WHERE NOT prior
"""

_REJECTED = """
CREATE OR REPLACE TEMP TABLE rejected AS
WITH candidates AS (
    SELECT j.source, j.file, j.sheet, j.row, j.record_key,
        CASE WHEN k.outcome = 'duplicate_key' THEN ['duplicate_key'] ELSE j.reasons END
            AS reasons,
        j.raw, j.content_hash, j.block_order
    FROM judged AS j JOIN keyed AS k USING (source, block_order, row)
    WHERE k.outcome IN ('rejected', 'duplicate_key')
    UNION ALL
    SELECT source, file, sheet, row, NULL, ['unreadable_row'], raw,
        md5(array_to_string(raw, chr(31))), block_order
    FROM unreadable_rows
)
SELECT * EXCLUDE (block_order) FROM candidates AS r
WHERE NOT EXISTS (
    SELECT 1 FROM prior_rejects AS p
    WHERE p.source = r.source AND p.content_hash = r.content_hash AND p.reasons = r.reasons)
QUALIFY row_number() OVER (PARTITION BY source, content_hash, reasons
                           ORDER BY block_order, row) = 1
ORDER BY block_order, row
"""

ACCEPTED = """
SELECT j.* EXCLUDE (reasons, block_order)
FROM judged AS j JOIN keyed AS k USING (source, block_order, row)
WHERE k.outcome = 'accepted'
"""


def _prior(con: Connection, name: str, paths: Sequence[Path], columns: str, empty: str) -> None:
    if paths:
        files = "[" + ", ".join(quote(str(path)) for path in paths) + "]"
        sql = f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT {columns} FROM read_parquet({files})"
    else:
        sql = f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT {empty} WHERE false"
    run(con, sql)


def _register_unreadable(
    con: Connection, unreadable: Sequence[Unreadable], orders: dict[str, int]
) -> None:
    run(
        con,
        """CREATE OR REPLACE TEMP TABLE unreadable_rows (source VARCHAR, file VARCHAR,
            sheet VARCHAR, row BIGINT, raw VARCHAR[], block_order INTEGER)""",
    )
    if unreadable:
        con.executemany(
            "INSERT INTO unreadable_rows VALUES (?, ?, ?, ?, ?, ?)",
            [
                (item.source, item.file, item.sheet, item.row, [item.raw], orders.get(item.file, 0))
                for item in unreadable
            ],
        )


def judge(
    con: Connection,
    *,
    unreadable: Sequence[Unreadable],
    file_orders: dict[str, int],
    prior_records: Sequence[Path],
    prior_rejects: Sequence[Path],
) -> None:
    """Build ``keyed`` (each row's outcome) and ``rejected``; ``ACCEPTED`` selects the rest."""
    _prior(
        con,
        "prior_records",
        prior_records,
        "source, record_key, content_hash",
        "''::VARCHAR AS source, ''::VARCHAR AS record_key, ''::VARCHAR AS content_hash",
    )
    _prior(
        con,
        "prior_rejects",
        prior_rejects,
        "source, content_hash, reasons",
        "''::VARCHAR AS source, ''::VARCHAR AS content_hash, []::VARCHAR[] AS reasons",
    )
    _register_unreadable(con, unreadable, file_orders)
    run(con, _JUDGED)
    run(con, _KEYED)
    run(con, _REJECTED)

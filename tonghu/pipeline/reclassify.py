"""One child classified again between rounds, when a visit brings new findings.

The child's records of its last round plus the new feed rows (a child director's visit
written as a ``visit_survey`` row, read and normalised like any feed) go through the same
classify and match steps a round runs, so a finding changes the file exactly as it would
had it come in a department's feed.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa

from tonghu.pipeline.classify import classify
from tonghu.pipeline.duck import connect, quote, run
from tonghu.pipeline.ingest import ingest
from tonghu.pipeline.match import match_services
from tonghu.pipeline.normalise import install_macros
from tonghu.pipeline.read import FeedFile
from tonghu.policy.profile import Profile

# Columns the round adds to its stored records that classify computes again.
_DERIVED = ("child_id", "source_rank", "own_date")


@dataclass(frozen=True)
class Reclassified:
    facts: dict[str, Any]  # the ``classified`` row of the child
    services: list[str]


def reclassify_child(
    *,
    child_id: str,
    round_records: Path | None,
    new_feeds: list[FeedFile],
    divisions: pa.Table,
    profile: Profile,
    as_of: date,
) -> Reclassified:
    """Classify ``child_id`` from its records in ``round_records`` (a round's records.parquet,
    or None for a child no round has seen) and the rows of ``new_feeds``, all of which
    belong to this child. The caller opens ``round_records`` through the round store's check
    (tonghu.rounds.store.round_store_file), so that they are never another database's."""
    with tempfile.TemporaryDirectory(prefix="tonghu-reclassify-") as work:
        intake = ingest(new_feeds, divisions=divisions, out_dir=Path(work) / "intake")
        con = connect(memory_limit="256MB", temp_dir=Path(work))
        try:
            install_macros(con)
            fresh = f"SELECT * FROM read_parquet({quote(str(intake.records))})"
            if round_records is not None:
                kept = (
                    f"SELECT * EXCLUDE ({', '.join(_DERIVED)}) "
                    f"FROM read_parquet({quote(str(round_records))}) WHERE child_id = $child"
                )
                run(con, f"CREATE TEMP TABLE records AS {kept} UNION ALL BY NAME {fresh}",
                    {"child": child_id})  # fmt: skip
            else:
                run(con, f"CREATE TEMP TABLE records AS {fresh}")
            run(
                con,
                "CREATE TEMP TABLE child_links AS SELECT DISTINCT source || '|' || record_key "
                "AS record_id, $child AS child_id FROM records",
                {"child": child_id},
            )
            children = classify(
                con,
                records="records",
                links="child_links",
                divisions=divisions,
                profile=profile,
                as_of=as_of,
            )
            services = match_services(con, children=children, profile=profile)
            cursor = run(con, f"SELECT * FROM {children}")
            columns = [column[0] for column in cursor.description]
            rows = cursor.fetchall()
            codes = run(con, f"SELECT service_code FROM {services} ORDER BY 1").fetchall()
        finally:
            con.close()
    if len(rows) != 1:
        raise ValueError(f"expected one classified child, got {len(rows)}")
    return Reclassified(facts=dict(zip(columns, rows[0], strict=True)),
                        services=[code for (code,) in codes])  # fmt: skip

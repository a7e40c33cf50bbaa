"""A whole monitoring round (一轮监测摸排) on the batch side, without Django:
ingest → link → identity → classify → match, each result written as Parquet into one folder.

The web side loads that folder into the database in one transaction (tonghu.rounds), and
``tonghu.pipeline.export`` writes the contract's CSV files from it. Nothing here touches the
database, so a round that fails or is killed leaves no trace but its temporary folder.
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa

from tonghu.pipeline.classify import classify
from tonghu.pipeline.compare import compare_rounds
from tonghu.pipeline.disagree import find_disagreements
from tonghu.pipeline.duck import Connection, connect, quote, run
from tonghu.pipeline.errors import RoundError
from tonghu.pipeline.identity import assign_child_ids
from tonghu.pipeline.ingest import IngestResult, StepClock, ingest
from tonghu.pipeline.invariants import (
    CLASSIFY_INVARIANTS,
    IDENTITY_INVARIANTS,
    LINK_INVARIANTS,
    check,
)
from tonghu.pipeline.link import link
from tonghu.pipeline.match import match_services
from tonghu.pipeline.normalise import install_macros
from tonghu.pipeline.read import FeedFile, SkippedFile
from tonghu.pipeline.sources import SOURCES
from tonghu.pipeline.summarise import summarise
from tonghu.policy.profile import Profile

STEPS = {
    "ingest": "读取与清洗",
    "link": "跨部门比对",
    "identity": "儿童编号",
    "classify": "认定",
    "match": "服务匹配",
    "summarise": "统计汇总",
    "write": "写出结果",
}
CHILD_SERIAL_WIDTH = 8
RESULT_FILES = {
    "links": "links.parquet",  # record_id, source, record_key, child_id
    "children": "children.parquet",  # the classified children
    "services": "services.parquet",  # child_id, service_code
    "review": "review.parquet",  # pairs for 人工核实
    "history": "history.parquet",  # child_id, event, other_child_id
    "changes": "changes.parquet",  # child_id, kind, field, old_value, new_value
    "records": "ledger_records.parquet",  # each accepted record with its child and own date
    "disagreements": "disagreements.parquet",  # records contradicting the child's consensus
    "figures": "figures.parquet",  # division_code, grp, dimension, category, n (tonghu.stats)
}
MODEL_FILE = "model.json"
# Where a round that broke an invariant leaves the tables it checked, for the developer.
DIAGNOSIS_FOLDER = "diagnosis"
SUMMARY_FILE = "summary.json"

Progress = Callable[[str], None]


KILL_AT = "TONGHU_KILL_AT"


def kill_point(name: str) -> None:
    """Test hook: SIGKILL this process here if the environment variable TONGHU_KILL_AT is ``name``.

    Lets a test kill a real ``tonghu round run`` at a named point and check what the round
    leaves behind (tonghu/rounds/tests/test_round_killed.py). The points are the progress
    steps (the keys of STEPS, then "load" and "export") and, within the load, "load.begin"
    (the transaction opened), "load.rows" (some rows inserted), "load.commit" (just before
    the commit), "store.swap" (committed, results not yet in the store) and "store.half"
    (the round's earlier results moved aside, the new ones not yet in). Unset, it does nothing.
    """
    if os.environ.get(KILL_AT) == name:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True)
class Prior:
    """What a county's earlier rounds and its staff left for the next round."""

    folder: Path | None = None  # the previous round's result folder (links, children)
    first_serial: int = 1  # the serial of the county's next new child
    decisions: Path | None = None  # Parquet (record_id_l, record_id_r, same) kept from review
    file_flags: Path | None = None  # Parquet (child_id, flag) kept on children's files
    profile: Profile | None = None  # the county's own list in force, over the round's profile
    # Rows the web app keeps (child directors' visits) read like feeds, each pinned to the
    # child it was recorded for: record id "source|key" -> child id.
    app_feeds: list[FeedFile] = field(default_factory=list)
    pins: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RoundInput:
    files: list[FeedFile]
    skipped: list[SkippedFile]
    as_of: date
    profile: Profile
    divisions: pa.Table
    county: str | None = None  # the round's county (6 digits); inferred from the records if None
    prior: Callable[[str], Prior] = lambda county: Prior()  # what earlier rounds left, by county
    engine: str = "duckdb"
    memory_limit: str = "4GB"


@dataclass
class RoundOutput:
    folder: Path
    county: str
    summary: dict[str, Any] = field(default_factory=dict)

    def path(self, name: str) -> Path:
        return self.folder / RESULT_FILES[name]


def run_round(
    plan: RoundInput,
    *,
    folder: Path,
    progress: Progress | None = None,
    scratch: Path | None = None,
) -> RoundOutput:
    """Run the round's batch steps into ``folder`` (created; Parquet files and summary.json).

    DuckDB's working files go into a temporary folder under ``scratch`` (default: the system's
    temporary folder), so that a caller can clear what a killed round left there.
    """
    folder.mkdir(parents=True, exist_ok=True)
    diagnosis = folder / DIAGNOSIS_FOLDER
    clock = StepClock()
    tell = progress or (lambda step: None)
    with tempfile.TemporaryDirectory(prefix="tonghu-round-", dir=scratch) as work:
        with clock.step("ingest"):
            tell("ingest")
            intake = _ingest(plan, folder)
        con = connect(memory_limit=plan.memory_limit, temp_dir=Path(work))
        try:
            install_macros(con)
            run(
                con,
                f"CREATE VIEW records AS SELECT * FROM read_parquet({quote(str(intake.records))})",
            )
            county = plan.county or _infer_county(con, plan.divisions)
            prior = plan.prior(county)
            if prior.app_feeds:
                _add_app_feeds(
                    con, plan, prior, county=county, work=Path(work), intake=intake.records
                )
            profile = prior.profile or plan.profile
            output = RoundOutput(folder=folder, county=county)
            with clock.step("link"):
                tell("link")
                linked = _link(con, plan, prior, profile, work_dir=Path(work))
                check(con, LINK_INVARIANTS, step_label=STEPS["link"], diagnosis=diagnosis)
            with clock.step("identity"):
                tell("identity")
                identity = _identity(con, prior, county=county, clusters=linked.clusters)
                check(con, IDENTITY_INVARIANTS, step_label=STEPS["identity"], diagnosis=diagnosis)
            with clock.step("classify"):
                tell("classify")
                children = classify(
                    con,
                    records="records",
                    links="round_links",
                    divisions=plan.divisions,
                    profile=profile,
                    as_of=plan.as_of,
                    file_flags=_optional_view(con, "file_flags", prior.file_flags),
                )
                check(con, CLASSIFY_INVARIANTS, step_label=STEPS["classify"], diagnosis=diagnosis)
                changes = compare_rounds(
                    con,
                    previous_children=prior.folder / RESULT_FILES["children"]
                    if prior.folder
                    else None,
                )
            with clock.step("match"):
                tell("match")
                services = match_services(con, children=children, profile=profile)
            with clock.step("summarise"):
                tell("summarise")
                figures = summarise(
                    con,
                    children=children,
                    services=services,
                    divisions=plan.divisions,
                    county=county,
                    profile=profile,
                )
            with clock.step("write"):
                tell("write")
                _write(
                    con,
                    output,
                    children=children,
                    services=services,
                    history=identity,
                    changes=changes,
                    figures=figures,
                )
                (folder / MODEL_FILE).write_text(linked.model_json, encoding="utf-8")
            output.summary = _summary(
                con, plan, output, intake, clock, pairs=linked.pairs_scored, profile=profile
            )
        finally:
            con.close()
    (folder / SUMMARY_FILE).write_text(
        json.dumps(output.summary, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return output


def _ingest(plan: RoundInput, folder: Path) -> IngestResult:
    if not plan.files:
        raise RoundError(
            "数据目录中没有可识别的数据文件"
            "（文件名须以数据源名称开头，如 police_residence_2025H1.csv）"
        )
    return ingest(
        plan.files,
        divisions=plan.divisions,
        out_dir=folder,
        memory_limit=plan.memory_limit,
        county=plan.county,
    )


_COUNTY = """
SELECT r.residence_code[1:6] AS county, count(*) AS records
FROM records AS r JOIN round_divisions AS d
    ON d.code = r.residence_code[1:6] || '000000' AND d.level = 'county'
GROUP BY ALL ORDER BY records DESC, county LIMIT 1
"""


def _infer_county(con: Connection, divisions: pa.Table) -> str:
    """The county most accepted records say the child lives in."""
    con.register("round_divisions", divisions)
    found = run(con, _COUNTY).fetchall()
    if not found:
        raise RoundError(
            "无法确定本轮所属县（区）：没有记录的居住地代码在区划表中，"
            "请先用 tonghu divisions load 载入区划表，或用 --county 指定"
        )
    return str(found[0][0])


def _add_app_feeds(
    con: Connection, plan: RoundInput, prior: Prior, *, county: str, work: Path, intake: Path
) -> None:
    """Read the app's rows like any feed and add them to the round's records."""
    extra = ingest(
        prior.app_feeds, divisions=plan.divisions, out_dir=work / "app-feeds", county=county
    )
    run(
        con,
        f"CREATE OR REPLACE VIEW records AS SELECT * FROM read_parquet({quote(str(intake))}) "
        f"UNION ALL BY NAME SELECT * FROM read_parquet({quote(str(extra.records))})",
    )


def _optional_view(con: Connection, name: str, path: Path | None) -> str | None:
    if path is None:
        return None
    run(con, f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet({quote(str(path))})")
    return name


def _link(
    con: Connection, plan: RoundInput, prior: Prior, profile: Profile, *, work_dir: Path
) -> Any:
    decisions = _optional_view(con, "staff_decisions", prior.decisions)
    return link(
        con,
        records="records",
        match_threshold=profile.linkage.match_threshold,
        review_threshold=profile.linkage.review_threshold,
        engine=plan.engine,
        work_dir=work_dir,
        decisions=decisions,
    )


# What recognises a child whose records were re-numbered (tonghu.pipeline.identity).
_FACTS = "name, birth_date, phone, mother_name, guardian_name"

_PREVIOUS = """
CREATE OR REPLACE TEMP TABLE previous_children AS
SELECT l.record_id, l.child_id, c.id_number
FROM read_parquet({links}) AS l JOIN read_parquet({children}) AS c USING (child_id)
"""


def _identity(con: Connection, prior: Prior, *, county: str, clusters: str) -> str:
    previous = None
    if prior.folder is not None:
        links, children = (
            quote(str(prior.folder / RESULT_FILES[name])) for name in ("links", "children")
        )
        run(con, _PREVIOUS.format(links=links, children=children))
        previous = "previous_children"
    if previous is None:
        run(
            con,
            """CREATE OR REPLACE TEMP TABLE previous_children
               (record_id VARCHAR, child_id VARCHAR, id_number VARCHAR)""",
        )
        previous = "previous_children"
    if prior.pins:
        # A pinned row votes for its child like a record the child held last round.
        pins = pa.table({"record_id": list(prior.pins), "child_id": list(prior.pins.values())})
        con.register("round_pins", pins)
        run(
            con,
            f"""CREATE OR REPLACE TEMP TABLE previous_pinned AS
                SELECT record_id, child_id, id_number FROM {previous}
                UNION ALL SELECT record_id, child_id, NULL FROM round_pins""",
        )
        previous = "previous_pinned"
    run(
        con,
        """CREATE OR REPLACE TEMP TABLE round_ids AS
           SELECT DISTINCT source || '|' || record_key AS record_id, id_number
           FROM records WHERE id_valid""",
    )
    previous_facts = None
    if prior.folder is not None and (prior.folder / RESULT_FILES["records"]).exists():
        records = quote(str(prior.folder / RESULT_FILES["records"]))
        run(
            con,
            f"""CREATE OR REPLACE TEMP VIEW previous_facts AS
                SELECT child_id, {_FACTS} FROM read_parquet({records})""",
        )
        previous_facts = "previous_facts"
    run(
        con,
        f"""CREATE OR REPLACE TEMP VIEW round_facts AS
            SELECT source || '|' || record_key AS record_id, {_FACTS} FROM records""",
    )
    identity = assign_child_ids(
        con,
        clusters=clusters,
        record_ids="round_ids",
        previous=previous,
        prefix=county,
        first_serial=prior.first_serial,
        width=CHILD_SERIAL_WIDTH,
        facts="round_facts",
        previous_facts=previous_facts,
    )
    run(
        con,
        f"""CREATE OR REPLACE TEMP TABLE round_links AS
            SELECT c.record_id, split_part(c.record_id, '|', 1) AS source,
                substr(c.record_id, strpos(c.record_id, '|') + 1) AS record_key, i.child_id
            FROM {clusters} AS c JOIN {identity.child_ids} AS i USING (cluster_id)
            ORDER BY source, record_key""",
    )
    return identity.history


def _write(
    con: Connection,
    output: RoundOutput,
    *,
    children: str,
    services: str,
    history: str,
    changes: str,
    figures: str,
) -> None:
    tables = {
        "figures": figures,
        "disagreements": find_disagreements(con),
        "records": "(SELECT * EXCLUDE (raw, content_hash, warnings, is_current, "
        "lived_here_since, cite) FROM classify_records)",
        "changes": changes,
        "links": "round_links",
        "children": children,
        "services": services,
        "review": _review_ranked(children),
        "history": history,
    }
    for name, table in tables.items():
        path = quote(str(output.path(name)))
        run(con, f"COPY (SELECT * FROM {table}) TO {path} (FORMAT parquet, COMPRESSION zstd)")


# The review queue in the order people should take it: a twin question first (same birth
# date and family, other names: two children, or one recorded twice?), then pairs whose
# decision changes what a child is (its category, key care or difficulty), then the rest;
# within each, the likelier match first.
_REVIEW_RANKED = """
(SELECT r.*, a.child_id AS child_id_l, b.child_id AS child_id_r,
    CASE
        WHEN il.birth_date = ir.birth_date AND il.name IS DISTINCT FROM ir.name
            AND (len(list_intersect(il.guardian_ids, ir.guardian_ids)) > 0
                 OR len(list_intersect(il.guardian_pinyins, ir.guardian_pinyins)) > 0
                 OR len(list_intersect(il.phones, ir.phones)) > 0) THEN 0
        WHEN ca.is_migrant IS DISTINCT FROM cb.is_migrant
            OR ca.is_left_behind IS DISTINCT FROM cb.is_left_behind
            OR len(coalesce(ca.key_care, [])) + len(coalesce(cb.key_care, [])) > 0
            OR len(coalesce(ca.difficulty, [])) + len(coalesce(cb.difficulty, [])) > 0 THEN 1
        ELSE 2 END AS priority
 FROM link_review AS r
 LEFT JOIN round_links AS a ON a.record_id = r.record_id_l
 LEFT JOIN round_links AS b ON b.record_id = r.record_id_r
 LEFT JOIN link_input AS il ON il.record_id = r.record_id_l
 LEFT JOIN link_input AS ir ON ir.record_id = r.record_id_r
 LEFT JOIN {children} AS ca ON ca.child_id = a.child_id
 LEFT JOIN {children} AS cb ON cb.child_id = b.child_id
 ORDER BY NOT r.queued, priority, r.match_probability DESC, r.record_id_l, r.record_id_r)
"""


def _review_ranked(children: str) -> str:
    return _REVIEW_RANKED.format(children=children)


_COUNTS = """
SELECT count(*) AS children,
    count(*) FILTER (WHERE is_migrant) AS migrants,
    count(*) FILTER (WHERE is_left_behind) AS left_behind,
    count(*) FILTER (WHERE len(key_care) > 0) AS key_care,
    count(*) FILTER (WHERE len(difficulty) > 0) AS difficulty,
    count(*) FILTER (WHERE dropout_risk IS NOT NULL) AS dropout_risk,
    count(*) FILTER (WHERE is_resident) AS resident
FROM classified
"""


def _summary(
    con: Connection,
    plan: RoundInput,
    output: RoundOutput,
    intake: IngestResult,
    clock: StepClock,
    *,
    pairs: int,
    profile: Profile,
) -> dict[str, Any]:
    sources: dict[str, dict[str, int]] = {
        source.name: {"read": 0, "accepted": 0, "rejected": 0} for source in SOURCES
    }
    for part in intake.parts:
        counts = sources[part.source]
        counts["read"] += part.read
        counts["accepted"] += part.accepted
        counts["rejected"] += part.rejected_rows
    cursor = run(con, _COUNTS)
    names = [column[0] for column in cursor.description or ()]
    counts = dict(zip(names, cursor.fetchall()[0], strict=True))
    ((review, decided),) = run(
        con,
        "SELECT count(*) FILTER (WHERE queued), count(*) FILTER (WHERE NOT queued) "
        "FROM link_review",
    ).fetchall()
    ((new, merged, split),) = run(
        con,
        """SELECT (SELECT count(*) FROM identity_new),
               count(*) FILTER (WHERE event = 'merged'), count(*) FILTER (WHERE event = 'split')
           FROM child_history""",
    ).fetchall()
    return {
        "as_of": plan.as_of.isoformat(),
        "county": output.county,
        "profile": profile.key,
        "profile_name": profile.name,
        "engine": plan.engine,
        "sources": sources,
        "files": [
            {
                "file": part.file,
                "sheet": part.sheet,
                "source": part.source,
                "read": part.read,
                "accepted": part.accepted,
                "repeated": part.repeated,
                "rejected": part.rejected_rows,
                "rejected_by_reason": dict(part.rejected),
                "warnings": dict(part.warnings),
            }
            for part in intake.parts
        ],
        "skipped": [
            {"file": item.name, "reason": item.reason} for item in plan.skipped + intake.skipped
        ],
        **{name: int(value) for name, value in counts.items()},
        "new_children": int(new),
        "merged": int(merged),
        "split": int(split),
        # Residence addresses without a code that named no place of the division table, or
        # a county name several counties share that nothing in the row settled.
        "addresses": {
            "unresolved": int(intake.warnings["residence_unresolved"]),
            "ambiguous": int(intake.warnings["residence_ambiguous"]),
        },
        "review_pairs": int(review),  # queued for people (人工核实)
        "rule_decided_pairs": int(decided),  # kept apart by the rules, kept as evidence
        "pairs_scored": pairs,
        "timings": {name: round(seconds, 3) for name, seconds in clock.seconds.items()},
    }

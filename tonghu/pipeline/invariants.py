"""A round's self-check: what must hold of its tables before anything is loaded.

Each check is one SQL query counting the rows that break it, run after the step that made
the tables; a broken invariant stops the round with a Chinese message naming the step and
what broke (counts only: record keys can embed ID numbers), and the tables it read are
written into a diagnosis folder for the developer. Nothing has touched the database then,
so the ledger stays as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tonghu.pipeline.duck import Connection, quote, run
from tonghu.pipeline.errors import InvariantError


@dataclass(frozen=True)
class Invariant:
    step: str  # the STEPS key of the step whose tables are checked
    what: str  # Chinese: what breaks, said of the counted rows ("{n} 条记录不属于任何儿童")
    sql: str  # counts the offending rows
    tables: tuple[str, ...]  # written to the diagnosis folder when broken


# Records the round accepted: the batch works on "source|key" ids throughout.
_ACCEPTED = "(SELECT DISTINCT source || '|' || record_key AS record_id FROM records)"

LINK_INVARIANTS = (
    Invariant(
        "link",
        "{n} 条已接收记录没有归入任何儿童",
        f"SELECT count(*) FROM {_ACCEPTED} AS a "
        "WHERE a.record_id NOT IN (SELECT record_id FROM link_clusters)",
        ("link_clusters",),
    ),
    Invariant(
        "link",
        "{n} 条记录同时归入了不止一名儿童",
        "SELECT count(*) FROM (SELECT record_id FROM link_clusters GROUP BY record_id "
        "HAVING count(DISTINCT cluster_id) > 1)",
        ("link_clusters",),
    ),
    Invariant(
        "link",
        "{n} 条比对结果指向本轮没有的记录",
        f"SELECT count(*) FROM link_clusters WHERE record_id NOT IN {_ACCEPTED}",
        ("link_clusters",),
    ),
    Invariant(
        "link",
        "人工核实记录对有 {n} 对重复或顺序颠倒",
        "SELECT (SELECT count(*) - count(DISTINCT (record_id_l, record_id_r)) FROM link_review)"
        " + (SELECT count(*) FROM link_review WHERE NOT record_id_l < record_id_r)",
        ("link_review",),
    ),
    # Two valid ID numbers are two children unless staff joined them (link_id_alias holds
    # the IDs a decision joined, each with the ID that names their child).
    Invariant(
        "link",
        "{n} 名儿童含有两个以上有效身份证号（未经人工核实合并）",
        """SELECT count(*) FROM (
               SELECT c.cluster_id FROM link_clusters AS c
               JOIN link_input AS i USING (record_id)
               LEFT JOIN link_id_alias AS a ON a.id_number = i.id_number
               WHERE i.id_number IS NOT NULL
               GROUP BY c.cluster_id
               HAVING count(DISTINCT coalesce(a.canonical, i.id_number)) > 1)""",
        ("link_clusters", "link_id_alias"),
    ),
)

IDENTITY_INVARIANTS = (
    Invariant(
        "identity",
        "{n} 条记录没有儿童编号",
        f"SELECT count(*) FROM {_ACCEPTED} AS a "
        "WHERE a.record_id NOT IN (SELECT record_id FROM round_links WHERE child_id IS NOT NULL)",
        ("round_links", "child_ids"),
    ),
    Invariant(
        "identity",
        "{n} 个儿童编号被分给了不止一组记录",
        "SELECT count(*) FROM (SELECT child_id FROM child_ids GROUP BY child_id "
        "HAVING count(DISTINCT cluster_id) > 1)",
        ("child_ids",),
    ),
    Invariant(
        "identity",
        "{n} 组记录得到了不止一个儿童编号",
        "SELECT count(*) FROM (SELECT cluster_id FROM child_ids GROUP BY cluster_id "
        "HAVING count(DISTINCT child_id) > 1)",
        ("child_ids",),
    ),
)

CLASSIFY_INVARIANTS = (
    Invariant(
        "classify",
        "{n} 名儿童没有认定结果",
        "SELECT count(*) FROM (SELECT DISTINCT child_id FROM round_links) AS l "
        "WHERE l.child_id NOT IN (SELECT child_id FROM classified)",
        ("classified",),
    ),
    Invariant(
        "classify",
        "认定结果中有 {n} 行重复或不属于本轮任何记录",
        "SELECT (SELECT count(*) - count(DISTINCT child_id) FROM classified)"
        " + (SELECT count(*) FROM classified "
        "    WHERE child_id NOT IN (SELECT child_id FROM round_links))",
        ("classified",),
    ),
    Invariant(
        "classify",
        "{n} 名儿童缺少姓名、出生日期或认定标志",
        "SELECT count(*) FROM classified WHERE child_id IS NULL OR name IS NULL "
        "OR birth_date IS NULL OR is_migrant IS NULL OR is_left_behind IS NULL "
        "OR is_resident IS NULL",
        ("classified",),
    ),
)


def check(
    con: Connection,
    invariants: tuple[Invariant, ...],
    *,
    step_label: str,
    diagnosis: Path | None = None,
) -> None:
    """Run ``invariants``; on the first broken one, write its tables into ``diagnosis``
    (when given) and raise InvariantError naming ``step_label``."""
    for invariant in invariants:
        ((broken,),) = run(con, invariant.sql).fetchall()
        if broken:
            if diagnosis is not None:
                _keep_tables(con, invariant.tables, diagnosis)
            kept = f"；诊断数据保存在 {diagnosis}" if diagnosis is not None else ""
            raise InvariantError(
                f"本轮在“{step_label}”步骤自检未通过：{invariant.what.format(n=broken)}。"
                f"未载入任何结果，台账保持不变{kept}。",
                step=invariant.step,
                diagnosis=diagnosis,
            )


def _keep_tables(con: Connection, tables: tuple[str, ...], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for table in tables:
        target = quote(str(folder / f"{table}.parquet"))
        run(con, f"COPY (SELECT * FROM {table}) TO {target} (FORMAT parquet)")

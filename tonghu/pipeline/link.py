"""Step 5, link (数据找人): group a round's accepted records into children.

Deterministic evidence first: records carrying the same valid ID number are one child,
unless their stated sex and birth date both disagree (then the pair goes to review). The
rest is a probabilistic model (Splink, Fellegi–Sunter) whose comparisons are made for
Chinese data: names are compared on simplified characters and toneless pinyin (DuckDB's
string distances count bytes, so they would be meaningless on raw Chinese text), newborn
placeholders (王芳之子) are matched to the child whose mother is 王芳, and birth dates allow a
day's slip or a swapped day and month. Parameters are trained by EM on the round's own
records; the trained model is returned as JSON so that it is kept with the round.

Children are anchored on valid ID numbers: named records without one are grouped among
themselves (connected components of pairs at or above ``match_threshold``) and each group
joins the ID child it is most strongly linked to, so that no chain of links ever joins two
IDs. Records that would chain children together (newborn placeholders, records with no
family details) are satellites: each joins the one child it is most strongly linked to, or
none when two are linked about as strongly. Every pair the model scored above
``review_threshold`` is listed with its reason; only the questions the evidence leaves open
(``QUEUED_REASONS``) are queued for people (人工核实), the pairs the hard rules decide are
kept as evidence.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
from splink.blocking_analysis import n_largest_blocks
from splink.blocking_rule_library import CustomRule
from splink.internals.splink_dataframe import SplinkDataFrame

from tonghu.pipeline.duck import Connection, ident, quote, run
from tonghu.pipeline.names import register_name_keys
from tonghu.pipeline.sources import SOURCES

RECORD_ID = "record_id"
# Why a pair is listed for review. Only the questions the evidence leaves open are put to
# people (人工核实); a pair a hard rule keeps apart (two different valid ID numbers, wholly
# different names, sexes or birth months, families with nothing in common in different
# towns) is decided: it is kept with the round as evidence, not queued as work.
QUEUED_REASONS = ("same_id_conflict", "ambiguous_child", "uncertain")
RULE_DECIDED_REASONS = (
    "different_ids",
    "different_names",
    "twins",
    "same_source",
    "different_sex",
    "different_birth_dates",
    "different_families",
    "settled",
)
# Never a single key of low selectivity (a surname alone): each rule pairs a date or a
# whole name with a second key, so the pair count grows with the records, not their square.
PREDICTION_RULES = (
    block_on("id_number"),
    # (family_surname is a named record's surname, and a placeholder's father's.)
    block_on("birth_date", "family_surname"),
    block_on("birth_date", "given_pinyin"),
    block_on("pinyin", "residence_town"),
    block_on("birth_date", "mother_key"),
    # A record of the family (a phone, a village) born that day, whatever its name: a
    # newborn placeholder and the named record of a father's or grandparent's listing.
    block_on("birth_date", "phone"),
    block_on("birth_date", "residence_code"),
    # The same name in the same family, whatever the birth date says (a day's slip).
    block_on("pinyin", "mother_key"),
    block_on("mother_key", "residence_code"),
    # The same name born a day apart (a day's slip on a record with no family details).
    CustomRule("l.pinyin = r.pinyin AND l.birth_date_next = r.birth_date", sql_dialect="duckdb"),
    CustomRule("l.birth_date = r.birth_date_next AND l.pinyin = r.pinyin", sql_dialect="duckdb"),
)

_INPUT = """
CREATE OR REPLACE TEMP TABLE link_input AS
SELECT *,
    birth_date + 1 AS birth_date_next,
    -- How many sources call the child born that day by this name: a name on one record
    -- only may be a typo of a sibling's (石梓轨 for 石梓轩), not a twin of its own.
    count(DISTINCT source) OVER (PARTITION BY pinyin, birth_date) AS name_support
FROM (
SELECT
    r.source || '|' || r.record_key AS record_id,
    r.source IN {one_per_person} AS one_per_person,
    r.source,
    CASE WHEN r.id_valid THEN r.id_number END AS id_number,
    coalesce(CASE WHEN r.id_valid THEN r.id_birth_date END, r.birth_date) AS birth_date,
    coalesce(CASE WHEN r.id_valid THEN r.id_sex END, r.sex,
             CASE WHEN k.is_placeholder THEN k.placeholder_sex END) AS sex,
    r.birth_date AS stated_birth_date,
    r.sex AS stated_sex,
    k.simplified AS name,
    CASE WHEN k.is_placeholder THEN NULL ELSE k.pinyin END AS pinyin,
    CASE WHEN k.is_placeholder THEN NULL ELSE k.surname_pinyin END AS surname_pinyin,
    CASE WHEN k.is_placeholder THEN NULL ELSE k.given_pinyin END AS given_pinyin,
    CASE WHEN k.is_placeholder THEN NULL ELSE k.surname END AS surname_chars,
    CASE WHEN k.is_placeholder THEN NULL ELSE k.given END AS given_chars,
    CASE WHEN k.is_placeholder THEN NULL ELSE k.given_swapped_pinyin END AS given_swapped_pinyin,
    -- The surname the child most likely carries: its own, or for a placeholder its father's
    -- (or a guardian's who is not the mother it names).
    CASE WHEN k.is_placeholder
         THEN coalesce(father.surname_pinyin,
                       CASE WHEN guardian.pinyin IS DISTINCT FROM k.pinyin
                            THEN guardian.surname_pinyin END)
         ELSE k.surname_pinyin END AS family_surname,
    coalesce(k.is_placeholder, false) AS is_placeholder,
    CASE WHEN k.is_placeholder THEN k.pinyin END AS placeholder_parent_pinyin,
    k.twin_marker,
    -- The parents' and guardians' names as pinyin, whichever columns the source has.
    list_distinct(list_filter(
        [guardian.pinyin, mother.pinyin, father.pinyin], lambda p: p IS NOT NULL))
        AS guardian_pinyins,
    coalesce(mother.pinyin, CASE WHEN r.source = 'cdc_vaccination' THEN guardian.pinyin END)
        AS mother_pinyin,
    list_distinct(list_filter(
        [r.guardian_id_number, r.mother_id_number, r.father_id_number],
        lambda i: i IS NOT NULL AND id_valid(i))) AS guardian_ids,
    CASE WHEN r.phone IS NOT NULL THEN [r.phone] ELSE [] END AS phones,
    r.phone,
    r.residence_code,
    r.residence_code[1:9] AS residence_town,
    -- Blocking key for newborn placeholders: the mother's (or a guardian's) name.
    coalesce(CASE WHEN k.is_placeholder THEN k.pinyin END, mother.pinyin, guardian.pinyin)
        AS mother_key
FROM {records} AS r
LEFT JOIN link_names AS k ON k.name = r.name
LEFT JOIN link_names AS guardian ON guardian.name = r.guardian_name
LEFT JOIN link_names AS mother ON mother.name = r.mother_name
LEFT JOIN link_names AS father ON father.name = r.father_name
)
"""


# The Chinese wording of each comparison's levels, for the review queue (人工核实): the
# levels below the null level, top first, as the comparisons list them (Splink numbers
# them from len-1 down to 0, the "else" level).
EVIDENCE_LABELS: dict[str, tuple[str, tuple[str, ...]]] = {
    "name": (
        "姓名",
        (
            "完全相同",
            "读音相同（同音字或繁简不同）",
            "名字两字顺序颠倒",
            "新生儿“某某之子/女”与母亲姓名相符",
            "新生儿“某某之子/女”，儿童姓其父亲的姓",
            "读音相近",
            "只有一个字不同",
            "姓相同、名读音相近",
            "不同",
        ),
    ),
    "birth_date": (
        "出生日期",
        ("相同", "相差一天", "日月颠倒", "同年同月", "不同"),
    ),
    "sex": ("性别", ("相同", "不同")),
    "id_number": ("身份证号", ("相同", "不同")),
    "family": (
        "家庭",
        ("监护人身份证号相同", "监护人姓名和电话相同", "监护人姓名相同", "电话相同", "不同"),
    ),
    "residence": ("居住地", ("同一村（居）", "同一乡镇（街道）", "不同")),
}


def evidence_sql() -> str:
    """A SQL list of {field, level, weight} per scored pair, in Chinese, from Splink's
    per-comparison levels (gamma_*) and match weights (mw_*); missing values are left out."""
    items = []
    for comparison, (field, labels) in EVIDENCE_LABELS.items():
        top = len(labels) - 1
        cases = " ".join(f"WHEN {top - index} THEN '{label}'" for index, label in enumerate(labels))
        items.append(
            f"CASE WHEN gamma_{comparison} >= 0 THEN {{'field': '{field}', "
            f"'level': CASE gamma_{comparison} {cases} END, "
            f"'weight': round(mw_{comparison}, 2)}} END"
        )
    return "list_filter([" + ", ".join(items) + "], lambda e: e IS NOT NULL)"


def _level(sql_condition: str, label_for_charts: str | None = None) -> cll.CustomLevel:
    """A custom level written in DuckDB SQL; Splink translates it for Spark when needed."""
    return cll.CustomLevel(sql_condition, label_for_charts, base_dialect_str="duckdb")


# A newborn placeholder (胡静之女) against a named record that states neither the parent it
# names nor a mother: the names cannot be compared (the named record may list only the
# father or a grandparent), so they say nothing either way; the family and the birth date
# decide. Against a record naming another mother, the names do disagree.
_PLACEHOLDER_UNCOMPARABLE = (
    "(placeholder_parent_pinyin_{a} IS NOT NULL AND pinyin_{b} IS NOT NULL"
    " AND mother_pinyin_{b} IS NULL"
    " AND NOT list_contains(guardian_pinyins_{b}, placeholder_parent_pinyin_{a})"
    " AND family_surname_{a} IS DISTINCT FROM surname_pinyin_{b})"
)


# One character of the name written wrong (石梓轨 for 石梓轩, 玉子健 for 王子健, 形近字): three-
# character names that agree in two places, or two-character names with the same given
# name. Written with substr only, which every SQL dialect Splink speaks has.
_ONE_CHARACTER_DIFFERS = (
    "pinyin_l IS NOT NULL AND pinyin_r IS NOT NULL AND ("
    "(length(name_l) = 3 AND length(name_r) = 3"
    " AND (substr(name_l, 1, 2) = substr(name_r, 1, 2)"
    " OR (substr(name_l, 1, 1) = substr(name_r, 1, 1)"
    " AND substr(name_l, 3, 1) = substr(name_r, 3, 1))"
    " OR substr(name_l, 2, 2) = substr(name_r, 2, 2)))"
    " OR (length(name_l) = 2 AND length(name_r) = 2"
    " AND substr(name_l, 2, 1) = substr(name_r, 2, 1)))"
)


def _name_comparison() -> cl.CustomComparison:
    """Names: exact, same pinyin (homophones, 李静/李婧), the given name's two characters
    swapped (徐昊天/徐天昊), placeholder to mother, close pinyin."""
    return cl.CustomComparison(
        output_column_name="name",
        comparison_levels=[
            _level(
                "(pinyin_l IS NULL AND placeholder_parent_pinyin_l IS NULL)"
                " OR (pinyin_r IS NULL AND placeholder_parent_pinyin_r IS NULL)"
                f" OR {_PLACEHOLDER_UNCOMPARABLE.format(a='l', b='r')}"
                f" OR {_PLACEHOLDER_UNCOMPARABLE.format(a='r', b='l')}",
                label_for_charts="no name",
            ).configure(is_null_level=True),
            cll.ExactMatchLevel("name").configure(
                tf_adjustment_column="name", tf_adjustment_weight=1.0
            ),
            cll.ExactMatchLevel("pinyin").configure(
                tf_adjustment_column="pinyin", tf_adjustment_weight=1.0
            ),
            _level(
                "surname_pinyin_l = surname_pinyin_r AND given_pinyin_l <> given_pinyin_r"
                " AND given_pinyin_l = given_swapped_pinyin_r",
                label_for_charts="given name's characters swapped",
            ),
            _level(
                "((placeholder_parent_pinyin_l IS NOT NULL"
                " AND list_contains(guardian_pinyins_r, placeholder_parent_pinyin_l))"
                " OR (placeholder_parent_pinyin_r IS NOT NULL"
                " AND list_contains(guardian_pinyins_l, placeholder_parent_pinyin_r)))"
                " AND (sex_l IS NULL OR sex_r IS NULL OR sex_l = sex_r)",
                label_for_charts="placeholder names the mother",
            ),
            _level(
                "((placeholder_parent_pinyin_l IS NOT NULL AND family_surname_l = surname_pinyin_r)"
                " OR (placeholder_parent_pinyin_r IS NOT NULL"
                " AND family_surname_r = surname_pinyin_l))"
                " AND (sex_l IS NULL OR sex_r IS NULL OR sex_l = sex_r)",
                label_for_charts="placeholder's father's surname is the child's",
            ),
            cll.JaroWinklerLevel("pinyin", 0.92),
            # (Only where one of the two names is on a single record: two names each on
            # records of several sources, a character apart, are twins' (子涵/子萱).)
            _level(
                f"({_ONE_CHARACTER_DIFFERS}) AND (name_support_l = 1 OR name_support_r = 1)",
                label_for_charts="one character differs",
            ),
            cll.And(
                cll.ExactMatchLevel("surname_pinyin"), cll.JaroWinklerLevel("given_pinyin", 0.8)
            ),
            cll.ElseLevel(),
        ],
    )


def _birth_date_comparison() -> cl.CustomComparison:
    """Birth dates: exact, one day apart, day and month swapped, same year and month."""
    return cl.CustomComparison(
        output_column_name="birth_date",
        comparison_levels=[
            cll.NullLevel("birth_date"),
            cll.ExactMatchLevel("birth_date"),
            cll.AbsoluteDateDifferenceLevel(
                "birth_date", input_is_string=False, threshold=1, metric="day"
            ),
            _level(
                "year(birth_date_l) = year(birth_date_r)"
                " AND month(birth_date_l) = day(birth_date_r)"
                " AND day(birth_date_l) = month(birth_date_r)",
                label_for_charts="day and month swapped",
            ),
            _level(
                "year(birth_date_l) = year(birth_date_r)"
                " AND month(birth_date_l) = month(birth_date_r)",
                label_for_charts="same year and month",
            ),
            cll.ElseLevel(),
        ],
    )


def _family_comparison() -> cl.CustomComparison:
    """Parents' and guardians' IDs, names and phones, as ONE comparison: they all say which
    family a record belongs to, not which of its children, so they must be counted once."""
    # Written in the forms sqlglot translates for Spark (array_length, array_intersect).
    shared = "array_length(array_intersect({0}_l, {0}_r)) > 0"
    return cl.CustomComparison(
        output_column_name="family",
        comparison_levels=[
            _level(
                "array_length(guardian_ids_l) + array_length(guardian_pinyins_l)"
                " + array_length(phones_l) = 0"
                " OR array_length(guardian_ids_r) + array_length(guardian_pinyins_r)"
                " + array_length(phones_r) = 0",
                label_for_charts="no family details",
            ).configure(is_null_level=True),
            _level(shared.format("guardian_ids"), label_for_charts="a guardian's ID"),
            _level(
                f"{shared.format('guardian_pinyins')} AND {shared.format('phones')}",
                label_for_charts="a guardian's name and a phone",
            ),
            _level(shared.format("guardian_pinyins"), label_for_charts="a guardian's name"),
            _level(shared.format("phones"), label_for_charts="a phone"),
            cll.ElseLevel(),
        ],
    )


def _settings() -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name=RECORD_ID,
        probability_two_random_records_match=1e-5,
        comparisons=[
            _name_comparison(),
            _birth_date_comparison(),
            cl.ExactMatch("sex"),
            cl.ExactMatch("id_number"),
            _family_comparison(),
            cl.CustomComparison(
                output_column_name="residence",
                comparison_levels=[
                    cll.NullLevel("residence_code"),
                    cll.ExactMatchLevel("residence_code"),
                    cll.ExactMatchLevel("residence_town"),
                    cll.ElseLevel(),
                ],
            ),
        ],
        blocking_rules_to_generate_predictions=list(PREDICTION_RULES),
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=True,
    )


class BlockTooLargeError(Exception):
    """A blocking rule would compare too many pairs; the message is Chinese, for the user."""


@dataclass(frozen=True)
class LinkResult:
    clusters: str  # table: record_id, cluster_id
    review: str  # table: record_id_l, record_id_r, match_probability, evidence, reason, queued
    model_json: str
    pairs_scored: int
    largest_blocks: dict[str, int]  # blocking rule -> pairs in its largest block


def link(
    con: Connection,
    *,
    records: str,
    match_threshold: float,
    review_threshold: float,
    training_pairs: int = 2_000_000,
    max_block_pairs: int = 20_000_000,
    engine: str = "duckdb",
    work_dir: Path | None = None,
    decisions: str | None = None,
) -> LinkResult:
    """Link the accepted records of view ``records`` into children (see the module doc).

    ``engine`` is where the model is trained and the pairs are scored: ``duckdb`` (the
    default) or ``spark`` (province scale; needs ``work_dir`` for Spark's files).
    ``decisions`` names a table of staff decisions kept from review (record_id_l <
    record_id_r, same BOOLEAN): they are obeyed whatever the model says.
    """
    _quiet_splink()
    register_name_keys(
        con,
        source_view=records,
        name_columns=["name", "guardian_name", "mother_name", "father_name"],
        target="link_names",
    )
    one_per_person = [source.name for source in SOURCES if source.one_per_person]
    run(con, _INPUT.format(records=ident(records), one_per_person=_sql_list(one_per_person)))
    db_api = DuckDBAPI(connection=con)
    records_sdf = db_api.register("link_input")
    largest = _largest_blocks(records_sdf, max_block_pairs)
    linker = Linker(records_sdf, _settings())
    if engine == "spark":
        if work_dir is None:
            raise ValueError("the spark engine needs a work_dir")
        model = _score_on_spark(con, training_pairs, review_threshold, work_dir)
    elif engine == "duckdb":
        _train(linker, training_pairs)
        scored = linker.inference.predict(threshold_match_probability=review_threshold)
        run(
            con, f"CREATE OR REPLACE TEMP TABLE link_scored AS SELECT * FROM {scored.physical_name}"
        )
        model = linker.misc.save_model_to_json()
    else:
        raise ValueError(f"unknown linkage engine: {engine}")
    _decide(con, match_threshold, review_threshold, decisions)
    # Records without a valid ID are grouped among themselves first (connected components,
    # satellites apart: see _TIERS)...
    run(con, _TIERS)
    run(
        con,
        f"""CREATE OR REPLACE TEMP TABLE link_edges_without_id AS
            SELECT e.* FROM link_edges AS e
            JOIN link_input AS l ON l.record_id = e.record_id_l AND l.id_number IS NULL
            JOIN link_input AS r ON r.record_id = e.record_id_r AND r.id_number IS NULL
            JOIN link_tiers AS tl ON tl.record_id = e.record_id_l
            JOIN link_tiers AS tr ON tr.record_id = e.record_id_r
            WHERE e.match_probability >= {match_threshold}
                AND tl.tier = tr.tier AND tl.tier <> 1""",
    )
    edges = linker.table_management.register_table_predict(db_api.register("link_edges_without_id"))
    components = linker.clustering.cluster_pairwise_predictions_at_threshold(
        edges, threshold_match_probability=match_threshold
    )
    # ...then each group joins the ID-anchored child it is most strongly linked to.
    queued = _sql_list(list(QUEUED_REASONS))
    run(
        con,
        _ANCHOR.format(
            components=components.physical_name,
            match=match_threshold,
            review=review_threshold,
        ),
    )
    for tier in (1, 2):  # sparse records, then newborn placeholders
        run(con, _SATELLITES.format(tier=tier, match=match_threshold, review=review_threshold))
    run(con, _ANCHOR_TAIL.format(match=match_threshold, queued=queued))
    ((pairs,),) = con.execute("SELECT count(*) FROM link_scored").fetchall()
    return LinkResult(
        clusters="link_clusters",
        review="link_review",
        model_json=json.dumps(model, ensure_ascii=False),
        pairs_scored=int(pairs),
        largest_blocks=largest,
    )


def _quiet_splink() -> None:
    """Splink reports training details at INFO and WARNING; a clerk's terminal needs none of
    it (the trained model is kept with the round)."""
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("splink"):
            logging.getLogger(name).setLevel(logging.ERROR)
    logging.getLogger("splink").setLevel(logging.ERROR)


def _score_on_spark(
    con: Connection, training_pairs: int, review_threshold: float, work_dir: Path
) -> dict[str, Any]:
    """Train and predict on Spark; the scored pairs come back into DuckDB as link_scored."""
    from splink import SparkAPI  # noqa: PLC0415  (Spark is only loaded when asked for)

    from tonghu.pipeline.spark import from_spark, spark_session, to_spark  # noqa: PLC0415

    folder = work_dir / "spark-tables"
    folder.mkdir(parents=True, exist_ok=True)
    with spark_session(work_dir=work_dir) as session:
        frame = to_spark(session, con, table="link_input", folder=folder)
        db_api = SparkAPI(spark_session=session, break_lineage_method="parquet")  # type: ignore[no-untyped-call]
        linker = Linker(db_api.register(frame), _settings())
        _train(linker, training_pairs)
        scored = linker.inference.predict(threshold_match_probability=review_threshold)
        from_spark(scored.as_spark_dataframe(), con, table="link_scored", folder=folder)
        model: dict[str, Any] = linker.misc.save_model_to_json()
        return model


def _largest_blocks(records: SplinkDataFrame, max_block_pairs: int) -> dict[str, int]:
    """The pairs in each prediction rule's largest block, checked before predicting: one
    huge block (a very common name in one town, a placeholder birth date) would make the
    pair count explode instead of growing with the number of records."""
    largest: dict[str, int] = {}
    for rule in PREDICTION_RULES:
        blocks = n_largest_blocks(records, blocking_rule=rule, link_type="dedupe_only", n_largest=1)
        rows = blocks.as_record_list()
        size = int(rows[0]["block_count"]) if rows else 0
        name = rule.get_blocking_rule("duckdb").blocking_rule_sql
        largest[name] = size
        if size > max_block_pairs:
            raise BlockTooLargeError(
                f"记录比对的分块过大：规则 {name} 的最大分块将产生 {size:,} 对比较"
                f"（上限 {max_block_pairs:,}），请检查数据中是否有大量重复的占位值。"
            )
    return largest


def _train(linker: Linker, training_pairs: int) -> None:
    """u from random pairs, m by EM on the round's own records (two sessions)."""
    linker.training.estimate_probability_two_random_records_match(
        [block_on("id_number")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=training_pairs, seed=1)
    # Two sessions on tight blocks (never a single common key: blocks must stay small at a
    # million records): pairs sharing a valid ID train everything but the ID; pairs sharing
    # birth date and surname train the ID.
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("id_number"), estimate_without_term_frequencies=True
    )
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("birth_date", "family_surname"), estimate_without_term_frequencies=True
    )


# Hard rules on top of the scores (policy of the issue, not of the model):
# - the same valid ID is one child, unless the records' own statements of both sex and birth
#   date disagree: then the pair is not linked but sent to review;
# - two different valid IDs, two wholly different names, two different sexes or birth dates
#   in different months (twins and siblings share parents, phones and addresses, twins
#   their birth date, and siblings often names that sound alike: 袁子涵 and 袁梓涵) are
#   never linked on the other evidence: at most the pair is sent to review. Nor are two
#   records whose families share nothing and who live in different towns: in a county of a
#   million children, 周浩宇 born on the same day is often two boys.
_DECIDE = """
CREATE OR REPLACE TEMP TABLE link_pairs AS
SELECT s.record_id_l, s.record_id_r, s.match_probability, {evidence} AS evidence,
    l.id_number IS NOT NULL AND l.id_number = r.id_number AS same_id,
    l.id_number IS NOT NULL AND r.id_number IS NOT NULL AND l.id_number <> r.id_number
        AS other_id,
    s.gamma_name = 0 AS other_name,
    -- Born the same day into one family under other (if alike) names: twins, 马梓轩/马宁
    -- or 王欣妍/王欣悦. A homophone, a traditional form or a swap is the same child.
    -- Two newborn placeholders of one mother are twins if their markers differ (王芳之子一,
    -- 王芳之子二) or one source registered both: a source registers a newborn once.
    (s.gamma_birth_date = {birth_exact} AND s.gamma_family > 0
        AND s.gamma_name IN {names_alike} AND NOT l.is_placeholder AND NOT r.is_placeholder
        AND l.name_support >= 2 AND r.name_support >= 2)
    OR (l.is_placeholder AND r.is_placeholder
        AND (l.twin_marker IS DISTINCT FROM r.twin_marker OR l.source = r.source)) AS twins,
    l.source = r.source AND l.one_per_person
        AND l.id_number IS DISTINCT FROM r.id_number AS same_source,
    s.gamma_birth_date = 0 AS other_birth_date,
    s.gamma_family = 0 AND s.gamma_residence = 0 AS other_family,
    l.sex IS NOT NULL AND r.sex IS NOT NULL AND l.sex <> r.sex AS other_sex,
    l.stated_sex IS NOT NULL AND r.stated_sex IS NOT NULL AND l.stated_sex <> r.stated_sex
        AND l.stated_birth_date IS NOT NULL AND r.stated_birth_date IS NOT NULL
        AND l.stated_birth_date <> r.stated_birth_date AS flat_conflict
FROM link_scored AS s
JOIN link_input AS l ON l.record_id = s.record_id_l
JOIN link_input AS r ON r.record_id = s.record_id_r;

-- Staff decisions (人工核实) overrule the model and the rules, in this and later rounds.
CREATE OR REPLACE TEMP TABLE link_edges AS
SELECT record_id_l, record_id_r, match_probability,
    log2(greatest(match_probability, 1e-12) / greatest(1 - match_probability, 1e-12))
        AS match_weight
FROM (
    SELECT p.record_id_l, p.record_id_r,
        CASE WHEN d.same THEN 1.0
             WHEN NOT d.same THEN 0.0
             WHEN same_id AND NOT flat_conflict THEN 1.0
             WHEN flat_conflict OR other_id OR other_name OR twins OR same_source OR other_sex
                 OR other_birth_date OR other_family THEN least(match_probability, {below})
             ELSE match_probability END AS match_probability
    FROM link_pairs AS p LEFT JOIN {decisions} AS d USING (record_id_l, record_id_r)
    UNION ALL
    SELECT d.record_id_l, d.record_id_r, 1.0
    FROM {decisions} AS d
    JOIN link_input AS l ON l.record_id = d.record_id_l
    JOIN link_input AS r ON r.record_id = d.record_id_r
    WHERE d.same AND NOT EXISTS (
        SELECT 1 FROM link_pairs AS p
        WHERE p.record_id_l = d.record_id_l AND p.record_id_r = d.record_id_r)
);

CREATE OR REPLACE TEMP TABLE link_review AS
SELECT p.record_id_l, p.record_id_r, p.match_probability, p.evidence,
    CASE WHEN p.same_id THEN 'same_id_conflict'
         WHEN p.other_id THEN 'different_ids'
         WHEN p.other_name THEN 'different_names'
         WHEN p.twins THEN 'twins'
         WHEN p.same_source THEN 'same_source'
         WHEN p.other_sex THEN 'different_sex'
         WHEN p.other_birth_date THEN 'different_birth_dates'
         WHEN p.other_family THEN 'different_families'
         ELSE 'uncertain' END AS reason
FROM link_pairs AS p JOIN link_edges AS e USING (record_id_l, record_id_r)
WHERE e.match_probability < {match}
  AND NOT EXISTS (SELECT 1 FROM {decisions} AS d
                  WHERE d.record_id_l = p.record_id_l AND d.record_id_r = p.record_id_r);
"""


# Children are anchored on valid ID numbers, so that chains of links can never join two
# different IDs (twins with homophone names, 蒋子轩 and 蒋梓萱, are linked to each other
# through a record that names neither's sex or ID). Named records without an ID are grouped
# among themselves and each group joins the ID child it has the strongest link to; if a
# second ID child is linked as strongly above the threshold, the group still joins the
# first but the choice is sent to review. Newborn placeholders (胡静之女) are grouped only
# with placeholders: one names a mother, not a child, so it links to each of her children
# born that day and would chain twins into one. A placeholder group joins the one child it
# is most strongly linked to; between twins it cannot tell, so it joins neither and the
# question is put to people.
_TIERS = """
-- Records without an ID that would chain children together are satellites, never grouped
-- with named records: a newborn placeholder (tier 2) names a mother, not a child, and so
-- links to each of her children born that day; a record with no family details (tier 1:
-- an insurance row of name and birth date) links to every namesake born that day.
CREATE OR REPLACE TEMP TABLE link_tiers AS
SELECT record_id,
    CASE WHEN id_number IS NOT NULL THEN 0
         WHEN is_placeholder THEN 2
         WHEN len(guardian_pinyins) + len(guardian_ids) + len(phones) = 0 THEN 1
         ELSE 0 END AS tier
FROM link_input;
"""

_ANCHOR = """
-- Two ID numbers are one child only where staff said so (an edge of 1.0 between different
-- IDs comes from a decision: the rules cap such pairs); the smaller ID names the child.
CREATE OR REPLACE TEMP TABLE link_id_alias AS
SELECT id_number, min(canonical) AS canonical FROM (
    SELECT unnest([l.id_number, r.id_number]) AS id_number,
        least(l.id_number, r.id_number) AS canonical
    FROM link_edges AS e
    JOIN link_input AS l ON l.record_id = e.record_id_l
    JOIN link_input AS r ON r.record_id = e.record_id_r
    WHERE e.match_probability = 1.0 AND l.id_number <> r.id_number
) GROUP BY id_number;

CREATE OR REPLACE TEMP TABLE link_groups AS
SELECT i.record_id,
    CASE WHEN i.id_number IS NOT NULL THEN 'id:' || coalesce(a.canonical, i.id_number)
         ELSE 'group:' || c.cluster_id END AS group_id,
    i.id_number IS NOT NULL AS anchored,
    t.tier
FROM link_input AS i
JOIN link_tiers AS t ON t.record_id = i.record_id
LEFT JOIN {components} AS c ON c.record_id = i.record_id
LEFT JOIN link_id_alias AS a ON a.id_number = i.id_number;

-- Record pairs that must never share a child, whatever links them: another sex, a birth
-- date neither a day off nor day and month swapped in another month, families with
-- nothing shared in other towns (a record with little detail, an insurance row, links
-- strongly to every namesake born that day, and must not carry a record of another family
-- along), and a newborn placeholder naming another mother than the child's.
CREATE OR REPLACE MACRO link_conflict(f, a) AS
    f.sex <> a.sex
    OR (date_trunc('month', f.birth_date) <> date_trunc('month', a.birth_date)
        AND abs(datediff('day', f.birth_date, a.birth_date)) > 1
        AND NOT (year(f.birth_date) = year(a.birth_date)
                 AND month(f.birth_date) = day(a.birth_date)
                 AND day(f.birth_date) = month(a.birth_date)))
    OR (len(f.guardian_pinyins) + len(f.guardian_ids) + len(f.phones) > 0
        AND len(a.guardian_pinyins) + len(a.guardian_ids) + len(a.phones) > 0
        AND len(list_intersect(f.guardian_pinyins, a.guardian_pinyins)) = 0
        AND len(list_intersect(f.guardian_ids, a.guardian_ids)) = 0
        AND len(list_intersect(f.phones, a.phones)) = 0
        AND f.residence_town <> a.residence_town)
    OR (f.one_per_person AND f.source = a.source AND f.record_id <> a.record_id)
    OR (f.placeholder_parent_pinyin IS NOT NULL AND a.mother_pinyin IS NOT NULL
        AND a.mother_pinyin <> f.placeholder_parent_pinyin
        AND NOT list_contains(a.guardian_pinyins, f.placeholder_parent_pinyin));

-- Step 1: named groups join ID children.
CREATE OR REPLACE TEMP TABLE link_candidates AS
SELECT free.group_id AS free_group, anchor.group_id AS anchor_group,
    max(e.match_probability) AS strength, max(e.match_weight) AS weight
FROM link_edges AS e
JOIN link_groups AS a ON a.record_id = e.record_id_l
JOIN link_groups AS b ON b.record_id = e.record_id_r
CROSS JOIN LATERAL (SELECT CASE WHEN a.anchored THEN b ELSE a END AS free,
                           CASE WHEN a.anchored THEN a ELSE b END AS anchor)
WHERE a.anchored <> b.anchored AND free.tier = 0 AND e.match_probability >= {match}
GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE link_conflicts AS
SELECT DISTINCT c.free_group, c.anchor_group
FROM link_candidates AS c
JOIN link_groups AS gf ON gf.group_id = c.free_group
JOIN link_input AS f ON f.record_id = gf.record_id
JOIN link_groups AS ga ON ga.group_id = c.anchor_group
JOIN link_input AS a ON a.record_id = ga.record_id
WHERE link_conflict(f, a)
UNION
-- Twins: the group and the child born the same day into one family, and no name of the
-- one is a name of the other (one typo in the child's records is not a twin).
SELECT c.free_group, c.anchor_group
FROM link_candidates AS c
JOIN link_groups AS gf ON gf.group_id = c.free_group
JOIN link_input AS f ON f.record_id = gf.record_id
JOIN link_groups AS ga ON ga.group_id = c.anchor_group
JOIN link_input AS a ON a.record_id = ga.record_id
GROUP BY c.free_group, c.anchor_group
HAVING min(f.name_support) >= 2 AND bool_or(f.birth_date = a.birth_date
               AND (len(list_intersect(f.guardian_pinyins, a.guardian_pinyins)) > 0
                    OR len(list_intersect(f.guardian_ids, a.guardian_ids)) > 0
                    OR len(list_intersect(f.phones, a.phones)) > 0))
   AND NOT bool_or(f.pinyin = a.pinyin
                   OR (f.surname_chars = a.surname_chars
                       AND f.given_chars = reverse(a.given_chars)));

-- (A link of exactly 1.0 between a group and an ID child is a staff decision: it stands.)
CREATE OR REPLACE TEMP TABLE link_group_links AS
SELECT c.* FROM link_candidates AS c
WHERE c.strength = 1.0
   OR NOT EXISTS (SELECT 1 FROM link_conflicts AS x
                  WHERE x.free_group = c.free_group AND x.anchor_group = c.anchor_group);

CREATE OR REPLACE TEMP TABLE link_attach AS
SELECT free_group, anchor_group, strength,
    count(*) OVER (PARTITION BY free_group) AS choices
FROM link_group_links
QUALIFY row_number() OVER (PARTITION BY free_group ORDER BY strength DESC, anchor_group) = 1;

-- Pairs the rules keep apart (capped): two groups holding such a pair never join one child.
CREATE OR REPLACE TEMP TABLE link_apart AS
SELECT record_id_l, record_id_r FROM link_pairs
WHERE flat_conflict OR other_id OR other_name OR twins OR same_source OR other_sex
    OR other_birth_date;

CREATE OR REPLACE MACRO link_groups_conflict(a, b) AS
    link_conflict(a, b) OR link_conflict(b, a)
    OR EXISTS (SELECT 1 FROM link_apart AS x
               WHERE x.record_id_l = least(a.record_id, b.record_id)
                 AND x.record_id_r = greatest(a.record_id, b.record_id));

-- Two groups drawn to one child may not belong together: an ID child with one sparse
-- record (name, ID, birth date) draws every namesake born that day. A group that conflicts
-- with a stronger group joining the same child stays apart, and the choice is asked.
CREATE OR REPLACE TEMP TABLE link_rivals AS
SELECT DISTINCT w.free_group, w.anchor_group
FROM link_attach AS w JOIN link_attach AS s ON s.anchor_group = w.anchor_group
    AND (s.strength > w.strength OR (s.strength = w.strength AND s.free_group < w.free_group))
JOIN link_groups AS gw ON gw.group_id = w.free_group
JOIN link_groups AS gs ON gs.group_id = s.free_group
JOIN link_input AS a ON a.record_id = gw.record_id
JOIN link_input AS b ON b.record_id = gs.record_id
WHERE w.strength < 1.0 AND link_groups_conflict(a, b);

CREATE OR REPLACE TEMP TABLE link_named AS
SELECT g.record_id,
    CASE WHEN r.free_group IS NULL THEN coalesce(a.anchor_group, g.group_id)
         ELSE g.group_id END AS cluster_id
FROM link_groups AS g LEFT JOIN link_attach AS a ON a.free_group = g.group_id
LEFT JOIN link_rivals AS r ON r.free_group = g.group_id
WHERE g.tier < 2;
"""

_SATELLITES = """
CREATE OR REPLACE TEMP TABLE link_targets AS
SELECT DISTINCT n.cluster_id FROM link_named AS n JOIN link_groups AS g USING (record_id)
WHERE g.tier < {tier};

-- Step 2, for each tier of satellites (sparse records, then placeholders): a satellite group
-- joins the child (with or without an ID) it is most strongly linked to, unless another
-- child is linked nearly as strongly (less than twice the odds: twins, namesakes born that
-- day, or two children of one mother in a record without sex).
CREATE OR REPLACE TEMP TABLE link_tier{tier}_candidates AS
SELECT g.group_id AS free_group, n.cluster_id AS anchor_group,
    max(e.match_probability) AS strength, max(e.match_weight) AS weight
FROM (SELECT record_id_l AS one, record_id_r AS other, match_probability, match_weight
      FROM link_edges WHERE match_probability >= {review}
      UNION ALL
      SELECT record_id_r, record_id_l, match_probability, match_weight
      FROM link_edges WHERE match_probability >= {review}) AS e
JOIN link_groups AS g ON g.tier = {tier} AND g.record_id = e.one
JOIN link_named AS n ON n.record_id = e.other AND n.cluster_id <> g.group_id
    AND n.cluster_id IN (SELECT cluster_id FROM link_targets)
GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE link_tier{tier}_links AS
SELECT c.* FROM link_tier{tier}_candidates AS c
WHERE c.strength = 1.0 OR NOT EXISTS (
    SELECT 1 FROM link_groups AS gf
    JOIN link_input AS f ON f.record_id = gf.record_id
    JOIN link_named AS na ON na.cluster_id = c.anchor_group
    JOIN link_input AS a ON a.record_id = na.record_id
    WHERE gf.group_id = c.free_group AND link_conflict(f, a));

-- A satellite joins its strongest child if linked above the match threshold and no other
-- child nearly as strongly; or, linked between the two thresholds, if that child is its
-- only candidate and it the child's only candidate of its tier (one newborn, one named
-- child born that day in the family's surname: each is the other's only explanation).
CREATE OR REPLACE TEMP TABLE link_tier{tier}_attach AS
SELECT *,
    strength = 1.0 OR (strength >= {match} AND (choices = 1 OR margin >= 1))
        OR (choices = 1 AND contenders = 1) AS attaches
FROM (
    SELECT free_group, anchor_group, strength,
        count(*) OVER (PARTITION BY free_group) AS choices,
        count(*) OVER (PARTITION BY anchor_group) AS contenders,
        coalesce(weight - lead(weight) OVER (PARTITION BY free_group
                                             ORDER BY weight DESC, anchor_group), 99) AS margin,
        row_number() OVER (PARTITION BY free_group ORDER BY weight DESC, anchor_group) AS rank
    FROM link_tier{tier}_links)
WHERE rank = 1;

-- Satellites drawn to one child that conflict (twin placeholders of one mother, namesakes'
-- sparse records): the stronger joins it, the others stay apart and are asked.
CREATE OR REPLACE TEMP TABLE link_tier{tier}_rivals AS
SELECT DISTINCT w.free_group, w.anchor_group
FROM link_tier{tier}_attach AS w
JOIN link_tier{tier}_attach AS s ON s.anchor_group = w.anchor_group AND s.attaches
    AND (s.strength > w.strength OR (s.strength = w.strength AND s.free_group < w.free_group))
JOIN link_groups AS gw ON gw.group_id = w.free_group
JOIN link_groups AS gs ON gs.group_id = s.free_group
JOIN link_input AS a ON a.record_id = gw.record_id
JOIN link_input AS b ON b.record_id = gs.record_id
WHERE w.attaches AND w.strength < 1.0 AND link_groups_conflict(a, b);

UPDATE link_tier{tier}_attach SET attaches = false
WHERE free_group IN (SELECT free_group FROM link_tier{tier}_rivals);


UPDATE link_named AS n SET cluster_id = a.anchor_group
FROM link_groups AS g, link_tier{tier}_attach AS a
WHERE g.record_id = n.record_id AND a.free_group = g.group_id AND a.attaches;
"""

_ANCHOR_TAIL = """

-- The questions: a named group that also links to another ID child, a placeholder group
-- that links to several children (asked of each). Each is put on the strongest scored
-- pair between the group and that child, with the pair's evidence.
CREATE OR REPLACE TEMP TABLE link_questions AS
SELECT l.free_group, l.anchor_group FROM link_group_links AS l
JOIN link_attach AS chosen ON chosen.free_group = l.free_group AND chosen.choices > 1
    AND l.anchor_group <> chosen.anchor_group
UNION ALL
SELECT free_group, anchor_group FROM link_rivals
UNION ALL
SELECT free_group, anchor_group FROM link_tier1_rivals
UNION ALL
SELECT free_group, anchor_group FROM link_tier2_rivals
UNION ALL
SELECT l.free_group, l.anchor_group
FROM (SELECT * FROM link_tier1_links UNION ALL SELECT * FROM link_tier2_links) AS l
JOIN (SELECT * FROM link_tier1_attach UNION ALL SELECT * FROM link_tier2_attach) AS chosen
    ON chosen.free_group = l.free_group AND chosen.choices > 1 AND NOT chosen.attaches;

CREATE OR REPLACE TEMP TABLE link_ambiguous AS
SELECT e.record_id_l, e.record_id_r, e.match_probability,
    coalesce(p.evidence, []) AS evidence, 'ambiguous_child' AS reason
FROM link_questions AS q
JOIN link_groups AS a ON a.group_id = q.free_group
JOIN (SELECT record_id, group_id AS cluster_id FROM link_groups
      UNION ALL SELECT record_id, cluster_id FROM link_named) AS b
    ON b.cluster_id = q.anchor_group
JOIN link_edges AS e ON e.record_id_l = least(a.record_id, b.record_id)
    AND e.record_id_r = greatest(a.record_id, b.record_id)
LEFT JOIN link_pairs AS p USING (record_id_l, record_id_r)
QUALIFY row_number() OVER (PARTITION BY q.free_group, q.anchor_group
                           ORDER BY e.match_probability DESC, e.record_id_l, e.record_id_r) = 1;

-- One row per pair, the smaller record id on the left: a pair that is both uncertain and
-- an ambiguous choice is asked once, as the ambiguous choice (the larger question).
CREATE OR REPLACE TEMP TABLE link_review AS
SELECT least(record_id_l, record_id_r) AS record_id_l,
    greatest(record_id_l, record_id_r) AS record_id_r,
    match_probability, evidence, reason, reason IN {queued} AS queued
FROM (SELECT * FROM link_review UNION ALL BY NAME SELECT * FROM link_ambiguous)
QUALIFY row_number() OVER (
    PARTITION BY least(record_id_l, record_id_r), greatest(record_id_l, record_id_r)
    ORDER BY reason = 'ambiguous_child' DESC, match_probability DESC) = 1;

CREATE OR REPLACE TEMP TABLE link_clusters AS
SELECT record_id, cluster_id FROM link_named
UNION ALL
SELECT g.record_id, CASE WHEN a.attaches THEN a.anchor_group ELSE g.group_id END
FROM link_groups AS g LEFT JOIN link_tier2_attach AS a ON a.free_group = g.group_id
WHERE g.tier = 2;

-- An uncertain pair is no longer a question once stronger evidence placed its records: in
-- one child, or a record without an ID joined to another child above the match threshold
-- (or as a placeholder's only explanation). It is kept as evidence, 'settled'.
CREATE OR REPLACE TEMP TABLE link_placed AS
SELECT g.record_id FROM link_groups AS g
JOIN link_attach AS a ON a.free_group = g.group_id AND a.strength >= {match}
WHERE g.group_id NOT IN (SELECT free_group FROM link_rivals)
UNION ALL
SELECT g.record_id FROM link_groups AS g
JOIN (SELECT * FROM link_tier1_attach UNION ALL SELECT * FROM link_tier2_attach) AS a
    ON a.free_group = g.group_id AND a.attaches;

UPDATE link_review AS r SET reason = 'settled', queued = false
FROM link_clusters AS a, link_clusters AS b
WHERE r.reason = 'uncertain' AND a.record_id = r.record_id_l AND b.record_id = r.record_id_r
  AND (a.cluster_id = b.cluster_id
       OR r.record_id_l IN (SELECT record_id FROM link_placed)
       OR r.record_id_r IN (SELECT record_id FROM link_placed));
"""


def _sql_list(values: list[str]) -> str:
    """A SQL list of string literals for IN (never empty: IN () is not SQL)."""
    return "(" + ", ".join(quote(value) for value in values or [""]) + ")"


# Name levels of two different names that look or sound alike (twins are often named so).
_ALIKE = ("读音相近", "只有一个字不同", "姓相同、名读音相近")


def _gamma(comparison: str, label: str) -> int:
    """The level number Splink gives the level of ``comparison`` labelled ``label``."""
    labels = EVIDENCE_LABELS[comparison][1]
    return len(labels) - 1 - labels.index(label)


def _decide(
    con: Connection, match_threshold: float, review_threshold: float, decisions: str | None
) -> None:
    # A pair the rules keep apart is capped below the review threshold: no step that
    # links at either threshold ever uses it (it is still listed, as evidence).
    below = max(0.0, review_threshold - 1e-6)
    if decisions is None:
        run(
            con,
            """CREATE OR REPLACE TEMP TABLE link_no_decisions
               (record_id_l VARCHAR, record_id_r VARCHAR, same BOOLEAN)""",
        )
        decisions = "link_no_decisions"
    run(
        con,
        _DECIDE.format(
            below=below,
            match=match_threshold,
            evidence=evidence_sql(),
            decisions=ident(decisions),
            birth_exact=_gamma("birth_date", "相同"),
            names_alike="(" + ", ".join(str(_gamma("name", level)) for level in _ALIKE) + ")",
        ),
    )

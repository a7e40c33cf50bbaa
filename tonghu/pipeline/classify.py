"""Step 7, classify (认定): each child's facts and categories by the policy profile.

From the accepted records of a round and the child each belongs to, computes per child (in
DuckDB, set-based): the consensus identity (policy.md preamble), residence and
``residence_since`` (§1), 流动儿童 (§2), 留守儿童 (§3), ``difficulty`` (§4), ``key_care``
(§5), ``dropout_risk`` (§6), the service facts (age, stage, flags) and a Chinese reason for
each classification that cites the rule and the records it used.

Writes the table ``classified`` (one row per child). Every number comes from the profile.
"""

from __future__ import annotations

from datetime import date

import pyarrow as pa

from tonghu.pipeline.duck import Connection, ident, quote, run
from tonghu.pipeline.sources import SOURCES
from tonghu.policy.dates import age_sql, months_before
from tonghu.policy.profile import Profile
from tonghu.policy.rules import DIFFICULTY_LABELS

# How a reason names a record's source (the short name a clerk uses).
RECORD_LABELS = {
    "police_residence": "居住证",
    "edu_migrant": "学籍",
    "health_child": "儿童健康档案",
    "cdc_vaccination": "接种档案",
    "self_declaration": "自主申报",
    "visit_survey": "走访",
    "civil_status": "救助保障名册",
    "disability_cert": "残疾人证",
    "medical_insurance": "医保",
}
DIFFICULTY_CATEGORIES = {
    "低保": "dibao", "低保边缘": "dibao_edge", "特困": "tekun", "孤儿": "orphan",
    "事实无人抚养": "fuc", "艾滋病病毒感染": "hiv",
}  # fmt: skip
TEMPORARY_RELIEF = "临时救助"
WORKING_AWAY = "外出务工"
NO_GUARDIAN_TYPE = "无人监护"
AWAY_DIGITS = {"county": 6, "city": 4, "province": 2}
AWAY_WORDS = {"county": "县", "city": "市", "province": "省"}
_PLACEHOLDER = "'(之子|之女|之儿|之婴)$'"


def _case(column: str, mapping: dict[str, str], *, default: str = "NULL") -> str:
    whens = " ".join(f"WHEN {quote(key)} THEN {value}" for key, value in mapping.items())
    return f"CASE {column} {whens} ELSE {default} END"


def _cite(alias: str = "") -> str:
    """'居住证 J123': the label and key of a record (not the key of a disability card: it
    carries the holder's ID number)."""
    prefix = f"{alias}." if alias else ""
    label = _case(f"{prefix}source", {k: quote(v) for k, v in RECORD_LABELS.items()})
    return (
        f"CASE WHEN {prefix}source = 'disability_cert' THEN {label} "
        f"ELSE {label} || ' ' || {prefix}record_key END"
    )


_RECORDS = """
CREATE OR REPLACE TEMP TABLE classify_records AS
SELECT l.child_id, r.*,
    {rank} AS source_rank,
    {own_date} AS own_date,
    {current} AS is_current,
    -- the dates that show the child living here (§1), whichever this source has
    least(r.arrived_on, r.registered_on, r.enrolled_on, r.filed_on, r.first_vaccinated_on)
        AS lived_here_since,
    {cite} AS cite
FROM {records} AS r
JOIN {links} AS l ON l.record_id = r.source || '|' || r.record_key
"""

# Latest = newest own date; on a tie or no date, the later one read (files in name order).
_LATEST = "ORDER BY own_date DESC NULLS LAST, file DESC, sheet DESC, row DESC"

_VOTE = """
SELECT child_id, {value} AS value, count(*) AS votes, min(source_rank) AS first_rank
FROM classify_records WHERE {value} IS NOT NULL {where} GROUP BY child_id, {value}
QUALIFY row_number() OVER (PARTITION BY child_id ORDER BY votes DESC, first_rank, value) = 1
"""

_FACTS = """
CREATE OR REPLACE TEMP TABLE classify_identity AS
WITH ids AS ({vote_id}),
    births AS ({vote_birth}),
    sexes AS ({vote_sex}),
    names AS ({vote_name}),
    any_names AS ({vote_any_name}),
    hukou_stated AS ({vote_hukou}),
    hukou_from_id AS ({vote_hukou_id}),
    children AS (SELECT DISTINCT child_id FROM classify_records)
SELECT c.child_id,
    coalesce(names.value, any_names.value) AS name,
    ids.value AS id_number,
    coalesce(id_birth.id_birth_date, births.value) AS birth_date,
    coalesce(id_birth.id_sex, sexes.value) AS sex,
    coalesce(hukou_stated.value, hukou_from_id.value) AS hukou_code,
    hukou_stated.value IS NULL AND hukou_from_id.value IS NOT NULL AS hukou_from_id_prefix
FROM children AS c
LEFT JOIN ids USING (child_id)
LEFT JOIN (SELECT DISTINCT id_number, id_birth_date, id_sex FROM classify_records
           WHERE id_valid) AS id_birth ON id_birth.id_number = ids.value
LEFT JOIN births USING (child_id)
LEFT JOIN sexes USING (child_id)
LEFT JOIN names USING (child_id)
LEFT JOIN any_names USING (child_id)
LEFT JOIN hukou_stated USING (child_id)
LEFT JOIN hukou_from_id USING (child_id);

CREATE OR REPLACE TEMP TABLE classify_residence AS
WITH current AS (SELECT * FROM classify_records WHERE is_current),
    residence AS (
        SELECT child_id, residence_code, cite FROM current WHERE residence_code IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY child_id {latest}) = 1),
    since AS (
        SELECT child_id, lived_here_since AS residence_since, cite FROM current
        WHERE lived_here_since IS NOT NULL
        QUALIFY row_number() OVER (
            PARTITION BY child_id ORDER BY lived_here_since, source_rank, file, sheet, row) = 1)
SELECT child_id, true AS is_resident,
    residence.residence_code, residence.cite AS residence_cite,
    since.residence_since, since.cite AS since_cite
FROM (SELECT DISTINCT child_id FROM current)
LEFT JOIN residence USING (child_id)
LEFT JOIN since USING (child_id);

CREATE OR REPLACE TEMP TABLE classify_latest_visit AS
SELECT * FROM classify_records WHERE source = 'visit_survey'
QUALIFY row_number() OVER (PARTITION BY child_id {latest}) = 1;

CREATE OR REPLACE TEMP TABLE classify_latest_edu AS
SELECT * FROM classify_records WHERE source = 'edu_migrant'
QUALIFY row_number() OVER (PARTITION BY child_id {latest}) = 1;

CREATE OR REPLACE TEMP TABLE classify_enrolment AS
SELECT child_id,
    bool_or(school_status IN ('在读', '休学')) AS enrolled,
    bool_or(school_status = '毕业' AND stage = '初中') AS finished_junior,
    arg_max(stage, (coalesce(own_date, DATE '0001-01-01'), file, sheet, row))
        FILTER (WHERE school_status IN ('在读', '休学')) AS stage
FROM classify_records WHERE source = 'edu_migrant' GROUP BY child_id;

-- civil_status current at D (起始日期 ≤ D, 终止日期 empty or after D)
CREATE OR REPLACE TEMP TABLE classify_civil AS
SELECT child_id, category,
    string_agg(cite || '，' || strftime(starts_on, '%Y-%m-%d') || '起', '、'
               ORDER BY starts_on, record_key) AS cites
FROM classify_records
WHERE source = 'civil_status' AND starts_on <= {as_of} AND (ends_on IS NULL OR ends_on > {as_of})
GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE classify_declared AS
SELECT child_id,
    bool_or(hardship) AS hardship,
    bool_or(housing_hardship) AS housing_hardship,
    bool_or(trim(coalesce(help_needs, '')) NOT IN ('', {no_need})) AS asks_help,
    string_agg(cite, '、' ORDER BY record_key) FILTER (WHERE hardship) AS hardship_cites,
    string_agg(cite, '、' ORDER BY record_key) FILTER (WHERE housing_hardship) AS housing_cites,
    string_agg(cite, '、' ORDER BY record_key)
        FILTER (WHERE trim(coalesce(help_needs, '')) NOT IN ('', {no_need})) AS help_cites
FROM classify_records WHERE source = 'self_declaration' GROUP BY child_id;

CREATE OR REPLACE TEMP TABLE classify_disability AS
SELECT child_id, string_agg(DISTINCT cite, '、') AS cites
FROM classify_records WHERE source = 'disability_cert' GROUP BY child_id;
"""

_DIVISIONS = """
CREATE OR REPLACE TEMP TABLE classify_counties AS
SELECT code[1:6] AS county, coalesce(parent_code[1:4], code[1:4]) AS city,
    central_urban = '1' OR code[1:6] IN (SELECT unnest({extra_central}::VARCHAR[])) AS central
FROM classify_divisions WHERE level = 'county'
"""

_CLASSIFY = """
CREATE OR REPLACE TEMP TABLE classify_base AS
SELECT i.*, {age} AS age,
    coalesce(res.is_resident, false) AS is_resident,
    res.residence_code, res.residence_cite, res.residence_since, res.since_cite,
    i.hukou_code[1:6] AS hukou_county, res.residence_code[1:6] AS residence_county,
    coalesce(hk.central AND rc.central AND hk.city = rc.city, false) AS same_central_city,
    coalesce(hk.city, i.hukou_code[1:4]) AS hukou_city
FROM classify_identity AS i
LEFT JOIN classify_residence AS res USING (child_id)
LEFT JOIN classify_counties AS hk ON hk.county = i.hukou_code[1:6]
LEFT JOIN classify_counties AS rc ON rc.county = res.residence_code[1:6];

CREATE OR REPLACE TEMP TABLE classify_migrant AS
SELECT child_id,
    is_resident AND age < {migrant_age} AND residence_code IS NOT NULL
        AND hukou_county IS NOT NULL AND hukou_county <> residence_county
        AND ({central_moves_count} OR NOT same_central_city)
        AND residence_since IS NOT NULL AND residence_since <= {migrant_cutoff} AS is_migrant
FROM classify_base;

CREATE OR REPLACE TEMP TABLE classify_parents AS
SELECT b.child_id, v.cite AS visit_cite,
    v.father_status, v.mother_status, v.guardianship_type, v.lives_alone,
    v.disabled AS visit_disabled, v.vagrant, v.psych,
    {father_away} AS father_away, {mother_away} AS mother_away,
    v.father_away_code, v.mother_away_code, v.father_away_since, v.mother_away_since
FROM classify_base AS b JOIN classify_latest_visit AS v USING (child_id);

CREATE OR REPLACE TEMP TABLE classify_left_behind AS
SELECT b.child_id,
    b.is_resident AND b.age < {left_age} AND b.residence_code IS NOT NULL
        AND b.hukou_county = b.residence_county
        AND ((p.father_away AND p.mother_away)
             OR (p.father_away AND p.mother_status IN ({unable}))
             OR (p.mother_away AND p.father_status IN ({unable}))) AS is_left_behind
FROM classify_base AS b JOIN classify_parents AS p USING (child_id);

CREATE OR REPLACE TEMP TABLE classify_codes AS
WITH items AS (
    SELECT child_id, {civil_code} AS code, cites FROM classify_civil
    UNION ALL
    SELECT child_id, 'disabled', cites FROM classify_disability),
    found AS (
    SELECT child_id,
        list(code ORDER BY {code_order}) AS difficulty,
        string_agg({code_label} || '（来源：' || cites || '）', '；' ORDER BY {code_order})
            AS difficulty_reason
    FROM items WHERE code IS NOT NULL GROUP BY child_id)
SELECT b.child_id, coalesce(found.difficulty, []::VARCHAR[]) AS difficulty,
    found.difficulty_reason
FROM classify_base AS b LEFT JOIN found USING (child_id);

CREATE OR REPLACE TEMP TABLE classify_key_care AS
WITH civil AS (
    SELECT child_id, string_agg(category || '：' || cites, '；') AS cites FROM classify_civil
    WHERE category IN (SELECT unnest({hardship_categories}::VARCHAR[])) GROUP BY child_id),
    no_guardian_civil AS (
    SELECT child_id, string_agg(category || '：' || cites, '；') AS cites FROM classify_civil
    WHERE category IN ('孤儿', '事实无人抚养') GROUP BY child_id),
    facts AS (
    SELECT b.child_id, p.visit_cite, dis.cites AS disability_cites,
        coalesce(civil.cites, dec.hardship_cites) AS hardship_cites,
        coalesce(no_guardian_civil.cites, '') AS no_guardian_cites,
        dec.help_cites,
        civil.child_id IS NOT NULL OR coalesce(dec.hardship, false) AS hardship,
        dis.child_id IS NOT NULL OR coalesce(p.visit_disabled, false) AS disability,
        coalesce(p.guardianship_type = '{no_guardian_type}', false)
            OR coalesce(p.lives_alone, false)
            OR coalesce(p.father_status IN ({unable}) AND p.mother_status IN ({unable}), false)
            AS no_guardian_visit,
        no_guardian_civil.child_id IS NOT NULL AS no_guardian_status,
        coalesce(p.vagrant, false) AS vagrant,
        coalesce(p.psych, false) AS psych,
        coalesce(dec.asks_help, false) AND ({asks_help_any} OR m.is_migrant) AS asks_help
    FROM classify_base AS b
    JOIN classify_migrant AS m USING (child_id)
    LEFT JOIN civil USING (child_id)
    LEFT JOIN no_guardian_civil USING (child_id)
    LEFT JOIN classify_declared AS dec USING (child_id)
    LEFT JOIN classify_parents AS p USING (child_id)
    LEFT JOIN classify_disability AS dis USING (child_id))
SELECT child_id,
    list_filter([
        CASE WHEN hardship THEN 'hardship' END,
        CASE WHEN disability THEN 'disability' END,
        CASE WHEN no_guardian_visit OR no_guardian_status THEN 'no_guardian' END,
        CASE WHEN vagrant THEN 'vagrant' END,
        CASE WHEN psych THEN 'psych' END,
        CASE WHEN asks_help THEN 'asks_help' END
    ], lambda k: k IS NOT NULL) AS key_care,
    nullif(concat_ws('；',
        CASE WHEN hardship THEN '家庭生活困难（来源：' || hardship_cites || '）' END,
        CASE WHEN disability
            THEN '自身残疾（来源：' || coalesce(disability_cites, visit_cite) || '）' END,
        CASE WHEN no_guardian_visit THEN '监护缺失（来源：' || visit_cite || '）'
             WHEN no_guardian_status THEN '监护缺失（来源：' || no_guardian_cites || '）' END,
        CASE WHEN vagrant THEN '流浪（来源：' || visit_cite || '）' END,
        CASE WHEN psych THEN '心理和行为异常（来源：' || visit_cite || '）' END,
        CASE WHEN asks_help THEN '主动提出救助帮扶需求（来源：' || help_cites || '）' END
    ), '') AS key_care_reason
FROM facts;

CREATE OR REPLACE TEMP TABLE classify_dropout AS
SELECT b.child_id,
    CASE WHEN NOT b.is_resident OR b.age NOT BETWEEN {school_min} AND {school_max} THEN NULL
         WHEN e.school_status = '辍学' THEN 'dropped_out'
         WHEN m.is_migrant AND NOT coalesce(en.enrolled OR en.finished_junior, false)
             THEN 'not_enrolled'
    END AS dropout_risk,
    e.cite AS edu_cite
FROM classify_base AS b
JOIN classify_migrant AS m USING (child_id)
LEFT JOIN classify_latest_edu AS e USING (child_id)
LEFT JOIN classify_enrolment AS en USING (child_id);
"""


def _away(parent: str, profile: Profile, cutoff: date) -> str:
    digits = AWAY_DIGITS[profile.left_behind.away_beyond]
    return (
        f"coalesce(v.{parent}_status = '{WORKING_AWAY}' AND v.{parent}_away_code IS NOT NULL"
        f" AND v.{parent}_away_code[1:{digits}] <> b.residence_code[1:{digits}]"
        f" AND v.{parent}_away_since <= {_date(cutoff)}, false)"
    )


def _date(day: date) -> str:
    return f"DATE '{day.isoformat()}'"


def _in_list(values: tuple[str, ...]) -> str:
    return ", ".join(quote(value) for value in values)


def classify(
    con: Connection,
    *,
    records: str,
    links: str,
    divisions: pa.Table,
    profile: Profile,
    as_of: date,
    file_flags: str | None = None,
) -> str:
    """Classify every child of ``links`` (record_id, child_id) from view ``records``.

    ``file_flags`` names an optional table (child_id, flag) of facts kept on the children's
    files rather than in feeds (e.g. ``mental_disorder``). Returns the table name
    ``classified``.
    """
    rank = _case("r.source", {source.name: str(i) for i, source in enumerate(SOURCES)})
    own_date = _case(
        "r.source",
        {
            "police_residence": "r.registered_on",
            "edu_migrant": "r.enrolled_on",
            "health_child": "r.filed_on",
            "cdc_vaccination": "coalesce(r.last_vaccinated_on, r.first_vaccinated_on)",
            "self_declaration": "r.declared_on",
            "visit_survey": "r.visited_on",
        },
    )
    current = _case(
        "r.source",
        {
            "police_residence": "coalesce(r.permit_status, '') <> '注销'",
            "edu_migrant": "coalesce(r.school_status IN ('在读', '休学', '辍学'), false)",
            **dict.fromkeys(
                ("health_child", "cdc_vaccination", "self_declaration", "visit_survey"), "true"
            ),
        },
        default="false",
    )
    run(
        con,
        _RECORDS.format(
            rank=rank,
            own_date=own_date,
            current=current,
            cite=_cite("r"),
            records=ident(records),
            links=ident(links),
        ),
    )
    stated_hukou = "AND coalesce(hukou_origin, '') <> 'id_prefix'"
    run(
        con,
        _FACTS.format(
            vote_id=_VOTE.format(value="id_number", where="AND id_valid"),
            vote_birth=_VOTE.format(value="birth_date", where=""),
            vote_sex=_VOTE.format(value="sex", where=""),
            vote_name=_VOTE.format(
                value="name", where=f"AND NOT regexp_matches(name, {_PLACEHOLDER})"
            ),
            vote_any_name=_VOTE.format(value="name", where=""),
            vote_hukou=_VOTE.format(value="hukou_code", where=stated_hukou),
            vote_hukou_id=_VOTE.format(value="hukou_code", where="AND hukou_origin = 'id_prefix'"),
            latest=_LATEST,
            as_of=_date(as_of),
            no_need=_in_list(profile.key_care.no_need_answers),
        ),
    )
    con.register("classify_divisions", divisions)
    run(
        con,
        _DIVISIONS.format(
            extra_central="[" + _in_list(profile.migrant.central_urban_counties) + "]"
        ),
    )
    away_cutoff = months_before(as_of, profile.left_behind.parent_away_min_months)
    run(
        con,
        _CLASSIFY.format(
            age=age_sql("i.birth_date", as_of),
            migrant_age=int(profile.migrant.age_below),
            central_moves_count=str(profile.migrant.central_urban_moves_count).lower(),
            migrant_cutoff=_date(months_before(as_of, profile.migrant.min_residence_months)),
            father_away=_away("father", profile, away_cutoff),
            mother_away=_away("mother", profile, away_cutoff),
            left_age=int(profile.left_behind.age_below),
            unable=_in_list(profile.left_behind.unable_states),
            hardship_categories="[" + _in_list(profile.key_care.hardship_categories) + "]",
            no_guardian_type=NO_GUARDIAN_TYPE,
            asks_help_any=str(not profile.key_care.asks_help_migrants_only).lower(),
            school_min=int(profile.dropout.age_min),
            school_max=int(profile.dropout.age_max),
            civil_code=_case("category", {k: quote(v) for k, v in DIFFICULTY_CATEGORIES.items()}),
            code_order=_case("code", {code: str(i) for i, code in enumerate(DIFFICULTY_LABELS)}),
            code_label=_case("code", {k: quote(v) for k, v in DIFFICULTY_LABELS.items()}),
        ),
    )
    _flags(con, file_flags)
    _reasons(con, profile=profile, as_of=as_of)
    return "classified"


def _flags(con: Connection, file_flags: str | None) -> None:
    from_file = f"UNION ALL SELECT child_id, flag FROM {ident(file_flags)}" if file_flags else ""
    run(
        con,
        f"""CREATE OR REPLACE TEMP TABLE classify_flags AS
        SELECT child_id, list(DISTINCT flag ORDER BY flag) AS flags FROM (
            SELECT child_id, 'housing_hardship' AS flag FROM classify_declared
            WHERE housing_hardship
            UNION ALL
            SELECT child_id, 'temporary_relief' FROM classify_civil
            WHERE category = '{TEMPORARY_RELIEF}'
            {from_file}
        ) GROUP BY child_id""",
    )


def _reasons(con: Connection, *, profile: Profile, as_of: date) -> None:
    migrant, left = profile.migrant, profile.left_behind
    months = migrant.min_residence_months
    away_word = AWAY_WORDS[left.away_beyond]
    moves_count = str(migrant.central_urban_moves_count).lower()
    parent_text = """CASE WHEN p.{p}_away THEN '{w}外出务工至' || p.{p}_away_code[1:6]
        || '（自' || strftime(p.{p}_away_since, '%Y-%m-%d') || '起）'
        ELSE '{w}' || coalesce(p.{p}_status, '状况不明') END"""
    run(
        con,
        f"""
CREATE OR REPLACE TEMP TABLE classified AS
SELECT b.child_id, b.name, b.sex, b.birth_date, b.id_number, b.hukou_code,
    b.residence_code, b.residence_since, b.age, b.is_resident,
    m.is_migrant, coalesce(lb.is_left_behind, false) AS is_left_behind,
    k.key_care, c.difficulty, dr.dropout_risk,
    en.stage, coalesce(f.flags, []::VARCHAR[]) AS flags,
    concat_ws('。',
        CASE WHEN b.is_resident THEN '在本地居住（§1）：现居住地'
                || coalesce(b.residence_code || '（来源：' || b.residence_cite || '）', '不明')
                || coalesce('；自' || strftime(b.residence_since, '%Y-%m-%d') || '起居住（来源：'
                            || b.since_cite || '）', '；无来本地日期')
             ELSE '不在本地居住（§1）：无现行有效记录（居住证注销、学籍转出或毕业）' END,
        CASE WHEN m.is_migrant THEN '流动儿童（§2）：户籍地' || b.hukou_county || '与居住地'
                || b.residence_county || '不同县；自' || strftime(b.residence_since, '%Y-%m-%d')
                || '起居住满{months}个月（来源：' || b.since_cite || '）；' || b.age
                || '周岁，不满{migrant.age_below}周岁'
             WHEN b.is_resident AND b.hukou_county <> b.residence_county THEN
                '非流动儿童（§2）：' || CASE
                    WHEN b.age >= {migrant.age_below} THEN '已满{migrant.age_below}周岁（'
                        || b.age || '周岁）'
                    WHEN b.same_central_city AND NOT {moves_count}
                        THEN '户籍地' || b.hukou_county || '与居住地' || b.residence_county
                        || '同属一市中心城区，市辖区之间流动不计'
                    WHEN b.residence_since IS NULL THEN '无来本地日期，不能认定居住满{months}个月'
                    ELSE '自' || strftime(b.residence_since, '%Y-%m-%d')
                        || '起居住，未满{months}个月（来源：' || b.since_cite || '）' END
        END,
        CASE WHEN b.hukou_from_id_prefix AND m.is_migrant
             THEN '注意：户籍地取自身份证号前六位（初次登记地），请核实' END,
        CASE WHEN lb.is_left_behind
            THEN '留守儿童（§3）：' || {parent_text.format(p="father", w="父亲")}
                || '；' || {parent_text.format(p="mother", w="母亲")}
                || '；外出务工须满{left.parent_away_min_months}个月、跨{away_word}（来源：'
                || p.visit_cite || '）' END,
        '困境/保障情形（§4）：' || c.difficulty_reason,
        '重点关爱（§5）：' || k.key_care_reason,
        CASE dr.dropout_risk
            WHEN 'dropped_out'
                THEN '控辍保学（§6）：最近学籍记录为辍学（来源：' || dr.edu_cite || '）'
            WHEN 'not_enrolled' THEN '控辍保学（§6）：适龄流动儿童（' || b.age
                || '周岁）无在读或休学学籍，也无初中毕业记录'
        END
    ) || '。' AS reasons
FROM classify_base AS b
JOIN classify_migrant AS m USING (child_id)
JOIN classify_codes AS c USING (child_id)
JOIN classify_key_care AS k USING (child_id)
JOIN classify_dropout AS dr USING (child_id)
LEFT JOIN classify_left_behind AS lb USING (child_id)
LEFT JOIN classify_parents AS p USING (child_id)
LEFT JOIN classify_enrolment AS en USING (child_id)
LEFT JOIN classify_flags AS f USING (child_id)
ORDER BY b.child_id
""",
    )

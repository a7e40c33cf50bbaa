"""Round figures (本轮统计): each resident child counted once per group, dimension and category,
per division (the deepest the division table knows: village, town or the county).

The dashboard and the standard tables (分类统计分析) add these rows up for any jurisdiction, so
they never read children one by one. Runs after ``classify`` and ``match`` on the same
connection; the categories are the stored codes the web side labels (tonghu.stats.labels).
"""

from __future__ import annotations

import pyarrow as pa

from tonghu.pipeline.duck import Connection, ident, quote, run
from tonghu.policy.profile import Profile

# The groups a child may count in (a child counts in every group it belongs to).
GROUPS = ("all", "migrant", "left_behind", "difficulty", "key_care")
UNKNOWN = "unknown"  # the category of a child whose value no record states

_LATEST = "ORDER BY own_date DESC NULLS LAST, file DESC, sheet DESC, row DESC"

_SUMMARISE = """
CREATE OR REPLACE TEMP TABLE summary_children AS
SELECT c.child_id,
    coalesce(v.code, t.code, {county}) AS division_code,
    list_filter(['all',
        CASE WHEN c.is_migrant THEN 'migrant' END,
        CASE WHEN c.is_left_behind THEN 'left_behind' END,
        CASE WHEN len(c.difficulty) > 0 THEN 'difficulty' END,
        CASE WHEN len(c.key_care) > 0 THEN 'key_care' END], lambda g: g IS NOT NULL) AS groups,
    c.sex, c.age, c.stage, c.dropout_risk, c.key_care, c.difficulty,
    c.hukou_code, c.residence_code
FROM {children} AS c
LEFT JOIN summary_divisions AS v ON v.code = c.residence_code
LEFT JOIN summary_divisions AS t ON t.code = c.residence_code[1:9] || '000'
WHERE c.is_resident;

CREATE OR REPLACE TEMP TABLE summary_latest AS
SELECT child_id, source, family_doctor, insurance_status FROM classify_records
WHERE source IN ('health_child', 'medical_insurance')
QUALIFY row_number() OVER (PARTITION BY child_id, source {latest}) = 1;

CREATE OR REPLACE TEMP TABLE summary_facts AS
SELECT child_id, 'total' AS dimension, '' AS category FROM summary_children
UNION ALL
SELECT child_id, 'sex', CASE WHEN sex IN ('男', '女') THEN sex ELSE '{unknown}' END
FROM summary_children
UNION ALL
SELECT child_id, 'age', {age_band} FROM summary_children
UNION ALL
SELECT child_id, 'origin_scope', CASE
        WHEN hukou_code IS NULL THEN '{unknown}'
        WHEN hukou_code[1:6] = residence_code[1:6] THEN 'same_county'
        WHEN hukou_code[1:4] = residence_code[1:4] THEN 'same_city'
        WHEN hukou_code[1:2] = residence_code[1:2] THEN 'same_province'
        ELSE 'other_province' END
FROM summary_children
UNION ALL
SELECT child_id, 'origin_province', coalesce(hukou_code[1:2], '{unknown}') FROM summary_children
UNION ALL
SELECT child_id, 'stage', coalesce(stage, 'none') FROM summary_children
UNION ALL
SELECT child_id, 'dropout', dropout_risk FROM summary_children WHERE dropout_risk IS NOT NULL
UNION ALL
SELECT s.child_id, 'family_doctor', CASE
        WHEN h.child_id IS NULL THEN 'no_record'
        WHEN h.family_doctor THEN 'signed' ELSE 'unsigned' END
FROM summary_children AS s
LEFT JOIN summary_latest AS h ON h.child_id = s.child_id AND h.source = 'health_child'
WHERE s.age <= {health_age_max}
UNION ALL
SELECT s.child_id, 'vaccination', CASE WHEN EXISTS (
        SELECT 1 FROM classify_records AS r
        WHERE r.child_id = s.child_id AND r.source = 'cdc_vaccination') THEN 'recorded'
    ELSE 'no_record' END
FROM summary_children AS s WHERE s.age <= {health_age_max}
UNION ALL
SELECT s.child_id, 'guardianship', coalesce(p.guardianship_type, '{unknown}')
FROM summary_children AS s LEFT JOIN classify_parents AS p USING (child_id)
UNION ALL
SELECT s.child_id, 'insurance', coalesce(m.insurance_status, 'no_record')
FROM summary_children AS s
LEFT JOIN summary_latest AS m ON m.child_id = s.child_id AND m.source = 'medical_insurance'
UNION ALL
SELECT child_id, 'key_care', unnest(key_care) FROM summary_children
UNION ALL
SELECT child_id, 'difficulty', unnest(difficulty) FROM summary_children
UNION ALL
SELECT s.child_id, 'service', e.service_code
FROM summary_children AS s JOIN {services} AS e USING (child_id);

CREATE OR REPLACE TEMP TABLE summary_villages AS
SELECT s.division_code, g.grp, f.dimension, f.category, count(*) AS n
FROM summary_facts AS f
JOIN summary_children AS s USING (child_id)
JOIN (SELECT child_id, unnest(groups) AS grp FROM summary_children) AS g USING (child_id)
GROUP BY ALL;

-- The same figures added up per town and for the county, so that a page reads the few rows
-- of its own level (a child placed only at the county keeps the county's code throughout).
CREATE OR REPLACE TEMP TABLE round_figures AS
SELECT 'village' AS level, * FROM summary_villages
UNION ALL
SELECT 'town', rpad(division_code[1:9], 12, '0'), grp, dimension, category, sum(n)::BIGINT
FROM summary_villages GROUP BY ALL
UNION ALL
SELECT 'county', rpad(division_code[1:6], 12, '0'), grp, dimension, category, sum(n)::BIGINT
FROM summary_villages GROUP BY ALL
ORDER BY ALL;
"""


def summarise(
    con: Connection,
    *,
    children: str,
    services: str,
    divisions: pa.Table,
    county: str,
    profile: Profile,
) -> str:
    """Write ``round_figures`` (level, division_code, grp, dimension, category, n): per village,
    town and county (``level``); return its name."""
    con.register("summary_division_table", divisions)
    run(
        con,
        "CREATE OR REPLACE TEMP TABLE summary_divisions AS "
        "SELECT code FROM summary_division_table WHERE level IN ('town', 'village')",
    )
    run(
        con,
        _SUMMARISE.format(
            children=ident(children),
            services=ident(services),
            county=quote(f"{county}000000"),
            latest=_LATEST,
            unknown=UNKNOWN,
            age_band=_age_band(profile),
            health_age_max=int(profile.stats.health_age_max),
        ),
    )
    return "round_figures"


def _age_band(profile: Profile) -> str:
    """A CASE naming each child's age band by its label (the profile's 年龄结构)."""
    arms = " ".join(
        f"WHEN age BETWEEN {int(band.min)} AND {int(band.max)} THEN {quote(band.label)}"
        for band in profile.stats.age_bands
    )
    return f"CASE {arms} ELSE '{UNKNOWN}' END"

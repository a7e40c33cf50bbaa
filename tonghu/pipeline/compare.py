"""Step 8b, compare: what a round changed against the previous one (新增、离开、变化).

One row per new child, departed child and changed tracked value, from the previous round's
``children.parquet`` and this round's ``classified`` table.
"""

from __future__ import annotations

from pathlib import Path

from tonghu.pipeline.duck import Connection, quote, run

TRACKED = {
    "name": "姓名",
    "sex": "性别",
    "birth_date": "出生日期",
    "id_number": "身份证号",
    "hukou_code": "户籍地代码",
    "residence_code": "居住地代码",
    "residence_since": "来本地居住起始日期",
    "is_resident": "在本地居住",
    "is_migrant": "流动儿童",
    "is_left_behind": "留守儿童",
    "key_care": "重点关爱情形",
    "difficulty": "困境/保障情形",
    "dropout_risk": "控辍保学",
    "stage": "学段",
}

CATEGORIES = (
    "is_resident",
    "is_migrant",
    "is_left_behind",
    "key_care",
    "difficulty",
    "dropout_risk",
)

_AS_TEXT = {
    "key_care": "array_to_string(key_care, ';')",
    "difficulty": "array_to_string(difficulty, ';')",
    "birth_date": "strftime(birth_date, '%Y-%m-%d')",
    "residence_since": "strftime(residence_since, '%Y-%m-%d')",
    "is_resident": "CASE WHEN is_resident THEN '是' ELSE '否' END",
    "is_migrant": "CASE WHEN is_migrant THEN '是' ELSE '否' END",
    "is_left_behind": "CASE WHEN is_left_behind THEN '是' ELSE '否' END",
}

_CHANGES = """
CREATE OR REPLACE TEMP TABLE round_changes AS
WITH old AS (SELECT * FROM {old}), new AS (SELECT * FROM classified),
    old_values AS (SELECT child_id, field, value FROM (SELECT child_id, {columns} FROM old)
                   UNPIVOT INCLUDE NULLS (value FOR field IN ({fields}))),
    new_values AS (SELECT child_id, field, value FROM (SELECT child_id, {columns} FROM new)
                   UNPIVOT INCLUDE NULLS (value FOR field IN ({fields})))
SELECT child_id, 'found' AS kind, NULL::VARCHAR AS field, NULL::VARCHAR AS old_value,
    NULL::VARCHAR AS new_value, NULL::VARCHAR AS reasons
FROM new WHERE child_id NOT IN (SELECT child_id FROM old)
UNION ALL
SELECT child_id, 'departed', NULL, NULL, NULL, NULL
FROM old WHERE child_id NOT IN (SELECT child_id FROM new)
UNION ALL
-- A changed category keeps the round's reasons (the child's file shows only the latest).
SELECT child_id, 'changed', field, o.value, n.value,
    CASE WHEN field IN ({categories}) THEN new.reasons END
FROM old_values AS o JOIN new_values AS n USING (child_id, field) JOIN new USING (child_id)
WHERE o.value IS DISTINCT FROM n.value
ORDER BY child_id, kind, field
"""

_EMPTY_OLD = "(SELECT * FROM classified WHERE false)"


def compare_rounds(con: Connection, *, previous_children: Path | None) -> str:
    """Write ``round_changes`` (child_id, kind found|departed|changed, field, old, new,
    reasons of a changed category)."""
    old = f"read_parquet({quote(str(previous_children))})" if previous_children else _EMPTY_OLD
    columns = ", ".join(f"({_AS_TEXT.get(field, field)})::VARCHAR AS {field}" for field in TRACKED)
    categories = ", ".join(quote(field) for field in CATEGORIES)
    run(
        con,
        _CHANGES.format(old=old, columns=columns, fields=", ".join(TRACKED), categories=categories),
    )
    return "round_changes"

"""Step 7b, disagree: records whose stated facts contradict what the child's other records
agree on (出生日期, 性别, 户籍地), so that the department that sent them can check (核实).

Reads ``classify_records`` and ``classify_identity`` left by the classify step.
"""

from __future__ import annotations

from tonghu.pipeline.duck import Connection, run

_DISAGREE = """
CREATE OR REPLACE TEMP TABLE disagreements AS
SELECT r.child_id, 'birth_date' AS field, r.source, r.record_key,
    strftime(r.birth_date, '%Y-%m-%d') AS stated, strftime(i.birth_date, '%Y-%m-%d') AS consensus
FROM classify_records AS r JOIN classify_identity AS i USING (child_id)
WHERE r.birth_date IS NOT NULL AND i.birth_date IS NOT NULL AND r.birth_date <> i.birth_date
UNION ALL
SELECT r.child_id, 'sex', r.source, r.record_key, r.sex, i.sex
FROM classify_records AS r JOIN classify_identity AS i USING (child_id)
WHERE r.sex IS NOT NULL AND i.sex IS NOT NULL AND r.sex <> i.sex
UNION ALL
SELECT r.child_id, 'hukou_county', r.source, r.record_key, r.hukou_code[1:6], i.hukou_code[1:6]
FROM classify_records AS r JOIN classify_identity AS i USING (child_id)
WHERE r.hukou_origin = 'code' AND NOT i.hukou_from_id_prefix
    AND r.hukou_code[1:6] <> i.hukou_code[1:6]
ORDER BY child_id, field, source, record_key
"""


def find_disagreements(con: Connection) -> str:
    """Write ``disagreements`` (child_id, field, source, record_key, stated, consensus)."""
    run(con, _DISAGREE)
    return "disagreements"

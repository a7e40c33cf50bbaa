"""The Chinese names of the figures' groups and categories (the batch step stores codes)."""

from __future__ import annotations

from tonghu.pipeline.sources import GUARDIANSHIP_TYPES, STAGES
from tonghu.pipeline.summarise import UNKNOWN
from tonghu.policy.profile import GRADE_COLOURS, GUARDIANSHIP_GRADES
from tonghu.policy.rules import DIFFICULTY_LABELS, KEY_CARE_LABELS

GROUP_LABELS = {
    "all": "在册儿童",
    "migrant": "流动儿童",
    "left_behind": "留守儿童",
    "difficulty": "困境儿童",
    "key_care": "重点关爱",
}
SEXES = ("男", "女")
ORIGIN_SCOPES = {
    "same_county": "本县（市、区）",
    "same_city": "本市外县",
    "same_province": "本省外市",
    "other_province": "外省",
}
STAGE_LABELS = {**{stage: stage for stage in STAGES}, "none": "无在读学籍"}
DROPOUT_LABELS = {"dropped_out": "辍学", "not_enrolled": "适龄未入学"}
FAMILY_DOCTOR_LABELS = {"signed": "已签约", "unsigned": "未签约", "no_record": "无健康档案"}
VACCINATION_LABELS = {"recorded": "本地接种建档", "no_record": "无本地接种记录"}
GUARDIANSHIP_LABELS = {kind: kind for kind in GUARDIANSHIP_TYPES}
INSURANCE_LABELS = {
    "参保缴费": "参保缴费",
    "暂停": "暂停",
    "终止": "终止",
    "no_record": "无参保记录",
}
VISIT_STATUS_LABELS = {
    "overdue": "已逾期",
    "today": "今日到期",
    "soon": "7日内到期",
    "later": "按计划",
}
GRADE_LABELS = {grade: grade for grade in GUARDIANSHIP_GRADES}
# 赋色管理: each grade drawn in its colour (红 橙 黄 绿).
COLOUR_HEX = {"红": "#d9363e", "橙": "#f08c00", "黄": "#e6c200", "绿": "#2f9e44"}
GRADE_HEX = {
    grade: COLOUR_HEX[colour]
    for grade, colour in zip(GUARDIANSHIP_GRADES, GRADE_COLOURS, strict=True)
}

DIMENSION_LABELS: dict[str, dict[str, str]] = {
    "sex": {"男": "男", "女": "女"},
    "origin_scope": ORIGIN_SCOPES,
    "stage": STAGE_LABELS,
    "dropout": DROPOUT_LABELS,
    "family_doctor": FAMILY_DOCTOR_LABELS,
    "vaccination": VACCINATION_LABELS,
    "guardianship": GUARDIANSHIP_LABELS,
    "insurance": INSURANCE_LABELS,
    "key_care": KEY_CARE_LABELS,
    "difficulty": DIFFICULTY_LABELS,
}


def category_label(dimension: str, category: str) -> str:
    if category == UNKNOWN:
        return "未登记" if dimension == "guardianship" else "不详"
    return DIMENSION_LABELS.get(dimension, {}).get(category, category)

"""Chinese wording of the pipeline's reason and warning codes, for users and exports."""

from __future__ import annotations

REJECT_REASONS = {
    "missing_name": "缺少姓名",
    "missing_identity": "既无有效身份证号，也无可识别的出生日期",
    "duplicate_key": "记录编号与本轮已读入的另一行相同但内容不同",
    "unreadable_row": "该行无法解析（列数或引号错误）",
}

WARNINGS = {
    "invalid_id": "身份证号无效（格式或校验位错误），不作为比对依据",
    "bad_date": "日期无法识别",
    "bad_sex": "性别无法识别",
    "bad_phone": "电话号码无法识别",
    "bad_division_code": "区划代码应为6、9或12位数字",
    "bad_yes_no": "应填“是”或“否”",
    "unknown_value": "取值不在规定范围内",
    "missing_key": "缺少记录编号，已按内容生成编号",
    "id_birth_mismatch": "出生日期与身份证号不一致，以身份证号为准",
    "id_sex_mismatch": "性别与身份证号不一致，以身份证号为准",
    "hukou_from_id_prefix": "户籍地缺失，按身份证号前六位（初次登记地）推定",
    "residence_unresolved": "现住址未能对应到区划（未写明县区，也未写明本县的乡镇街道或村社区）",
    "residence_ambiguous": "现住址中的县区名称为多个县区共用，无法确定所指县区",
}


def reasons_text(codes: list[str]) -> str:
    return "；".join(REJECT_REASONS.get(code, code) for code in codes)

"""Which department sends each feed source: a department officer uploads only their own."""

from __future__ import annotations

from tonghu.accounts.roles import Department

SOURCE_DEPARTMENTS: dict[str, Department] = {
    "police_residence": Department.PUBLIC_SECURITY,
    "edu_migrant": Department.EDUCATION,
    "health_child": Department.HEALTH,
    "cdc_vaccination": Department.CDC,
    "self_declaration": Department.CIVIL_AFFAIRS,
    "visit_survey": Department.CIVIL_AFFAIRS,
    "civil_status": Department.CIVIL_AFFAIRS,
    "disability_cert": Department.DISABLED_FEDERATION,
    "medical_insurance": Department.MEDICAL_INSURANCE,
}

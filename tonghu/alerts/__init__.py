"""预警: round and visit findings and guardianship assessments raise alerts that staff
dismiss with a reason or turn into a protection case (排查 → 预警 → 会商 → 介入 → 反馈 → 监测)."""

"""The XLSX for the national child-welfare information system."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from tonghu.accounts.roles import Role
from tonghu.audit.models import Action, AuditEntry
from tonghu.children.models import Child, ChildRecord
from tonghu.conftest import make_user
from tonghu.divisions.services import divisions_load

# The column order the README documents (导出到全国儿童福利信息系统), group by group.
GROUPS = {
    "基本信息": (
        "儿童编号", "姓名", "性别", "出生日期", "公民身份号码", "户籍地区划代码", "户籍地址",
        "现居住地区划代码", "现居住地址", "来本地居住日期", "儿童类别", "困境/保障情形",
        "重点关爱情形",
    ),
    "家庭或监护人信息": (
        "监护人姓名", "监护人身份证号", "与儿童关系", "联系电话", "父亲姓名", "父亲状况",
        "母亲姓名", "母亲状况", "实际监护人", "监护类型", "委托照护人",
    ),
    "居住证": ("居住证编号", "居住登记日期", "证件状态"),
    "在校在园": ("学籍号", "学校名称", "学段", "年级", "学籍状态"),
    "健康管理": ("健康档案编号", "家庭医生签约", "最近接种日期"),
    "参保": ("参保状态", "参保地区划代码"),
    "残疾": ("残疾类别", "残疾等级"),
}  # fmt: skip
HEADER = tuple(f"{group}·{name}" for group, names in GROUPS.items() for name in names)


def test_county_staff_export_one_row_per_child_with_the_systems_fields(
    db: None, synthetic_county: Path, settings: Any, tmp_path: Path
) -> None:
    settings.ROUND_STORE_DIR = tmp_path / "rounds"
    divisions_load(path=synthetic_county / "divisions.csv")
    call_command(
        "round_run", str(synthetic_county / "feeds"), as_of="2025-06-30", export=str(tmp_path)
    )
    client = Client()
    client.force_login(make_user("clerk", Role.COUNTY_STAFF, "410402000000"))
    asked = client.get(reverse("children:national_export"))
    assert "导出事由" in asked.content.decode()  # the reason comes first
    refused = client.post(reverse("children:national_export"), {"reason": ""})
    assert refused.status_code == 400
    assert not AuditEntry.objects.filter(action=Action.EXPORT).exists()
    response = client.post(reverse("children:national_export"), {"reason": "年度报送全国系统"})
    assert response.status_code == 200
    export = AuditEntry.objects.get(action=Action.EXPORT, object_type="child")
    assert "事由：年度报送全国系统" in export.detail
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == HEADER
    assert len(rows) - 1 == Child.objects.filter(present=True).count()
    by_id = {row[0]: dict(zip(HEADER, row, strict=True)) for row in rows[1:]}
    permit = ChildRecord.objects.filter(source="police_residence").select_related("child").first()
    assert permit is not None
    row = by_id[permit.child.child_id]
    assert row["居住证·居住证编号"] == permit.record_key
    migrant = Child.objects.filter(is_migrant=True).first()
    assert migrant is not None
    assert "流动儿童" in str(by_id[migrant.child_id]["基本信息·儿童类别"])
    entry = AuditEntry.objects.get(action="export")
    assert entry.children.count() == len(rows) - 1

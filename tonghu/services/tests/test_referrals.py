"""Referrals from a round: one per eligible child, service and department; a department
sees only its own; delivery, decline and overdue; closed when the child leaves."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tonghu.accounts.roles import Department, Role
from tonghu.children.models import Child
from tonghu.children.services import child_correct
from tonghu.conftest import make_user
from tonghu.divisions.services import divisions_load
from tonghu.policy import load_profile
from tonghu.rounds.models import Round
from tonghu.services.coverage import service_coverage
from tonghu.services.loading import LEFT, load_referrals
from tonghu.services.models import Referral
from tonghu.services.services import referral_decline, referral_deliver

AS_OF = "2025-06-30"


@pytest.fixture
def round_done(db: None, synthetic_county: Path, settings: Any, tmp_path: Path) -> Round:
    settings.ROUND_STORE_DIR = tmp_path / "rounds"
    divisions_load(path=synthetic_county / "divisions.csv")
    call_command("round_run", str(synthetic_county / "feeds"), as_of=AS_OF, export=str(tmp_path))
    return Round.objects.get()


def test_a_round_opens_one_referral_per_child_service_and_department(round_done: Round) -> None:
    profile = load_profile("default")
    departments = {item.code: item.departments for item in profile.services.items}
    expected = {
        (child.pk, code, department)
        for child in Child.objects.filter(present=True)
        for code in child.services
        for department in departments[code]
    }
    opened = set(Referral.objects.values_list("child_id", "service_code", "department"))
    assert opened == expected
    assert Referral.objects.filter(service_code="S07", department="medical_insurance").exists()
    due = timezone.localdate() + dt.timedelta(days=profile.referrals.respond_within_days)
    assert set(Referral.objects.values_list("due_on", flat=True)) == {due}
    # A re-run of the round opens nothing twice.
    load_referrals(round_=round_done, profile=profile, today=timezone.localdate())
    assert Referral.objects.count() == len(expected)


def test_an_education_officer_sees_only_education_referrals(round_done: Round) -> None:
    officer = make_user(
        "edu", Role.DEPARTMENT_OFFICER, "410402000000", department=Department.EDUCATION
    )
    client = Client()
    client.force_login(officer)
    insurance_only = Referral.objects.filter(department="medical_insurance").first()
    assert insurance_only is not None
    page = client.get(reverse("services:inbox")).content.decode()
    education = Referral.objects.filter(department="education").order_by("due_on", "id").first()
    assert education is not None
    assert f'id="referral-{education.pk}"' in page
    assert f'id="referral-{insurance_only.pk}"' not in page
    assert insurance_only.child.id_number not in page  # minimum necessary: no ID numbers
    refused = client.post(reverse("services:act", args=[insurance_only.pk]), {"action": "accept"})
    assert refused.status_code == 404


def test_delivery_decline_and_overdue(round_done: Round) -> None:
    officer = make_user(
        "edu", Role.DEPARTMENT_OFFICER, "410402000000", department=Department.EDUCATION
    )
    first, second, third = Referral.objects.filter(department="education")[:3]
    delivered = referral_deliver(
        user=officer, referral_id=first.pk, delivered_on=dt.date(2025, 7, 1),
        what="安排入学", by_whom="实验小学",
    )  # fmt: skip
    assert delivered.status == Referral.Status.DELIVERED
    with pytest.raises(ValidationError, match="不能再处理"):
        referral_decline(user=officer, referral_id=first.pk, reason="重复")
    with pytest.raises(ValidationError, match="退回理由"):
        referral_decline(user=officer, referral_id=second.pk, reason=" ")
    Referral.objects.filter(pk=third.pk).update(due_on=timezone.localdate() - dt.timedelta(days=1))
    client = Client()
    client.force_login(officer)
    overdue = client.get(reverse("services:inbox"), {"status": "overdue"}).content.decode()
    assert f'id="referral-{third.pk}"' in overdue
    assert "已逾期" in overdue
    assert f'id="referral-{second.pk}"' not in overdue


def test_a_child_who_leaves_has_its_open_referrals_closed(round_done: Round) -> None:
    referral = Referral.objects.filter(status=Referral.Status.PENDING).first()
    assert referral is not None
    Child.objects.filter(pk=referral.child_id).update(present=False, services=[])
    load_referrals(round_=round_done, profile=load_profile("default"), today=timezone.localdate())
    referral.refresh_from_db()
    assert referral.status == Referral.Status.CLOSED
    assert referral.closed_reason == LEFT


def test_coverage_counts_eligible_referred_and_served_per_service_and_town(
    round_done: Round,
) -> None:
    officer = make_user(
        "edu", Role.DEPARTMENT_OFFICER, "410402000000", department=Department.EDUCATION
    )
    served = Referral.objects.filter(service_code="S03", department="education").first()
    assert served is not None
    referral_deliver(
        user=officer, referral_id=served.pk, delivered_on=dt.date(2025, 7, 1),
        what="安排入学", by_whom="实验小学",
    )  # fmt: skip
    town = served.child.residence_division_id[:9]
    in_town = [
        child
        for child in Child.objects.filter(present=True)
        if child.residence_division_id.startswith(town) and "S03" in child.services
    ]
    clerk = make_user("county", Role.COUNTY_STAFF, "410402000000")
    client = Client()
    client.force_login(clerk)
    rows = service_coverage(user=clerk, names={})
    row = next(r for r in rows if r.code == "S03" and r.town == town.ljust(12, "0"))
    assert row.eligible == len(in_town)
    assert row.referred == len(in_town)
    assert row.delivered == 1
    assert row.rate == pytest.approx(1 / len(in_town))
    response = client.get(reverse("services:coverage"), {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    assert sheet is not None
    table = list(sheet.iter_rows(values_only=True))
    assert table[0] == (
        "服务编号", "服务项目", "乡镇（街道）代码", "乡镇（街道）",
        "应享人数", "已推送人数", "已服务人数", "实现程度",
    )  # fmt: skip
    assert ("S03", "义务教育服务", row.town) == table[1 + rows.index(row)][:3]


def test_a_corrected_stage_changes_the_childs_services_at_once(round_done: Round) -> None:
    child = Child.objects.filter(is_migrant=True, present=True, stage="初中").first()
    assert child is not None
    assert "S03" in child.services
    clerk = make_user("county", Role.COUNTY_STAFF, "410402000000")
    child_correct(
        user=clerk, child_id=child.child_id, field="stage", value="高中", reason="已升学",
        version=child.version,
    )  # fmt: skip
    child.refresh_from_db()
    assert "S04" in child.services
    assert "S03" not in child.services

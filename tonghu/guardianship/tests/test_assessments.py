"""Recording assessments: history kept, latest grades for the visit plans, 监护缺失 tasks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from tonghu.accounts.roles import Role
from tonghu.audit.models import AuditEntry
from tonghu.conftest import World, make_user
from tonghu.guardianship.models import Assessment, InterventionTask
from tonghu.guardianship.selectors import intervention_tasks_for, latest_grades
from tonghu.guardianship.services import assessment_record, intervention_handle
from tonghu.guardianship.tests.conftest import answers
from tonghu.notifications.models import Notification

pytestmark = pytest.mark.django_db
DAY = dt.date(2025, 6, 1)


def _record(world: World, role: Role = Role.CHILD_DIRECTOR, **kwargs: Any) -> Assessment:
    defaults: dict[str, Any] = {"answers": answers(), "assessed_on": DAY, "note": ""}
    return assessment_record(
        user=world.users[role],
        child_id=world.child_in(Role.CHILD_DIRECTOR).child_id,
        **{**defaults, **kwargs},
    )


def test_record_scores_keeps_profile_and_audits(world: World) -> None:
    kept = _record(world, answers=answers(income="较差"), note="入户评估")
    kept.refresh_from_db()
    assert kept.score == Decimal("94.0")
    assert (kept.grade, kept.colour) == ("监护正常", "绿")
    assert kept.answers["income"] == "较差"
    assert kept.profile_key == "default"
    assert kept.assessed_by == world.users[Role.CHILD_DIRECTOR]
    entry = AuditEntry.objects.get(object_type="guardianship_assessment")
    assert entry.action == "create"
    assert [child.child_id for child in entry.children.all()] == [kept.child.child_id]
    assert kept.child.name not in entry.detail


def test_history_is_kept_and_a_worse_grade_shows_at_once(world: World) -> None:
    child = world.child_in(Role.CHILD_DIRECTOR)
    first = _record(world)
    assert latest_grades(child_ids=[child.pk]) == {child.pk: "监护正常"}
    second = _record(world, answers=answers(income="差", guardian_health="差", kinship="差"))
    assert second.grade == "监护不足"  # 75.0
    assert Assessment.objects.filter(child=child).count() == 2
    first.refresh_from_db()
    assert first.grade == "监护正常"  # never overwritten
    assert latest_grades(child_ids=[child.pk]) == {child.pk: "监护不足"}


def test_latest_is_by_assessment_date_then_recording_order(world: World) -> None:
    child = world.child_in(Role.CHILD_DIRECTOR)
    _record(world, assessed_on=DAY)
    _record(world, assessed_on=DAY - dt.timedelta(days=30), answers=answers(education="差"))
    assert latest_grades(child_ids=[child.pk]) == {child.pk: "监护正常"}  # older date ignored
    _record(world, assessed_on=DAY, answers=answers(education="差", income="差", kinship="差"))
    assert latest_grades(child_ids=[child.pk]) == {child.pk: "监护不足"}  # same day, later


def test_latest_grades_is_one_query_for_many_children(
    world: World, django_assert_num_queries: Any
) -> None:
    children = list(world.children_by_home.values())
    for index, child in enumerate(children[:4]):
        for grade_answers in (answers(), answers(child_safety="差" if index % 2 else "好")):
            Assessment.objects.create(
                child=child, assessed_on=DAY, answers=grade_answers, score=Decimal(50),
                grade="监护缺失" if grade_answers["child_safety"] == "差" else "监护不足",
                colour="红", profile_key="default",
            )  # fmt: skip
    with django_assert_num_queries(1):
        grades = latest_grades(child_ids=(child.pk for child in children))
    assert grades == {
        children[0].pk: "监护不足",
        children[1].pk: "监护缺失",
        children[2].pk: "监护不足",
        children[3].pk: "监护缺失",
    }  # the never-assessed children are absent


def test_future_date_refused(world: World) -> None:
    with pytest.raises(ValidationError, match="评估日期不能晚于今天"):
        _record(world, assessed_on=timezone.localdate() + dt.timedelta(days=1))
    assert not Assessment.objects.exists()


def test_bad_answers_refused_in_chinese_nothing_saved(world: World) -> None:
    with pytest.raises(ValidationError, match="不是可选项"):
        _record(world, answers=answers(income="一般"))
    assert not Assessment.objects.exists()


def test_city_staff_may_not_record(world: World) -> None:
    with pytest.raises(PermissionDenied):
        _record(world, role=Role.CITY_STAFF)
    assert not Assessment.objects.exists()


def test_out_of_scope_child_is_not_found(world: World) -> None:
    with pytest.raises(Http404):
        assessment_record(
            user=world.users[Role.CHILD_DIRECTOR],
            child_id=world.child_out(Role.CHILD_DIRECTOR).child_id,
            answers=answers(),
            assessed_on=DAY,
        )


def test_missing_opens_one_task_and_notifies_county_staff(world: World) -> None:
    other_county = make_user("u_other_county", Role.COUNTY_STAFF, "410403000000")
    child = world.child_in(Role.CHILD_DIRECTOR)
    first = _record(world, answers=answers(child_safety="差"))
    assert first.grade == "监护缺失"
    task = InterventionTask.objects.get()
    assert (task.child, task.assessment, task.status) == (child, first, "open")
    county_staff = world.users[Role.COUNTY_STAFF]
    # (The 监护缺失 预警 it also raises reminds them separately: tonghu/alerts.)
    note = Notification.objects.get(user=county_staff, kind=Notification.Kind.GUARDIANSHIP)
    assert child.child_id in note.text
    assert child.name not in note.text
    assert note.url == "/guardianship/tasks/"
    assert not Notification.objects.filter(user=other_county).exists()
    assert not Notification.objects.filter(user=world.users[Role.CHILD_DIRECTOR]).exists()
    # Assessed again while the task is open: still one task.
    _record(world, answers=answers(child_safety="差", income="差"))
    assert InterventionTask.objects.count() == 1


def test_a_grade_better_than_missing_opens_no_task(world: World) -> None:
    kept = _record(world, answers=answers(child_safety="较差", income="差", education="差"))
    assert (kept.score, kept.grade) == (Decimal("71.0"), "监护不足")
    assert not InterventionTask.objects.exists()
    assert not Notification.objects.exists()


def test_county_staff_handle_task_with_a_note(world: World) -> None:
    _record(world, answers=answers(child_safety="差"))
    task = InterventionTask.objects.get()
    staff = world.users[Role.COUNTY_STAFF]
    with pytest.raises(ValidationError, match="请填写处置情况"):
        intervention_handle(user=staff, task_id=task.pk, note="  ")
    handled = intervention_handle(user=staff, task_id=task.pk, note="已落实临时监护")
    assert (handled.status, handled.handled_by, handled.note) == (
        "handled",
        staff,
        "已落实临时监护",
    )
    assert handled.handled_at is not None
    with pytest.raises(ValidationError, match="该任务已处置"):
        intervention_handle(user=staff, task_id=task.pk, note="再次")
    # Once handled, a new 监护缺失 opens a new task.
    _record(world, answers=answers(child_safety="差"))
    assert InterventionTask.objects.filter(status="open").count() == 1


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.CHILD_DIRECTOR, Role.CITY_STAFF])
def test_only_county_staff_see_and_handle_tasks(world: World, role: Role) -> None:
    _record(world, answers=answers(child_safety="差"))
    task = InterventionTask.objects.get()
    assert not intervention_tasks_for(user=world.users[role]).exists()
    with pytest.raises(Http404):
        intervention_handle(user=world.users[role], task_id=task.pk, note="处置")


def test_other_county_staff_cannot_handle(world: World) -> None:
    _record(world, answers=answers(child_safety="差"))
    outsider = make_user("u_other_county", Role.COUNTY_STAFF, "410403000000")
    assert not intervention_tasks_for(user=outsider).exists()
    with pytest.raises(Http404):
        intervention_handle(user=outsider, task_id=InterventionTask.objects.get().pk, note="x")

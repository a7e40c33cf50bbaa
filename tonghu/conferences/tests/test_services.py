"""Recording conferences and working their tasks: rules, history, audit and reminders."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from tonghu.accounts.models import User
from tonghu.accounts.roles import Role
from tonghu.audit.models import AuditChild, AuditEntry
from tonghu.cases.models import Case, CaseEvent
from tonghu.conferences.models import ConferenceTask
from tonghu.conferences.selectors import conferences_of, open_tasks_count, tasks_for
from tonghu.conferences.services import (
    TaskInput,
    conference_record,
    conference_task_accept,
    conference_task_decline,
    conference_task_done,
)
from tonghu.conferences.tests.conftest import CIVIL, EDUCATION, HEALTH, VILLAGE, record
from tonghu.conferences.tests.matrix import make_case
from tonghu.conftest import Clock, World, make_user
from tonghu.notifications.models import Notification

pytestmark = pytest.mark.django_db

HELD = dt.date(2026, 11, 20)
TWO_TASKS = (
    TaskInput(department=EDUCATION, task="安排儿童复学"),
    TaskInput(department=HEALTH, task="安排体检", due_on=dt.date(2026, 11, 30)),
)


def _officer(world: World) -> User:
    return world.users[Role.DEPARTMENT_OFFICER]  # education, at the county


def _education_task(world: World, case: Case) -> ConferenceTask:
    record(world, case, departments=[CIVIL, EDUCATION, HEALTH], tasks=TWO_TASKS)
    return ConferenceTask.objects.get(case=case, department=EDUCATION)


def test_record_with_tasks_defaults_the_due_date_from_the_profile(world: World, case: Case) -> None:
    conference = record(world, case, departments=[CIVIL, EDUCATION, HEALTH], tasks=TWO_TASKS)
    tasks = {task.department: task for task in conference.tasks.all()}
    assert tasks[EDUCATION].due_on == HELD + dt.timedelta(days=15)  # conference_task_days
    assert tasks[HEALTH].due_on == dt.date(2026, 11, 30)
    assert {task.status for task in tasks.values()} == {ConferenceTask.Status.PENDING}
    assert conference.department_labels == ["民政", "教育", "卫生健康"]
    event = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.CONFERENCE)
    assert event.text == "会商：3个部门，2项任务"
    assert event.by == world.users[Role.COUNTY_STAFF]
    case.refresh_from_db()
    assert case.version == 1  # a conference moves nothing on the case
    assert open_tasks_count(case=case) == 2


def test_a_supervisor_records_and_duplicate_departments_count_once(
    world: World, case: Case
) -> None:
    with pytest.raises(ValidationError, match="两个以上部门"):
        record(world, case, departments=[EDUCATION, EDUCATION], role=Role.SUPERVISOR)
    conference = record(world, case, role=Role.SUPERVISOR)
    assert conference.departments == [CIVIL, EDUCATION]
    assert open_tasks_count(case=case) == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"departments": [CIVIL]}, "会商须有两个以上部门参加。"),
        ({"departments": [CIVIL, "nowhere"]}, "不认识的部门：nowhere。"),
        ({"held_on": dt.date(2026, 11, 24)}, "会商日期不能晚于今天。"),
        ({"tasks": [TaskInput(department="x", task="做点什么")]}, "第1项任务请选择责任部门。"),
        ({"tasks": [TaskInput(department=EDUCATION, task=" ")]}, "第1项任务请填写任务内容。"),
        (
            {"tasks": [TaskInput(department=EDUCATION, task="复学", due_on=dt.date(2026, 1, 1))]},
            "第1项任务的办理期限不能早于会商日期。",
        ),
    ],
)
def test_refusals(world: World, case: Case, changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        record(world, case, **changes)  # type: ignore[arg-type]
    assert message in refused.value.messages
    assert not case.conferences.exists()
    assert not CaseEvent.objects.filter(case=case).exists()


def test_a_closed_case_is_not_conferred_on(world: World, clock: Clock) -> None:
    closed = make_case("AJ410402202611230009", VILLAGE, state="closed")
    with pytest.raises(ValidationError, match="案件已结案，不能再会商。"):
        record(world, closed, tasks=TWO_TASKS[:1])
    assert not ConferenceTask.objects.exists()


@pytest.mark.parametrize("role", [Role.CHILD_DIRECTOR, Role.DEPARTMENT_OFFICER, Role.CITY_STAFF])
def test_only_county_staff_and_supervisors_record(world: World, case: Case, role: Role) -> None:
    with pytest.raises(PermissionDenied):
        record(world, case, role=role)


def test_a_case_out_of_scope_is_not_found(world: World, clock: Clock) -> None:
    elsewhere = make_case("AJ410402202611230010", "410402200201")  # the other town
    with pytest.raises(Http404):
        record(world, elsewhere, role=Role.SUPERVISOR)


def test_officers_of_the_task_departments_are_told(
    world: World, case: Case, health_officer: User
) -> None:
    other_county = make_user(
        "u_edu_weidong", Role.DEPARTMENT_OFFICER, "410403000000", department=EDUCATION
    )
    other_city = make_user(
        "u_health_zz", Role.DEPARTMENT_OFFICER, "410100000000", department=HEALTH
    )
    record(world, case, departments=[CIVIL, EDUCATION, HEALTH], tasks=TWO_TASKS)
    sent = Notification.objects.filter(kind=Notification.Kind.CASE_TASK)
    assert {n.user for n in sent} == {_officer(world), health_officer}
    assert not sent.filter(user__in=[other_county, other_city]).exists()
    text = sent.get(user=health_officer).text
    assert case.number in text
    assert "2026-11-30" in text
    assert world.children_by_home[VILLAGE].name not in text


def test_a_civil_affairs_task_tells_the_county_staff(world: World, case: Case) -> None:
    record(world, case, tasks=[TaskInput(department=CIVIL, task="落实临时监护")])
    told = Notification.objects.filter(kind=Notification.Kind.CASE_TASK)
    assert [n.user for n in told] == [world.users[Role.COUNTY_STAFF]]


def test_audit_rows_name_the_case_and_child_not_the_participants(world: World, case: Case) -> None:
    conference = record(world, case, tasks=TWO_TASKS)
    entry = AuditEntry.objects.get(object_type="conference")
    assert entry.object_ids[0] == str(conference.pk)
    assert case.number in entry.object_ids
    assert entry.detail == "记录案件会商（2个部门，2项任务）"
    assert "王某" not in entry.detail
    child = world.children_by_home[VILLAGE]
    assert AuditChild.objects.filter(entry=entry, child_id=child.child_id).exists()


def test_the_officer_accepts_then_completes(world: World, case: Case) -> None:
    task = _education_task(world, case)
    officer = _officer(world)
    accepted = conference_task_accept(user=officer, task_id=task.pk)
    assert accepted.status == ConferenceTask.Status.ACCEPTED
    assert accepted.handled_by == officer
    with pytest.raises(ValidationError, match="已接收"):
        conference_task_accept(user=officer, task_id=task.pk)
    with pytest.raises(ValidationError, match="请填写任务完成情况"):
        conference_task_done(user=officer, task_id=task.pk, answer="  ")
    done = conference_task_done(user=officer, task_id=task.pk, answer="已于11月25日复学")
    assert (done.status, done.answer) == (ConferenceTask.Status.DONE, "已于11月25日复学")
    with pytest.raises(ValidationError, match="该会商任务已完成，不能再处理。"):
        conference_task_decline(user=officer, task_id=task.pk, reason="迟了")
    assert open_tasks_count(case=case) == 1  # the health task
    details = list(
        AuditEntry.objects.filter(object_type="conference_task")
        .order_by("pk")
        .values_list("detail", flat=True)
    )
    assert details == ["会商任务（教育）已接收", "会商任务（教育）已完成"]
    history = CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.CONFERENCE)
    assert history.filter(text="会商任务（教育）已完成").exists()
    told = Notification.objects.get(user=world.users[Role.COUNTY_STAFF])
    assert told.text == f"案件 {case.number} 的会商任务（教育）已完成。"


def test_decline_needs_a_reason(world: World, case: Case) -> None:
    task = _education_task(world, case)
    with pytest.raises(ValidationError, match="请填写退回理由"):
        conference_task_decline(user=_officer(world), task_id=task.pk, reason="")
    declined = conference_task_decline(user=_officer(world), task_id=task.pk, reason="非本部门")
    assert (declined.status, declined.answer) == (ConferenceTask.Status.DECLINED, "非本部门")
    assert declined.get_status_display() == "已退回"


def test_officers_of_other_departments_and_supervisors_may_not_act(
    world: World, case: Case, health_officer: User
) -> None:
    task = _education_task(world, case)
    for user in (health_officer, world.users[Role.SUPERVISOR]):
        with pytest.raises(Http404):
            conference_task_accept(user=user, task_id=task.pk)
    done = conference_task_done(
        user=world.users[Role.COUNTY_STAFF], task_id=task.pk, answer="经核实已复学"
    )
    assert done.status == ConferenceTask.Status.DONE


def test_tasks_for_by_role_and_scope(world: World, case: Case, health_officer: User) -> None:
    record(world, case, departments=[CIVIL, EDUCATION, HEALTH], tasks=TWO_TASKS)
    elsewhere = make_case("AJ410403202611230001", "410403001001")  # the neighbouring county
    conference_record(
        user=make_user("u_staff_weidong", Role.COUNTY_STAFF, "410403000000"),
        number=elsewhere.number,
        held_on=HELD,
        departments=[CIVIL, EDUCATION],
        participants="",
        decisions="落实临时照护。",
        tasks=TWO_TASKS[:1],
    )

    def seen(user: User) -> set[tuple[str, str]]:
        return {(t.case.number, t.department) for t in tasks_for(user=user)}

    assert seen(_officer(world)) == {(case.number, EDUCATION)}
    assert seen(health_officer) == {(case.number, HEALTH)}
    assert len(seen(world.users[Role.COUNTY_STAFF])) == 2
    assert len(seen(world.users[Role.SUPERVISOR])) == 2
    for role in (Role.CHILD_DIRECTOR, Role.CITY_STAFF, Role.REPORTER, Role.AUDITOR):
        assert not seen(world.users[role])


def test_conferences_of_prefetches_tasks(
    world: World, case: Case, django_assert_num_queries: object
) -> None:
    for _ in range(3):
        record(world, case, tasks=TWO_TASKS)
    with django_assert_num_queries(2):  # type: ignore[operator]
        found = list(conferences_of(case=case))
        assert [len(c.tasks.all()) for c in found] == [2, 2, 2]
        assert {c.recorded_by.username for c in found} == {"u_county_staff"}

"""The pages: recording a conference, the department's task inbox, the task page and its
actions, and the partial the case page includes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from tonghu.accounts.models import User
from tonghu.accounts.roles import Role
from tonghu.cases.models import Case
from tonghu.conferences.models import ConferenceTask
from tonghu.conferences.selectors import conference_context
from tonghu.conferences.services import TaskInput
from tonghu.conferences.tests.conftest import CIVIL, EDUCATION, HEALTH, VILLAGE, record
from tonghu.conftest import Clock, World

pytestmark = pytest.mark.django_db

BADGE = '<span class="badge warn">已逾期</span>'


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _task(world: World, case: Case, department: str = EDUCATION) -> ConferenceTask:
    record(
        world,
        case,
        departments=[CIVIL, EDUCATION, HEALTH],
        tasks=[TaskInput(department=department, task="安排儿童复学")],
    )
    return ConferenceTask.objects.get(case=case, department=department)


def _form(**changed: object) -> dict[str, object]:
    return {
        "held_on": "2026-11-20",
        "departments": [CIVIL, EDUCATION],
        "participants": "县民政局 王某",
        "decisions": "落实临时照护。",
        "task_0_department": EDUCATION,
        "task_0_text": "安排儿童复学",
        "task_0_due_on": "",
        **changed,
    }


def test_the_form_offers_a_date_and_the_departments(world: World, case: Case) -> None:
    response = _client(world.users[Role.COUNTY_STAFF]).get(
        reverse("conferences:new", args=[case.number])
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert 'type="date" name="held_on" value="2026-11-23"' in text
    assert 'value="education"' in text
    assert "自会商日期起 15 日内办理" in text
    assert "<script>" not in text


def test_recording_redirects_to_the_case(world: World, case: Case) -> None:
    response = _client(world.users[Role.SUPERVISOR]).post(
        reverse("conferences:new", args=[case.number]), _form()
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/cases/")
    task = ConferenceTask.objects.get(case=case)
    assert (task.department, task.due_on) == (EDUCATION, dt.date(2026, 12, 5))


def test_recording_errors_are_shown_on_the_form(world: World, case: Case) -> None:
    client = _client(world.users[Role.COUNTY_STAFF])
    url = reverse("conferences:new", args=[case.number])
    response = client.post(url, _form(departments=[CIVIL]))
    assert response.status_code == 200
    assert "会商须有两个以上部门参加。" in response.content.decode()
    response = client.post(url, _form(task_1_text="安排体检"))
    assert "请选择责任部门。" in response.content.decode()
    assert not case.conferences.exists()


def test_the_inbox_shows_what_the_work_needs_and_overdue_red(
    world: World, case: Case, clock: Clock
) -> None:
    task = _task(world, case)
    client = _client(world.users[Role.DEPARTMENT_OFFICER])
    text = client.get(reverse("conferences:tasks")).content.decode()
    assert f'id="conference-task-{task.pk}"' in text
    assert case.number in text
    assert "东湾村" in text
    assert "安排儿童复学" in text
    assert world.children_by_home[VILLAGE].name not in text
    assert "落实临时照护" not in text  # the decisions stay on the case page
    assert BADGE not in text
    assert "?status=overdue" in text
    assert (
        not client.get(reverse("conferences:tasks") + "?status=overdue").context["page"].object_list
    )
    clock.advance(days=13)  # held 2026-11-20, due 2026-12-05; now 2026-12-06
    overdue = client.get(reverse("conferences:tasks") + "?status=overdue")
    assert [t.pk for t in overdue.context["page"].object_list] == [task.pk]
    assert BADGE in overdue.content.decode()


def test_done_tasks_leave_the_open_list(world: World, case: Case, clock: Clock) -> None:
    task = _task(world, case)
    ConferenceTask.objects.filter(pk=task.pk).update(status=ConferenceTask.Status.DONE)
    clock.advance(days=30)
    client = _client(world.users[Role.DEPARTMENT_OFFICER])
    for shown in ("open", "overdue"):
        page = client.get(reverse("conferences:tasks") + f"?status={shown}").context["page"]
        assert not page.object_list
    everything = client.get(reverse("conferences:tasks") + "?status=all").content.decode()
    assert "已完成" in everything
    assert BADGE not in everything


def test_the_officer_accepts_and_completes_through_the_page(world: World, case: Case) -> None:
    task = _task(world, case)
    client = _client(world.users[Role.DEPARTMENT_OFFICER])
    page = client.get(reverse("conferences:task", args=[task.pk])).content.decode()
    assert "查看案件" not in page  # officers of departments other than police: no case page
    response = client.post(
        reverse("conferences:task_accept", args=[task.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert text.startswith('<li class="card task conference-task"')
    assert "【已接收】" in text
    response = client.post(reverse("conferences:task_done", args=[task.pk]), {"answer": ""})
    assert "请填写任务完成情况。" in response.content.decode()
    response = client.post(reverse("conferences:task_done", args=[task.pk]), {"answer": "已复学"})
    assert "已记录任务完成情况。" in response.content.decode()
    task.refresh_from_db()
    assert (task.status, task.answer) == (ConferenceTask.Status.DONE, "已复学")


def test_another_departments_officer_gets_404(
    world: World, case: Case, health_officer: User
) -> None:
    task = _task(world, case)
    client = _client(health_officer)
    assert client.get(reverse("conferences:task", args=[task.pk])).status_code == 404
    response = client.post(reverse("conferences:task_decline", args=[task.pk]), {"reason": "x"})
    assert response.status_code == 404
    assert (
        f"conference-task-{task.pk}"
        not in client.get(reverse("conferences:tasks")).content.decode()
    )
    task.refresh_from_db()
    assert task.status == ConferenceTask.Status.PENDING


def test_county_staff_see_a_link_to_the_case(world: World, case: Case) -> None:
    task = _task(world, case)
    page = _client(world.users[Role.COUNTY_STAFF]).get(reverse("conferences:task", args=[task.pk]))
    assert f'href="/cases/{case.number}/"' in page.content.decode()


def test_the_case_partial_lists_conferences_and_tasks(world: World, case: Case) -> None:
    task = _task(world, case)
    staff = world.users[Role.COUNTY_STAFF]
    html = render_to_string(
        "conferences/_case_conferences.html",
        {"case": case, **conference_context(user=staff, case=case)},
    )
    assert "参加部门：民政、教育、卫生健康" in html
    assert "落实临时照护；教育部门安排复学。" in html
    assert reverse("conferences:new", args=[case.number]) in html
    assert reverse("conferences:task", args=[task.pk]) in html
    director = world.users[Role.CHILD_DIRECTOR]
    html = render_to_string(
        "conferences/_case_conferences.html",
        {"case": case, **conference_context(user=director, case=case)},
    )
    assert "安排儿童复学" in html
    assert reverse("conferences:new", args=[case.number]) not in html


def test_the_navigation_offers_the_inbox_to_officers(world: World) -> None:
    home = _client(world.users[Role.DEPARTMENT_OFFICER]).get(reverse("web:home"))
    assert reverse("conferences:tasks") in home.content.decode()

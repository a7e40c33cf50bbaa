"""The whole loop from a teacher's report to 结案, and every refusal on the way."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from tonghu import clock as tonghu_clock
from tonghu.audit.models import AuditEntry
from tonghu.cases.machine import REPORTER_PHASES, STEPS, State, Step
from tonghu.cases.models import Case, CaseEvent
from tonghu.cases.selectors import access_case, access_report
from tonghu.cases.services import CaseConflictError, case_step
from tonghu.cases.tests.factories import (
    COUNTY,
    STEP_DATA,
    TOWN,
    VILLAGE,
    People,
    file_report,
    people,
    take,
)
from tonghu.conftest import Clock, World
from tonghu.notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(world: World, clock: Clock) -> People:
    return people(world)


def _through(cast: People, case: Case, until: Step) -> Case:
    """Take the happy path's steps in order up to and including ``until``."""
    order = [
        (Step.ACCEPT, cast.police),
        (Step.EMERGENCY, cast.police),
        (Step.NOTIFY_TOWN, cast.police),
        (Step.ASSESS, cast.supervisor),
        (Step.PROPOSE_PLAN, cast.supervisor),
        (Step.APPROVE_PLAN, cast.county),
        (Step.INTERVENE, cast.county),
        (Step.FEEDBACK, cast.supervisor),
        (Step.MONITOR, cast.director),
    ]
    for step, user in order:
        case = take(user, case, step, **STEP_DATA[step])
        if step is until:
            return case
    raise AssertionError(f"{until} is not on the happy path before monitoring")


def test_a_teachers_report_goes_round_the_loop_to_closure(cast: People, clock: Clock) -> None:
    report = file_report(cast.reporter)
    case = report.case
    assert report.receipt_no.startswith("BG410402")
    assert case.state == State.REPORTED
    assert case.due_at == clock.now + dt.timedelta(hours=1)  # 立即: the default profile
    assert access_report(user=cast.reporter, receipt_no=report.receipt_no) == report

    case = _through(cast, case, Step.MONITOR)
    assert case.state == State.MONITORING
    assert case.monitoring_since == tonghu_clock.today()
    assert case.needs_intervention

    clock.advance(days=90)
    follow_up = {**STEP_DATA[Step.FOLLOW_UP], "visited_on": tonghu_clock.today().isoformat()}
    case = take(cast.director, case, Step.FOLLOW_UP, **follow_up)
    assert case.state == State.MONITORING
    case = take(cast.supervisor, case, Step.REQUEST_CLOSURE, **STEP_DATA[Step.REQUEST_CLOSURE])
    assert case.state == State.CLOSURE_PENDING
    case = take(cast.county, case, Step.APPROVE_CLOSURE, **STEP_DATA[Step.APPROVE_CLOSURE])

    assert case.state == State.CLOSED
    assert case.closed_at == clock.now
    assert case.due_at is None
    steps = list(case.events.filter(kind=CaseEvent.Kind.STEP).values_list("step", flat=True))
    assert steps == [
        "accept", "emergency", "notify_town", "assess", "propose_plan", "approve_plan",
        "intervene", "feedback", "monitor", "follow_up", "request_closure", "approve_closure",
    ]  # fmt: skip
    placed = case.events.get(step="emergency").data
    assert placed["临时安置去向"] == "其他近亲属"
    assert "临时安置" in placed["应急处置措施"]
    assert case.events.get(step="notify_town").data["通报的乡镇（街道）"] == "焦店镇"
    assert AuditEntry.objects.filter(object_type="case", object_ids=[case.number]).count() >= 12
    # The reporter sees the phase and nothing else.
    report.refresh_from_db()
    assert REPORTER_PHASES[State(report.case.state)] == "已办结"


def test_each_step_tells_the_people_who_act_next(cast: People) -> None:
    case = file_report(cast.reporter).case
    new = Notification.objects.filter(kind=Notification.Kind.CASE_NEW)
    assert set(new.values_list("user__username", flat=True)) >= {"u_police", "u_county_staff"}
    assert cast.reporter.username not in set(new.values_list("user__username", flat=True))
    _through(cast, case, Step.NOTIFY_TOWN)
    told = Notification.objects.filter(kind=Notification.Kind.CASE_STEP, user=cast.supervisor)
    assert told.count() == 1
    assert case.number in told.get().text
    assert "测试学生" not in told.get().text  # child ids and case numbers only


def test_a_step_from_the_wrong_state_is_refused_with_the_reason(cast: People) -> None:
    case = file_report(cast.reporter).case
    with pytest.raises(ValidationError) as refused:
        take(cast.supervisor, case, Step.ASSESS, **STEP_DATA[Step.ASSESS])
    assert refused.value.messages == [
        "案件当前处于“已报告”，不能“调查评估”。当前可办理：公安受理/出警。"
    ]
    case.refresh_from_db()
    assert case.state == State.REPORTED
    assert case.version == 1


def test_a_role_not_allowed_is_refused_by_name(cast: People) -> None:
    case = file_report(cast.reporter).case
    with pytest.raises(ValidationError) as refused:
        take(cast.director, case, Step.ACCEPT, **STEP_DATA[Step.ACCEPT])
    assert refused.value.messages == [
        "“公安受理/出警”须由公安机关或区县民政办理，您的角色（儿童主任）无权办理。"
    ]


def test_a_reporter_cannot_reach_the_case_at_all(cast: People) -> None:
    case = file_report(cast.reporter).case
    with pytest.raises(Http404):
        take(cast.reporter, case, Step.ACCEPT, **STEP_DATA[Step.ACCEPT])
    with pytest.raises(Http404):
        access_case(user=cast.reporter, number=case.number)


def test_missing_required_fields_are_named(cast: People) -> None:
    case = file_report(cast.reporter).case
    with pytest.raises(ValidationError) as refused:
        take(cast.police, case, Step.ACCEPT, police_unit="", dispatch="")
    assert refused.value.message_dict == {
        "police_unit": ["请填写此项。"],
        "dispatch": ["请填写此项。"],
    }


def test_a_placement_must_say_where(cast: People) -> None:
    case = _through(cast, file_report(cast.reporter).case, Step.ACCEPT)
    data = {**STEP_DATA[Step.EMERGENCY], "placement": ""}
    with pytest.raises(ValidationError) as refused:
        take(cast.police, case, Step.EMERGENCY, **data)
    assert refused.value.message_dict == {"placement": ["选择了临时安置，请填写安置去向。"]}


def test_the_town_notified_must_be_the_childs(cast: People) -> None:
    case = _through(cast, file_report(cast.reporter).case, Step.EMERGENCY)
    with pytest.raises(ValidationError) as refused:
        take(cast.police, case, Step.NOTIFY_TOWN, town="410402200000", note="")
    assert refused.value.messages == ["通报的乡镇（街道）与儿童所在地不符。"]


def test_a_report_placed_at_county_level_takes_the_town_notified(cast: People) -> None:
    case = file_report(cast.reporter, place=COUNTY).case
    assert case.division_id == COUNTY
    case = _through(cast, case, Step.NOTIFY_TOWN)
    assert case.division_id == TOWN
    assert access_case(user=cast.supervisor, number=case.number) == case


def test_nobody_approves_their_own_plan(cast: People) -> None:
    case = _through(cast, file_report(cast.reporter).case, Step.ASSESS)
    case = take(cast.county, case, Step.PROPOSE_PLAN, **STEP_DATA[Step.PROPOSE_PLAN])
    with pytest.raises(ValidationError) as refused:
        take(cast.county, case, Step.APPROVE_PLAN, opinion="")
    assert refused.value.messages == ["帮扶方案由您本人提交，须由另一名工作人员审批。"]
    with pytest.raises(ValidationError) as refused:
        take(cast.supervisor, case, Step.APPROVE_PLAN, opinion="")
    assert refused.value.messages == ["区县民政工作人员提交的帮扶方案须由同级或上级工作人员审批。"]
    case = take(cast.county_second, case, Step.APPROVE_PLAN, opinion="同意")
    assert case.state == State.PLAN_APPROVED


def test_a_returned_plan_goes_back_to_assessment_with_the_reason(cast: People) -> None:
    case = _through(cast, file_report(cast.reporter).case, Step.PROPOSE_PLAN)
    with pytest.raises(ValidationError):
        take(cast.county, case, Step.RETURN_PLAN, opinion="")
    case = take(cast.county, case, Step.RETURN_PLAN, opinion="请补充心理疏导的频次")
    assert case.state == State.ASSESSED
    assert case.pending_by is None
    assert case.events.get(step="return_plan").data == {"退回理由": "请补充心理疏导的频次"}


def test_feedback_waits_for_the_intervention_the_plan_asked_for(cast: People) -> None:
    case = _through(cast, file_report(cast.reporter).case, Step.APPROVE_PLAN)
    with pytest.raises(ValidationError) as refused:
        take(cast.supervisor, case, Step.FEEDBACK, **STEP_DATA[Step.FEEDBACK])
    assert refused.value.messages == [
        "帮扶方案确定需要监护干预，请先记录监护干预措施，再反馈处置情况。"
    ]


def test_a_plan_without_intervention_goes_straight_to_feedback(cast: People) -> None:
    case = _through(cast, file_report(cast.reporter).case, Step.ASSESS)
    plan = {**STEP_DATA[Step.PROPOSE_PLAN]}
    del plan["intervention_needed"]
    case = take(cast.supervisor, case, Step.PROPOSE_PLAN, **plan)
    case = take(cast.county, case, Step.APPROVE_PLAN, opinion="")
    case = take(cast.supervisor, case, Step.FEEDBACK, **STEP_DATA[Step.FEEDBACK])
    assert case.state == State.FEEDBACK


def test_closure_waits_for_the_minimum_monitoring(cast: People, clock: Clock) -> None:
    case = _through(cast, file_report(cast.reporter).case, Step.MONITOR)
    clock.advance(days=89)
    with pytest.raises(ValidationError) as refused:
        take(cast.supervisor, case, Step.REQUEST_CLOSURE, **STEP_DATA[Step.REQUEST_CLOSURE])
    assert refused.value.messages == [
        "跟踪监测自2026-11-23起不足90日，尚不能申请结案（可于2027-02-21起申请）。"
    ]
    clock.advance(days=1)
    case = take(cast.supervisor, case, Step.REQUEST_CLOSURE, **STEP_DATA[Step.REQUEST_CLOSURE])
    assert case.state == State.CLOSURE_PENDING


def test_closure_needs_an_approver_other_than_the_requester(cast: People, clock: Clock) -> None:
    case = _through(cast, file_report(cast.reporter).case, Step.MONITOR)
    clock.advance(days=90)
    case = take(cast.supervisor, case, Step.REQUEST_CLOSURE, **STEP_DATA[Step.REQUEST_CLOSURE])
    with pytest.raises(ValidationError) as refused:
        take(cast.supervisor, case, Step.APPROVE_CLOSURE, opinion="")
    assert refused.value.messages == ["结案申请由您本人提交，须由另一名工作人员审批。"]
    case = take(cast.county, case, Step.RETURN_CLOSURE, opinion="需再回访一次")
    assert case.state == State.MONITORING


def test_an_unfounded_report_closes_after_assessment_only_as_such(cast: People) -> None:
    case = _through(cast, file_report(cast.reporter).case, Step.ASSESS)
    with pytest.raises(ValidationError) as refused:
        take(cast.supervisor, case, Step.REQUEST_CLOSURE, **STEP_DATA[Step.REQUEST_CLOSURE])
    assert "仅限“经核查不属实或无需帮扶”" in refused.value.messages[0]
    case = take(
        cast.supervisor,
        case,
        Step.REQUEST_CLOSURE,
        reason="经核查不属实或无需帮扶",
        summary="系摔伤。",
    )
    case = take(cast.county, case, Step.APPROVE_CLOSURE, opinion="")
    assert case.state == State.CLOSED


def test_a_closed_case_takes_no_step(cast: People) -> None:
    case = _through(cast, file_report(cast.reporter).case, Step.ASSESS)
    case = take(
        cast.supervisor,
        case,
        Step.REQUEST_CLOSURE,
        reason="经核查不属实或无需帮扶",
        summary="系摔伤。",
    )
    case = take(cast.county, case, Step.APPROVE_CLOSURE, opinion="")
    with pytest.raises(ValidationError) as refused:
        take(cast.county, case, Step.ACCEPT, **STEP_DATA[Step.ACCEPT])
    assert refused.value.messages == [
        "案件当前处于“已结案”，不能“公安受理/出警”。当前可办理：无（已结案）。"
    ]


def test_a_stale_form_is_refused_and_saves_nothing(cast: People) -> None:
    case = file_report(cast.reporter).case
    stale = case.version
    take(cast.police, case, Step.ACCEPT, **STEP_DATA[Step.ACCEPT])
    with pytest.raises(CaseConflictError) as conflict:
        case_step(
            user=cast.county,
            number=case.number,
            step=Step.EMERGENCY,
            version=stale,
            data=STEP_DATA[Step.EMERGENCY],
        )
    assert "已被他人更新" in str(conflict.value)
    case.refresh_from_db()
    assert case.state == State.POLICE_ACCEPTED


def test_every_step_records_whether_it_was_late(cast: People, clock: Clock) -> None:
    case = file_report(cast.reporter).case
    clock.advance(hours=2)
    take(cast.police, case, Step.ACCEPT, **STEP_DATA[Step.ACCEPT])
    assert case.events.get(step="accept").late


def test_the_machine_has_no_dead_ends() -> None:
    reached = {State.REPORTED}
    for rule in STEPS.values():
        if rule.target is not None:
            reached.add(rule.target)
    assert reached == set(State)
    for state in State:
        if state is not State.CLOSED:
            assert any(state in rule.sources for rule in STEPS.values()), state


def test_an_emergency_places_a_child_in_the_village(cast: People) -> None:
    case = file_report(cast.reporter).case
    assert case.division_id == VILLAGE
    assert access_case(user=cast.director, number=case.number) == case


def test_closure_waits_for_the_conference_tasks(cast: People, clock: Clock) -> None:
    from tonghu.conferences.services import TaskInput, conference_record  # noqa: PLC0415

    case = _through(cast, file_report(cast.reporter).case, Step.MONITOR)
    conference_record(
        user=cast.county,
        number=case.number,
        held_on=tonghu_clock.today(),
        departments=["civil_affairs", "education"],
        participants="区民政局、区教育局",
        decisions="学校安排心理老师每周谈心。",
        tasks=[TaskInput(department="education", task="每周谈心并记录", due_on=None)],
    )
    clock.advance(days=90)
    with pytest.raises(ValidationError) as refused:
        take(cast.supervisor, case, Step.REQUEST_CLOSURE, **STEP_DATA[Step.REQUEST_CLOSURE])
    assert refused.value.messages == ["尚有1项会商任务未完成，不能结案。"]

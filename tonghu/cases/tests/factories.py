"""The people of a case in the test world, and short ways to file a report and take a step."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from tonghu import clock
from tonghu.accounts.models import User
from tonghu.accounts.roles import Department, Role
from tonghu.cases.intake import ReportInput, report_file
from tonghu.cases.machine import Step
from tonghu.cases.models import Case, Report
from tonghu.cases.services import case_step
from tonghu.conftest import World, make_user
from tonghu.divisions.models import Division

VILLAGE = "410402100201"  # 东湾村, 焦店镇, 新华区
TOWN = "410402100000"
COUNTY = "410402000000"
OTHER_COUNTY = "410403000000"


@dataclass
class People:
    reporter: User  # a school teacher
    police: User
    director: User
    supervisor: User
    county: User
    county_second: User  # approves what the first county staff member proposes
    city: User
    city_police: User
    neighbour_county: User


def people(world: World) -> People:
    return People(
        reporter=world.users[Role.REPORTER],
        police=make_user(
            "u_police", Role.DEPARTMENT_OFFICER, COUNTY, department=Department.PUBLIC_SECURITY
        ),
        director=world.users[Role.CHILD_DIRECTOR],
        supervisor=world.users[Role.SUPERVISOR],
        county=world.users[Role.COUNTY_STAFF],
        county_second=make_user("u_county_2", Role.COUNTY_STAFF, COUNTY),
        city=world.users[Role.CITY_STAFF],
        city_police=make_user(
            "u_city_police",
            Role.DEPARTMENT_OFFICER,
            "410400000000",
            department=Department.PUBLIC_SECURITY,
        ),
        neighbour_county=make_user("u_county_neighbour", Role.COUNTY_STAFF, OTHER_COUNTY),
    )


def file_report(user: User, *, place: str = VILLAGE, **over: Any) -> Report:
    values: dict[str, Any] = {
        "reporter_kind": "school",
        "organisation": "焦店镇中心小学",
        "situations": ["multiple_injuries"],
        "place": Division.objects.get(code=place),
        "place_detail": "学校门口",
        "occurred_at": clock.now() - dt.timedelta(minutes=30),
        "observed": "学生手臂多处淤青，称在家被打。",
        "child_name": "测试学生",
        "child_sex": "女",
        "child_age": 9,
    }
    values.update(over)
    return report_file(user=user, report=ReportInput(**values))


def take(user: User, case: Case, step: Step, **data: Any) -> Case:
    """Take ``step`` on the case's current version with ``data`` as the form would post it."""
    case.refresh_from_db()
    return case_step(user=user, number=case.number, step=step, version=case.version, data=data)


# What each step posts in the happy path.
STEP_DATA: dict[Step, dict[str, Any]] = {
    Step.ACCEPT: {
        "police_unit": "新华分局焦店派出所",
        "dispatch": "接报后10分钟出警，已见到儿童。",
    },
    Step.EMERGENCY: {
        "measures": ["带离护送", "临时安置", "验伤"],
        "placement": "其他近亲属",
        "note": "护送至外祖母家临时照料，已验伤。",
    },
    Step.NOTIFY_TOWN: {"town": TOWN, "note": "已通报焦店镇。"},
    Step.ASSESS: {
        "safety": "暂住外祖母家，安全。",
        "guardianship": "父亲有体罚行为，母亲外出务工。",
        "health": "轻微软组织挫伤，情绪紧张。",
        "risk": "中",
    },
    Step.PROPOSE_PLAN: {
        "measures": ["监护指导", "心理疏导"],
        "departments": ["civil_affairs", "womens_federation"],
        "plan": "妇联开展家庭教育指导；社工每周心理疏导。",
        "intervention_needed": "on",
    },
    Step.APPROVE_PLAN: {"opinion": "同意"},
    Step.INTERVENE: {
        "measures": ["训诫", "家庭教育指导"],
        "note": "公安机关已训诫，责令接受家庭教育指导。",
    },
    Step.FEEDBACK: {"note": "已向学校和派出所反馈处置情况。"},
    Step.MONITOR: {"note": "转入跟踪监测，儿童主任每月回访。"},
    Step.FOLLOW_UP: {"visited_on": "", "note": "儿童情况稳定。"},
    Step.REQUEST_CLOSURE: {"reason": "风险已消除，监护恢复正常", "summary": "监护恢复正常。"},
    Step.APPROVE_CLOSURE: {"opinion": "同意结案"},
}

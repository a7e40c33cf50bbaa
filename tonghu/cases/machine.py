"""The protection case loop as an explicit state machine (no Django).

强制报告 → 公安受理/出警 → 应急处置 → 通报乡镇 → 调查评估 → 帮扶方案（审批）→ 监护干预
→ 反馈 → 跟踪监测 → 结案（审批）, after the Wuqing opinions' 强制报告、应急处置、评估帮扶、
监护干预 mechanisms. Each step names the states it leaves from, the state it reaches, who
may take it and what it must record; deadlines per state come from the policy profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    REPORTED = "reported"
    POLICE_ACCEPTED = "police_accepted"
    EMERGENCY = "emergency"
    TOWN_NOTIFIED = "town_notified"
    ASSESSED = "assessed"
    PLAN_PENDING = "plan_pending"
    PLAN_APPROVED = "plan_approved"
    INTERVENTION = "intervention"
    FEEDBACK = "feedback"
    MONITORING = "monitoring"
    CLOSURE_PENDING = "closure_pending"
    CLOSED = "closed"


STATE_LABELS: dict[State, str] = {
    State.REPORTED: "已报告",
    State.POLICE_ACCEPTED: "公安受理/出警",
    State.EMERGENCY: "应急处置",
    State.TOWN_NOTIFIED: "已通报乡镇",
    State.ASSESSED: "调查评估",
    State.PLAN_PENDING: "帮扶方案待审批",
    State.PLAN_APPROVED: "帮扶方案实施",
    State.INTERVENTION: "监护干预",
    State.FEEDBACK: "反馈",
    State.MONITORING: "跟踪监测",
    State.CLOSURE_PENDING: "结案待审批",
    State.CLOSED: "已结案",
}

# What a reporter may see of the case they reported: the phase only, never the details.
REPORTER_PHASES: dict[State, str] = {
    State.REPORTED: "已提交，等待公安机关受理",
    State.POLICE_ACCEPTED: "公安机关已受理",
    State.EMERGENCY: "处置中",
    State.TOWN_NOTIFIED: "处置中",
    State.ASSESSED: "处置中",
    State.PLAN_PENDING: "处置中",
    State.PLAN_APPROVED: "帮扶中",
    State.INTERVENTION: "帮扶中",
    State.FEEDBACK: "帮扶中",
    State.MONITORING: "跟踪回访中",
    State.CLOSURE_PENDING: "跟踪回访中",
    State.CLOSED: "已办结",
}

OPEN_STATES = frozenset(State) - {State.CLOSED}
# States whose time limit is read from the profile (monitoring has its own follow-up rhythm).
TIMED_STATES = tuple(state for state in State if state not in (State.CLOSED, State.MONITORING))


class Actor(StrEnum):
    """Who may take a step: a role, or a department's officers (police)."""

    POLICE = "police"  # 部门工作人员，公安
    COUNTY_STAFF = "county_staff"
    SUPERVISOR = "supervisor"
    CHILD_DIRECTOR = "child_director"


ACTOR_LABELS = {
    Actor.POLICE: "公安机关",
    Actor.COUNTY_STAFF: "区县民政",
    Actor.SUPERVISOR: "儿童督导员",
    Actor.CHILD_DIRECTOR: "儿童主任",
}


class Step(StrEnum):
    ACCEPT = "accept"
    EMERGENCY = "emergency"
    NOTIFY_TOWN = "notify_town"
    ASSESS = "assess"
    PROPOSE_PLAN = "propose_plan"
    APPROVE_PLAN = "approve_plan"
    RETURN_PLAN = "return_plan"
    INTERVENE = "intervene"
    FEEDBACK = "feedback"
    MONITOR = "monitor"
    FOLLOW_UP = "follow_up"
    REQUEST_CLOSURE = "request_closure"
    APPROVE_CLOSURE = "approve_closure"
    RETURN_CLOSURE = "return_closure"


@dataclass(frozen=True)
class StepRule:
    label: str
    sources: frozenset[State]
    target: State | None  # None: the state is kept (a follow-up record)
    actors: frozenset[Actor]
    approval: bool = False  # an approval: not by whoever proposed, and from a level as high


_CIVIL = frozenset({Actor.SUPERVISOR, Actor.COUNTY_STAFF})
_POLICE = frozenset({Actor.POLICE, Actor.COUNTY_STAFF})  # county staff may record for police
_LOCAL = frozenset({Actor.CHILD_DIRECTOR, Actor.SUPERVISOR, Actor.COUNTY_STAFF})

STEPS: dict[Step, StepRule] = {
    Step.ACCEPT: StepRule(
        "公安受理/出警", frozenset({State.REPORTED}), State.POLICE_ACCEPTED, _POLICE
    ),
    Step.EMERGENCY: StepRule(
        "应急处置", frozenset({State.POLICE_ACCEPTED}), State.EMERGENCY, _POLICE
    ),
    Step.NOTIFY_TOWN: StepRule(
        "通报乡镇（街道）", frozenset({State.EMERGENCY}), State.TOWN_NOTIFIED, _POLICE
    ),
    Step.ASSESS: StepRule("调查评估", frozenset({State.TOWN_NOTIFIED}), State.ASSESSED, _CIVIL),
    Step.PROPOSE_PLAN: StepRule(
        "制定帮扶方案", frozenset({State.ASSESSED}), State.PLAN_PENDING, _CIVIL
    ),
    Step.APPROVE_PLAN: StepRule(
        "审批帮扶方案",
        frozenset({State.PLAN_PENDING}),
        State.PLAN_APPROVED,
        _CIVIL,
        approval=True,
    ),
    Step.RETURN_PLAN: StepRule(
        "退回帮扶方案", frozenset({State.PLAN_PENDING}), State.ASSESSED, _CIVIL, approval=True
    ),
    Step.INTERVENE: StepRule(
        "监护干预",
        frozenset({State.PLAN_APPROVED}),
        State.INTERVENTION,
        frozenset({Actor.COUNTY_STAFF, Actor.POLICE}),
    ),
    Step.FEEDBACK: StepRule(
        "反馈处置情况",
        frozenset({State.PLAN_APPROVED, State.INTERVENTION}),
        State.FEEDBACK,
        _CIVIL,
    ),
    Step.MONITOR: StepRule("转入跟踪监测", frozenset({State.FEEDBACK}), State.MONITORING, _LOCAL),
    Step.FOLLOW_UP: StepRule("跟踪回访", frozenset({State.MONITORING}), None, _LOCAL),
    Step.REQUEST_CLOSURE: StepRule(
        "申请结案",
        frozenset({State.MONITORING, State.ASSESSED}),
        State.CLOSURE_PENDING,
        _CIVIL,
    ),
    Step.APPROVE_CLOSURE: StepRule(
        "审批结案",
        frozenset({State.CLOSURE_PENDING}),
        State.CLOSED,
        _CIVIL,
        approval=True,
    ),
    Step.RETURN_CLOSURE: StepRule(
        "退回结案申请",
        frozenset({State.CLOSURE_PENDING}),
        State.MONITORING,
        _CIVIL,
        approval=True,
    ),
}

# The choices steps record, in the words of the Wuqing opinions and the 2020 强制报告 opinions.
EMERGENCY_MEASURES = ("带离护送", "临时安置", "就医", "验伤", "制止侵害", "查找失踪儿童")
PLACEMENTS = (
    "其他近亲属",
    "村（居）民委员会",
    "救助管理机构",
    "未成年人救助保护机构",
    "儿童福利机构",
)
HELP_MEASURES = (
    "监护指导",
    "医疗救治",
    "心理疏导",
    "行为矫治",
    "法律服务",
    "法律援助",
    "社会救助",
)
INTERVENTIONS = (
    "训诫",
    "家庭教育指导",
    "人身安全保护令",
    "撤销监护人资格申请",
    "临时监护",
    "长期监护",
)
RISK_LEVELS = ("高", "中", "低")
CLOSURE_REASONS = (
    "风险已消除，监护恢复正常",
    "经核查不属实或无需帮扶",
    "儿童已年满18周岁",
    "儿童死亡",
    "已移交其他机关依法处理",
)
# Closing straight from the assessment is only for a report found unfounded.
UNFOUNDED = CLOSURE_REASONS[1]


def steps_from(state: State) -> list[Step]:
    """The steps that may be taken from ``state``, in the loop's order."""
    return [step for step, rule in STEPS.items() if state in rule.sources]

"""Roles, departments and what each role's share of the data is (one table, read by the gate)."""

from __future__ import annotations

from enum import StrEnum

from django.db import models

from tonghu.divisions.codes import Level


class Role(models.TextChoices):
    CHILD_DIRECTOR = "child_director", "儿童主任"
    SUPERVISOR = "supervisor", "儿童督导员"
    COUNTY_STAFF = "county_staff", "区县民政工作人员"
    CITY_STAFF = "city_staff", "市级民政工作人员"
    DEPARTMENT_OFFICER = "department_officer", "部门工作人员"
    REPORTER = "reporter", "强制报告责任人"
    SYSADMIN = "sysadmin", "系统管理员"
    AUDITOR = "auditor", "审计员"


class Department(models.TextChoices):
    CIVIL_AFFAIRS = "civil_affairs", "民政"
    EDUCATION = "education", "教育"
    PUBLIC_SECURITY = "public_security", "公安"
    HEALTH = "health", "卫生健康"
    MEDICAL_INSURANCE = "medical_insurance", "医保"
    CDC = "cdc", "疾控"
    WOMENS_FEDERATION = "womens_federation", "妇联"
    DISABLED_FEDERATION = "disabled_federation", "残联"
    YOUTH_LEAGUE = "youth_league", "团委"
    HUMAN_RESOURCES = "human_resources", "人社"
    HOUSING = "housing", "住建/房产"
    TRANSPORT = "transport", "交通运输"
    CYBERSPACE = "cyberspace", "网信"
    CULTURE_TOURISM = "culture_tourism", "文旅"
    COURT = "court", "法院"
    PROCURATORATE = "procuratorate", "检察院"
    JUSTICE = "justice", "司法"
    STATISTICS = "statistics", "统计"
    POLITICAL_LEGAL = "political_legal", "政法委"


class Capability(StrEnum):
    """One share of the system a role may use; views and selectors ask for these, never roles."""

    VIEW_CHILDREN = "view_children"
    VIEW_AUDIT = "view_audit"
    MANAGE_SYSTEM = "manage_system"
    FILE_REPORTS = "file_reports"
    VIEW_REFERRALS = "view_referrals"
    UPLOAD_FEEDS = "upload_feeds"
    MANAGE_ROUNDS = "manage_rounds"
    EDIT_CHILDREN = "edit_children"  # correct a value on a child's file
    ANSWER_TASKS = "answer_tasks"  # 核实 tasks of one's department (civil affairs for staff)
    HANDLE_INTERVENTIONS = "handle_interventions"  # 监护缺失 tasks of county civil affairs
    VIEW_CASES = "view_cases"  # protection cases in scope (officers: the police only)
    APPROVE_CASES = "approve_cases"  # approve help plans and closures (上级或另一名工作人员)
    HANDLE_ALERTS = "handle_alerts"  # dismiss a 预警 with a reason or open a case from it
    VIEW_STATS = "view_stats"  # the dashboard and statistical tables of one's jurisdiction
    # Exchange packages with other counties (county staff) or receive the counties' round
    # figures (city staff, in a city or province instance).
    EXCHANGE_PACKAGES = "exchange_packages"


ROLE_CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.CHILD_DIRECTOR: frozenset(
        {
            Capability.VIEW_CHILDREN,
            Capability.FILE_REPORTS,
            Capability.EDIT_CHILDREN,
            Capability.ANSWER_TASKS,
            Capability.VIEW_CASES,
            Capability.VIEW_STATS,
        }
    ),
    Role.SUPERVISOR: frozenset(
        {
            Capability.VIEW_CHILDREN,
            Capability.FILE_REPORTS,
            Capability.EDIT_CHILDREN,
            Capability.ANSWER_TASKS,
            Capability.VIEW_CASES,
            Capability.APPROVE_CASES,
            Capability.HANDLE_ALERTS,
            Capability.VIEW_STATS,
        }
    ),
    Role.COUNTY_STAFF: frozenset(
        {
            Capability.VIEW_CHILDREN,
            Capability.EDIT_CHILDREN,
            Capability.ANSWER_TASKS,
            Capability.FILE_REPORTS,
            Capability.UPLOAD_FEEDS,
            Capability.MANAGE_ROUNDS,
            Capability.HANDLE_INTERVENTIONS,
            Capability.VIEW_CASES,
            Capability.APPROVE_CASES,
            Capability.HANDLE_ALERTS,
            Capability.VIEW_STATS,
            Capability.EXCHANGE_PACKAGES,
        }
    ),
    Role.CITY_STAFF: frozenset(
        {
            Capability.VIEW_CHILDREN,
            Capability.VIEW_CASES,
            Capability.VIEW_STATS,
            Capability.EXCHANGE_PACKAGES,
        }
    ),
    Role.DEPARTMENT_OFFICER: frozenset(
        {
            Capability.VIEW_REFERRALS,
            Capability.ANSWER_TASKS,
            Capability.FILE_REPORTS,
            Capability.UPLOAD_FEEDS,
            Capability.VIEW_CASES,
            Capability.VIEW_STATS,
        }
    ),
    Role.REPORTER: frozenset({Capability.FILE_REPORTS}),
    Role.SYSADMIN: frozenset({Capability.MANAGE_SYSTEM}),
    Role.AUDITOR: frozenset({Capability.VIEW_AUDIT}),
}

# The division level a role's account must sit at; None means any level.
ROLE_LEVELS: dict[Role, frozenset[Level] | None] = {
    Role.CHILD_DIRECTOR: frozenset({Level.VILLAGE}),
    Role.SUPERVISOR: frozenset({Level.TOWN}),
    Role.COUNTY_STAFF: frozenset({Level.COUNTY}),
    Role.CITY_STAFF: frozenset({Level.CITY}),
    Role.DEPARTMENT_OFFICER: frozenset({Level.COUNTY, Level.CITY}),
    Role.REPORTER: None,
    Role.SYSADMIN: None,
    Role.AUDITOR: None,
}

"""The navigation of the web shell: each item names the share it needs; planned ones show greyed."""

from __future__ import annotations

from dataclasses import dataclass

from tonghu.accounts.roles import Capability


@dataclass(frozen=True)
class NavItem:
    label: str
    capability: Capability | None
    url_name: str | None  # None: the capability is planned and not yet in this version


NAVIGATION: tuple[NavItem, ...] = (
    NavItem("首页", None, "web:home"),
    NavItem("儿童台账", Capability.VIEW_CHILDREN, "children:list"),
    NavItem("行政区划", None, "divisions:mine"),
    NavItem("监测摸排", Capability.UPLOAD_FEEDS, "rounds:list"),
    NavItem("核实任务", Capability.ANSWER_TASKS, "children:tasks"),
    NavItem("监护干预任务", Capability.HANDLE_INTERVENTIONS, "guardianship:tasks"),
    NavItem("转介任务", Capability.VIEW_REFERRALS, "services:inbox"),
    NavItem("会商任务", Capability.VIEW_REFERRALS, "conferences:tasks"),
    NavItem("服务实现程度", Capability.VIEW_CHILDREN, "services:coverage"),
    NavItem("走访探视", Capability.EDIT_CHILDREN, "visits:worklist"),
    NavItem("儿童主任台账", Capability.VIEW_CHILDREN, "roster:list"),
    NavItem("预警", Capability.HANDLE_ALERTS, "alerts:list"),
    NavItem("强制报告", Capability.FILE_REPORTS, "reports:mine"),
    NavItem("保护案件", Capability.VIEW_CASES, "cases:list"),
    NavItem("统计分析", Capability.VIEW_STATS, "stats:dashboard"),
    NavItem("信息交换", Capability.EXCHANGE_PACKAGES, "exchange:home"),
    NavItem("审计日志", Capability.VIEW_AUDIT, "audit:search"),
    NavItem("紧急查阅复核", Capability.VIEW_AUDIT, "privacy:review"),
    NavItem("系统管理", Capability.MANAGE_SYSTEM, "admin:index"),
)

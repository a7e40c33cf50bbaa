"""Scoped reads of cases and reports: the one gate for every case URL.

A case is seen by the staff on it and above them: the village's child director, the town's
supervisors, the county's civil affairs and the county's police (公安, who receive every
report). City staff see a case once an overdue step has been escalated to them. A reporter
sees only their own reports, and of them only the phase. Everyone else gets 404.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.http import Http404

from tonghu.accounts.roles import Capability, Department, Role
from tonghu.accounts.scope import access, scope_q
from tonghu.cases.machine import State
from tonghu.cases.models import Case, CaseFile, Report, Transfer
from tonghu.divisions.codes import Level

if TYPE_CHECKING:
    from tonghu.accounts.models import User


def is_police(user: User) -> bool:
    return user.role == Role.DEPARTMENT_OFFICER and user.department == Department.PUBLIC_SECURITY


def cases_for(*, user: User) -> QuerySet[Case]:
    """The cases the user may open."""
    cases = Case.objects.select_related("division", "county", "child")
    if not user.is_active or not user.can(Capability.VIEW_CASES):
        return cases.none()
    if user.role == Role.DEPARTMENT_OFFICER and not is_police(user):
        return cases.none()
    if user.role == Role.CITY_STAFF:
        cases = cases.filter(escalated_to=Level.CITY)
    return cases.filter(scope_q(user, "division_id"), merged_into__isnull=True)


def access_case(*, user: User, number: str) -> Case:
    """One case by its number, or 404 for missing and forbidden alike."""
    return access(cases_for(user=user), number=number)


def open_cases_for(*, user: User) -> QuerySet[Case]:
    return cases_for(user=user).exclude(state=State.CLOSED)


def overdue_cases(*, user: User, now: dt.datetime) -> QuerySet[Case]:
    """Open cases whose current step is past its time limit, most overdue first."""
    return open_cases_for(user=user).filter(due_at__lt=now).order_by("due_at", "id")


def reports_of(*, user: User) -> QuerySet[Report]:
    """The reports the user filed, newest first, with the case each now belongs to."""
    return Report.objects.filter(reporter=user).select_related("case", "case__merged_into")


def access_report(*, user: User, receipt_no: str) -> Report:
    """A report by its receipt number, for the person who filed it only."""
    return access(reports_of(user=user), receipt_no=receipt_no)


def file_of(*, case: Case, file_id: int) -> CaseFile:
    found = CaseFile.objects.filter(case=case, pk=file_id).first()
    if found is None:
        raise Http404("未找到该文件，或您无权查看。")
    return found


def transfers_incoming(*, user: User) -> QuerySet[Transfer]:
    """Transfers waiting for the user's county civil affairs to accept or refuse."""
    if user.role != Role.COUNTY_STAFF or not user.is_active:
        return Transfer.objects.none()
    return Transfer.objects.filter(
        scope_q(user, "to_county_id"), status=Transfer.Status.PENDING
    ).select_related("case", "from_county", "to_county", "case__division")


def access_incoming_transfer(*, user: User, transfer_id: int) -> Transfer:
    return access(transfers_incoming(user=user), pk=transfer_id)
